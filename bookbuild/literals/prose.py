"""Literals in a chapter's markdown, each with the context an author leaves around it.

markdown-it-py (with its line maps) tells paragraphs, list items, table cells, captions and
image alt text from code, raw HTML and links; Quarto's `:::` div fences are read here (their
`title=`, `fig-cap=`, `fig-alt=` attributes are scanned as callout titles, captions and alt
text). Math, URLs and cross-references are blanked by `scan.masked` before numbers are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bookbuild.literals.scan import Literal, literals, masked
from bookbuild.source.qmd import Document

_DIV_FENCE = re.compile(r"^ {0,3}:{3,}.*$", re.M)
_DIV_ATTR = re.compile(r"\b(title|fig-cap|fig-alt|tbl-cap)\s*=\s*\"([^\"]*)\"")
_SENTENCE_END = re.compile(r"(?<![A-Z])[.!?][\"')\]*_]*\s+(?=[A-Z`*_\[(@$~\d])")
_ABBREVIATION = re.compile(r"\b(?:vs|e\.g|i\.e|eg|ie|cf|al|etc|approx|Fig|No|Eq|c|ca)$")
_KEEP = re.compile(r"\||^\s*:|^\s*Table:", re.M)  # a table or a caption
_ESCAPABLE = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


@dataclass
class Table:
    """A pipe table: header words per column and, per body row, the cells' offsets."""

    header: list[str] = field(default_factory=list)
    rows: list[list[tuple[int, int]]] = field(default_factory=list)  # (start, end) per cell
    label: str = ""
    start: int = 0
    end: int = 0


@dataclass(frozen=True)
class Spot:
    """One literal in the chapter and the context around it."""

    kind: str  # prose, table, caption, title, alt
    lit: Literal  # offsets are absolute in the document text
    sentence: tuple[int, int]  # offsets of the sentence (or table cell) holding it
    table: Table | None = None  # the table it sits in, or the table a caption describes
    column: int | None = None
    row: int | None = None
    in_attribute: bool = False  # inside a div attribute: inline references never render there
    paragraph: tuple[int, int] | None = None  # offsets of the prose paragraph holding it


def _parser():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable("table")


def scan_document(doc: Document) -> tuple[list[Spot], str]:
    """Every literal of the chapter's markdown with its context, and the masked text."""
    text = doc.text
    blank = list(text)

    def wipe(a: int, b: int) -> None:
        for i in range(a, b):
            if blank[i] != "\n":
                blank[i] = " "

    wipe(0, doc.body_start)
    for block in (*doc.cells, *doc.fences):
        wipe(block.start, block.end)
    spots: list[Spot] = []
    for m in _DIV_FENCE.finditer(text):
        colon = m.start() + m.group().index(":")
        if blank[colon] != ":":
            continue  # inside a code block or the front matter
        for a in _DIV_ATTR.finditer(m.group()):
            kind = {"title": "title", "fig-alt": "alt"}.get(a.group(1), "caption")
            s, e = m.start() + a.start(2), m.start() + a.end(2)
            for lit in literals(masked(text[s:e])):
                spots.append(Spot(kind, _shift(lit, s), (s, e), in_attribute=True))
        wipe(m.start(), m.end())
    source = "".join(blank)
    view = masked(source)
    source = _digitless_blanked(source, view)
    starts = [0] + [m.end() for m in re.finditer("\n", source)]
    # The parser reads whitespace-only lines as empty ones: same line map, far fewer characters.
    compact = "\n".join(line if line.strip() else "" for line in source.split("\n"))
    tokens = _parser().parse(compact)
    spots += _walk(tokens, source, view, starts)
    return sorted(spots, key=lambda sp: sp.lit.start), view


def _digitless_blanked(source: str, view: str) -> str:
    """Blank the paragraphs without a table, a caption or a digit outside code and math: they
    hold no literal, and the parser's time grows with the text it reads (offsets and line
    numbers are unchanged)."""
    out, at = [], 0
    for m in re.finditer(r"\n[ \t]*\n", source + "\n\n"):
        chunk, seen = source[at:m.start()], view[at:m.start()]
        keep = _KEEP.search(chunk) or re.search(r"\d", seen)
        out.append(chunk if keep else re.sub(r"[^\n]", " ", chunk))
        out.append(source[m.start():m.end()])
        at = m.end()
    return "".join(out)[:len(source)]


def _shift(lit: Literal, by: int) -> Literal:
    from dataclasses import replace

    return replace(lit, start=lit.start + by, end=lit.end + by, mark_start=lit.mark_start + by)


def _walk(tokens, source: str, view: str, starts: list[int]) -> list[Spot]:
    walker = _Walker(tokens, source, view, starts)
    for i, tok in enumerate(tokens):
        walker.step(i, tok)
    return walker.spots


