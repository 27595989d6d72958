"""`bookbuild check --literals`: hand-typed numbers that contradict, or could be, computed ones.

LIT001 stale: a literal the author evidently meant as a computed value, which disagrees with
it beyond the literal's own precision. LIT002 could be computed: a literal in prose that equals
a computed value; write the inline reference instead. Silence one finding with
`<!-- bookbuild: ignore LIT002 -->` (or `# bookbuild: ignore LIT001` in a cell) on its line.
"""

from __future__ import annotations

from bookbuild.literals.report import LiteralReport, check_chapter, print_report

__all__ = ["LiteralReport", "check_chapter", "print_report"]
