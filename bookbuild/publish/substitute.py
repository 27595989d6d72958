"""Substitute execution results into the chapter: inline values and cell outputs become markdown.

Cells are written the way Quarto writes them (a `.cell` div holding `.cell-code` and
`.cell-output*` parts), with each cell's options resolved as Quarto does (see `options`) for the
output format at hand. This is the last step that knows about cells; it returns pandoc markdown.
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from bookbuild.execution.execute import ANSI
from bookbuild.model import ExecutionResult
from bookbuild.publish import plotly
from bookbuild.source import options as opts
from bookbuild.source.qmd import CodeCell, Document, LineIndex, front_matter_end, is_option_line

IMAGE_TYPES = {"image/svg+xml": "svg", "image/png": "png", "image/jpeg": "jpg",
               "application/pdf": "pdf"}
IMAGES = {"html": ("image/svg+xml", "image/png", "image/jpeg"),
          "md": ("image/svg+xml", "image/png", "image/jpeg"),
          "pdf": ("application/pdf", "image/png", "image/jpeg")}
# Quarto's choice among an output's MIME types, most wanted first, per output format
# (display-data.ts: markdown before images). A bare plotly bundle is drawn as plotly's HTML.
PRECEDENCE = {
    "html": ("application/javascript", "text/html", plotly.MIME, "text/markdown",
             "image/svg+xml", "image/png", "image/jpeg", "text/plain"),
    "pdf": ("text/latex", "application/pdf", "text/markdown", "image/png", "image/jpeg",
            "text/html", "text/plain"),  # text/html only for tables, rebuilt as markdown
    "md": ("text/markdown", "image/svg+xml", "image/png", "image/jpeg", "text/html",
           "text/plain"),
}
# Kept for callers that still name the image preference (pages vs print).
FOR_PAGES = IMAGES["html"]
FOR_PRINT = IMAGES["pdf"]


def substitute(doc: Document, result: ExecutionResult, assets: Path, assets_link: str,
               fmt: str = "html", config: dict | None = None,
               provenance: list[dict | None] | None = None,
               libs: tuple[Path, str] | None = None) -> str:
    """The chapter as markdown for output format `fmt` (html, pdf or md); images from cell
    outputs are written into `assets`. `config` is `_quarto.yml` (its execute/format options);
    `libs`: the folder (and its link from the page) for scripts pages share, such as plotly.js."""
    edits: list[tuple[int, int, str]] = []
    narrow = _kept_narrow(doc, result.inline) if provenance else set()
    for i, (ref, text) in enumerate(zip(doc.refs, result.inline, strict=True)):
        note = provenance[i] if provenance else None
        if note and i not in narrow and _plain_text(text) and not _inside_math(doc.text, ref.start) \
                and not _inside_markup(doc.text, ref.start):
            text = _with_provenance(text, note)
        edits.append((ref.start, ref.end, text))
    document = opts.document_options(config, doc.front_matter, fmt)
    page = PageScripts(*(libs or (assets, assets_link)))
    for cell, outputs in zip(doc.cells, result.outputs, strict=True):
        o = opts.cell_options(document, cell.options)
        md = CellWriter(cell, o, fmt, assets, assets_link, page).markdown(outputs)
        if cell.indent and md:  # a cell inside a list item stays inside it
            md = "\n".join(cell.indent + line if line else line for line in md.split("\n"))
        edits.append((cell.start, cell.end, _set_apart(doc.text, cell.start, cell.end, md)))
    edits += _other_language_cells(doc)
    pieces, pos = [], 0
    for start, end, text in sorted(edits):
        pieces += [doc.text[pos:start], text]
        pos = end
    pieces.append(doc.text[pos:])
    md = "".join(pieces)
    if fmt == "html" and opts.truthy(document.get("code-tools")):
        md = _code_tools(doc, md)
    return md


# A cell of another language (```` ```{bash} ````) in a Python document: Quarto shows it as code
# and runs nothing. Pandoc reads `{bash}` as no attributes at all (an inline code span).
_OTHER_CELL = re.compile(r"^([ \t]*(?:`{3,}|~{3,}))[ \t]*\{[ \t]*([A-Za-z][\w+-]*)[^}]*\}[ \t]*$")


def _other_language_cells(doc: Document) -> list[tuple[int, int, str]]:
    """Edits turning the opening line of each such cell into a fence of its language."""
    edits = []
    for fence in doc.fences:
        end = doc.text.find("\n", fence.start)
        opening = doc.text[fence.start:end if end >= 0 else len(doc.text)]
        m = _OTHER_CELL.match(opening)
        if m and m.group(2).lower() != "python":
            edits.append((fence.start, fence.start + len(opening), f"{m.group(1)} {m.group(2)}"))
    return edits


def _set_apart(text: str, start: int, end: int, md: str) -> str:
    """`md` with a blank line on each side where the cell's fence touched prose: a fence may
    interrupt a paragraph, a div fence may not, so pandoc would read `:::::` as prose."""
    if not md:
        return md
    if start > 0 and text[text.rfind("\n", 0, start - 1) + 1:start].strip():
        md = "\n" + md  # the line before the cell's first line is not blank
    after = text.find("\n", end + 1)
    if text[end + 1:after if after >= 0 else len(text)].strip():
        md += "\n"
    return md


PLAIN = re.compile(r"[^$\[\]`*_\\|<>{}\n]+")


def _plain_text(text: str) -> bool:
    """Text that can sit in a bracketed span unchanged (no markdown or math of its own)."""
    return bool(PLAIN.fullmatch(text))


def _inside_math(text: str, offset: int) -> bool:
    """Whether `offset` lies between $ delimiters of its paragraph (markup would break the math)."""
    para = max(text.rfind("\n\n", 0, offset), 0)
    before = text[para:offset].replace("\\$", "")
    if before.count("$") % 2 == 1:
        return True
    return before.count("\\(") > before.count("\\)")


COLUMNS = 72  # pandoc's --columns: a pipe table with a longer line gets relative widths


def _kept_narrow(doc: Document, texts: list[str]) -> set[int]:
    """Refs whose tooltip span would make their pipe table wider than pandoc's columns while
    the table with plain values is not: pandoc would then give it relative column widths
    (a `<colgroup>`) that Quarto, which hands pandoc plain values, does not. They go plain."""
    lines = doc.text.split("\n")
    where = LineIndex(doc.text)
    by_line: dict[int, list[int]] = {}
    for i, ref in enumerate(doc.refs):
        n = where.position(ref.start)[0] - 1  # in the expanded text (refs' own lines may be an include's)
        if "|" in lines[n]:
            by_line.setdefault(n, []).append(i)
    if not by_line:
        return set()
    out: set[int] = set()
    for first, end in _pipe_tables(doc.text):
        refs = [i for n in range(first, end) for i in by_line.get(n, [])]
        if not refs:
            continue
        plain = spanned = 0
        for n in range(first, end):
            here = by_line.get(n, [])
            width = len(lines[n]) + sum(len(texts[i]) - (doc.refs[i].end - doc.refs[i].start)
                                        for i in here)
            plain = max(plain, width)
            spanned = max(spanned, width + sum(len(_with_provenance(texts[i], {"index": i}))
                                               - len(texts[i]) for i in here))
        if plain <= COLUMNS < spanned:
            out.update(refs)
    return out


def _pipe_tables(text: str) -> list[tuple[int, int]]:
    """(first line, end line), 0-based, of each pipe table, as a Markdown parser finds them."""
    return [tuple(t.map) for t in _table_parser().parse(text) if t.type == "table_open" and t.map]


@lru_cache(maxsize=1)
def _table_parser():
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    md.core.ruler.disable(["inline", "text_join"])
    return md


AUTOLINK = re.compile(r"<[A-Za-z][A-Za-z0-9+.-]*:[^<>\s]*$")


def _inside_markup(text: str, offset: int) -> bool:
    """Whether `offset` lies in a link's or image's destination `](...)`, an autolink `<...>`
    or an attribute block `{...}`: a span there would become part of a URL or an attribute."""
    para = max(text.rfind("\n\n", 0, offset), 0)
    before = text[para:offset]
    dest = before.rfind("](")
    if dest >= 0 and ")" not in before[dest + 2:]:
        return True
    brace = before.rfind("{")
    if brace >= 0 and "}" not in before[brace:]:
        return True
    return bool(AUTOLINK.search(before))


def _with_provenance(text: str, note: dict) -> str:
    """The value in a span numbered after its reference; `provenance_html` fills in the rest
    after pandoc (long attributes in the markdown would slow pandoc down)."""
    return f'[{text}]{{.num data-ref="{note["index"]}"}}'


NUM_SPAN = re.compile(r'<span class="num" data-ref="(\d+)">')


def provenance_html(body: str, notes: list[dict | None]) -> str:
    """Give each numbered span its expression, constants and tooltip."""
    import html

    def full(m: re.Match) -> str:
        note = notes[int(m.group(1))]
        return (f'<span class="num" data-expr="{html.escape(note["expr"])}" '
                f'data-constants="{html.escape(note["constants"])}" '
                f'title="{html.escape(note["title"])}">')

    return NUM_SPAN.sub(full, body)


# Scripts written for a notebook's require.js (AMD): `require([...], ...)`, `define('name', ...)`.
AMD = re.compile(r"\brequire(?:js)?\s*\(\s*\[|\brequire(?:js)?\.config\s*\(|\bdefine\s*\(\s*['\"]")
REQUIRE_SCRIPTS = (
    '<script src="https://cdn.jsdelivr.net/npm/requirejs@2.3.6/require.min.js"></script>\n'
    '<script src="https://cdn.jsdelivr.net/npm/jquery@3.5.1/dist/jquery.min.js"></script>\n'
    "<script>define('jquery', [], function () { return window.jQuery; });</script>\n")


class PageScripts:
    """Scripts a page loads once, before the first output that needs them (plotly.js)."""

    def __init__(self, folder: Path, link: str) -> None:
        self.folder, self.link = folder, link
        self.plotly = self.require = False

    def require_tag(self, payload: str) -> str:
        """require.js and jQuery, which Quarto puts in a page whose outputs carry scripts,
        before the first output that calls them (plotly before 6, older widgets)."""
        if self.require or not AMD.search(payload):
            return ""
        self.require = True
        return REQUIRE_SCRIPTS

    def plotly_tag(self) -> str:
        """plotly.js's `<script>` the first time a page asks, then nothing."""
        if self.plotly:
            return ""
        self.plotly = True
        return plotly.library_tag(self.folder, self.link) + "\n"


