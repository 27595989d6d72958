"""`bookbuild check --literals` over a project's chapters (after the reference check passed)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from bookbuild.literals.report import LiteralReport, check_chapter, print_report


def lint(proj, files: list[Path], out: TextIO) -> int:
    """Lint each chapter; an execution error is printed located and makes the exit code 1.

    Chapters execute through the service `render` uses: same options, cache and kernels."""
    from bookbuild.execution.execute import ExecutionError
    from bookbuild.execution.service import Executions
    from bookbuild.literals.values import probe_chapter, values_of
    from bookbuild.model import Chapter
    from bookbuild.source.qmd import parse_file

    chapters = [Chapter(f, parse_file(f)) for f in files]
    probes = [probe_chapter(ch) for ch in chapters]
    with Executions(proj, values_only=True) as runs:
        runs.start([p[0] for p in probes if p is not None])
        results = runs.finish()
    reports: list[LiteralReport] = []
    failed = False
    for ch, probe in zip(chapters, probes, strict=True):
        result = results.get(ch.source) if probe is not None else None
        if isinstance(result, ExecutionError):
            print(result, file=sys.stderr)
            failed = True
            continue
        found = values_of(ch.doc, probe[1], result) if probe is not None else []
        reports.append(check_chapter(ch.doc, found))
    code = print_report(reports, out)
    return 1 if failed else code
