"""The one cache-entry store every stage's cache uses: content digests, checksummed entries,
atomic writes. Each stage keeps only its own key; an unreadable or damaged entry is a miss."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
from pathlib import Path

from bookbuild.system.stamps import file_sha256


def file_digest(path: Path | str) -> str | None:
    """Content hash of a file (memoised while its size, mtime, inode and ctime hold, unless it
    changed in the last two seconds: see cache.content_hash); None when absent."""
    try:
        st = os.stat(path)
        return file_sha256(str(path), st) if stat.S_ISREG(st.st_mode) else None
    except OSError:
        return None


def checksum(entry: dict) -> str:
    """The digest an entry is stored with, verified when it is read back."""
    return hashlib.sha256(json.dumps(entry, sort_keys=True).encode()).hexdigest()


def sealed(entry: dict) -> str:
    """An entry as stored: its JSON beside its checksum."""
    return json.dumps({"sha256": checksum(entry), "entry": entry})


def unsealed(text: str) -> dict | None:
    """The entry of `sealed(entry)`, or None when the text is damaged or was edited."""
    try:
        raw = json.loads(text)
        entry = raw["entry"]
        return entry if isinstance(entry, dict) and raw["sha256"] == checksum(entry) else None
    except (ValueError, KeyError, TypeError):
        return None


def store(path: Path, text: str) -> None:
    store_bytes(path, text.encode("utf-8"))


def store_bytes(path: Path, data: bytes) -> None:
    """Write a cache entry atomically (temp file, rename). Not fsynced: an entry that a crash
    leaves empty or torn fails its checksum and is a miss, so durability would buy nothing
    but one disk flush per page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