class CellWriter:
    """One cell's markdown for one output format."""

    def __init__(self, cell: CodeCell, o: dict[str, Any], fmt: str, assets: Path,
                 link: str, page: PageScripts | None = None) -> None:
        self.cell, self.o, self.fmt, self.assets, self.link = cell, o, fmt, assets, link
        self.page = page or PageScripts(assets, link)
        self.plots = 0  # plotly figures drawn from their JSON
        self.figures: list[tuple[str, str, list[str]]] = []  # (src, alt, size) of each image
        self.tables = 0  # outputs written as pandoc tables, which can carry a caption line
        self.html_tables = 0  # of which rebuilt from an HTML table

    def markdown(self, outputs: list[dict]) -> str:
        o = self.o
        if not opts.truthy(o["include"]):
            return ""
        parts: list[str] = []
        echo = o["echo"]
        if echo == "fenced" or opts.truthy(echo):
            parts.append(self.code(fenced=echo == "fenced"))
        output = o["output"]
        asis = output == "asis"
        figure_at = None
        if asis or opts.truthy(output):
            shown_from = len(parts)
            for out in outputs:
                md = self.output(out, asis)
                if md is _FIGURE:
                    if figure_at is None:
                        figure_at = len(parts)
                        parts.append("")
                elif md:
                    parts.append(md)
            if figure_at is not None:
                parts[figure_at] = self.figure_block()
            parts[shown_from:] = self.captioned(parts[shown_from:], asis)
        parts = [p for p in parts if p]
        if not parts:
            return ""
        if asis and not (echo == "fenced" or opts.truthy(echo)):
            return "\n\n".join(parts)  # asis: the output is the markdown, nothing around it
        classes = " ".join("." + c for c in _classes(o.get("classes")))
        return "\n\n".join([f"::::: {{.cell {classes}}}".replace(" }", "}"), *parts, ":::::"])

    def captioned(self, shown: list[str], asis: bool) -> list[str]:
        """The outputs of a `fig-`/`tbl-` labelled cell as one numbered float with its caption:
        images become a figure (`figure_block`), tables take a caption line, and any other
        output (an HTML map or widget) goes in a float div, as Quarto's crossref makes it."""
        label = self.cell.label or ""
        kind = label.partition("-")[0]
        caption = self.o.get(f"{kind}-cap")
        if self.figures or asis or kind not in ("fig", "tbl") or not any(shown):
            return shown
        if kind == "tbl" and not caption:
            return shown  # Quarto numbers a table cell only with its caption
        if kind == "tbl" and self.tables:
            # in a display output, as Quarto has it: a wide table scrolls inside the column;
            # one rebuilt from HTML is marked for layout.lua to give it its natural widths
            mark = " html-table" if self.html_tables else ""
            return [_output_div(f"cell-output-display{mark}",
                                "\n\n".join(self.table_captions(shown, label, caption)))]
        cap = _attr(f"{kind}-cap", _one_line(caption)) if caption else ""
        head = " ".join(a for a in (f"#{label}", cap) if a)
        return [f"::: {{{head}}}", *[p for p in shown if p], ":::"]

    def table_captions(self, tables: list[str], label: str, caption: Any) -> list[str]:
        """Quarto's caption and label for a cell's table; with `tbl-subcap`, one table float
        whose sub-tables are lettered (a), (b), ... by the cross-reference filter."""
        subcaps = _as_list(self.o.get("tbl-subcap")) if self.o.get("tbl-subcap") is not True else []
        tables = [t for t in tables if t]
        widths = self.o.get("tbl-colwidths")
        # the cell's tbl-colwidths goes on its table (tables.lua); one read from HTML keeps its own
        attrs = f"#{label}" + (f' tbl-colwidths="{_colwidths(widths)}"'
                               if widths is not None and not self.html_tables else "")
        if not self.o.get("tbl-subcap") or len(tables) < 2:
            return [*tables, f": {_one_line(caption)} {{{attrs}}}"]
        out = [f'::: {{#{label} tbl-cap="{_one_line(caption).replace(chr(34), chr(39))}"}}']
        for i, table in enumerate(tables, start=1):
            sub = _one_line(subcaps[i - 1]) if i <= len(subcaps) else ""
            out += [table, f": {sub} {{#{label}-{i}}}"]
        return [*out, ":::"]

    # --- code -----------------------------------------------------------------------------
    def code(self, fenced: bool) -> str:
        lines = self.cell.source.splitlines()
        if fenced:
            shown = [line for line in lines if not re.match(r"\s*#\|\s*echo:", line)]
            body = "\n".join(["```{python}", *shown, "```"])
            attrs = [".markdown", ".cell-code"]
        else:
            body = "\n".join(line for line in _without_options(lines)).strip("\n")
            attrs = [".python", ".cell-code"]
        if str(self.o.get("code-overflow")) == "wrap":
            attrs.append(".code-overflow-wrap")
        if opts.truthy(self.o.get("code-line-numbers")):
            attrs.append(".numberLines")
        lst = str(self.o.get("lst-label") or "")
        if lst:
            attrs.insert(0, f"#{lst}")
        fence = "`" * max(3, _longest_run(body, "`") + 1)
        block = f"{fence} {{{' '.join(attrs)}}}\n{body}\n{fence}"
        cap = self.o.get("lst-cap")
        if cap and lst:  # a numbered listing: crossref.lua captions it ("Listing 1.1: ...")
            attrs.append(_attr("lst-cap", _one_line(cap)))
            block = f"{fence} {{{' '.join(attrs)}}}\n{body}\n{fence}"
        elif cap:
            block = f"::: {{.listing}}\n\n**Listing:** {_one_line(cap)}\n\n{block}\n\n:::"
        fold = self.o.get("code-fold")
        if self.fmt == "html" and (fold == "show" or opts.truthy(fold)):
            summary = _html_text(str(self.o.get("code-summary") or "Code"))
            is_open = " open" if fold == "show" else ""
            block = (f'```{{=html}}\n<details class="code-fold"{is_open}><summary>{summary}'
                     f"</summary>\n```\n\n{block}\n\n```{{=html}}\n</details>\n```")
        return block

    # --- outputs --------------------------------------------------------------------------
    def output(self, out: dict, asis: bool) -> Any:
        kind = out.get("output_type")
        if kind == "stream":
            name = out.get("name", "stdout")
            if name == "stderr" and not (opts.truthy(self.o["warning"])
                                         and opts.truthy(self.o["message"])):
                return ""  # warning: false / message: false hide what Python prints to stderr
            text = "".join(out.get("text", ""))
            if asis:
                return text
            return _output_div(f"cell-output cell-output-{name}", _code_block(text))
        if kind == "error":
            traceback = ANSI.sub("", "\n".join(out.get("traceback", [])))
            return _output_div("cell-output cell-output-error", _code_block(traceback))
        if kind not in ("display_data", "execute_result"):
            return ""
        data = _with_markdown_math(out.get("data", {}))
        if self.fmt != "html" and plotly.is_figure(data) and not any(
                m in data for m in ("text/latex", "text/markdown", *IMAGES.get(self.fmt, ()))):
            # an interactive figure with no static image: a note, never broken LaTeX
            return plotly.PRINT_NOTE if asis else _output_div("cell-output-display",
                                                              plotly.PRINT_NOTE)
        for mime in PRECEDENCE.get(self.fmt, PRECEDENCE["html"]):
            if mime not in data:
                continue
            payload = "".join(data[mime]) if isinstance(data[mime], list) else data[mime]
            meta = (out.get("metadata") or {}).get(mime)
            md = self.display(mime, payload, asis, meta if isinstance(meta, dict) else {})
            if md is not None:
                return md
        return ""

    def display(self, mime: str, payload: str, asis: bool, meta: dict | None = None) -> Any:
        """Markdown for one chosen MIME type, or None to try the next one. `meta`: the output's
        metadata for that type (an image's display width and height)."""
        table_cell = (self.cell.label or "").startswith("tbl-") and self.o.get("tbl-cap")
        if mime == plotly.MIME:
            return self.plotly_figure(payload, asis)
        if mime in IMAGE_TYPES:
            self.save_image(mime, payload, meta or {})
            return _FIGURE
        if mime == "text/html":
            from bookbuild.publish.sanitize import html_table_markdown

            if table_cell or self.fmt != "html":
                # A table that must carry a caption (or go to print) becomes a pandoc table.
                md = html_table_markdown(payload)
                if md is None:
                    return None
                self.tables += 1
                self.html_tables += 1
                return md if (asis or table_cell) else _output_div("cell-output-display", md)
            # as Quarto keeps it: scripts and all
            raw = _raw_block("html", self.page.require_tag(payload) + payload)
            return raw if asis else _output_div("cell-output-display", raw)
        if mime == "application/javascript":
            raw = _raw_block("html", self.page.require_tag(payload)
                             + f'<script type="{mime}">\n{payload}\n</script>')
            return raw if asis else _output_div("cell-output-display", raw)
        if mime == "text/latex":
            raw = f"```{{=latex}}\n{payload.strip()}\n```"
            return raw if asis else _output_div("cell-output-display", raw)
        if mime == "text/markdown":
            # A table's caption line must follow the table itself, so no div around it.
            self.tables += bool(table_cell)
            return payload if (asis or table_cell) else _output_div("cell-output-display", payload)
        if mime == "text/plain":
            if asis:
                return payload
            return _output_div("cell-output cell-output-stdout", _code_block(payload))
        return None

    def plotly_figure(self, spec: Any, asis: bool) -> str | None:
        """A plotly figure drawn from its JSON, as plotly's notebook renderer draws it."""
        if isinstance(spec, str):
            import json

            try:
                spec = json.loads(spec)
            except ValueError:
                return None
        if not isinstance(spec, dict):
            return None
        self.plots += 1
        stem = re.sub(r"[^\w-]", "-", self.cell.label or f"cell-{self.cell.index + 1}")
        raw = _raw_block("html", self.page.plotly_tag()
                         + plotly.figure_html(spec, f"plotly-{stem}-{self.plots}"))
        return raw if asis else _output_div("cell-output-display", raw)

    def save_image(self, mime: str, payload: str, meta: dict | None = None) -> None:
        n = len(self.figures) + 1
        stem = self.cell.label or f"cell-{self.cell.index + 1}"
        name = f"{stem}-{n}.{IMAGE_TYPES[mime]}"
        self.assets.mkdir(parents=True, exist_ok=True)
        raw = payload.encode() if mime == "image/svg+xml" else base64.b64decode(payload)
        (self.assets / name).write_bytes(raw)
        alts = _as_list(self.o.get("fig-alt"))
        alt = str(alts[min(n - 1, len(alts) - 1)]) if alts else ""
        self.figures.append((f"{self.link}/{name}", alt, _dimensions(meta or {})))

    def figure_block(self) -> str:
        """One image as a figure; several as a figure of subfigures laid out in columns, or,
        with no label, caption or layout to tie them, as separate outputs as Quarto has them."""
        o, label = self.o, self.cell.label or ""
        caps = _as_list(o.get("fig-cap"))
        align = str(o.get("fig-align") or "default")
        ident = f"#{label}" if label.startswith("fig-") else ""
        if len(self.figures) == 1:
            return self.one_figure(self.figures[0], align, ident, caps[0] if caps else "")
        if not (ident or caps or o.get("fig-subcap")) and _columns(o.get("layout-ncol")) <= 1:
            return "\n\n".join(self.one_figure(figure, align) for figure in self.figures)
        subcaps = o.get("fig-subcap")
        subs = _as_list(subcaps) if subcaps is not True else []
        images = []
        for i, (src, alt, size) in enumerate(self.figures):
            # labelled: sub-figures fig-x-1, fig-x-2 that crossref.lua letters (a), (b)
            letter = f"({chr(ord('a') + i)})" if (subcaps or caps) and i < 26 and not ident else ""
            sub = f"{letter} {_one_line(subs[i])}".strip() if i < len(subs) else letter
            attrs = [f"{ident}-{i + 1}"] if ident else []
            attrs += size + ([_attr("fig-alt", alt)] if alt else [])
            suffix = "{" + " ".join(attrs) + "}" if attrs else ""
            images.append(f"![{sub}]({src}){suffix}")
        md = _layout(images, o.get("layout-ncol"))
        if ident or caps:
            cap = _attr("fig-cap", _one_line(caps[0])) if caps else ""
            md = f"::: {{{' '.join(a for a in (ident, cap) if a)}}}\n\n{md}\n\n:::"
        return _aligned_output(md, align)

    def one_figure(self, figure: tuple[str, str, list[str]], align: str, ident: str = "",
                   caption: Any = "") -> str:
        """One image (with its label and caption, if any) as a cell's display output."""
        src, alt, size = figure
        attrs = [a for a in (ident, *size, _attr("fig-alt", alt)) if a]
        suffix = "{" + " ".join(attrs) + "}" if attrs else ""
        return _aligned_output(f"![{_one_line(caption)}]({src}){suffix}", align)


