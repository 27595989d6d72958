"""The book's cross-reference index, read from the `.qmd` sources before pandoc runs.

Chapters are numbered here (1, 2, ... for chapters, A, B, ... for appendices); sections,
figures, tables, listings, equations, callouts and theorems are numbered the same way
`filters/crossref.lua` numbers them (tests/test_crossref_parity.py holds the two together), so
a reference in one chapter can name a label in another. References to labels not in the book
are reported with their `file:line`, and so is a label defined twice. Each output format gets
its own index (`format_indexes`): conditional content counts only in the formats that show it.
"""

from __future__ import annotations

import posixpath
import re
import sys
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bookbuild.source.metadata import PROFILE_KEY, document_metadata, format_options
from bookbuild.source.qmd import Document, LineIndex
from bookbuild.system.errors import Diagnostic, display_path
from bookbuild.system.quarto_rules import format_names, rules

# Quarto's label kinds (the filters read the same quarto-rules.json): floats, callouts, theorem
# kinds and numbered proofs (`#rem-`, `#sol-`); `.proof`, `.remark` and `.solution` divs
# without such a label are not numbered.
KINDS: dict[str, str] = rules()["kinds"]
FLOATS = tuple(rules()["floats"])
CALLOUTS = tuple(rules()["callout-kinds"])
THEOREMS = (*(t["kind"] for t in rules()["theorems"]), *rules()["proof-kinds"])
PROOFS = frozenset(rules()["proofs"])
# a chapter's front-matter options that layout.lua applies to that chapter alone
LAYOUT_KEYS = ("reference-location", "cap-location", "fig-cap-location", "tbl-cap-location")
_KIND = "|".join(KINDS)
_KIND_ANY_CASE = "|".join(f"[{k[0]}{k[0].upper()}]{k[1:]}" for k in KINDS)

HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*(?:\{([^}]*)\})?[ \t]*#*[ \t]*$", re.M)
TABLE_CAPTION = re.compile(r"^(?::|Table:)[ \t].*\{[^}]*#(tbl-[\w-]+)[^}]*\}[ \t]*$", re.M)
DIV_OPEN = re.compile(r"^(:{3,})[ \t]*(\{[^}]*\}|[^\s:{][^\n]*?)[ \t]*:*[ \t]*$", re.M)
DIV_CLOSE = re.compile(r"^:{3,}[ \t]*$", re.M)
# `![caption](src){#fig-x}` (or `{#tbl-x}`) opening a paragraph, alone or inside a link, as
# pandoc makes it a figure; captions may hold one level of brackets
IMAGE = re.compile(r"^[ \t]*\[?!\[(?:[^\[\]]|\[[^\]]*\])*\]\([^)]*\)\{[^}]*#((?:fig|tbl)-[\w-]+)", re.M)
# `$$ ... $$ {#eq-x}`, the label on the closing line or the next, with attributes after it
# (`{#eq-x alt="..."}`) as Quarto's equations.lua reads them
EQUATION = re.compile(r"\$\$(?:[^$]|\$(?!\$))*?\$\$[ \t]*\n?[ \t]*\{#(eq-[\w:.-]+)(?:[ \t]+[^}\n]*)?\}")
# Literal first (`@`, `\ref{`), so the regex engine jumps between candidates; the character
# before an `@` is checked apart (an e-mail address is no reference).
# A key ends as pandoc ends a citation key: punctuation belongs to it only when a letter, digit
# or `_` follows, so `@sec-x---and` (an em dash after the key) names `sec-x`.
REFERENCE = re.compile(rf"@((?:{_KIND_ANY_CASE})-\w+(?:[-:.#$%&+?<>~/]\w+)*)")
RAW_REFERENCE = re.compile(r"\\ref\{([^}]+)\}")
DEFINITION = re.compile(rf"\{{[^{{}}\n]*?#((?:{_KIND})-[\w:.-]*\w)[^{{}}\n]*\}}")
# `key="value"` (or 'value', or a bare value) in a div's attributes
ATTRIBUTE = re.compile(r"""([\w-]+)=(?:"([^"]*)"|'([^']*)'|([^\s"'}]+))""")
INLINE_CODE = re.compile(r"(`+).*?(?<!`)\1(?!`)", re.S)
ROMAN = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
         (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]


