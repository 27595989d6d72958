"""The numbers a reader sees in cell outputs: printed text, results and tables, each with a key
that names its cell, its table row and column (or its line of text), normalised so that
formatting noise (thousand separators, trailing zeros, memory addresses, timestamps) is not
a change. Reads executed outputs only; never runs anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from bookbuild.source import options as opts
from bookbuild.source.qmd import CodeCell, included_note
from bookbuild.system.errors import display_path

# Not numbers a reader checks: object ids and addresses, dates and clock times.
_NOISE = re.compile(r"0x[0-9a-fA-F]+|\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
                    r"(?:Z|[+-]\d{2}:?\d{2})?)?|\b\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\b")
# A number standing alone: not part of a name (H100, float64) or of a version (1.2.3).
_NUMBER = re.compile(r"(?<![\w.])[-\u2212]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?"
                     r"(?!\w|\.\d)")
_SPACE = re.compile(r"\s+")
_PIPE_RULE = re.compile(r"^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")


def normal(number: str) -> str:
    """One spelling per value: `1,234.50` and `1234.5` are the same number on a page."""
    text = number.replace(",", "").replace("\u2212", "-")
    mantissa, _, exponent = text.lower().partition("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    if mantissa.lstrip("-").strip("0") in ("", "."):
        mantissa = "0"  # -0.0 and 0 look different and are the same number
    return mantissa + (f"e{int(exponent)}" if exponent else "")


def numbers_in(text: str) -> list[str]:
    """The numbers in `text` as written, noise (addresses, timestamps) left out."""
    return [m.group() for m in _NUMBER.finditer(_NOISE.sub("…", text))]


# Past these a line is data dumped, not prose: its numbers are keyed by their place in it (each
# number's own key would cost time in the square of their count: minutes for a 1 MB line).
LONG_LINE, MANY_NUMBERS = 2_000, 64
# What of one output is read for numbers: a cell that prints 200 MB is not read to the end.
MAX_OUTPUT = 2**20


def skeletons(line: str) -> list[tuple[str, str]]:
    """(key, number) for each number of a line of text: the line with that number as `{}`,
    the others as `#`, noise as `…` and spacing collapsed, so only its words identify it."""
    clean = _SPACE.sub(" ", _NOISE.sub("…", line)).strip()
    found = list(_NUMBER.finditer(clean))
    if len(clean) > LONG_LINE or len(found) > MANY_NUMBERS:
        head = _NUMBER.sub("#", clean[:60])
        return [(f"{head}… number {i + 1}", m.group()) for i, m in enumerate(found)]
    out = []
    for i, m in enumerate(found):
        parts, last = [], 0
        for j, other in enumerate(found):
            parts += [clean[last:other.start()], "{}" if i == j else "#"]
            last = other.end()
        out.append(("".join(parts) + clean[last:], m.group()))
    return out


@dataclass(frozen=True)
class Shown:
    """One number in a cell's output: where it is shown and what it reads."""

    chapter: str
    line: int  # the cell's opening fence in the chapter (the include's line for an included cell)
    cell: str  # the cell's label, or `#n` (n-th code cell of the chapter)
    at: str  # within the cell: a table's row and column, or the line of text around it
    text: str  # normalised
    row: str = field(default="", compare=False)
    column: str = field(default="", compare=False)
    where: str = field(default="", compare=False)

    def place(self) -> str:
        return self.where or f"{self.chapter}:{self.line}"

    @property
    def expr(self) -> str:
        """How a report names it (the counterpart of an inline value's expression)."""
        return f"[{self.cell}] {self.at}"

    @property
    def key(self) -> tuple[str, str, str, str]:
        return ("output", self.chapter, self.cell, self.at)


# --- tables ------------------------------------------------------------------------------
@dataclass
class _Cell:
    text: str
    header: bool
    colspan: int = 1
    rowspan: int = 1


@dataclass
class _Table:
    head: list[list[_Cell]] = field(default_factory=list)
    body: list[list[_Cell]] = field(default_factory=list)