def _colwidths(value: Any) -> str:
    """`tbl-colwidths` as a caption attribute: `[60,40]`, `true`, `false` or `auto`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ",".join(str(v) for v in value) + "]"
    return str(value).replace('"', "")


def _with_markdown_math(data: dict) -> dict:
    """A `text/latex` output that is math (`$...$`, an environment) and has no markdown also
    serves as markdown, as in Quarto: sympy's expressions show as math on pages too."""
    latex = data.get("text/latex")
    latex = "".join(latex) if isinstance(latex, list) else latex
    if not isinstance(latex, str) or "text/markdown" in data:
        return data
    body = latex.strip()
    if (body.startswith("$") and body.endswith("$")) or (
            body.startswith("\\begin{") and "\\end{" in body):
        return {**data, "text/markdown": latex}
    return data


def _aligned_output(md: str, align: str) -> str:
    """A figure's markdown as a display output, aligned as `fig-align` asks."""
    if align in ("left", "right", "center"):
        md = (f'::: {{.quarto-figure .quarto-figure-{align} style="text-align: {align}"}}'
              f"\n\n{md}\n\n:::")
    return _output_div("cell-output-display", md)


_FIGURE = object()  # marks an image output: the figure is assembled after all outputs


def _dimensions(meta: dict) -> list[str]:
    """`width=W height=H` from an image output's metadata, as Quarto writes them (`out-width`
    first): the inline backend's retina PNG carries half its pixel size, its display size."""
    out = []
    for key in ("width", "height"):
        value = meta.get(f"out-{key}") or meta.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            out.append(f"{key}={value:g}")
        elif isinstance(value, str) and re.fullmatch(r"[\w.%]+", value):
            out.append(f"{key}={value}")
    return out


