"""Compare executed chapters with numbers.lock and say what moved each number: a constant, a
data file, a package version, or no input at all."""

from __future__ import annotations

from pathlib import Path

from bookbuild.model import Chapter, chapter_key
from bookbuild.numbers import lock as lockfile
from bookbuild.numbers.inputs import data_files, package_versions
from bookbuild.numbers.lock import Drift, Lock
from bookbuild.numbers.provenance import (
    UNTRACED,
    causes_of,
    cells_by_name,
    constants_of,
    tracers_for,
)
from bookbuild.numbers.shown import Shown, shown_of
from bookbuild.system.errors import brief


def current(root: Path | None, chapters: list[Chapter], config: dict | None = None,
            inputs: bool = False) -> tuple[Lock, dict[str, dict]]:
    """The lock the executed `chapters` would write now, with the constants' details; with
    `inputs`, also the data files and packages they read (to write or explain)."""
    details = constants_of(chapters)
    now = Lock({name: d["value"] for name, d in details.items()}, shown=[])
    for ch in chapters:
        key = chapter_key(root, ch.source)
        now.entries += lockfile.entries_of(key, ch.doc.refs, ch.result.inline)
        if not ch.doc.refs:
            now.empty_chapters.add(key)
        now.shown += shown_of(key, ch.doc, ch.result.outputs, config)
    if inputs:
        read_inputs(now, root, chapters)
    return now, details


def read_inputs(now: Lock, root: Path | None, chapters: list[Chapter]) -> None:
    """Hash the data files and look up the packages the chapters used: only for a lock being
    written or a drift being explained, as a large data file takes a while to hash."""
    now.files, now.packages = {}, {}
    for ch in chapters:
        files = data_files(root, ch.result.dependencies or [])
        packages = package_versions(root, ch.doc)
        now.files.update(files)
        now.packages.update(packages)
        now.inputs[chapter_key(root, ch.source)] = ({f"file:{f}" for f in files}
                                                    | {f"package:{p}" for p in packages})


def _short(value: tuple[int, str] | None) -> str:
    return "absent" if value is None else f"{value[0]} bytes, sha256 {value[1][:12]}"


def _inputs(drift: Drift) -> list[tuple[str, str, str]]:
    """(cause id, short name, how it changed) of each changed constant, file and package."""
    out = [(n, n, f"new constant {n} = {b}" if a is None else f"removed constant {n} (was {a})"
            if b is None else f"constant {n}: {a} → {b}") for n, a, b in drift.constants]
    out += [(f"file:{p}", p, f"data file {p}: {_short(a)} → {_short(b)}") for p, a, b in drift.files]
    out += [(f"package:{n}", n, f"package {n}: {a or 'absent'} → {b or 'absent'}")
            for n, a, b in drift.packages]
    return out


def report(drift: Drift, causes: dict[tuple, set[str]], severity: str) -> list[str]:
    """Human-readable drift: moved numbers, then each changed input and what it moved."""
    out = [f"{severity}: chapter {c} is in the book but not in numbers.lock" for c in drift.chapters_added]
    out += [f"{severity}: chapter {c} is in numbers.lock but no longer in the book"
            for c in drift.chapters_removed]
    if drift.outputs_unlocked and severity == "accepted":
        out.append(f"accepted: {drift.outputs_unlocked} numbers shown by cells, locked for the "
                   "first time")
    elif drift.outputs_unlocked:
        out.append(f"{severity}: numbers.lock predates locking cell outputs ({drift.outputs_unlocked} "
                   "numbers shown by cells): run `bookbuild numbers accept`")
    changed = _inputs(drift)
    names = {cause: name for cause, name, _ in changed}
    named = {now.key: _named(causes.get(now.key, set()), names) for _, now in drift.moved}
    for locked, now in drift.moved:
        because = sorted(names[c] for c in named[now.key])
        if because:
            why = f"moved by {', '.join(because)}"
        elif drift.known_inputs and not drift.constants:  # a constant the trace missed may have
            why = "no input changed: its code changed, or it is not deterministic"
        else:
            why = "no changed constant explains it: code or inputs changed"
        out.append(f"{severity}: {now.place()} {brief(now.expr)}: {brief(locked.text)} → "
                   f"{brief(now.text)}  ({why})")
    out += [f"{severity}: {e.place()} new {_what(e)} {brief(e.expr)} = {brief(e.text)}"
            for e in drift.added]
    out += [f"{severity}: {e.chapter}:{e.line} removed {_what(e)} {brief(e.expr)} (was {brief(e.text)})"
            for e in drift.removed]
    for cause, _, text in changed:
        moved = [f"{now.place()} {now.expr}" for _, now in drift.moved if cause in named[now.key]]
        if moved or not cause.startswith(("file:", "package:")):  # inputs matter for what they move
            out.append(f"{severity}: {text}")
            out += [f"    moved {m}" for m in moved] or ["    moved no rendered number"]
    return out


