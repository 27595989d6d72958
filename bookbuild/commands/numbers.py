"""`bookbuild numbers check|accept|why`: the orchestrator of the numbers lock commands."""

from __future__ import annotations

import sys
from pathlib import Path

from bookbuild.analysis.checkcache import static_check
from bookbuild.commands.steps import start_check_finish
from bookbuild.execution.service import errors_of, executed
from bookbuild.model import Chapter, chapter_key
from bookbuild.numbers import drift as drift_mod
from bookbuild.numbers import lock as lockfile
from bookbuild.numbers.provenance import constants_of, output_cells, why, why_shown
from bookbuild.source.parsecache import ParseCache
from bookbuild.source.project import Project
from bookbuild.system.errors import BuildError, display_path


def run(proj: Project, files: list[Path], action: str, expr: str | None = None,
        whole_book: bool = True, where: tuple[str | None, str | None] = (None, None),
        strict: bool = False) -> int:
    """Execute (cached) and check, accept or explain; returns the exit code."""
    path = (proj.root or Path.cwd()) / lockfile.LOCK
    if strict and not path.is_file():  # CI: a lock nobody committed is a failure, said where
        raise BuildError(f"{display_path(path)}:1: no numbers lock: every number would pass "
                         "unchecked [LCK002]\nhelp: render, review the numbers, run `bookbuild "
                         "numbers accept` and commit numbers.lock")
    parsed = ParseCache(proj.cache_entries)
    chapters = [Chapter(f, parsed.parse_file(f)) for f in files]
    results = start_check_finish(proj, chapters, lambda: static_check(
        files, proj.root, "numbers", {ch.source: ch.doc for ch in chapters}, proj.cache_entries,
        config=proj.config), values_only=True)
    errors = errors_of(results)
    if errors:
        raise BuildError("\n".join(errors))
    chapters = executed(chapters, results)
    parsed.flush()  # the check passed: remember the parsed chapters
    path = (proj.root or Path.cwd()) / lockfile.LOCK
    if action == "why":
        cells = output_cells(proj.root, chapters, expr or "")
        if cells is not None or any(where):
            return _why_shown(proj, chapters, path, expr or "", cells or [], where)
        return _why(proj, chapters, path, expr or "")
    if action == "accept":
        return _accept(proj, chapters, path)
    return _check(proj, chapters, path, whole_book)


def _why(proj: Project, chapters: list[Chapter], path: Path, expr: str) -> int:
    values = {(chapter_key(proj.root, ch.source), ref.expr): text
              for ch in chapters for ref, text in zip(ch.doc.refs, ch.result.inline, strict=True)}
    lines = why(chapters, proj.root, constants_of(chapters), values, expr)
    if not lines:
        raise BuildError(f"bookbuild: '{expr}' is not defined in any chapter's cells")
    print("\n".join(lines))
    return 0


def _accept(proj: Project, chapters: list[Chapter], path: Path) -> int:
    now, details = drift_mod.current(proj.root, chapters, proj.config, inputs=True)
    try:
        old = lockfile.load(path)
    except lockfile.LockError as exc:
        old = None  # accepting is how a broken lock is replaced: said, with what it discards
        print(_discarded(path, exc), file=sys.stderr)
    lines: list[str] = []
    if old is not None:
        drift, causes = drift_mod.compare_with_causes(old, now, proj.root, chapters, details)
        lines = drift_mod.report(drift, causes, "accepted")
    lockfile.write(path, now)
    print("\n".join(lines + [f"wrote {display_path(path)}: {len(now.entries)} numbers in "
                             f"{len(chapters)} chapter(s), {len(now.constants)} constants"
                             + _shown_count(now)]))
    return 0


def _discarded(path: Path, exc: lockfile.LockError) -> str:
    """One line for a malformed lock `accept` replaces: which of its lines were unreadable."""
    where = [f"line {d.line} ({d.message})" if d.line else d.message for d in exc.diagnostics]
    shown = "; ".join(where[:5]) + (f"; and {len(where) - 5} more" if len(where) > 5 else "")
    return (f"note: {display_path(path)} was malformed and is replaced by the current numbers "
            f"(nothing in it was compared); discarded: {shown}")


def _check(proj: Project, chapters: list[Chapter], path: Path, whole_book: bool) -> int:
    locked, now, drift, causes = drift_mod.drift_of(proj.root, chapters, whole_book, proj.config)
    if locked is None:
        print(f"drift: no {lockfile.LOCK} yet: review the numbers, then run "
              "`bookbuild numbers accept`")
        return 1
    if drift:
        print("\n".join([*drift_mod.report(drift, causes, "drift"), drift_mod.summary(drift)]))
        return 1
    print(f"numbers: {display_path(path)} matches ({len(now.entries)} numbers in "
          f"{len(now.chapters())} chapter(s), {len(now.constants)} constants{_shown_count(now)})")
    return 0


def _shown_count(lock: lockfile.Lock) -> str:
    """`, N numbers shown by cells` when cells show any (inline-only books read as before)."""
    return f", {len(lock.shown)} numbers shown by cells" if lock.shown else ""


def _why_shown(proj: Project, chapters: list[Chapter], path: Path, expr: str,
               cells: list[tuple[str, str]], where: tuple[str | None, str | None]) -> int:
    """`numbers why` for the numbers cells show: per cell, what it reads, then each number."""
    now, details = drift_mod.current(proj.root, chapters, proj.config, inputs=True)
    try:
        locked = lockfile.load(path)
    except lockfile.LockError:
        locked = None  # explaining needs no lock; `numbers check` reports the broken one
    row, column = where
    lines: list[str] = []
    for chapter, cell in cells:
        shown = [s for s in now.shown or [] if (s.chapter, s.cell) == (chapter, cell)
                 and (row is None or s.row == row) and (column is None or s.column == column)]
        if shown:
            lines += why_shown(chapters, proj.root, details, now, locked, shown)
    if not lines:
        raise BuildError(f"bookbuild: no number shown by a cell matches '{expr}'"
                         + (f" (row {row!r})" if row is not None else "")
                         + (f" (column {column!r})" if column is not None else ""))
    print("\n".join(lines))
    return 0
