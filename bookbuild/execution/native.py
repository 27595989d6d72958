"""The read recorder preloaded into chapter kernels (`kernel/readrec.c`): built once per source.

Files that native code opens (pyarrow, polars, GDAL, HDF5, a program a cell starts) never
reach Python's audit hook; the recorder sees them at libc's open functions. It is compiled
with the machine's `cc` into the user's cache folder, under a name keyed on its source hash;
without a compiler the kernels run as before and one note says native reads are not tracked.
`python -m bookbuild.execution.native` builds it ahead (make setup).
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bookbuild.system.shipped import PACKAGE

SOURCE = PACKAGE / "kernel" / "readrec.c"
LIBRARY = "libbookbuild_reads.so"
DISABLE = "BOOKBUILD_NO_NATIVE_READS"  # set (non-empty): run kernels without the recorder


def cache_root() -> Path:
    """Where built recorders are kept: $XDG_CACHE_HOME/bookbuild, else ~/.cache/bookbuild."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "bookbuild"


@functools.lru_cache(maxsize=1)
def library() -> str | None:
    """The built recorder's path, building it on first use; None where it cannot be had (not
    Linux, no compiler, a failed build), after one note on stderr."""
    if os.environ.get(DISABLE):
        return None
    if not sys.platform.startswith("linux"):
        return _untracked("the recorder preloads into Linux processes only")
    try:
        digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]
    except OSError as exc:
        return _untracked(f"its source is missing ({exc.strerror}: {SOURCE})")
    target = cache_root() / f"readrec-{digest}" / LIBRARY
    if target.is_file():
        return str(target)
    problem = _build(target)
    return str(target) if problem is None else _untracked(problem)


def _untracked(problem: str) -> None:
    print(f"note: files read by native code (pyarrow, polars, programs a cell starts) are not "
          f"tracked by the execution cache: {problem}", file=sys.stderr)


def _build(target: Path) -> str | None:
    """Compile the recorder into `target` (atomically); the reason when it could not be."""
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return "no C compiler (cc) to build the recorder"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=target.parent, suffix=".so")
        os.close(fd)
    except OSError as exc:
        return f"cannot write {target.parent} ({exc.strerror})"
    try:
        done = subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", partial, str(SOURCE), "-ldl"],
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            lines = (done.stderr.strip().splitlines() or ["no message"])
            return f"{cc} failed: {lines[-1]}"
        os.replace(partial, target)  # several builds at once: each renames a whole library
        return None
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{cc} failed: {exc}"
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def preload_env(env: dict[str, str]) -> dict[str, str]:
    """`env` with the recorder preloaded (kept in front of any LD_PRELOAD already there)."""
    lib = library()
    if lib is None:
        return env
    current = env.get("LD_PRELOAD", "")
    if lib not in current.split():
        env["LD_PRELOAD"] = f"{lib} {current}".strip()
    return env


if __name__ == "__main__":
    print(library() or "native reads not tracked")
