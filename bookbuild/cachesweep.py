"""Keeping `.bookbuild/cache/` from growing forever: after a whole-book build, entries that build
did not use go, least recently used first, beyond a budget the size of what it used.

Why this rule rather than an age limit or a fixed size cap: an age limit lets a day of edits
pile up (every save in preview writes a page, parse and check entry), and a fixed cap is either
too small for a large book (it would evict the current book's entries and thrash) or too large
to ever bound a small one. Tying the budget to the build keeps every entry the current book can
use, plus as much again of the most recently used others: the other output format's pages, a
concurrent preview's entries, an edit that gets undone. A hit refreshes its entry's mtime
(`touch`), so mtime order is least-recently-used order, and "used by this build" is "mtime at
or after the build started".

Only files bookbuild wrote are considered: in its own cache folders, named as its caches name
entries (64 hex digits, `.json` or `.pickle`), plus the temp files of its atomic writes once a
day old (a killed build's leftovers). Anything else in `.bookbuild/` is left alone. Another
process may read or delete the same entries concurrently: every step tolerates a file vanishing,
and a reader that loses an entry sees a miss.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path

ENTRY = re.compile(r"[0-9a-f]{64}\.(json|pickle)")
TEMP = re.compile(r"\.[0-9a-f]{64}\.(json|pickle)\.[^/]*\.tmp")
FOLDERS = ("", "pages", "parse", "check")  # the execution, page, parse and check caches
TEMP_AGE_NS = 24 * 3600 * 10**9
CLOCK_SLACK_NS = 50_000_000  # file times come from the kernel's coarse clock (a tick behind)


def touch(path: Path) -> None:
    """Mark an entry as just used (a hit); it may have been swept meanwhile: nothing to do."""
    with contextlib.suppress(OSError):
        os.utime(path)


def build_started() -> int:
    """The time to pass to `sweep` for a build starting now."""
    return time.time_ns() - CLOCK_SLACK_NS


def sweep(cache_root: Path, started_ns: int) -> int:
    """Evict in each cache folder under `cache_root` (`.bookbuild/cache`); the bytes freed."""
    return sum(sweep_folder(cache_root / name, started_ns) for name in FOLDERS)


def sweep_folder(folder: Path, started_ns: int) -> int:
    """Keep the entries used since `started_ns`; of the others keep the most recently used while
    they fit in as many bytes as those; delete the rest. The bytes freed."""
    entries: list[tuple[int, int, Path]] = []  # (mtime, size, path)
    now = time.time_ns()
    freed = 0
    try:
        listing = list(os.scandir(folder))
    except OSError:
        return 0
    for item in listing:
        try:
            if not item.is_file(follow_symlinks=False):
                continue
            st = item.stat(follow_symlinks=False)
        except OSError:
            continue
        if ENTRY.fullmatch(item.name):
            entries.append((st.st_mtime_ns, st.st_size, Path(item.path)))
        elif TEMP.fullmatch(item.name) and now - st.st_mtime_ns > TEMP_AGE_NS:
            freed += _remove(Path(item.path), st.st_size)
    used = sum(size for mtime, size, _ in entries if mtime >= started_ns)
    budget = used
    for mtime, size, path in sorted(entries, reverse=True):
        if mtime >= started_ns:
            continue
        if size <= budget:
            budget -= size
            continue
        budget = 0  # older than one that did not fit: least recently used, all go
        freed += _remove(path, size)
    return freed


def _remove(path: Path, size: int) -> int:
    try:
        path.unlink()
    except OSError:
        return 0  # gone already (a concurrent sweep) or not ours to remove
    return size