def cause_names(drift: Drift, causes: dict[tuple, set[str]]) -> dict[tuple, list[str]]:
    """Per moved number's key, the short names of the changed inputs that moved it."""
    names = {cause: name for cause, name, _ in _inputs(drift)}
    return {now.key: sorted(names[c] for c in _named(causes.get(now.key, set()), names))
            for _, now in drift.moved}


def input_changes(drift: Drift) -> list[tuple[str, str, str]]:
    """(cause id, short name, how it changed) of each changed constant, file and package."""
    return _inputs(drift)


def _named(causes: set[str], changed: dict[str, str]) -> set[str]:
    """The changed causes a report names for one number: the constants its trace reaches when
    any changed (precise), else what its chapter used that changed (chapter-wide): the
    constants its kernel reached when the trace stopped short, its data files and packages."""
    wide = {c.partition(":")[2] for c in causes if c.startswith("wide:")}
    hit = (causes | wide) & changed.keys()
    traced = {c for c in hit & causes if not c.startswith(("file:", "package:"))}
    return traced or hit


def _what(e) -> str:
    return "output number" if isinstance(e, Shown) else "reference"


def summary(drift: Drift) -> str:
    return (f"numbers: {len(drift.moved)} moved, {len(drift.added)} new, {len(drift.removed)} "
            f"removed, {len(drift.constants)} constant(s) changed"
            + (f", {len(drift.chapters_added) + len(drift.chapters_removed)} chapter(s) added or "
               "removed" if drift.chapters_added or drift.chapters_removed else "")
            + " (run `bookbuild numbers accept` to take them)")


def drift_of(root: Path | None, chapters: list[Chapter], whole_book: bool,
             config: dict | None = None) -> tuple[Lock | None, Lock, Drift | None, dict]:
    """(locked, now, drift, causes); drift is None when there is no lock yet.

    A render of some chapters compares only those chapters and the constants they loaded.
    """
    locked = lockfile.load((root or Path.cwd()) / lockfile.LOCK)
    now, details = current(root, chapters, config)
    if locked is None:
        return None, now, None, {}
    if not whole_book:
        locked = lockfile.restrict(locked, now.chapters())
        locked.constants = {k: v for k, v in locked.constants.items() if k in now.constants}
    drift = compare_with_causes(locked, now, root, chapters, details)
    return locked, now, drift[0], drift[1]


def compare_with_causes(locked: Lock, now: Lock, root: Path | None, chapters: list[Chapter],
                        details: dict) -> tuple[Drift, dict]:
    """The drift and, when there is any, the causes each number may have moved by."""
    drift = lockfile.compare(locked, now)
    if not drift:
        return drift, {}
    if now.files is None:
        read_inputs(now, root, chapters)
    lockfile.changed_inputs(locked, now, drift)
    entries = [*now.entries, *(now.shown or [])]
    causes = causes_of(entries, tracers_for(chapters, root, details), cells_by_name(chapters, root))
    reached = _reached(chapters, root, details)
    for e in entries:  # what the chapter read counts for every number it shows
        found = causes[e.key]
        if UNTRACED in found:  # the trace stopped short: any constant the chapter reached may
            found = (found - {UNTRACED}) | {f"wide:{n}" for n in reached.get(e.chapter, ())}
        causes[e.key] = found | now.inputs.get(e.chapter, set())
    return drift, causes


def _reached(chapters: list[Chapter], root: Path | None, details: dict) -> dict[str, set[str]]:
    """Per chapter, the lock names of the constants its kernel reported reaching."""
    out = {}
    for ch in chapters:
        mine = set((ch.result.constants or {}) if ch.result is not None else {})
        out[chapter_key(root, ch.source)] = {n for n in details if n.rpartition(":")[2] in mine}
    return out
