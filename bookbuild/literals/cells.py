"""Literals in the comments and docstrings of a chapter's cells (read with tokenize and ast).

A header comment groups into statements ("Show: A100 ridge ~208 FLOP/byte; ..."), each split
into clauses at ";" and sentence ends; a trailing comment belongs to the name its line assigns.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass

from bookbuild.analysis.names import python_source
from bookbuild.literals.scan import Literal, literals, masked
from bookbuild.source.qmd import CodeCell, Document, is_option_line

_BOX = " \t#│├└┌┐┘┤┬┴┼─═║╔╗╚╝-=*"
_KEY = re.compile(r"^[A-Z][\w ]{0,24}:\s")
_CLAUSE_END = re.compile(r";|(?<=[.!?])\s+(?=[A-Z\"“(])")


@dataclass(frozen=True)
class CellSpot:
    """A literal in a cell's comment or docstring, with its clause and its cell."""

    kind: str  # comment, docstring
    lit: Literal  # offsets within `clause`
    clause: str  # masked text of the clause holding it
    line: int  # position in the `.qmd`
    col: int
    cell: int
    assigned_line: int | None  # for a trailing comment: the `.qmd` line of its assignment


def scan_cells(doc: Document) -> list[CellSpot]:
    lines = doc.text.splitlines()
    out: list[CellSpot] = []
    for cell in doc.cells:
        out += _scan_cell(cell, lines)
    return out


def _scan_cell(cell: CodeCell, qmd_lines: list[str]) -> list[CellSpot]:
    src = python_source(cell.source)
    pieces: list[tuple[str, int, int, str, bool]] = []  # text, line, col, kind, trailing
    code_lines: set[int] = set()
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(src).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return []
    for tok in toks:
        if tok.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                            tokenize.DEDENT, tokenize.ENDMARKER):
            code_lines.update(range(tok.start[0], tok.end[0] + 1))
    docstrings = _docstring_lines(src)
    for tok in toks:
        if tok.type == tokenize.COMMENT and not is_option_line(tok.string):
            trailing = tok.start[0] in code_lines
            pieces.append((tok.string, tok.start[0], tok.start[1], "comment", trailing))
        elif tok.type == tokenize.STRING and tok.start[0] in docstrings:
            for k, text in enumerate(tok.string.split("\n")):
                col = tok.start[1] if k == 0 else 0
                pieces.append((text, tok.start[0] + k, col, "docstring", False))
    return _statements(pieces, cell, qmd_lines)


def _docstring_lines(src: str) -> set[int]:
    from bookbuild.literals.values import parsed

    tree = parsed(src)
    if tree is None:
        return set()
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                out.add(body[0].lineno)
    return out


def _statements(pieces, cell: CodeCell, qmd_lines: list[str]) -> list[CellSpot]:
    """Group comment lines into statements, then report each literal with its clause."""
    groups: list[list[tuple[str, int, int, str, bool]]] = []
    prev_line = None
    for piece in pieces:
        text, line, _, kind, trailing = piece
        body = text.lstrip(_BOX)
        new = (trailing or kind == "docstring" and prev_line is None or prev_line is None
               or line != prev_line + 1 or bool(_KEY.match(body)) or not body.strip()
               or bool(groups and groups[-1] and groups[-1][-1][4]))
        if new:
            groups.append([])
        if body.strip():
            groups[-1].append(piece)
        prev_line = None if trailing else line
    out: list[CellSpot] = []
    for group in groups:
        if not group:
            continue
        # One text for the statement; remember where each piece starts in it.
        joined, where = "", []
        for text, line, col, _kind, _trailing in group:
            where.append((len(joined), text, line, col))
            joined += text + "\n"
        view = masked(_unbox(joined))
        bounds = _clauses(view)
        for lit in literals(view):
            base, text, line, col = max(w for w in where if w[0] <= lit.start)
            a, b = next((a, b) for a, b in bounds if a <= lit.start < b)
            qline = cell.first_line + line - 1
            qcol = _qmd_col(qmd_lines, qline, text, col) + (lit.mark_start - base)
            clause_lit = _relative(lit, a)
            kind, trailing = group[0][3], group[0][4]
            out.append(CellSpot(kind, clause_lit, view[a:b], qline, qcol, cell.index,
                                qline if trailing else None))
    return out


def _unbox(text: str) -> str:
    """Box-drawing and comment marks become spaces (same length)."""
    return "".join(" " if ch in "#│├└┌┐┘┤┬┴┼─═║╔╗╚╝" else ch for ch in text)


def _clauses(view: str) -> list[tuple[int, int]]:
    bounds, start = [], 0
    for m in _CLAUSE_END.finditer(view):
        bounds.append((start, m.end()))
        start = m.end()
    bounds.append((start, len(view) + 1))
    return bounds


def _relative(lit: Literal, by: int) -> Literal:
    from dataclasses import replace

    return replace(lit, start=lit.start - by, end=lit.end - by, mark_start=lit.mark_start - by)


def _qmd_col(qmd_lines: list[str], line: int, text: str, col: int) -> int:
    """1-based column in the `.qmd` of a piece that starts at `col` of the cell line."""
    if 0 < line <= len(qmd_lines):
        k = qmd_lines[line - 1].find(text[:20])
        if k >= 0:
            return k + 1
    return col + 1
