"""Inside the chapter kernel: the record of files opened at the OS level (kernel/readrec.c).

The recorder is preloaded into the kernel (bookbuild/execution/native.py); `start()` gives it a record
file, unlinked at once so nothing is left behind, which programs a cell starts reopen through
`/proc/<kernel>/fd/<n>` (named by BOOKBUILD_READS). Forked workers share the open record.
"""

from __future__ import annotations

import ctypes
import os
import tempfile

RECORD_ENV = "BOOKBUILD_READS"
_fd: list[int] = []  # the record's descriptor, once recording


def start() -> bool:
    """Start recording into a fresh record; False when the recorder is not preloaded."""
    try:
        begin = ctypes.CDLL(None).bookbuild_reads_to
    except (OSError, AttributeError):
        return False
    fd, path = tempfile.mkstemp(prefix="bookbuild-reads-")
    try:
        record = os.open(path, os.O_WRONLY | os.O_APPEND)
    finally:
        os.close(fd)
        os.unlink(path)
    if _fd:  # a second install() in the same kernel: the old record is done with
        os.close(_fd.pop())
    _fd.append(record)
    os.environ[RECORD_ENV] = f"/proc/{os.getpid()}/fd/{record}"
    begin(record)
    return True


def stop() -> None:
    """Stop recording and drop the record (the warm template, before it forks kernels)."""
    if _fd:
        ctypes.CDLL(None).bookbuild_reads_to(-1)
        os.close(_fd.pop())
        os.environ.pop(RECORD_ENV, None)


def read() -> tuple[dict[str, list[int]], set[str], set[str]]:
    """({path: [mtime_ns, size, inode, ctime_ns, opened_ns]} of each regular file opened for
    reading, at its first opening; the paths opened for writing; the folders listed)."""
    stamps: dict[str, list[int]] = {}
    written: set[str] = set()
    listed: set[str] = set()
    if not _fd:
        return stamps, written, listed
    with open(f"/proc/self/fd/{_fd[0]}", "rb") as f:  # its own descriptor is write-only
        data = f.read()
    for line in data.decode("utf-8", "surrogateescape").splitlines():
        head, sep, path = line.partition("\t")
        if not sep:
            continue
        if head in ("W", "D"):
            (written if head == "W" else listed).add(os.path.normpath(path))
        elif head.startswith("R "):
            fields = head.split()[1:]
            if len(fields) == 5 and all(x.lstrip("-").isdigit() for x in fields):
                stamps.setdefault(os.path.normpath(path), [int(x) for x in fields])
    return stamps, written, listed
