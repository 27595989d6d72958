"""Substitute execution results into the chapter: inline values and cell outputs become markdown.

This is the last step that knows about cells; what it returns is plain pandoc markdown.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

from bookbuild.execute import ExecutionResult
from bookbuild.qmd import CodeCell, Document

IMAGE_TYPES = {"image/svg+xml": "svg", "image/png": "png", "image/jpeg": "jpg",
               "application/pdf": "pdf"}
FOR_PAGES = ("image/svg+xml", "image/png", "image/jpeg")
FOR_PRINT = ("application/pdf", "image/png", "image/jpeg")


def substitute(doc: Document, result: ExecutionResult, assets: Path, assets_link: str,
               echo: bool = False, images: tuple[str, ...] = FOR_PAGES,
               provenance: list[dict | None] | None = None) -> str:
    """The chapter as markdown; images from cell outputs are written into `assets`.

    `images` lists the image types to take from an output, most wanted first (vector SVG for
    pages, PDF for print).
    """
    edits: list[tuple[int, int, str]] = []
    for i, (ref, text) in enumerate(zip(doc.refs, result.inline, strict=True)):
        note = provenance[i] if provenance else None
        if note and _plain_text(text) and not _inside_math(doc.text, ref.start):
            text = _with_provenance(text, note)
        edits.append((ref.start, ref.end, text))
    for cell, outputs in zip(doc.cells, result.outputs, strict=True):
        edits.append((cell.start, cell.end, _cell_markdown(cell, outputs, assets, assets_link, echo,
                                                                images)))
    pieces, pos = [], 0
    for start, end, text in sorted(edits):
        pieces += [doc.text[pos:start], text]
        pos = end
    pieces.append(doc.text[pos:])
    return "".join(pieces)


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


def _option(cell: CodeCell, name: str, default: Any) -> Any:
    return cell.options.get(name, default)


def _cell_markdown(cell: CodeCell, outputs: list[dict], assets: Path, link: str,
                   echo_default: bool, images: tuple[str, ...]) -> str:
    if _option(cell, "include", True) is False:
        return ""
    parts = []
    if _option(cell, "echo", echo_default) is True:
        code = "".join(line for line in cell.source.splitlines(keepends=True)
                       if not line.lstrip().startswith("#|"))
        parts.append(f"```python\n{code.rstrip()}\n```")
    output = _option(cell, "output", True)
    if output is not False:
        figures = 0
        for out in outputs:
            md, figures = _output_markdown(cell, out, assets, link, figures, output == "asis",
                                           images)
            if md:
                parts.append(md)
        label, caption = cell.label or "", _option(cell, "tbl-cap", None)
        if label.startswith("tbl-") and caption:
            # A cell that prints a markdown table gets Quarto's table caption and label.
            parts.append(f": {caption} {{#{label}}}")
    return "\n\n".join(parts)


def _output_markdown(cell: CodeCell, out: dict, assets: Path, link: str, figures: int,
                     asis: bool, images: tuple[str, ...]) -> tuple[str, int]:
    kind = out.get("output_type")
    if kind == "stream":
        text = "".join(out.get("text", ""))
        return (text if asis else f"```\n{text.rstrip()}\n```"), figures
    if kind not in ("display_data", "execute_result"):
        return "", figures
    data = out.get("data", {})
    for mime in images:
        if mime in data:
            ext = IMAGE_TYPES[mime]
            figures += 1
            stem = cell.label or f"cell-{cell.index + 1}"
            name = f"{stem}-{figures}.{ext}"
            assets.mkdir(parents=True, exist_ok=True)
            payload = "".join(data[mime])
            raw = payload.encode() if mime == "image/svg+xml" else base64.b64decode(payload)
            (assets / name).write_bytes(raw)
            return _figure(cell, f"{link}/{name}", figures), figures
    if "text/markdown" in data:
        return "".join(data["text/markdown"]), figures
    if "text/plain" in data:
        text = "".join(data["text/plain"])
        return (text if asis else f"```\n{text.rstrip()}\n```"), figures
    return "", figures


def _figure(cell: CodeCell, src: str, n: int) -> str:
    caption = str(_option(cell, "fig-cap", "") or "")
    attrs = []
    label = cell.label
    if label and label.startswith("fig-") and n == 1:
        attrs.append(f"#{label}")
    alt = _option(cell, "fig-alt", None)
    if alt:
        attrs.append('fig-alt="' + str(alt).replace('"', "&quot;") + '"')
    suffix = "{" + " ".join(attrs) + "}" if attrs else ""
    return f"![{caption}]({src}){suffix}"
