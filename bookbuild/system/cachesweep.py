"""Keeping `.bookbuild/cache/` from growing forever: after a whole-book build, an entry goes once
none of the last KEEP_BUILDS whole-book builds (nor anything else since the oldest of them began:
a preview, a one-chapter render) has used it.

Why this rule rather than an age limit or a size cap: an age limit lets a day of edits pile up
(every save writes a page, parse and check entry), and a size cap is either too small for a large
book (it evicts what the book still uses, and thrashes) or too large to ever bound a small one.
Counting builds keeps exactly what the current book uses plus what the two builds before it
used: the other output formats (`render --to md` between two HTML renders executes nothing),
an edit that gets undone. A chapter edited N times keeps at most KEEP_BUILDS of its versions.
A hit refreshes its entry's mtime (`touch`), so "used since" is "mtime at or after".

Only files bookbuild wrote are considered: in its own cache folders, named as its caches name
entries (64 hex digits, `.json`, `.pickle` or `.ok`), plus the temp files of its atomic writes once a
day old (a killed build's leftovers), and its own list of recent builds (BUILDS). Anything else
in `.bookbuild/` is left alone. Another process may read or delete the same entries
concurrently: every step tolerates a file vanishing, and a reader that loses an entry sees a miss.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from pathlib import Path

from bookbuild.system.atomic import write_text

ENTRY = re.compile(r"[0-9a-f]{64}\.(json|pickle|ok)")
TEMP = re.compile(r"\.([0-9a-f]{64}\.(json|pickle)|whole-book-builds\.json)\.[^/]*\.tmp")
FOLDERS = ("", "pages", "parse", "check", "config")  # execution, page, parse, check; valid configs
TEMP_AGE_NS = 24 * 3600 * 10**9
KEEP_BUILDS = 3  # the current build and the two before it (html, pdf and md renders alternate)
BUILDS = "whole-book-builds.json"  # the start times of the last KEEP_BUILDS whole-book builds
CLOCK_SLACK_NS = 50_000_000  # file times come from the kernel's coarse clock (a tick behind)


def touch(path: Path) -> None:
    """Mark an entry as just used (a hit); it may have been swept meanwhile: nothing to do."""
    with contextlib.suppress(OSError):
        os.utime(path)


def build_started() -> int:
    """The time to pass to `sweep` for a build starting now."""
    return time.time_ns() - CLOCK_SLACK_NS


def sweep(cache_root: Path, started_ns: int) -> int:
    """Record a whole-book build that started at `started_ns` and evict, in each cache folder
    under `cache_root` (`.bookbuild/cache`), what no build since the KEEP_BUILDS-th last began
    has used. The bytes freed."""
    record = cache_root / BUILDS
    try:
        starts = [int(t) for t in json.loads(record.read_text(encoding="utf-8"))]
    except (OSError, ValueError, TypeError):
        starts = []  # none yet, or damaged: start counting again (nothing goes this time)
    starts = sorted([*starts, started_ns])[-KEEP_BUILDS:]
    with contextlib.suppress(OSError):
        write_text(record, json.dumps(starts))  # a concurrent build reads old or new
    cutoff = starts[0] if len(starts) == KEEP_BUILDS else None
    return sum(sweep_folder(cache_root / name, cutoff) for name in FOLDERS)


def sweep_folder(folder: Path, cutoff_ns: int | None) -> int:
    """Delete the entries last used before `cutoff_ns` (None: none) and our day-old temp files.
    The bytes freed."""
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
            if cutoff_ns is not None and st.st_mtime_ns < cutoff_ns:
                freed += _remove(Path(item.path), st.st_size)
        elif TEMP.fullmatch(item.name) and now - st.st_mtime_ns > TEMP_AGE_NS:
            freed += _remove(Path(item.path), st.st_size)
    return freed


def _remove(path: Path, size: int) -> int:
    try:
        path.unlink()
    except OSError:
        return 0  # gone already (a concurrent sweep) or not ours to remove
    return size
