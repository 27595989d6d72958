"""A file's stamp: what every memo of a file's contents is keyed on."""

from __future__ import annotations

import os

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
