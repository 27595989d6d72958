"""Parse a `.qmd` chapter: front matter, fenced code cells with `#|` options, inline references.

Positions are kept as 1-based line and column in the `.qmd` (what the author edits) and as
character offsets (what substitution uses). Parsing never runs code.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bookbuild.errors import Diagnostic

INLINE_ENGINE = "{python}"
_FENCE_OPEN = re.compile(r"^( {0,3})(`{3,}|~{3,})[ \t]*([^\n`]*)$")
_CELL_INFO = re.compile(r"^\{\s*python\b([^}]*)\}\s*$")
_OPTION = re.compile(r"^#\|\s?(.*)$")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True)
class InlineRef:
    """An inline `` `{python} expr` `` occurrence."""

    path: str
    line: int  # line of the opening backtick
    col: int  # column of the opening backtick
    expr: str
    expr_line: int  # position of the expression's first character
    expr_col: int
    start: int  # offsets of the whole code span in the file text
    end: int


@dataclass(frozen=True)
class CodeCell:
    """A ```` ```{python} ```` cell. `source` keeps the `#|` lines so cell lines map 1:1 to the file."""

    path: str
    index: int
    line: int  # line of the opening fence
    source: str
    options: dict[str, Any]
    start: int  # offsets of the whole fenced block, fences included
    end: int

    @property
    def first_line(self) -> int:
        """The `.qmd` line of the cell's first source line."""
        return self.line + 1

    @property
    def label(self) -> str | None:
        label = self.options.get("label")
        return str(label) if label is not None else None

    def describe(self) -> str:
        return f"cell '{self.label}'" if self.label else f"cell #{self.index + 1}"


@dataclass(frozen=True)
class Fence:
    """Any other fenced block (```` ```{.tikz} ````, plain code): never holds live references."""

    path: str
    line: int
    info: str
    body: str
    start: int
    end: int


@dataclass(frozen=True)
class Document:
    path: str
    text: str
    front_matter: dict[str, Any]
    cells: tuple[CodeCell, ...]
    fences: tuple[Fence, ...]
    refs: tuple[InlineRef, ...]
    problems: tuple[Diagnostic, ...] = field(default=())
    body_start: int = 0  # offset just past the YAML front matter


