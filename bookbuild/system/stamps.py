"""A file's stamp: what every memo of a file's contents is keyed on."""

from __future__ import annotations

import hashlib
import os
import time
from functools import lru_cache
from pathlib import Path

Stamp = tuple[int, int, int, int]


def of_stat(st: os.stat_result) -> Stamp:
    """mtime, size, inode and ctime: a replacement that keeps size and mtime (`cp -p`,
    `rsync -t`) still gets a new inode or ctime."""
    return st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns


def of_path(path: str | os.PathLike) -> Stamp | None:
    """The stamp of the file or folder at `path`; None when it cannot be read."""
    try:
        return of_stat(os.stat(path))
    except OSError:
        return None


RACY_NS = 2_000_000_000  # a file this recent may change again within one mtime tick


def memo_stamp(st: os.stat_result) -> Stamp | None:
    """The stamp to memoise a file's contents on; None for a file modified in the last two
    seconds, which a same-size edit within one mtime tick could change unseen (git's racy
    clean): read that one afresh."""
    return None if time.time_ns() - st.st_mtime_ns < RACY_NS else of_stat(st)


def file_sha256(path: str, st: os.stat_result) -> str:
    """SHA-256 of a file's bytes (`st`: its stat), memoised while its stamp holds."""
    stamp = memo_stamp(st)
    if stamp is None:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return _sha256_at(path, stamp)


@lru_cache(maxsize=1024)
def _sha256_at(path: str, stamp: Stamp) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