class _Html(HTMLParser):
    """Tables (rows of header and data cells, with spans) and the text outside them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[_Table] = []
        self.text: list[str] = []
        self._depth = 0  # nested tables count as part of the outer one's cell
        self._in_head = False
        self._row: list[_Cell] | None = None
        self._cell: _Cell | None = None
        self._skip = 0  # inside <style> or <script>: not shown as text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        elif tag == "table":
            self._depth += 1
            if self._depth == 1:
                self.tables.append(_Table())
        elif self._depth == 1 and tag == "thead":
            self._in_head = True
        elif self._depth == 1 and tag == "tr":
            self._row = []
            (self.tables[-1].head if self._in_head else self.tables[-1].body).append(self._row)
        elif self._depth == 1 and tag in ("td", "th") and self._row is not None:
            a = dict(attrs)
            self._cell = _Cell("", tag == "th", _span(a.get("colspan")), _span(a.get("rowspan")))
            self._row.append(self._cell)
        elif tag in ("br", "p", "div", "li") and self._depth == 0:
            self.text.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip = max(0, self._skip - 1)
        elif tag == "table":
            self._depth = max(0, self._depth - 1)
        elif self._depth == 1 and tag == "thead":
            self._in_head = False
        elif self._depth == 1 and tag in ("td", "th"):
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._depth and self._cell is not None:
            self._cell.text += data
        elif not self._depth:
            self.text.append(data)


def _span(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 1000))
    except ValueError:
        return 1


def _grid(rows: list[list[_Cell]]) -> list[list[_Cell | None]]:
    """Rows with every column filled in: a cell spanning rows or columns stands in each."""
    grid: list[list[_Cell | None]] = []
    carry: dict[int, tuple[_Cell, int]] = {}  # column -> (cell spanning down, rows left)
    for row in rows:
        line: dict[int, _Cell] = {}
        for col, (cell, left) in list(carry.items()):
            line[col] = cell
            if left <= 1:
                del carry[col]
            else:
                carry[col] = (cell, left - 1)
        col = 0
        for cell in row:
            while col in line:
                col += 1
            for k in range(cell.colspan):
                line[col + k] = cell
                if cell.rowspan > 1:
                    carry[col + k] = (cell, cell.rowspan - 1)
            col += cell.colspan
        grid.append([line.get(i) for i in range(max(line) + 1)] if line else [])
    return grid


def _labels(cells: list[_Cell | None]) -> str:
    """The distinct non-empty texts of `cells`, joined: a multi-level label reads `a / b`."""
    out: list[str] = []
    seen: set[int] = set()
    for c in cells:
        if c is None or id(c) in seen:
            continue
        seen.add(id(c))
        text = _SPACE.sub(" ", c.text).strip()
        if text:
            out.append(text)
    return " / ".join(out)


def table_numbers(table: _Table, n: int) -> list[tuple[str, str, str, str]]:
    """(key, number, row, column) for each number in the data cells of table `n` of a cell."""
    head = table.head
    body = table.body
    if not head:  # no <thead>: leading rows of header cells only are the column headers
        while body and body[0] and all(c.header for c in body[0]):
            head, body = [*head, body[0]], body[1:]
    grid_head, grid_body = _grid(head), _grid(body)
    width = max((len(r) for r in grid_head + grid_body), default=0)
    columns = [_labels([r[i] if i < len(r) else None for r in grid_head]) for i in range(width)]
    out = []
    for r, row in enumerate(grid_body, start=1):
        heads = [c for c in row if c is not None and c.header]
        first = row[0] if row else None
        if heads:
            label, used = _labels(heads), {id(c) for c in heads}
        elif first is not None and not numbers_in(first.text) and first.text.strip():
            label, used = _labels([first]), {id(first)}
        else:
            label, used = f"row {r}", set()
        done: set[int] = set()
        for i, cell in enumerate(row):
            if cell is None or id(cell) in used or id(cell) in done:
                continue
            done.add(id(cell))
            column = (columns[i] if i < len(columns) else "") or f"column {i + 1}"
            found = numbers_in(cell.text)
            for k, number in enumerate(found, start=1):
                extra = f" #{k}" if len(found) > 1 else ""
                out.append((f"table {n} [row '{label}', column '{column}']{extra}", number,
                            label, column))
    return out


def _pipe_table(lines: list[str]) -> _Table:
    """A markdown pipe table's header row and body rows."""
    def cells(line: str, header: bool) -> list[_Cell]:
        inner = line.strip()
        inner = inner[1:] if inner.startswith("|") else inner
        inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
        # `code` and **bold** marks are how the label is spelt, not part of it
        return [_Cell(part.strip().strip("`*").strip(), header)
                for part in re.split(r"(?<!\\)\|", inner)]

    return _Table([cells(lines[0], True)], [cells(line, False) for line in lines[2:]])


