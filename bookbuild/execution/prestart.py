"""A cold render's first step: start the warm templates before anything else is imported.

Kept apart from `service` (which imports the cache, the trace and the kernel client, 40 ms) so
that the template's own imports, the longest wait of a cold render, start that much sooner.
"""

from __future__ import annotations

import re
from pathlib import Path

from bookbuild.source.project import Project


def is_cold(proj: Project, use_cache: bool) -> bool:
    """Whether every chapter with cells will execute: no cache used, or none written yet. Only
    then is a template started before the cache is asked (a cached build must not pay for one)."""
    if not use_cache:
        return True
    try:
        return not any(proj.cache_entries.iterdir())
    except OSError:
        return True


def maybe_frozen(proj: Project, source: Path) -> bool:
    """Whether the chapter may be served from `_freeze/` (the project freezes, and a result of
    it is there): no template is started for it ahead of the look-up (execution/freeze.py)."""
    if proj.root is None:
        return False
    execute = proj.config.get("execute")
    value = execute.get("freeze") if isinstance(execute, dict) else proj.config.get("freeze")
    if value in (None, False) or str(value).lower() in ("false", "no", "off"):
        return False
    try:
        rel = source.resolve().relative_to(proj.root.resolve()).with_suffix("")
    except ValueError:
        return False
    return (proj.root / "_freeze" / rel / "execute-results").is_dir()


def prestart_chapters(proj: Project, chapters: list) -> None:
    """Start the templates for parsed chapters that hold cells (`Executions.start`, when cold)."""
    groups: dict[Path, list[str]] = {}
    for ch in chapters:
        if ch.doc.cells and not maybe_frozen(proj, ch.source):
            groups.setdefault(proj.kernel_cwd(ch.source), []).extend(
                c.source for c in ch.doc.cells)
    _start(groups)


def _start(groups: dict[Path, list[str]]) -> None:
    from bookbuild.execution.warm.template import prestart

    if groups:
        prestart(groups)


# A code cell as a look at a chapter's text finds it (the parser is not loaded yet).
_CELL = re.compile(r"^```+\s*\{python[^}]*\}[^\n]*\n(.*?)^```", re.M | re.S)


def prestart_if_cold(proj: Project, files: list, use_cache: bool) -> bool:
    """On a cold build, start the templates for the chapters that hold Python cells (by a look
    at their text; nothing parsed yet); the build's `Executions.start` finds them running. Returns
    whether any chapter will need a kernel."""
    if not proj.settings.warm_kernels or not is_cold(proj, use_cache):
        return False
    groups: dict[Path, list[str]] = {}
    for f in files:
        try:
            text = Path(f).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue  # the build reports it, located
        if "{python" in text and not maybe_frozen(proj, Path(f)):
            groups.setdefault(proj.kernel_cwd(Path(f)), []).extend(_CELL.findall(text))
    _start(groups)
    return bool(groups)
