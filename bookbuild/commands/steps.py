"""The steps every command takes in the same order: start the kernels, check while they start,
then wait for the results (each command decides what its check is and what a failure says)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bookbuild.execution.service import Executions, Outcome
from bookbuild.model import Chapter
from bookbuild.source.project import Project
from bookbuild.system.errors import BuildError


def start_check_finish(proj: Project, chapters: list[Chapter], check: Callable[[], list[str]],
                       use_cache: bool = True, formats: list[str] | None = None,
                       values_only: bool = False,
                       explicit: frozenset[Path] = frozenset(),
                       strict: bool = False) -> dict[Path, Outcome]:
    """Start `chapters`' kernels, run `check` meanwhile (its problems stop everything, kernels
    included) and return each chapter's result or error. `explicit`: the files a render names,
    which execute even when frozen (as `quarto render FILE` does); `strict`: a stale frozen
    result is an error."""
    with Executions(proj, use_cache, formats, values_only=values_only,
                    explicit=explicit, strict=strict) as runs:
        runs.start(chapters)  # kernels start up while the check runs
        problems = check()
        if problems:
            raise BuildError("\n".join(problems))
        return runs.finish()
