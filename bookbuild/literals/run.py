"""`bookbuild check --literals` over a project's chapters (after the reference check passed)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from bookbuild.literals.report import LiteralReport, check_chapter, print_report


def lint(proj, files: list[Path], out: TextIO) -> int:
    """Lint each chapter; an execution error is printed located and makes the exit code 1."""
    from bookbuild.execute import ExecutionError
    from bookbuild.qmd import parse_file

    reports: list[LiteralReport] = []
    failed = False
    for f in files:
        doc = parse_file(f)
        try:
            reports.append(check_chapter(doc, proj.kernel_cwd(f), proj.cache_dir,
                                         timeout=proj.settings.timeout))
        except ExecutionError as exc:
            print(exc, file=sys.stderr)
            failed = True
    code = print_report(reports, out)
    return 1 if failed else code