@dataclass(frozen=True)
class Label:
    id: str
    kind: str
    number: str
    title: str
    source: Path
    line: int
    ref: str = ""  # "ch" or "apx" for a whole chapter or appendix: "Chapter 2", "Appendix A"

    def entry(self, href: str) -> dict:
        """The label as crossref.lua reads it from the index file."""
        return {"kind": self.kind, "number": self.number, "href": href,
                **({"ref": self.ref} if self.ref else {})}


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
    depth: int | None = None  # number-depth, when the chapter or the book sets it
    crossref: dict[str, Any] = field(default_factory=dict)  # the book's options, then the chapter's
    title_heading: str = ""  # markdown heading for a chapter titled only in its front matter
    layout: dict[str, str] = field(default_factory=dict)  # the chapter's own LAYOUT_KEYS
    part: bool = False  # a part's title page (`part: file.qmd`): never numbered
    appendix: bool = False  # its level-1 heading reads "Appendix A — Title" in HTML
    # indexes in chapter_numbers of unnumbered level-1 headings after the title: the
    # chapter's numbering goes on across them (no reset)
    continued: set[int] = field(default_factory=set)
    bare: bool = False  # the title heading shows no number, but its sections count from it

    def filter_chapters(self) -> list:
        """The chapter list as `crossref.lua` (and `layout.lua`) read it (`crossref-chapters`)."""
        numbers = self.chapter_numbers or [""]
        if self.depth is None and not self.crossref and not self.layout and not self.part \
                and not self.appendix and not self.continued and not self.bare:
            return list(numbers)
        extra: dict[str, Any] = {"depth": self.depth} if self.depth is not None else {}
        if self.part:  # its heading is the part's title (a \part in the PDF)
            extra["part"] = True
        if self.appendix:
            extra["appendix"] = True
        if self.layout:  # the PDF is one document: a chapter's front matter is gone by then
            extra["layout"] = self.layout
        if self.crossref:  # in the PDF the chapter's front matter is gone; in HTML it would
            extra["crossref"] = self.crossref  # replace the book's options, not merge with them
        return [{"number": n, **extra, **({"continue": True} if i in self.continued else {}),
                 **({"bare": True} if self.bare and not i else {})} for i, n in enumerate(numbers)]


@dataclass
class BookIndex:
    chapters: list[ChapterInfo]
    labels: dict[str, Label]
    references: list[Reference]
    duplicates: list[str] = field(default_factory=list)  # located messages

    def unresolved(self, external: dict) -> list[Reference]:
        return [r for r in self.references
                if _canonical(r.label) not in self.labels and _canonical(r.label) not in external]


def _canonical(label: str) -> str:
    """`Fig-x` (a capitalised reference) names the label `fig-x`."""
    kind, _, rest = label.partition("-")
    return f"{kind.lower()}-{rest}" if kind.lower() in KINDS and rest else label


def _prose(doc: Document) -> str:
    """The document text with code cells, fenced blocks and inline code blanked out.

    Blanking keeps offsets, so line numbers stay those of the `.qmd`.
    """
    spans = [(0, doc.body_start), *((c.start, c.end) for c in doc.cells),
             *((f.start, f.end) for f in doc.fences)]
    return _uncommented(_blanked(doc.text, tuple(spans)))


HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)


@lru_cache(maxsize=32)
def _uncommented(prose: str) -> str:
    """`prose` with its HTML comments blanked: pandoc passes them through as raw HTML, so
    nothing in them is a heading, a label or a cross-reference."""
    if "<!--" not in prose:
        return prose
    return HTML_COMMENT.sub(lambda m: _spaces(m.group(0)), prose)


def _spaces(text: str) -> str:
    """`text` with every character but a newline made a space (offsets and lines kept)."""
    return "\n".join(" " * len(part) for part in text.split("\n"))


@lru_cache(maxsize=32)  # the index, the title and the duplicate check all read the same prose
def _blanked(text: str, spans: tuple[tuple[int, int], ...]) -> str:
    found = list(spans) + [m.span() for m in INLINE_CODE.finditer(text)]
    pieces, pos = [], 0
    for a, b in sorted(found):
        a = max(a, pos)
        if b <= a:
            continue
        pieces += [text[pos:a], _spaces(text[a:b])]
        pos = b
    pieces.append(text[pos:])
    return "".join(pieces)


def _attrs(raw: str | None) -> tuple[str, set[str]]:
    ident, classes = "", set()
    # quoted values (captions) may contain anything; only the bare tokens are id and classes
    for token in re.sub(r'"[^"]*"|\'[^\']*\'', " ", raw or "").strip("{} \t").split():
        if token.startswith("#"):
            ident = token[1:]
        elif token.startswith("."):
            classes.add(token[1:])
        elif token == "-":
            classes.add("unnumbered")
    return ident, classes


def _attributes(raw: str) -> dict[str, str]:
    """The `key=value` attributes of a div's `{...}`."""
    return {m.group(1): next(g for g in m.groups()[1:] if g is not None)
            for m in ATTRIBUTE.finditer(raw)}


# The `when-format`/`unless-format` names each of our outputs answers to: its pandoc writer
# (html5, latex) and Quarto's aliases listing it, as filters/conditional.lua matches them
# (quarto.org/docs/authoring/conditional.html, "Format Matching").
FORMAT_NAMES = {"html": format_names("html5"), "pdf": format_names("latex")}
CONDITIONS = ("when-format", "unless-format", "when-meta", "unless-meta", "when-profile",
              "unless-profile")


