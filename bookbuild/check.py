"""`bookbuild check`: parse and resolve every chapter, report all problems at once."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from bookbuild.names import ModuleNames, search_roots
from bookbuild.qmd import parse_file
from bookbuild.refs import CheckResult, check_document


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


def static_check(files: list[Path], project_root: Path | None, command: str) -> list[str]:
    """The check a build runs first: problems go to stderr; returns a stop message if any."""
    results = check_files(files, project_root)
    if not any(r.diagnostics for r in results):
        return []
    report(results, sys.stderr)
    return [f"{command} stopped: fix the problems above first"]
