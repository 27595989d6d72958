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
from bookbuild.qmd import Document

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
    spots: list[Spot] = []
    table: Table | None = None
    last_table: Table | None = None
    last_table_close = -1
    pending: Table | None = None  # described by a caption written before it
    in_head = False
    row_cells: list[tuple[int, int]] = []
    row_span = (0, 0)
    column = 0
    for i, tok in enumerate(tokens):
        if tok.type == "table_open":
            table, pending = pending or Table(), None
            table.start, table.end = starts[tok.map[0]], _line_end(starts, source, tok.map[1])
        elif tok.type == "table_close":
            last_table, table, last_table_close = table, None, i
        elif tok.type == "thead_open":
            in_head = True
        elif tok.type == "thead_close":
            in_head = False
        elif tok.type == "tr_open":
            row_span = (starts[tok.map[0]], _line_end(starts, source, tok.map[1]))
            row_cells, column = [], 0
        elif tok.type == "tr_close" and table is not None and not in_head:
            table.rows.append(row_cells)
        elif tok.type == "inline" and table is not None:
            cursor = row_cells[-1][1] if row_cells else row_span[0]
            found = _find(source, tok.content, cursor, row_span[1]) if tok.content else None
            span = found or (cursor, cursor)
            if in_head:
                table.header.append(tok.content)
            else:
                row_cells.append(span)
                for lit, _ in _in_inline_with_alt(tok, source, view, span[0], span[1]):
                    spots.append(Spot("table", lit, span, table, column, len(table.rows)))
            column += 1
        elif tok.type == "inline" and tok.map is not None:
            a, b = starts[tok.map[0]], _line_end(starts, source, tok.map[1])
            kind, described = "prose", None
            stripped = tok.content.lstrip()
            if stripped.startswith(":") or stripped.startswith("Table:"):
                kind = "caption"
                if last_table is not None and last_table_close >= i - 2:
                    described = last_table
                    last_table.label = _label(tok.content)
                elif i + 2 < len(tokens) and tokens[i + 2].type == "table_open":
                    described = pending = Table(label=_label(tok.content))
            if tokens[i - 1].type == "heading_open" if i else False:
                continue  # headings name things; their numbers are labels, not claims
            for lit, alt in _in_inline_with_alt(tok, source, view, a, b):
                sentence = _sentence(view, a, b, lit.start)
                spots.append(Spot("alt" if alt else kind, lit, sentence, described))
    return spots


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
