"""A cold render's first step: start the warm templates before anything else is imported.

Kept apart from `service` (which imports the cache, the trace and the kernel client, 40 ms) so
that the template's own imports, the longest wait of a cold render, start that much sooner.
"""

from __future__ import annotations

from collections.abc import Iterable
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


def prestart_chapters(proj: Project, chapters: list) -> None:
    """Start the templates for parsed chapters that hold cells (`Executions.start`, when cold)."""
    _start(proj.kernel_cwd(ch.source) for ch in chapters if ch.doc.cells)


def _start(cwds: Iterable[Path]) -> None:
    from bookbuild.execution.warm.template import prestart

    for cwd in dict.fromkeys(cwds):
        prestart(cwd)


def prestart_if_cold(proj: Project, files: list, use_cache: bool) -> bool:
    """On a cold build, start the templates for the chapters that hold Python cells (by a look
    at their text; nothing parsed yet); the build's `Executions.start` finds them running. Returns
    whether any chapter will need a kernel."""
    if not proj.settings.warm_kernels or not is_cold(proj, use_cache):
        return False
    cwds = []
    for f in files:
        try:
            text = Path(f).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue  # the build reports it, located
        if "{python" in text:
            cwds.append(proj.kernel_cwd(Path(f)))
    _start(cwds)
    return bool(cwds)
