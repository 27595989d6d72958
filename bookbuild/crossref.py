"""The book's cross-reference index, read from the `.qmd` sources before pandoc runs.

Chapters are numbered here (1, 2, ... for chapters, A, B, ... for appendices); sections,
tables and figures are numbered the same way `filters/crossref.lua` numbers them, so a
reference in one chapter can name a label in another. References to labels not in the book
are reported with their `file:line`.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import Path

from bookbuild.qmd import Document, LineIndex

KINDS = {"sec": "Section", "fig": "Figure", "tbl": "Table", "eq": "Equation"}
HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*(?:\{([^}]*)\})?[ \t]*#*[ \t]*$", re.M)
TABLE_CAPTION = re.compile(r"^(?::|Table:)[ \t].*\{[^}]*#(tbl-[\w-]+)[^}]*\}[ \t]*$", re.M)
FIG_DIV = re.compile(r"^:{3,}[ \t]*\{[^}]*#(fig-[\w-]+)", re.M)
FIG_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)\{[^}]*#(fig-[\w-]+)")
REFERENCE = re.compile(r"(?<![\w@.])@((?:sec|fig|tbl|eq)-[\w-]*\w)|\\ref\{([^}]+)\}")
INLINE_CODE = re.compile(r"(`+)(?:.|\n)*?(?<!`)\1(?!`)")


@dataclass(frozen=True)
class Label:
    id: str
    kind: str
    number: str
    title: str
    source: Path
    line: int


@dataclass(frozen=True)
class Reference:
    label: str
    source: Path
    line: int


@dataclass
class ChapterInfo:
    source: Path
    title: str = ""
    number: str = ""  # "" when unnumbered
    chapter_numbers: list[str] = field(default_factory=list)  # one per level-1 heading


@dataclass
class BookIndex:
    chapters: list[ChapterInfo]
    labels: dict[str, Label]
    references: list[Reference]

    def unresolved(self, external: dict) -> list[Reference]:
        return [r for r in self.references if r.label not in self.labels and r.label not in external]


def _prose(doc: Document) -> str:
    """The document text with code cells, fenced blocks and inline code blanked out.

    Blanking keeps offsets, so line numbers stay those of the `.qmd`.
    """
    chars = list(doc.text)
    spans = [(0, doc.body_start)] + [(c.start, c.end) for c in doc.cells] + [(f.start, f.end) for f in doc.fences]
    for m in INLINE_CODE.finditer(doc.text):
        spans.append((m.start(), m.end()))
    for a, b in spans:
        for i in range(a, b):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


def _attrs(raw: str | None) -> tuple[str, set[str]]:
    ident, classes = "", set()
    for token in (raw or "").split():
        if token.startswith("#"):
            ident = token[1:]
        elif token.startswith("."):
            classes.add(token[1:])
        elif token == "-":
            classes.add("unnumbered")
    return ident, classes


def _letters(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = string.ascii_uppercase[r] + out
    return out


def build_index(docs: list[tuple[Document, bool]]) -> BookIndex:  # noqa: C901  (being split by the cross-reference work)
    """Index a book; `docs` are its chapters in order, each flagged True if an appendix."""
    chapters: list[ChapterInfo] = []
    labels: dict[str, Label] = {}
    references: list[Reference] = []
    next_chapter, next_appendix = 1, 1
    for doc, appendix in docs:
        source = Path(doc.path).resolve()
        prose = _prose(doc)
        lines = LineIndex(doc.text)
        info = ChapterInfo(source)
        events: list[tuple[int, str, object]] = []
        for m in HEADING.finditer(prose):
            events.append((m.start(), "heading", m))
        for m in TABLE_CAPTION.finditer(prose):
            events.append((m.start(), "tbl", m.group(1)))
        for m in FIG_DIV.finditer(prose):
            events.append((m.start(), "fig", m.group(1)))
        for m in FIG_IMAGE.finditer(prose):
            events.append((m.start(), "fig", m.group(1)))
        for cell in doc.cells:
            if cell.label and cell.label.startswith("fig-"):
                events.append((cell.start, "fig", cell.label))
            elif cell.label and cell.label.startswith("tbl-") and cell.options.get("tbl-cap"):
                events.append((cell.start, "tbl", cell.label))
        for m in REFERENCE.finditer(prose):
            references.append(Reference(m.group(1) or m.group(2), source, lines.position(m.start())[0]))

        chapter, counters, figures, tables = "", [0] * 7, 0, 0
        for offset, kind, payload in sorted(events, key=lambda e: e[0]):
            line = lines.position(offset)[0]
            if kind == "heading":
                level = len(payload.group(1))
                title = payload.group(2).strip()
                ident, classes = _attrs(payload.group(3))
                if level == 1:
                    if "unnumbered" in classes:
                        chapter = ""
                    elif appendix:
                        chapter, next_appendix = _letters(next_appendix), next_appendix + 1
                    else:
                        chapter, next_chapter = str(next_chapter), next_chapter + 1
                    info.chapter_numbers.append(chapter)
                    if not info.title:
                        info.title, info.number = title, chapter
                    counters, figures, tables = [0] * 7, 0, 0
                    number = chapter
                elif "unnumbered" in classes or not chapter:
                    number = ""
                else:
                    counters[level] += 1
                    for deeper in range(level + 1, 7):
                        counters[deeper] = 0
                    number = ".".join([chapter, *(str(counters[lv]) for lv in range(2, level + 1))])
                if ident and number:
                    labels[ident] = Label(ident, "sec", number, title, source, line)
                continue
            if kind == "fig":
                figures += 1
                n = figures
            else:
                tables += 1
                n = tables
            number = f"{chapter}.{n}" if chapter else str(n)
            labels[payload] = Label(payload, kind, number, "", source, line)
        if not info.title:
            info.title = source.stem.replace("-", " ").replace("_", " ").title()
        chapters.append(info)
    return BookIndex(chapters, labels, references)


def index_for_page(index: BookIndex, page: Path, pages: dict[Path, Path]) -> dict:
    """Labels as the crossref filter reads them, with hrefs relative to `page`.

    `pages` maps each chapter source to its output path (relative to the output root); a
    label on the same page links to `#label`.
    """
    import posixpath

    here = pages[page]
    out = {}
    for label in index.labels.values():
        target = pages.get(label.source)
        if target is None or target == here:
            href = f"#{label.id}"
        else:
            rel = posixpath.relpath(target.as_posix(), here.parent.as_posix() or ".")
            href = f"{rel}#{label.id}"
        out[label.id] = {"kind": label.kind, "number": label.number, "href": href}
    return out
