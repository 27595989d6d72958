"""`bookbuild check`: parse and resolve every chapter, report all problems at once."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from bookbuild.qmd import parse_file
from bookbuild.refs import CheckResult, ModuleNames, check_document, search_roots


def check_files(files: list[Path], project_root: Path | None) -> list[CheckResult]:
    results = []
    modules: dict[tuple, ModuleNames] = {}
    for f in files:
        doc = parse_file(f)
        roots = search_roots(str(f), project_root)
        names = modules.setdefault(tuple(roots), ModuleNames(roots))
        results.append(check_document(doc, project_root, names))
    return results


def report(results: list[CheckResult], out: TextIO) -> int:
    """Print one line per problem and a summary; return the exit code (1 on any error)."""
    diagnostics = sorted(d for r in results for d in r.diagnostics)
    for d in diagnostics:
        print(d.format(), file=out)
    refs = sum(r.refs for r in results)
    files = len(results)
    noun = "file" if files == 1 else "files"
    if diagnostics:
        n = len(diagnostics)
        print(f"{n} error{'s' if n != 1 else ''} in {files} {noun} ({refs} inline references checked)",
              file=out)
        return 1
    print(f"ok: {refs} inline references resolve in {files} {noun}", file=out)
    return 0
