"""Files written so that a reader, or a crash, only ever sees the old or the new content."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Tests: SIGKILL this process at the N-th file operation, or at the first whose name contains
# the given text (e.g. "numbers.lock").
FAULT_ENV = "BOOKBUILD_FAULT_AT"
_ops = 0


def fault_point(what: str) -> None:
    """A seam between file operations where a test can kill the process (SQLite's habit)."""
    global _ops
    _ops += 1
    at = os.environ.get(FAULT_ENV)
    if at and (int(at) == _ops if at.isdigit() else at in what):
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def write_bytes(path: Path, data: bytes) -> None:
    """Temp file in the same folder, fsync, rename over `path` (git's lock-file habit)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        fault_point(f"written {path.name}")
        os.replace(tmp, path)
    except BaseException:
        with _quiet():
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (a no-op where directories cannot be opened)."""
    with _quiet():
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _quiet():
    import contextlib

    return contextlib.suppress(OSError)
