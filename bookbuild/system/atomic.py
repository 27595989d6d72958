"""Files written so that a reader, or a crash, only ever sees the old or the new content."""

from __future__ import annotations

import errno
import os
import stat
from glob import escape as glob_escape
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
    """Temp file in the same folder, fsync, rename over `path` (git's lock-file habit).

    The file keeps the permission bits it had (a new one gets what `open(path, "w")` would
    give it), and a symlink at `path` stays: the file it points to is the one replaced.
    """
    path = Path(path)
    target = _target(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = _mode_of(target, path)
    tmp = None
    try:
        fd, tmp = _open_temp(target)
        with os.fdopen(fd, "wb") as f:
            if mode is not None:
                os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        fault_point(f"written {path.name}")
        os.replace(tmp, target)
    except BaseException as exc:
        if tmp is not None:
            with _quiet():
                os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename in (None, tmp, str(target)):
            # the temp file's name means nothing to the user; the file they named does
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise
    _fsync_dir(target.parent)


def _target(path: Path) -> Path:
    """The file a write to `path` replaces: where a symlink at `path` leads (the link stays)."""
    if not path.is_symlink():
        return path
    target = Path(os.path.realpath(path))
    if target.is_symlink():  # realpath gives up on a loop and returns a link
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path))
    return target


def _mode_of(target: Path, path: Path) -> int | None:
    """The permission bits of the file being replaced (None when there is none yet)."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    return stat.S_IMODE(st.st_mode)


def _open_temp(target: Path) -> tuple[int, str]:
    """A new temp file beside `target`, created with mode 0o666 so that the umask (and a
    default ACL) apply as they do to `open(target, "w")`; mkstemp's 0o600 ignores them."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    _remove_orphans(target)
    for _ in range(100):
        # the writer's pid in the name: a temp file whose writer was killed is known as such
        tmp = str(target.parent / f".{target.name}.{os.getpid()}-{os.urandom(4).hex()}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
        except OSError as exc:  # a folder we cannot write: name the file, not a temp name
            raise OSError(exc.errno, exc.strerror, str(target)) from None
    raise FileExistsError(errno.EEXIST, "no unused temporary name", str(target.parent))


def _remove_orphans(target: Path) -> None:
    """Remove temp files of `target` left by a writer that was killed (its pid is gone)."""
    for left in target.parent.glob(f".{glob_escape(target.name)}.*-*.tmp"):
        pid = left.name[len(target.name) + 2:].split("-", 1)[0]
        if pid.isdigit() and not alive(int(pid)):
            with _quiet():
                left.unlink()


def alive(pid: int) -> bool:
    """Whether a process `pid` exists (one of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
