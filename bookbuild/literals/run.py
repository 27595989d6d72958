"""`bookbuild check --literals` over a project's chapters (after the reference check passed)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from bookbuild.literals.report import LiteralReport, check_chapter, print_report


def lint(proj, files: list[Path], out: TextIO) -> int:
    """Lint each chapter; an execution error is printed located and makes the exit code 1.

    Chapters whose values are not cached execute in parallel, as in `render`."""
    from bookbuild.literals.values import computed_values, prepare
    from bookbuild.source.qmd import parse_file

    docs = [parse_file(f) for f in files]
    probes = [prepare(doc, proj.kernel_cwd(f)) for doc, f in zip(docs, files, strict=True)]
    ready = [p for p in probes if p is not None]
    values = dict(zip((id(p) for p in ready),
                      computed_values(ready, proj.cache_dir, proj.settings.timeout,
                                      proj.settings.jobs), strict=True))
    reports: list[LiteralReport] = []
    failed = False
    for doc, p in zip(docs, probes, strict=True):
        found = values.get(id(p), []) if p is not None else []
        if isinstance(found, Exception):
            print(found, file=sys.stderr)
            failed = True
            continue
        reports.append(check_chapter(doc, found))
    code = print_report(reports, out)
    return 1 if failed else code