@dataclass(frozen=True)
class Output:
    """One output format and the book's `_quarto.yml`: what conditional content it shows.

    Quarto renders a book once per format and keeps one cross-reference index per format
    (quarto-cli src/project/types/book/book-crossrefs.ts, `bookCrossrefIndexes`: "a separate
    index for each format"), so a heading the PDF hides takes no number in the PDF.
    """

    fmt: str  # "html" or "pdf"
    config: dict = field(default_factory=dict, hash=False, compare=False)

    def meta_true(self, key: str, front: dict[str, Any]) -> bool:
        """Whether metadata `key` (dotted) is true for a chapter, as conditional.lua reads it:
        an HTML page's own front matter over the book's; in the one-document PDF the chapter's
        true/false front matter (publish.py's `.chapter-meta` wrapper) over the book's."""
        if self.fmt == "pdf":
            own = _dotted(front, key)
            if isinstance(own, bool):
                return own
            meta = document_metadata(self.config, "pdf")
        else:
            meta = {**document_metadata(self.config, "html"), **front}
        value = _dotted(meta, key)
        if isinstance(value, bool):
            return value
        return value is not None and str(value) in ("true", "yes")

    def shows(self, classes: set[str], attributes: dict[str, str], front: dict[str, Any]) -> bool:
        """Whether a div with these classes and attributes is in this format's output."""
        visible, hidden = "content-visible" in classes, "content-hidden" in classes
        if not visible and not hidden:
            return True
        hold = True  # every condition on the div holds
        for name in CONDITIONS:
            if name not in attributes:
                continue
            items = [i for i in re.split(r"[\s,]+", attributes[name]) if i]
            if name.endswith("format"):
                any_ = any(i in FORMAT_NAMES.get(self.fmt, {self.fmt}) for i in items)
            elif name.endswith("profile"):  # the active profiles, as the project set them
                active = self.config.get(PROFILE_KEY) or []
                any_ = any(i in active for i in items)
            else:
                any_ = any(self.meta_true(i, front) for i in items)
            if any_ != name.startswith("when"):
                hold = False
        return not hold if hidden else hold


def _dotted(data: Any, key: str) -> Any:
    for part in key.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _hidden_spans(events: list[tuple[int, str, Any]], output: Output,
                  front: dict[str, Any]) -> list[tuple[int, int]]:
    """(start, end) of each div `output` leaves out, from its opening fence to its closing one."""
    spans, stack = [], []
    for offset, kind, payload in events:
        if kind == "open":
            _, classes, raw = _div_attrs(payload)
            stack.append((offset, not output.shows(classes, _attributes(raw), front)))
        elif kind == "close" and stack:
            start, hides = stack.pop()
            if hides:
                spans.append((start, offset))
    # a div left open runs to the end of the chapter
    spans += [(start, sys.maxsize) for start, hides in stack if hides]
    return spans


def _shown(offset: int, hidden: list[tuple[int, int]]) -> bool:
    return not any(a <= offset <= b for a, b in hidden)


