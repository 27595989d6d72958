"""The chapter's computed values: every number its cells assign, and every rendered inline value.

Values need execution. The chapter runs unchanged plus one synthetic cell that defines a
function returning JSON of the assigned names (magnitudes of pint Quantities), and one
synthetic inline reference calling it. It runs through the execution service, as in `render`
(`_quarto.yml`'s execute options, warm kernels, the cache: a second run starts no kernel).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, replace
from functools import lru_cache

from bookbuild.analysis.names import python_source
from bookbuild.model import Chapter, ExecutionResult
from bookbuild.source.qmd import CodeCell, Document, InlineRef

PROBE = "__bookbuild_literal_values__"
_NUMBER_TEXT = re.compile(r"[~≈]?\s*-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?")

_PROBE_CODE = '''\
def {probe}():
    """Numeric values of the names the chapter's cells assign (never raises)."""
    import json as _json
    import numbers as _numbers
    out = {{}}
    for key in {keys!r}:
        try:
            head, *rest = key.split(".")
            value = globals()[head]
            for part in rest:
                value = getattr(value, part)
            value = getattr(value, "magnitude", value)
            if isinstance(value, bool):
                continue
            if isinstance(value, _numbers.Real):
                out[key] = float(value)
            elif isinstance(value, str) and len(value) < 40:
                out[key] = value
        except Exception:
            pass
    return _json.dumps(out)
'''


@dataclass(frozen=True)
class Assigned:
    """A name a cell assigns: `Class.attr` or a module-level name, with where and how."""

    key: str
    cell: int  # index of the cell among the chapter's cells
    line: int  # `.qmd` line of the assignment
    expr: str  # source of the right-hand side


@dataclass(frozen=True)
class Value:
    """One computed number and where it comes from."""

    key: str  # `Class.attr`, a module-level name, or an inline expression
    number: float
    text: str  # as the chapter shows it (rendered text or str value), else repr
    line: int  # `.qmd` line of the assignment or of the inline reference
    expr: str  # right-hand side, or the inline expression
    cell: int | None  # cell index for assigned names; None for inline values
    quoted: bool = False  # the chapter quotes this name inline somewhere


def assigned_names(doc: Document) -> list[Assigned]:
    """Module-level names and class attributes assigned in each cell, in order (static)."""
    out: list[Assigned] = []
    for cell in doc.cells:
        src = python_source(cell.source)
        tree = parsed(src)
        if tree is None:
            continue
        lines = src.splitlines()
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                for stmt in node.body:
                    out += _targets(stmt, f"{node.name}.", cell, lines)
            else:
                out += _targets(node, "", cell, lines)
    return out


@lru_cache(maxsize=256)
def parsed(src: str) -> ast.Module | None:
    """A cell's AST, parsed once for both the names and the docstrings."""
    try:
        return ast.parse(src)
    except SyntaxError:
        return None


def _targets(stmt: ast.stmt, prefix: str, cell: CodeCell, lines: list[str]) -> list[Assigned]:
    if isinstance(stmt, ast.Assign):
        targets, value = stmt.targets, stmt.value
    elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
        targets, value = [stmt.target], stmt.value
    else:
        return []
    expr = _segment(lines, value)
    return [Assigned(prefix + t.id, cell.index, cell.first_line + stmt.lineno - 1,
                     " ".join(expr.split()))
            for t in targets if isinstance(t, ast.Name)]


def _segment(lines: list[str], node: ast.expr) -> str:
    """The source of `node` (ast.get_source_segment without re-splitting the cell each time)."""
    if node.end_lineno is None or node.end_col_offset is None:
        return ""
    first, last = node.lineno - 1, node.end_lineno - 1
    if first == last:
        return lines[first].encode()[node.col_offset:node.end_col_offset].decode(errors="replace")
    parts = [lines[first].encode()[node.col_offset:].decode(errors="replace")]
    parts += lines[first + 1:last]
    parts.append(lines[last].encode()[:node.end_col_offset].decode(errors="replace"))
    return "\n".join(parts)


def probe_document(doc: Document, keys: list[str]) -> Document:
    """`doc` plus the synthetic cell and inline reference that report the assigned values."""
    code = _PROBE_CODE.format(probe=PROBE, keys=keys)
    end = len(doc.text)
    line = doc.text.count("\n") + 1
    # `eval: true` of its own: a book or chapter that runs no cell (`eval: false`) still reports
    cell = CodeCell(doc.path, len(doc.cells), line, code, {"eval": True}, end, end)
    ref = InlineRef(doc.path, line, 1, f"{PROBE}()", line, 1, end, end)
    return replace(doc, cells=(*doc.cells, cell), refs=(*doc.refs, ref))


def as_number(text: str) -> float | None:
    """The number a short text shows (`"1,365"`, `"~5,000"`, `"0.16"`), else None."""
    m = _NUMBER_TEXT.fullmatch(text.strip())
    if not m:
        return None
    try:
        return float(re.sub(r"[~≈,\s]", "", text))
    except ValueError:
        return None


def probe_chapter(ch: Chapter) -> tuple[Chapter, tuple[Assigned, ...]] | None:
    """The chapter the execution service runs for `ch` (its document plus the probe) and the
    names its cells assign; None when it has no cells (nothing computed)."""
    if not ch.doc.cells:
        return None
    assigned = tuple(assigned_names(ch.doc))
    return replace(ch, doc=probe_document(ch.doc, [a.key for a in assigned])), assigned


def values_of(doc: Document, assigned: tuple[Assigned, ...], result: ExecutionResult) -> list[Value]:
    """Every numeric value the chapter computes, from its probed execution's result."""
    return collect(doc, list(assigned), json.loads(result.inline[-1]), result.inline[:-1])


def collect(doc: Document, assigned: list[Assigned], raw: dict, inline: list[str]) -> list[Value]:
    """Values from the probe's JSON and the rendered inline texts."""
    quoted = {r.expr for r in doc.refs}
    values: list[Value] = []
    for a in assigned:
        v = raw.get(a.key)
        if isinstance(v, str):
            number, text = as_number(v), v
        elif isinstance(v, (int, float)):
            number, text = float(v), _short(v)
        else:
            continue
        if number is None:
            continue
        values.append(Value(a.key, number, text, a.line, a.expr, a.cell, a.key in quoted))
    for ref, text in zip(doc.refs, inline, strict=False):
        number = as_number(text)
        if number is not None:
            values.append(Value(ref.expr, number, text, ref.line, ref.expr, None, True))
    return values


def _short(v: float) -> str:
    return f"{v:.6g}" if isinstance(v, float) and not float(v).is_integer() else str(int(v))
