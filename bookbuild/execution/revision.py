"""Kernels of another revision (`numbers diff`'s worktrees) import that revision's own packages.

Chapters run beside themselves (Quarto's `execute-dir: file`), so a chapter in a subfolder
imports the book's package as installed, and an editable install points into the user's
checkout: in a worktree of another revision it would silently run the checkout's code, not the
revision's. While `own_packages(root)` is open, kernels (and warm templates) find the packages
and modules at the worktree's root first: the root leads PYTHONPATH (the files keep their own
paths, so what they read is named as in the checkout; a link folder would name it anew in each
worktree), and only when one of them is installed from elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from bookbuild.execution.warm.discover import found_anywhere

ENGINE = "bookbuild"  # the engine's own source tree is never the book's package


def _root_modules(root: Path) -> dict[str, Path]:
    """Top-level packages (folders with `__init__.py`) and modules (`.py`) at `root`."""
    out: dict[str, Path] = {}
    for entry in sorted(root.iterdir()):
        if entry.is_dir() and (entry / "__init__.py").is_file() and entry.name.isidentifier():
            out[entry.name] = entry
        elif entry.suffix == ".py" and entry.is_file() and entry.stem.isidentifier():
            out[entry.stem] = entry
    return out


def shadowed(root: Path) -> dict[str, Path]:
    """The root's packages and modules that a kernel in a subfolder would find installed
    elsewhere (an editable install of another checkout), with the revision's copy of each."""
    prefixes = tuple({os.path.realpath(p) + os.sep for p in (sys.prefix, sys.base_prefix)})
    out = {}
    for name, path in _root_modules(root).items():
        origin = found_anywhere(name)
        if name == ENGINE or not origin or not os.path.isfile(origin):
            continue
        real, own = os.path.realpath(origin), str(path.resolve())
        if not real.startswith(prefixes) and real != own and not real.startswith(own + os.sep):
            out[name] = path
    return out


@contextlib.contextmanager
def own_packages(root: Path) -> Iterator[list[str]]:
    """Within: kernels started find the revision's own packages (those of `shadowed`) first.
    Yields their names."""
    found = shadowed(root)
    if not found:
        yield []
        return
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(root.resolve()) + (os.pathsep + before if before else "")
    try:
        yield sorted(found)
    finally:
        if before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = before
