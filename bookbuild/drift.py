"""Compare executed chapters with numbers.lock and say what moved and which constants moved it."""

from __future__ import annotations

import json
from pathlib import Path

from bookbuild import lock as lockfile
from bookbuild.atomic import write_text
from bookbuild.chapters import Chapter, chapter_key
from bookbuild.lock import Drift, Lock
from bookbuild.provenance import causes_of, constants_of, tracers_for


def current(root: Path | None, chapters: list[Chapter]) -> tuple[Lock, dict[str, dict]]:
    """The lock the executed `chapters` would write now, with the constants' details."""
    details = constants_of(chapters)
    now = Lock({name: d["value"] for name, d in details.items()})
    for ch in chapters:
        key = chapter_key(root, ch.source)
        now.entries += lockfile.entries_of(key, ch.doc.refs, ch.result.inline)
        if not ch.doc.refs:
            now.empty_chapters.add(key)
    return now, details


def report(drift: Drift, causes: dict[tuple[str, str, int], set[str]], severity: str,
           inputs: dict[str, list[str]] | None = None) -> list[str]:
    """Human-readable drift: moved numbers (with the constants and, from `inputs`, the files
    read by their chapter that moved them), then each changed constant and what it moved."""
    out = [f"{severity}: chapter {c} is in the book but not in numbers.lock" for c in drift.chapters_added]
    out += [f"{severity}: chapter {c} is in numbers.lock but no longer in the book"
            for c in drift.chapters_removed]
    changed = {name for name, _, _ in drift.constants}
    for locked, now in drift.moved:
        line = f"{now.place()} {now.expr}: {locked.text} → {now.text}"
        because = sorted(causes.get(now.key, set()) & changed)
        out.append(f"{severity}: {line}" + _why_moved(because, (inputs or {}).get(now.chapter)))
    out += [f"{severity}: {e.place()} new reference {e.expr} = {e.text}" for e in drift.added]
    out += [f"{severity}: {e.chapter}:{e.line} removed reference {e.expr} (was {e.text})"
            for e in drift.removed]
    for name, a, b in drift.constants:
        moved = [f"{now.place()} {now.expr}" for _, now in drift.moved
                 if name in causes.get(now.key, set())]
        if a is None:
            out.append(f"{severity}: new constant {name} = {b}")
        elif b is None:
            out.append(f"{severity}: removed constant {name} (was {a})")
        else:
            out.append(f"{severity}: constant {name}: {a} → {b}")
        out += [f"    moved {m}" for m in moved] or ["    moved no rendered number"]
    return out


def _why_moved(constants: list[str], files: list[str] | None) -> str:
    """The changed constants behind a moved number, else the changed files its chapter read."""
    if constants:
        return f"  (moved by {', '.join(constants)})"
    if files:
        return f"  (no changed constant explains it; files it reads changed since the numbers " \
               f"were accepted: {', '.join(files)})"
    return "  (no changed constant explains it: code or inputs changed)"


ACCEPTED_INPUTS = "accepted-inputs.json"  # under .bookbuild: never committed, a local memory


def remember_inputs(cache_dir: Path, root: Path | None, chapters: list[Chapter]) -> None:
    """At `numbers accept`: the hash of every file each chapter read, so that a later drift can
    name the data file that moved a number (chapters not accepted now keep theirs)."""
    from bookbuild.cache import content_hash

    record = _accepted(cache_dir)
    for ch in chapters:
        if ch.result is not None:
            record[chapter_key(root, ch.source)] = {
                p: content_hash(p) for p in ch.result.dependencies}
    try:
        write_text(cache_dir / ACCEPTED_INPUTS, json.dumps(record, sort_keys=True))
    except OSError:
        pass  # only the drift report's naming of files is lost


def changed_inputs(cache_dir: Path, root: Path | None, chapters: list[Chapter]) -> dict[str, list[str]]:
    """Per chapter key: the files it read whose bytes differ from when its numbers were last
    accepted here (display paths); empty where nothing was remembered."""
    from bookbuild.cache import content_hash
    from bookbuild.errors import display_path

    record = _accepted(cache_dir)
    out: dict[str, list[str]] = {}
    for ch in chapters:
        key = chapter_key(root, ch.source)
        then = record.get(key)
        if not isinstance(then, dict) or ch.result is None:
            continue
        moved = [p for p, h in then.items() if p in ch.result.dependencies and content_hash(p) != h]
        if moved:
            out[key] = [display_path(p) for p in sorted(moved)]
    return out


def _accepted(cache_dir: Path) -> dict:
    try:
        record = json.loads((cache_dir / ACCEPTED_INPUTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def summary(drift: Drift) -> str:
    return (f"numbers: {len(drift.moved)} moved, {len(drift.added)} new, {len(drift.removed)} "
            f"removed, {len(drift.constants)} constant(s) changed"
            + (f", {len(drift.chapters_added) + len(drift.chapters_removed)} chapter(s) added or "
               "removed" if drift.chapters_added or drift.chapters_removed else "")
            + " (run `bookbuild numbers accept` to take them)")


def drift_of(root: Path | None, chapters: list[Chapter], whole_book: bool) -> tuple[Lock | None, Lock, Drift | None, dict]:
    """(locked, now, drift, causes); drift is None when there is no lock yet.

    A render of some chapters compares only those chapters and the constants they loaded.
    """
    locked = lockfile.load((root or Path.cwd()) / lockfile.LOCK)
    now, details = current(root, chapters)
    if locked is None:
        return None, now, None, {}
    if not whole_book:
        locked = lockfile.restrict(locked, now.chapters())
        locked.constants = {k: v for k, v in locked.constants.items() if k in now.constants}
    drift = compare_with_causes(locked, now, root, chapters, details)
    return locked, now, drift[0], drift[1]


def compare_with_causes(locked: Lock, now: Lock, root: Path | None, chapters: list[Chapter],
                        details: dict) -> tuple[Drift, dict]:
    drift = lockfile.compare(locked, now)
    causes = causes_of(now.entries, tracers_for(chapters, root, details)) if drift else {}
    return drift, causes