def _markdown(text: str) -> tuple[list[_Table], list[str]]:
    """The pipe tables of a markdown output and its other lines."""
    lines = text.splitlines()
    tables, rest, i = [], [], 0
    while i < len(lines):
        if (lines[i].lstrip().startswith("|") and i + 1 < len(lines)
                and _PIPE_RULE.match(lines[i + 1].strip())):
            j = i + 2
            while j < len(lines) and lines[j].lstrip().startswith("|"):
                j += 1
            tables.append(_pipe_table(lines[i:j]))
            i = j
        else:
            rest.append(lines[i])
            i += 1
    return tables, rest


# --- outputs of a cell -------------------------------------------------------------------
_TEXT_TYPES = ("text/html", "text/markdown", "text/plain")  # Quarto's HTML order (markdown
# before images, display-data.ts), images aside


def _shown_payload(out: dict) -> tuple[str, str] | None:
    """(mime, text) of an output as an HTML page shows it; None for images, errors, stderr."""
    kind = out.get("output_type")
    if kind == "stream":
        # stderr carries warnings with library line numbers: not results a reader checks
        return ("text/plain", _joined(out.get("text", ""))) if out.get("name") == "stdout" else None
    if kind not in ("display_data", "execute_result"):
        return None
    data = out.get("data", {})
    for mime in ("text/html", "text/markdown", "image/svg+xml", "image/png", "image/jpeg",
                 "text/plain"):
        if mime in data:
            return (mime, _joined(data[mime])) if mime in _TEXT_TYPES else None
    return None


def _joined(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def cell_numbers(outputs: list[dict], asis: bool = False) -> list[tuple[str, str, str, str]]:
    """(key, normalised number, row, column) of every number a cell's outputs show; a key
    repeated within the cell gets `(2)`, `(3)`, ... in order. `asis`: printed text is markdown
    (`output: asis`), so its pipe tables are tables."""
    found: list[tuple[str, str, str, str]] = []
    tables = 0
    for out in outputs:
        payload = _shown_payload(out)
        if payload is None:
            continue
        mime, text = payload
        text = text[:MAX_OUTPUT]
        if asis and mime == "text/plain":
            mime = "text/markdown"
        if mime == "text/html":
            parser = _Html()
            parser.feed(text)
            parser.close()
            parsed, lines = parser.tables, "".join(parser.text).splitlines()
        elif mime == "text/markdown":
            parsed, lines = _markdown(text)
        else:
            parsed, lines = [], text.splitlines()
        for table in parsed:
            tables += 1
            found += table_numbers(table, tables)
        for line in lines:
            found += [(key, number, "", "") for key, number in skeletons(line)]
    seen: dict[str, int] = {}
    out_list = []
    for key, number, row, column in found:
        seen[key] = seen.get(key, 0) + 1
        unique = key if seen[key] == 1 else f"{key} ({seen[key]})"
        out_list.append((unique, normal(number), row, column))
    return out_list


def locked_cells(doc, config: dict | None, fmt: str = "html") -> list[tuple[int, CodeCell, bool]]:
    """(index, cell, asis) of the cells whose outputs reach the page and are locked: not hidden by
    `include: false` or `output: false`, nor opted out by `lock: false` (or the book's
    `bookbuild: lock-outputs: false`)."""
    if not opts.truthy(((config or {}).get("bookbuild") or {}).get("lock-outputs", True)):
        return []
    document = opts.document_options(config, doc.front_matter, fmt)
    out = []
    for i, cell in enumerate(doc.cells):
        o = opts.cell_options(document, cell.options)
        shown = o["output"] == "asis" or opts.truthy(o["output"])
        if opts.truthy(o["include"]) and shown and opts.truthy(cell.options.get("lock", True)):
            out.append((i, cell, o["output"] == "asis"))
    return out


def shown_of(chapter: str, doc, outputs: list[list[dict]], config: dict | None) -> list[Shown]:
    """Every locked number of one executed chapter's cell outputs."""
    result = []
    for i, cell, asis in locked_cells(doc, config):
        if i >= len(outputs):
            continue
        name = cell.label or f"#{i + 1}"
        chain = cell.included_from
        line = chain[-1][1] if chain else cell.line
        where = f"{display_path(cell.path)}:{cell.line}{included_note(chain)}" if chain else ""
        for key, number, row, column in cell_numbers(outputs[i], asis):
            result.append(Shown(chapter, line, name, key, number, row, column, where))
    return result
