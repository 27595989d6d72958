"""Write a build into a staging folder and swap it in only when everything succeeded."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def staged(out: Path, fresh: bool = False) -> Iterator[Path]:
    """Yield a folder to write into; on success it replaces `out`, on error it vanishes.

    It starts as a copy of `out` (a partial render keeps the other chapters), or empty when
    `fresh` (a whole-book render leaves no stale files). The last good output is never touched
    until the new one is complete.
    """
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.staging-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    if out.exists() and not fresh:
        shutil.copytree(out, tmp, symlinks=True)
    else:
        tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)
