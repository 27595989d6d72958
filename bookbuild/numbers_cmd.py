"""`bookbuild numbers check|accept|why`: the orchestrator of the numbers lock commands."""

from __future__ import annotations

from pathlib import Path

from bookbuild import drift as drift_mod
from bookbuild import lock as lockfile
from bookbuild.chapters import Chapter, chapter_key
from bookbuild.checkcache import static_check
from bookbuild.errors import BuildError, display_path
from bookbuild.parsecache import ParseCache
from bookbuild.project import Project
from bookbuild.provenance import constants_of, why
from bookbuild.runner import execute_all


def run(proj: Project, files: list[Path], action: str, expr: str | None = None,
        whole_book: bool = True) -> int:
    """Execute (cached) and check, accept or explain; returns the exit code."""
    parsed = ParseCache(proj.cache_entries)
    chapters = [Chapter(f, parsed.parse_file(f)) for f in files]
    errors = execute_all(proj, chapters, use_cache=True,
                         before_execution=lambda: static_check(
                             files, proj.root, "numbers", {ch.source: ch.doc for ch in chapters},
                             proj.cache_entries, config=proj.config),
                         values_only=True)
    if errors:
        raise BuildError("\n".join(errors))
    parsed.flush()  # the check passed: remember the parsed chapters
    path = (proj.root or Path.cwd()) / lockfile.LOCK
    if action == "why":
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
    now, details = drift_mod.current(proj.root, chapters)
    try:
        old = lockfile.load(path)
    except lockfile.LockError:
        old = None  # accepting is how a broken lock is replaced
    lines: list[str] = []
    if old is not None:
        drift, causes = drift_mod.compare_with_causes(old, now, proj.root, chapters, details)
        inputs = drift_mod.changed_inputs(proj.cache_dir, proj.root, chapters) if drift else {}
        lines = drift_mod.report(drift, causes, "accepted", inputs)
    lockfile.write(path, now)
    drift_mod.remember_inputs(proj.cache_dir, proj.root, chapters)
    print("\n".join(lines + [f"wrote {display_path(path)}: {len(now.entries)} numbers in "
                             f"{len(chapters)} chapter(s), {len(now.constants)} constants"]))
    return 0


def _check(proj: Project, chapters: list[Chapter], path: Path, whole_book: bool) -> int:
    locked, now, drift, causes = drift_mod.drift_of(proj.root, chapters, whole_book)
    if locked is None:
        print(f"drift: no {lockfile.LOCK} yet: review the numbers, then run "
              "`bookbuild numbers accept`")
        return 1
    if drift:
        inputs = drift_mod.changed_inputs(proj.cache_dir, proj.root, chapters)
        print("\n".join([*drift_mod.report(drift, causes, "drift", inputs), drift_mod.summary(drift)]))
        return 1
    print(f"numbers: {display_path(path)} matches ({len(now.entries)} numbers in "
          f"{len(now.chapters())} chapter(s), {len(now.constants)} constants)")
    return 0
