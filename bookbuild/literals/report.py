"""Run the literal lint on chapters and print findings like `bookbuild check` does."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TextIO

from bookbuild.literals.associate import Finding, Judge
from bookbuild.literals.values import Value
from bookbuild.source.qmd import Document
from bookbuild.system.errors import display_path

_IGNORE = re.compile(r"bookbuild:\s*ignore\b([^>\n]*)")


@dataclass
class LiteralReport:
    """The findings of one chapter, and what was silenced or checked."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    silenced: int = 0
    literals: int = 0
    values: int = 0


def check_chapter(doc: Document, values: list[Value]) -> LiteralReport:
    """Scan the chapter's prose and cells and judge every literal against `values`."""
    from bookbuild.literals.cells import scan_cells
    from bookbuild.literals.prose import scan_document

    spots, view = scan_document(doc)
    cell_spots = scan_cells(doc)
    judge = Judge(doc, values, view)
    findings = [f for f in (judge.prose(sp) for sp in spots) if f is not None]
    findings += [f for f in (judge.cell(sp) for sp in cell_spots) if f is not None]
    kept, silenced = _apply_silencing(doc.text, findings)
    kept.sort(key=lambda f: (f.line, f.col))
    return LiteralReport(doc.path, kept, silenced, len(spots) + len(cell_spots), len(values))


def _apply_silencing(text: str, findings: list[Finding]) -> tuple[list[Finding], int]:
    """Drop findings whose line carries `bookbuild: ignore [CODES]` (no codes: every code)."""
    lines = text.splitlines()
    kept, silenced = [], 0
    for f in findings:
        line = lines[f.line - 1] if 0 < f.line <= len(lines) else ""
        m = _IGNORE.search(line)
        codes = set(re.findall(r"LIT\d{3}", m.group(1))) if m else set()
        if m and (not codes or f.code in codes):
            silenced += 1
        else:
            kept.append(f)
    return kept, silenced


def print_report(reports: list[LiteralReport], out: TextIO) -> int:
    """One located line per finding plus its evidence, then a summary; 1 on any finding."""
    for r in reports:
        for f in r.findings:
            print(f"{display_path(r.path)}:{f.line}:{f.col}: {f.message} [{f.code}]", file=out)
            for d in f.details:
                print(f"    {d}", file=out)
    stale = sum(f.code == "LIT001" for r in reports for f in r.findings)
    could = sum(f.code == "LIT002" for r in reports for f in r.findings)
    silenced = sum(r.silenced for r in reports)
    lits = sum(r.literals for r in reports)
    vals = sum(r.values for r in reports)
    files = len(reports)
    noun = "file" if files == 1 else "files"
    quiet = f", {silenced} silenced" if silenced else ""
    head = "literals" if stale or could else "ok: literals"
    print(f"{head}: {stale} LIT001 stale, {could} LIT002 could be computed{quiet} in {files} "
          f"{noun} ({lits} hand-typed numbers checked against {vals} computed values)", file=out)
    return 1 if stale or could else 0