def _columns(ncol: Any) -> int:
    """`layout-ncol` as a number of columns (1 when absent or not a number)."""
    try:
        return int(ncol)
    except (TypeError, ValueError):
        return 1


def _layout(blocks: list[str], ncol: Any) -> str:
    """Blocks in rows of `ncol` columns (Quarto's layout-ncol), as flex rows in HTML."""
    n = _columns(ncol)
    if n <= 1:
        return "\n\n".join(blocks)
    rows = []
    width = f"{100 / n:.1f}%"
    for i in range(0, len(blocks), n):
        cells = [f'::: {{.quarto-layout-cell style="flex-basis: {width};"}}\n\n{b}\n\n:::'
                 for b in blocks[i:i + n]]
        rows.append('::: {.quarto-layout-row style="display: flex;"}\n\n'
                    + "\n\n".join(cells) + "\n\n:::")
    return "::: {.quarto-layout-panel}\n\n" + "\n\n".join(rows) + "\n\n:::"


def _output_div(classes: str, body: str) -> str:
    return f"::: {{{' '.join('.' + c for c in classes.split())}}}\n\n{body}\n\n:::"


def _raw_block(fmt: str, text: str) -> str:
    """`text` as a raw block for `fmt`, its fence longer than any backtick run inside."""
    fence = "`" * max(3, _longest_run(text, "`") + 1)
    return f"{fence}{{={fmt}}}\n{text.strip(chr(10))}\n{fence}"