def _letters(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(ord("A") + r) + out
    return out


def label_for(n: int, scheme: str) -> str:
    """Quarto's label schemes: arabic, roman, Roman, `alpha x` (letters from x), ALPHA/Alpha."""
    name, _, start = scheme.strip().partition(" ")
    if name in ("roman", "Roman"):
        out = ""
        for value, letters in ROMAN:
            while n >= value:
                out, n = out + letters, n - value
        return out.upper() if name == "Roman" else out
    if name.lower() == "alpha":
        first = start.strip() or ("a" if name == "alpha" else "A")
        return chr(ord(first[0]) + n - 1)
    return str(n)


@dataclass
class Options:
    """Quarto's `crossref:` options that change numbers, plus `number-depth`/`number-sections`."""

    labels: dict[str, str] = field(default_factory=dict)
    subref: str = "alpha a"
    chapters: bool = True
    depth: int | None = None
    numbered: bool = True

    @classmethod
    def read(cls, settings: dict[str, Any]) -> Options:
        crossref = settings.get("crossref") if isinstance(settings.get("crossref"), dict) else {}
        depth = settings.get("number-depth")
        return cls(
            labels={k: str(crossref[f"{k}-labels"]) for k in KINDS if f"{k}-labels" in crossref},
            subref=str(crossref.get("subref-labels", "alpha a")),
            chapters=crossref.get("chapters", True) is not False,
            depth=int(depth) if isinstance(depth, int) else None,
            numbered=settings.get("number-sections", True) is not False,
        )


def _merged(book: dict[str, Any], front: dict[str, Any]) -> dict[str, Any]:
    """Book-level settings overridden by a chapter's front matter (`crossref` merged key by key)."""
    out = dict(book)
    for key in ("number-depth", "number-sections"):
        if key in front:
            out[key] = front[key]
    if isinstance(front.get("crossref"), dict):
        out["crossref"] = {**(book.get("crossref") or {}), **front["crossref"]}
    return out


def _first_chapter_heading(doc: Document, prose: str, declared: frozenset[str] = frozenset()
                           ) -> re.Match | None:
    """The chapter's first level-1 heading that is a section (none inside a tabset, the margin,
    a theorem or a proof; no callout's title)."""
    divs = _Divs(doc.text, declared)
    for _, kind, payload in _events(doc, prose):
        if kind != "heading":
            divs.event(kind, payload)
        elif divs.is_section(payload) and len(payload.group(1)) == 1:
            return payload
    return None


def title_heading(doc: Document, declared: frozenset[str] = frozenset()) -> str:
    """A `# Title` (and subtitle) for a chapter titled in its front matter.

    As Quarto, the front matter's `title` is the chapter's title even when the text has `#`
    headings of its own (book-render.ts: the title markdown, then the whole body); only a
    first level-1 heading that repeats the title is taken as the title itself.
    """
    front = doc.front_matter or {}
    title = front.get("title")
    if not title or isinstance(title, (dict, list)):
        return ""
    first = _first_chapter_heading(doc, _prose(doc), declared)
    if first is not None and first.group(2).strip() == str(title).strip():
        return ""
    out = f"# {title}"
    if front.get("number-sections") is False:
        out += " {.unnumbered}"
    if front.get("subtitle"):
        out += f"\n\n::: {{.quarto-title-subtitle .subtitle .lead}}\n{front['subtitle']}\n:::"
    return out + "\n\n"


def with_title(doc: Document, markdown: str, declared: frozenset[str] = frozenset()) -> str:
    """`markdown` (the chapter after substitution) with its front-matter title as a heading."""
    heading = title_heading(doc, declared)
    if not heading:
        return markdown
    return markdown[:doc.body_start] + "\n" + heading + markdown[doc.body_start:]


def labels_defined(doc: Document, config: dict[str, Any] | None = None
                   ) -> list[tuple[str, int, int, tuple[str, ...]]]:
    """Every place the chapter defines a cross-reference label, in order: (label, line, col,
    the formats whose output shows it), `config` being the book's `_quarto.yml` (`when-meta`).

    What the duplicate check reads (Quarto indexes each format apart, so one label may be
    defined once for HTML and once for the PDF); the static check remembers it with a clean
    verdict.
    """
    lines = LineIndex(doc.text)
    prose = _prose(doc)
    hidden: dict[str, list[tuple[int, int]]] = {fmt: [] for fmt in FORMAT_NAMES}
    if "content-visible" in prose or "content-hidden" in prose:  # else every format shows all
        events = _events(doc, prose)
        front = doc.front_matter or {}
        hidden = {fmt: _hidden_spans(events, Output(fmt, config or {}), front)
                  for fmt in FORMAT_NAMES}
    # the offset of the `#` (or of the cell option naming the label), where an editor should go
    found = [(m.start(1) - 1, m.group(1)) for m in DEFINITION.finditer(prose)]
    for cell in doc.cells:
        for key in ("label", "lst-label"):
            label = str(cell.options.get(key) or "")
            if label and (key == "lst-label" or label.split("-")[0] in KINDS):
                found.append((_option_offset(doc.text, cell.start, cell.end, key), label))
    for fence in doc.fences:
        m = DEFINITION.search(fence.info)
        if m:
            found.append((fence.start, m.group(1)))
    return [(label, *lines.position(offset),
             tuple(fmt for fmt in FORMAT_NAMES if _shown(offset, hidden[fmt])))
            for offset, label in sorted(found)]


def _option_offset(text: str, start: int, end: int, key: str) -> int:
    """Where `#| key:` sits in a cell (the cell's start if the option came from elsewhere)."""
    m = re.compile(rf"^[ \t]*#[ \t]*\|[ \t]*{re.escape(key)}[ \t]*:", re.M).search(text, start, end)
    return m.start() if m else start


def _events(doc: Document, prose: str) -> list[tuple[int, str, Any]]:
    """Headings, div fences, floats and equations of a chapter, in text order."""
    events: list[tuple[int, str, Any]] = []
    for m in HEADING.finditer(prose):
        events.append((m.start(), "heading", m))
    for m in DIV_OPEN.finditer(prose):
        events.append((m.start(), "open", m))
    for m in DIV_CLOSE.finditer(prose):
        events.append((m.start(), "close", None))
    for m in TABLE_CAPTION.finditer(prose):
        events.append((m.start(), "float", m.group(1)))
    for m in IMAGE.finditer(prose):
        events.append((m.start(), "float", m.group(1)))
    for m in EQUATION.finditer(prose):
        events.append((m.start(), "eq", m.group(1)))
    for fence in doc.fences:
        ident, _ = _attrs(fence.info.strip("{} "))
        if ident.startswith("lst-"):
            events.append((fence.start, "float", ident))
    for cell in doc.cells:
        label = cell.label or ""
        listing = str(cell.options.get("lst-label") or "")
        if listing.startswith("lst-"):  # the echoed code, which comes before the cell's output
            events.append((cell.start, "float", listing))
        subcaps = cell.options.get("fig-subcap")
        if label.startswith("fig-") and isinstance(subcaps, list) and len(subcaps) > 1:
            # Quarto's sub-figures of one cell: fig-x-1, fig-x-2, ... inside fig-x
            events.append((cell.start, "panel", (label, len(subcaps))))
        elif label.startswith("fig-") or (label.startswith("tbl-") and cell.options.get("tbl-cap")):
            events.append((cell.start, "float", label))
    # a div's own float comes before the floats inside it; the sort is stable for a cell's two
    order = {"close": 0, "open": 1, "heading": 2, "float": 2, "eq": 2, "panel": 2}
    return sorted(events, key=lambda e: (e[0], order[e[1]]))


class _Numbering:
    """Book-wide chapter counters (1, 2, ... and A, B, ... for appendices)."""

    def __init__(self) -> None:
        self.chapters = 0
        self.appendices = 0

    def next(self, appendix: bool, unnumbered: bool) -> str:
        if unnumbered:
            return ""
        if appendix:
            self.appendices += 1
            return _letters(self.appendices)
        self.chapters += 1
        return str(self.chapters)


# The classes Quarto makes a callout of (its callout.lua handler); any other `.callout-x` is a
# plain div. Types declared under `bookbuild.callouts` are callouts too (callouts.lua draws them).
CALLOUT_CLASSES = frozenset({"callout", *(f"callout-{name}" for name in rules()["callout-types"])})


def _is_callout(classes: set[str], declared: frozenset[str] = frozenset()) -> bool:
    return bool(classes & CALLOUT_CLASSES) or any(c.startswith("callout-") and c[8:] in declared
                                                  for c in classes)


def declared_callouts(config: dict[str, Any] | None) -> frozenset[str]:
    """The callout types a book declares under `bookbuild.callouts` in `_quarto.yml`."""
    own = (config or {}).get("bookbuild")
    types = own.get("callouts") if isinstance(own, dict) else None
    return frozenset(types) if isinstance(types, dict) else frozenset()


# Divs whose headings are not sections of the page: a tabset's (its tabs and what they hold)
# and margin content (quarto-rules.json, as crossref.lua). A callout's headings are
# sections, as in Quarto, but for its first one when that is its title (`_callout_title`).
ASIDES = frozenset(rules()["asides"])


def _is_aside(classes: set[str]) -> bool:
    return bool(classes & ASIDES)


def _callout_title(m: re.Match, text: str, heading: re.Match) -> bool:
    """Whether `heading` is the title of the callout opened by fence `m`: Quarto takes a
    callout's first block as its title when it is a heading and no `title=` is given. `text`
    is the chapter as written: a cell or a comment before the heading is a block of its own."""
    return not _attributes(_div_attrs(m)[2]).get("title") and not text[m.end():heading.start()].strip()


def _div_attrs(m: re.Match) -> tuple[str, set[str], str]:
    """A div fence's id, classes and raw attributes (`::: note` is `{.note}`)."""
    raw = m.group(2)
    raw = raw if raw.startswith("{") else "." + raw
    return (*_attrs(raw), raw)


def _hides_sections(ident: str, classes: set[str], declared: frozenset[str] = frozenset()) -> bool:
    """Whether the headings inside a div are no sections: an aside's, a theorem's or a proof's
    (a theorem's or a proof's first heading is its name). A float div's are, as in crossref.lua."""
    prefix = ident.split("-")[0] if "-" in ident else ""
    if _is_callout(classes, declared):
        return _is_aside(classes)
    if prefix in FLOATS:
        return False
    return _is_aside(classes) or prefix in THEOREMS or bool(classes & PROOFS)


class _Divs:
    """The open divs while a chapter's events are walked: which headings are sections."""

    def __init__(self, text: str, declared: frozenset[str]) -> None:
        self.text, self.declared = text, declared  # the chapter as written
        self.hiding: list[bool] = []  # per open div: does it hide the sections inside it?
        self.callout: re.Match | None = None  # the callout fence just opened, if untitled yet

    def event(self, kind: str, payload: Any) -> None:
        if kind == "open":
            ident, classes, _ = _div_attrs(payload)
            self.hiding.append(_hides_sections(ident, classes, self.declared))
            self.callout = payload if _is_callout(classes, self.declared) else None
            return
        if kind == "close" and self.hiding:
            self.hiding.pop()
        self.callout = None

    def is_section(self, heading: re.Match) -> bool:
        """Whether `heading` (the next event) is a section: not in an aside, no callout's title."""
        opened, self.callout = self.callout, None
        if opened is not None and _callout_title(opened, self.text, heading):
            return False
        return not any(self.hiding)


class _ChapterWalk:
    """Numbers one chapter's events the way crossref.lua walks the chapter's blocks."""

    def __init__(self, doc: Document, appendix: bool, options: Options, book: _Numbering,
                 labels: dict[str, Label], part: bool = False, document: bool = False,
                 fmt: str = "html", declared: frozenset[str] = frozenset(),
                 index_page: bool = False) -> None:
        self.source = Path(doc.path).resolve()
        self.appendix, self.options, self.book, self.labels = appendix, options, book, labels
        # a document (no book): its title is the title block, its headings plain sections
        self.document, self.fmt, self.declared = document, fmt, declared
        self.lines, self.text = LineIndex(doc.text), doc.text
        self.info = ChapterInfo(self.source, depth=options.depth,
                                title_heading="" if document else title_heading(doc, declared),
                                part=part, appendix=appendix)
        if document and (doc.front_matter or {}).get("title"):
            self.info.title = str(doc.front_matter["title"])
        self.number = ""
        self.counters = [0] * 7
        self.counts: dict[str, int] = {}
        self.divs: list[dict | None] = []  # open divs; a float div is {kind, number, subs}
        self.parent: dict | None = None  # the innermost open float div
        self.opened = bool(self.info.title_heading)  # has the chapter's title heading been seen?
        self.extra = 0  # numbered level-1 headings after the title (Quarto's HTML counts them on)
        if self.info.title_heading:
            self.restart(self.book.next(appendix, part or not options.numbered))
            self.info.title, self.info.number = str(doc.front_matter["title"]), self.number
            if index_page and fmt == "html" and self.number:
                # Quarto's book index page gets no chapter number (no number-offset): its
                # title reads bare and its sections 0.1, 0.2; the sidebar still says 1
                self.info.chapter_numbers[-1] = self.number = "0"
                self.info.bare = True

    def restart(self, number: str) -> None:
        self.number, self.counters, self.counts = number, [0] * 7, {}
        self.info.chapter_numbers.append(number)

    def next(self, kind: str) -> str:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        n = label_for(self.counts[kind], self.options.labels.get(kind, "arabic"))
        return f"{self.number}.{n}" if self.options.chapters and self.number else n

    def add(self, ident: str, kind: str, number: str, offset: int, title: str = "") -> None:
        self.labels[ident] = Label(ident, kind, number, title, self.source, self.lines.position(offset)[0])

    def walk(self, prose: str, events: list[tuple[int, str, Any]]) -> ChapterInfo:
        divs = _Divs(self.text, self.declared)
        for offset, kind, payload in events:
            if kind == "heading":
                if divs.is_section(payload):  # not in a tabset or the margin, no callout's title
                    self.heading(payload)
                continue
            divs.event(kind, payload)
            if kind == "open":
                self.open_div(payload)
            elif kind == "close":
                self.close_div()
            elif kind == "eq":
                self.add(payload, "eq", self.next("eq"), offset)
            elif kind == "panel":
                self.cell_panel(*payload, offset)
            else:
                self.float(payload.split("-")[0], payload, offset)
        if not self.info.title:
            self.info.title = self.source.stem.replace("-", " ").replace("_", " ").title()
        return self.info

    def open_div(self, m: re.Match) -> None:
        ident, classes, _ = _div_attrs(m)
        prefix = ident.split("-")[0] if "-" in ident else ""
        entry: dict | None = None
        callout = _is_callout(classes, self.declared)
        if prefix in FLOATS and not callout:
            entry = self.parent = self.float(prefix, ident, m.start())
        elif prefix in CALLOUTS or (prefix in THEOREMS and not callout):
            self.add(ident, prefix, self.next(prefix), m.start())
        self.divs.append(entry)

    def close_div(self) -> None:
        if self.divs and self.divs.pop() is not None:
            self.parent = next((d for d in reversed(self.divs) if d is not None), None)

    def heading(self, m: re.Match) -> None:
        level, title = len(m.group(1)), m.group(2).strip()
        ident, classes = _attrs(m.group(3))
        if self.document:
            self.document_heading(m, level, title, ident, classes)
            return
        if level == 1 and not self.opened:
            self.opened = True
            self.restart(self.book.next(self.appendix, "unnumbered" in classes or self.info.part
                                        or not self.options.numbered))
            if not self.info.title:
                self.info.title, self.info.number = title, self.number
            number = self.number
        elif level == 1:
            number = self.later_chapter("unnumbered" in classes)
        elif "unnumbered" in classes or not self.number or level > (self.options.depth or 6):
            number = ""
        else:
            self.counters[level] += 1
            self.counters[level + 1:] = [0] * (6 - level)
            number = ".".join([self.number, *(str(self.counters[lv]) for lv in range(2, level + 1))])
        if ident and number:
            self.add(ident, "sec", number, m.start(), title)
            if level == 1 and self.options.chapters:  # Quarto names the whole chapter
                self.labels[ident] = replace(self.labels[ident],
                                             ref="apx" if self.appendix else "ch")

    def later_chapter(self, unnumbered: bool) -> str:
        """A level-1 heading after the chapter's title, numbered as Quarto numbers it.

        The PDF is one LaTeX book, where every such heading is a `\\chapter` and moves the
        chapters after it; an HTML page numbers its sections from the chapter's own number
        (`number-offset`), so the heading takes the next number there and the book's count
        is untouched. An unnumbered one, or any in an unnumbered chapter, restarts nothing.
        """
        if unnumbered or not self.info.number or self.info.part or not self.options.numbered:
            self.info.chapter_numbers.append("")
            self.info.continued.add(len(self.info.chapter_numbers) - 1)
            return ""
        if self.fmt == "pdf":
            self.restart(self.book.next(self.appendix, False))
        else:
            self.extra += 1
            base = self.book.appendices if self.appendix else self.book.chapters
            base = 0 if self.info.bare else base  # the index page counts from 0
            self.restart(_letters(base + self.extra) if self.appendix else str(base + self.extra))
        return self.number

    def document_heading(self, m: re.Match, level: int, title: str, ident: str,
                         classes: set[str]) -> None:
        """A document's section: "1", "1.2" from level 1 (as pandoc's --number-sections), and
        only with `number-sections: true`; floats take no section prefix."""
        if "unnumbered" in classes or not self.options.numbered or level > (self.options.depth or 6):
            return
        self.counters[level] += 1
        self.counters[level + 1:] = [0] * (6 - level)
        number = ".".join(str(self.counters[lv]) for lv in range(1, level + 1))
        if ident:
            self.add(ident, "sec", number, m.start(), title)

    def cell_panel(self, label: str, count: int, offset: int) -> None:
        saved, self.parent = self.parent, self.float("fig", label, offset)
        for i in range(1, count + 1):
            self.float("fig", f"{label}-{i}", offset)
        self.parent = saved

    def float(self, kind: str, ident: str, offset: int) -> dict:
        """Number a float (a sub-float when inside a float of its kind) and return its record."""
        parent = self.parent
        if parent is not None and parent["kind"] == kind:
            parent["subs"] += 1
            number = f"{parent['number']} ({label_for(parent['subs'], self.options.subref)})"
        else:
            number = self.next(kind)
        self.add(ident, kind, number, offset)
        return {"kind": kind, "number": number, "subs": 0}


def build_index(docs: list[tuple[Document, bool]], settings: dict[str, Any] | None = None,
                output: Output | None = None, parts: frozenset[Path] = frozenset(),
                document: bool = False) -> BookIndex:
    """Index a book; `docs` are its chapters in order, each flagged True if an appendix.

    `settings` holds the book's `crossref`, `number-depth` and `number-sections`; a chapter's
    front matter overrides them for that chapter. With `output`, only what that format shows
    is numbered and referenced (conditional content it hides is left out). `parts` are the
    part title pages, which take no chapter number (as in Quarto, chapters count on across).
    """
    chapters: list[ChapterInfo] = []
    labels: dict[str, Label] = {}
    references: list[Reference] = []
    book = _Numbering()
    fmt = output.fmt if output is not None else "html"
    # the book's format options (`format: pdf: number-depth: 2`) over its top level
    settings = _merged(settings or {}, format_options(output.config, fmt) if output else {})
    for doc, appendix in docs:
        own = doc.front_matter or {}  # the chapter's format options over its top level
        merged = _merged(settings, {**own, **format_options(own, fmt)})
        options = Options.read(merged)
        prose = _prose(doc)
        walk = _ChapterWalk(doc, appendix, options, book, labels,
                            Path(doc.path).resolve() in parts, document, fmt,
                            declared_callouts(output.config if output is not None else None),
                            index_page=not chapters and Path(doc.path).stem == "index")
        walk.info.crossref = merged.get("crossref") if isinstance(merged.get("crossref"), dict) else {}
        front = doc.front_matter or {}
        walk.info.layout = {k: str(front[k]) for k in LAYOUT_KEYS if isinstance(front.get(k), str)}
        events = _events(doc, prose)
        hidden = _hidden_spans(events, output, front) if output is not None else []
        chapters.append(walk.walk(prose, [e for e in events if _shown(e[0], hidden)]))
        found = [m for m in REFERENCE.finditer(prose)
                 if not m.start() or not (prose[m.start() - 1].isalnum() or prose[m.start() - 1] in "_@.")]
        found += RAW_REFERENCE.finditer(prose)
        for m in sorted(found, key=lambda m: m.start()):
            if not _shown(m.start(), hidden):
                continue
            references.append(Reference(m.group(1), walk.source, walk.lines.position(m.start())[0]))
    return BookIndex(chapters, labels, references, _duplicates(docs, output))


def format_indexes(docs: list[tuple[Document, bool]], settings: dict[str, Any],
                   config: dict[str, Any], formats: list[str] | None = None,
                   parts: frozenset[Path] = frozenset(), document: bool = False
                   ) -> dict[str, BookIndex]:
    """One index per output format (html, pdf; or those of `formats`), each numbering what
    that format shows; `document`: one document numbered on its own, not a book's chapter."""
    return {fmt: build_index(docs, settings, Output(fmt, config), parts, document)
            for fmt in FORMAT_NAMES if formats is None or fmt in formats}


UNKNOWN = "not in this book; map it under bookbuild.external-refs in _quarto.yml"


def in_document(why: str) -> str:
    """Why a reference is unresolved, said of a document rather than a book."""
    return "not in this document" if why == UNKNOWN else why


def unresolved_explained(indexes: dict[str, BookIndex], docs: list[tuple[Document, bool]],
                         settings: dict[str, Any], config: dict[str, Any], external: dict,
                         formats: list[str] | None, parts: frozenset[Path] = frozenset()
                         ) -> list[tuple[Reference, str]]:
    """`unresolved_in`; when something is unresolved, the formats not yet in `indexes` are
    indexed too (added to it): a label only another format shows says why better than "not in
    this book"."""
    unresolved = unresolved_in(indexes, external, formats)
    if unresolved and len(indexes) < len(FORMAT_NAMES):
        indexes |= format_indexes(docs, settings, config,
                                  [f for f in FORMAT_NAMES if f not in indexes], parts)
        unresolved = unresolved_in(indexes, external, formats)
    return unresolved


def unresolved_line(ref: Reference, why: str, severity: str = "warning") -> str:
    """`file:line: warning: unresolved cross-reference 'x' (why)`, as render and check print it."""
    from bookbuild.system.errors import display_path

    return (f"{display_path(ref.source)}:{ref.line}: {severity}: unresolved cross-reference "
            f"'{ref.label}' ({why})")


def unresolved_in(indexes: dict[str, BookIndex], external: dict,
                  formats: list[str] | None = None) -> list[tuple[Reference, str]]:
    """Each reference one of `formats` (default: every indexed one) cannot resolve, once, with
    why: the label is nowhere in the book, or only in content those formats leave out."""
    everywhere = {k for index in indexes.values() for k in index.labels}
    missing: dict[tuple[Path, int, str], list[str]] = {}
    order = {}
    for fmt, index in indexes.items():
        order.update({c.source: i for i, c in enumerate(index.chapters)})
        if formats is not None and fmt not in formats:
            continue  # not being written: its numbering is nobody's concern this time
        for ref in index.unresolved(external):
            missing.setdefault((ref.source, ref.line, ref.label), []).append(fmt)
    out = []
    for (source, line, label), fmts in sorted(missing.items(),
                                              key=lambda item: (order[item[0][0]], item[0][1], item[0][2])):
        if _canonical(label) in everywhere:
            why = f"in the {' and the '.join(fmts)}: defined only in content hidden there"
        else:
            why = UNKNOWN
        out.append((Reference(label, source, line), why))
    return out


Place = tuple[Path, int, int]  # file, line, column


Defined = list[tuple[str, int, int, tuple[str, ...]]]  # what labels_defined returns


def _repeats(docs: list[tuple[Document, bool]], known: list[Defined | None] | None = None,
             config: dict[str, Any] | None = None, only: str | None = None
             ) -> list[tuple[str, str, Place, Place]]:
    """(label, the repeating chapter's path as given, where it repeats, where it was first),
    for a label defined again where some format (`only` that one) shows both definitions;
    `known` holds each chapter's `labels_defined` where it was remembered (None: read it)."""
    defined: dict[str, list[tuple[Place, set[str]]]] = {}
    out = []
    for i, (doc, _) in enumerate(docs):
        where = Path(doc.path).resolve()
        labels = known[i] if known is not None and known[i] is not None else labels_defined(doc, config)
        for label, line, col, shown_in in labels:
            formats = [f for f in shown_in if only is None or f == only]
            first = next((place for place, shown in defined.get(label, []) if shown & set(formats)),
                         None)
            if first is not None:
                out.append((label, str(doc.path), (where, line, col), first))
            elif formats:
                defined.setdefault(label, []).append(((where, line, col), set(formats)))
    return out


def duplicate_labels(docs: list[tuple[Document, bool]], known: list[Defined | None] | None = None,
                     config: dict[str, Any] | None = None) -> list[Diagnostic]:
    """One located XRF001 for each repeated label, at the repeat, naming the first place."""
    return [Diagnostic(path, line, col, "XRF001",
                       f"label '{label}' is defined twice (first at {display_path(first[0])}:"
                       f"{first[1]}:{first[2]})", "rename one of them; a reference reaches only one")
            for label, path, (_, line, col), first in _repeats(docs, known, config)]


def _duplicates(docs: list[tuple[Document, bool]], output: Output | None) -> list[str]:
    """`file:line: label 'x' is defined twice (first at file:line)` for each label `output`'s
    format (every format without one) shows twice."""
    config, only = (output.config, output.fmt) if output is not None else (None, None)
    return [f"{display_path(where)}:{line}: label '{label}' is defined twice "
            f"(first at {display_path(first[0])}:{first[1]}); rename one of them"
            for label, _, (where, line, _), first in _repeats(docs, config=config, only=only)]


def index_for_page(index: BookIndex, page: Path, pages: dict[Path, Path]) -> dict:
    """Labels as the crossref filter reads them, with hrefs relative to `page`.

    `pages` maps each chapter source to its output path (relative to the output root); a
    label on the same page links to `#label`.
    """
    here = pages[page]
    out = {}
    for label in index.labels.values():
        target = pages.get(label.source)
        if target is None or target == here:
            href = f"#{label.id}"
        else:
            rel = posixpath.relpath(target.as_posix(), here.parent.as_posix() or ".")
            href = f"{quote(rel)}#{label.id}"  # a page named `a #1.html` is a path, not a fragment
        out[label.id] = label.entry(href)
    return out


REFS_DIV = re.compile(r"^:{3,}[ \t]*\{[ \t]*#refs[\s}]", re.M)
CITATION = re.compile(r"(?<![\w@\\])-?@(?:\{([^}]+)\}|(\w(?:[\w:.#$%&+?<>~/-]*\w)?))")


def refs_chapter(docs: list[tuple[Document, bool]]) -> Path | None:
    """The chapter holding the book's bibliography (`::: {#refs}`), as Quarto's references.qmd."""
    for doc, _ in docs:
        if REFS_DIV.search(_prose(doc)):
            return Path(doc.path).resolve()
    return None


def citation_keys(docs: list[tuple[Document, bool]]) -> list[str]:
    """Every bibliography key the book cites (cross-references left out), in order of first use."""
    keys: dict[str, None] = {}
    for doc, _ in docs:
        for m in CITATION.finditer(_prose(doc)):
            key = m.group(1) or m.group(2)
            if _canonical(key).split("-")[0] not in KINDS or "-" not in key:
                keys.setdefault(key, None)
    return list(keys)