class _Walker:
    """One pass over markdown-it's tokens, tracking the table (and caption) being read."""

    def __init__(self, tokens, source: str, view: str, starts: list[int]) -> None:
        self.tokens, self.source, self.view, self.starts = tokens, source, view, starts
        self.spots: list[Spot] = []
        self.table: Table | None = None
        self.last_table: Table | None = None
        self.last_table_close = -1
        self.pending: Table | None = None  # described by a caption written before it
        self.in_head = False
        self.row_cells: list[tuple[int, int]] = []
        self.row_span = (0, 0)
        self.column = 0

    def _span(self, tok) -> tuple[int, int]:
        return self.starts[tok.map[0]], _line_end(self.starts, self.source, tok.map[1])

    def step(self, i: int, tok) -> None:
        kind = tok.type
        if kind == "table_open":
            self.table, self.pending = self.pending or Table(), None
            self.table.start, self.table.end = self._span(tok)
        elif kind == "table_close":
            self.last_table, self.table, self.last_table_close = self.table, None, i
        elif kind in ("thead_open", "thead_close"):
            self.in_head = kind == "thead_open"
        elif kind == "tr_open":
            self.row_span, self.row_cells, self.column = self._span(tok), [], 0
        elif kind == "tr_close" and self.table is not None and not self.in_head:
            self.table.rows.append(self.row_cells)
        elif kind == "inline" and self.table is not None:
            self._cell(tok)
        elif kind == "inline" and tok.map is not None:
            if i and self.tokens[i - 1].type == "heading_open":
                return  # headings name things; their numbers are labels, not claims
            self._paragraph(i, tok)

    def _cell(self, tok) -> None:
        table = self.table
        cursor = self.row_cells[-1][1] if self.row_cells else self.row_span[0]
        found = _find(self.source, tok.content, cursor, self.row_span[1]) if tok.content else None
        span = found or (cursor, cursor)
        if self.in_head:
            table.header.append(tok.content)
        else:
            self.row_cells.append(span)
            for lit, _ in _in_inline_with_alt(tok, self.source, self.view, *span):
                self.spots.append(Spot("table", lit, span, table, self.column, len(table.rows)))
        self.column += 1

    def _paragraph(self, i: int, tok) -> None:
        a, b = self._span(tok)
        kind, described = "prose", None
        stripped = tok.content.lstrip()
        if stripped.startswith(":") or stripped.startswith("Table:"):
            kind = "caption"
            if self.last_table is not None and self.last_table_close >= i - 2:
                described = self.last_table
                described.label = _label(tok.content)
            elif i + 2 < len(self.tokens) and self.tokens[i + 2].type == "table_open":
                described = self.pending = Table(label=_label(tok.content))
        for lit, alt in _in_inline_with_alt(tok, self.source, self.view, a, b):
            sentence = _sentence(self.view, a, b, lit.start)
            self.spots.append(Spot("alt" if alt else kind, lit, sentence, described,
                                   paragraph=(a, b)))


def _label(caption: str) -> str:
    m = re.search(r"\{#(tbl-[\w-]+)", caption)
    return m.group(1) if m else ""


def _line_end(starts: list[int], source: str, line: int) -> int:
    return starts[line] if line < len(starts) else len(source)


def _find(source: str, content: str, a: int, b: int) -> tuple[int, int] | None:
    """Where inline `content` (escapes resolved by the parser) sits in source[a:b]."""
    k = source.find(content, a, b)
    if k >= 0:
        return k, k + len(content)
    pattern = "".join(("\\\\?" + re.escape(ch)) if ch in _ESCAPABLE else re.escape(ch)
                      for ch in content)
    m = re.compile(pattern).search(source, a, b)
    return (m.start(), m.end()) if m else None


def _in_inline_with_alt(tok, source: str, view: str, a: int, b: int):
    """Literals in the text children of an inline token (not code, HTML or autolinks)."""
    out = []
    cursor = a
    autolink = False
    for child in _flatten(tok.children or []):
        kind = child.type
        if kind == "link_open":
            autolink = child.markup == "autolink"
        elif kind == "link_close":
            autolink = False
        elif kind in ("code_inline", "html_inline"):
            found = _find(source, child.content, cursor, b)
            if found:
                cursor = found[1]
        elif kind == "text" and child.content.strip():
            found = _find(source, child.content, cursor, b)
            if not found:
                continue
            cursor = found[1]
            if autolink:
                continue
            for lit in literals(view[found[0]:found[1]]):
                out.append((_shift(lit, found[0]), child.meta.get("alt", False)))
    return out


def _flatten(children):
    for child in children:
        if child.type == "image":
            for sub in _flatten(child.children or []):
                sub.meta = dict(sub.meta or {}, alt=True)
                yield sub
        else:
            if child.meta is None:
                child.meta = {}
            yield child


def sentence_before(view: str, paragraph: tuple[int, int], start: int) -> tuple[int, int] | None:
    """The sentence of `paragraph` that ends where the sentence starting at `start` begins."""
    a, _ = paragraph
    if start <= a or not view[a:start].strip():
        return None
    return _sentence(view, a, start, start - 1)


def _sentence(view: str, a: int, b: int, offset: int) -> tuple[int, int]:
    start, end = a, b
    for m in _SENTENCE_END.finditer(view, a, b):
        if _ABBREVIATION.search(view, max(a, m.start() - 8), m.start()):
            continue
        if m.end() <= offset:
            start = m.end()
        elif m.start() >= offset:
            end = m.start() + 1
            break
    return start, end