def _code_block(text: str) -> str:
    text = text.rstrip()
    fence = "`" * max(3, _longest_run(text, "`") + 1)
    return f"{fence}\n{text}\n{fence}"


def _longest_run(text: str, ch: str) -> int:
    runs = re.findall(f"{re.escape(ch)}+", text)
    return max((len(r) for r in runs), default=0)


def _without_options(lines: list[str]) -> list[str]:
    """Cell source without its leading `#|` option lines (Quarto shows the code only)."""
    i = 0
    while i < len(lines) and is_option_line(lines[i]):
        i += 1
    return lines[i:]


def _classes(value: Any) -> list[str]:
    if not value:
        return []
    items = value if isinstance(value, list) else str(value).split()
    return [str(c).lstrip(".") for c in items]


def _as_list(value: Any) -> list:
    if value is None or value is False:
        return []
    return list(value) if isinstance(value, list) else [value]


def _one_line(value: Any) -> str:
    return " ".join(str(value).split())


def _attr(name: str, value: str) -> str:
    return f'{name}="' + value.replace('"', "&quot;") + '"' if value else ""


def _html_text(text: str) -> str:
    import html

    return html.escape(text)


def _code_tools(doc: Document, md: str) -> str:
    """Quarto's `code-tools`: the chapter's source, folded, at the top of the page."""
    source = doc.files.get(doc.path, doc.text)
    fence = "`" * max(3, _longest_run(source, "`") + 1)
    tools = ('```{=html}\n<details class="code-tools"><summary>Source</summary>\n```\n\n'
             f"{fence} {{.markdown .code-tools-source}}\n{source.rstrip()}\n{fence}\n\n"
             "```{=html}\n</details>\n```\n\n")
    cut = front_matter_end(md)
    return md[:cut] + ("\n" if cut else "") + tools + md[cut:]