class LineIndex:
    """Maps character offsets of a text to 1-based (line, column)."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.starts, offset) - 1
        return i + 1, offset - self.starts[i] + 1


def parse_file(path: str | Path) -> Document:
    path = Path(path)
    return parse(path.read_text(encoding="utf-8"), str(path))


def parse(text: str, path: str = "<string>") -> Document:
    """Split the text into front matter, fenced blocks and prose; find inline references."""
    index = LineIndex(text)
    problems: list[Diagnostic] = []
    front, body_start = _front_matter(text, path, problems)
    cells: list[CodeCell] = []
    fences: list[Fence] = []
    prose_spans: list[tuple[int, int]] = []

    lines = text.splitlines(keepends=True)
    offsets = index.starts
    i = index.position(body_start)[0] - 1 if body_start else 0
    prose_from = offsets[i] if i < len(offsets) else len(text)
    while i < len(lines):
        m = _FENCE_OPEN.match(lines[i].rstrip("\n"))
        if not m:
            i += 1
            continue
        indent, marker, info = m.group(1), m.group(2), m.group(3).strip()
        close = re.compile(rf"^ {{0,3}}{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j].rstrip("\n")):
            j += 1
        start = offsets[i]
        if j >= len(lines):
            problems.append(Diagnostic(path, i + 1, len(indent) + 1, "QMD003",
                                       f"code fence {marker} opened here is never closed"))
            end = len(text)
        else:
            end = offsets[j] + len(lines[j].rstrip("\n"))
        body = "".join(line[len(indent):] if line.startswith(indent) else line
                       for line in lines[i + 1:j])
        prose_spans.append((prose_from, start))
        prose_from = end
        cell_info = _CELL_INFO.match(info)
        if cell_info:
            cell = CodeCell(path, len(cells), i + 1, body, {}, start, end)
            options = _cell_options(cell, problems)
            cells.append(CodeCell(path, cell.index, cell.line, body, options, start, end))
        else:
            fences.append(Fence(path, i + 1, info, body, start, end))
        i = j + 1
    prose_spans.append((prose_from, len(text)))

    refs: list[InlineRef] = []
    for a, b in prose_spans:
        refs.extend(_inline_refs(text, a, b, path, index, problems))
    for where, pos in _unrendered_spots(text, body_start, cells, index):
        problems.append(Diagnostic(path, *pos, "REF005",
                                   f"inline reference in {where} is never evaluated; "
                                   "compute the text in a cell instead"))
    for r in [r for r in refs if _in_div_attributes(text, r.start)]:
        refs.remove(r)
        problems.append(Diagnostic(path, r.line, r.col, "REF005", "inline reference in a div "
                                   "attribute (such as fig-cap) is never evaluated; compute the "
                                   "text in a cell instead"))
    return Document(path, text, front, tuple(cells), tuple(fences), tuple(refs),
                    tuple(sorted(problems)), body_start)


def _front_matter(text: str, path: str, problems: list[Diagnostic]) -> tuple[dict, int]:
    if not text.startswith("---"):
        return {}, 0
    m = re.match(r"---[ \t]*\n(.*?\n)?(---|\.\.\.)[ \t]*(\n|$)", text, re.S)
    if not m:
        return {}, 0
    raw = m.group(1) or ""
    try:
        import yaml

        data = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except Exception as exc:  # yaml.YAMLError, but keep the import lazy
        mark = getattr(exc, "problem_mark", None)
        line = 2 + (mark.line if mark else 0)
        col = 1 + (mark.column if mark else 0)
        problems.append(Diagnostic(path, line, col, "QMD002", f"invalid YAML front matter: {exc}"))
        data = {}
    return (data if isinstance(data, dict) else {}), m.end()


def _cell_options(cell: CodeCell, problems: list[Diagnostic]) -> dict[str, Any]:
    """Read the leading `#| key: value` lines as YAML, as Quarto does."""
    option_lines = []
    for line in cell.source.splitlines():
        m = _OPTION.match(line.strip())
        if not m:
            break
        option_lines.append(m.group(1))
    if not option_lines:
        return {}
    import yaml

    try:
        data = yaml.load("\n".join(option_lines), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except Exception as exc:
        mark = getattr(exc, "problem_mark", None)
        line = cell.first_line + (mark.line if mark else 0)
        problems.append(Diagnostic(cell.path, line, 1, "QMD002", f"invalid cell options in "
                                   f"{cell.describe()}: {exc}"))
        return {}
    return data if isinstance(data, dict) else {}


def _inline_refs(text: str, a: int, b: int, path: str, index: LineIndex,
                 problems: list[Diagnostic]) -> list[InlineRef]:
    """Find inline code spans in text[a:b] whose content starts with `{python}`."""
    refs = []
    i = a
    while True:
        i = text.find("`", i, b)
        if i < 0:
            return refs
        if i > a and text[i - 1] == "\\":
            i += 1
            continue
        n = i
        while n < b and text[n] == "`":
            n += 1
        ticks = n - i
        # A code span ends at the next run of exactly as many backticks, within the paragraph.
        para_end = _BLANK_LINE.search(text, n, b)
        limit = para_end.start() if para_end else b
        close = re.compile(rf"(?<!`)`{{{ticks}}}(?!`)").search(text, n, limit)
        content_start = n
        if close is None:
            if text.startswith(INLINE_ENGINE, n) or text.startswith(" " + INLINE_ENGINE, n):
                problems.append(Diagnostic(path, *index.position(i), "REF004",
                                           "unclosed inline code: `{python} ... has no closing backtick"))
            i = n
            continue
        content = text[content_start:close.start()]
        stripped = content.lstrip(" ")
        if stripped.startswith(INLINE_ENGINE):
            expr_offset = content_start + (len(content) - len(stripped)) + len(INLINE_ENGINE)
            raw_expr = text[expr_offset:close.start()]
            lead = len(raw_expr) - len(raw_expr.lstrip())
            expr = raw_expr.strip()
            line, col = index.position(i)
            eline, ecol = index.position(expr_offset + lead)
            refs.append(InlineRef(path, line, col, expr, eline, ecol, i, close.end()))
        i = close.end()


def _unrendered_spots(text: str, body_start: int, cells: list[CodeCell],
                      index: LineIndex) -> list[tuple[str, tuple[int, int]]]:
    """Inline references where they are never evaluated: YAML front matter and `#|` options."""
    spots = []
    marker = "`" + INLINE_ENGINE
    for m in re.finditer(re.escape(marker), text[:body_start]):
        spots.append(("the YAML front matter", index.position(m.start())))
    for cell in cells:
        offset = cell.start + len(text[cell.start:].split("\n", 1)[0]) + 1
        for line in cell.source.splitlines(keepends=True):
            if not line.strip().startswith("#|"):
                break
            k = line.find(marker)
            if k >= 0:
                key = line.strip()[2:].split(":", 1)[0].strip()
                spots.append((f"cell option '{key}'", index.position(offset + k)))
            offset += len(line)
    return spots


def _in_div_attributes(text: str, offset: int) -> bool:
    line_start = text.rfind("\n", 0, offset) + 1
    return text.startswith(":::", line_start) and "{" in text[line_start:offset]
