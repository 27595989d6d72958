"""Execution and display options resolved the way Quarto resolves them.

Layers, later overriding earlier: `_quarto.yml` (top level, `execute:`, `format: <fmt>:`), then
the chapter's front matter (the same three places), then the cell's `#|` options. Anything not
set anywhere takes Quarto's default for the output format.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from bookbuild.shapes import normalize

# Options a cell reads, with Quarto's defaults (the same for every format).
DEFAULTS: dict[str, Any] = {
    "eval": True,
    "echo": True,
    "output": True,
    "include": True,
    "error": False,
    "warning": True,
    "message": True,
    "code-fold": False,
    "code-summary": "Code",
    "code-overflow": "scroll",
    "code-line-numbers": False,
    "code-tools": False,
}

# Document-level figure defaults per output format, Quarto's: retina PNG (twice the dpi, shown
# at half the pixel size) for pages, PNG for markdown, PDF for print. With the Jupyter engine
# these are not read from cells. A book that wants SVG sets `fig-format: svg`.
FIGURE_DEFAULTS: dict[str, dict[str, Any]] = {
    "html": {"fig-width": 7, "fig-height": 5, "fig-dpi": 96, "fig-format": "retina"},
    "md": {"fig-width": 7, "fig-height": 5, "fig-dpi": 96, "fig-format": "png"},
    "pdf": {"fig-width": 5.5, "fig-height": 3.5, "fig-dpi": 300, "fig-format": "pdf"},
}
FIGURE_KEYS = ("fig-width", "fig-height", "fig-dpi", "fig-format")

# Keys that may sit at the top level of a document or project (not only under `execute:`).
_KNOWN = set(DEFAULTS) | set(FIGURE_KEYS) | {"fig-align", "fig-cap-location", "tbl-cap-location"}

# Names of a format under `format:` for each output we write.
FORMAT_NAMES = {"html": ("html",), "pdf": ("pdf", "latex"), "md": ("md", "markdown", "gfm",
                                                                 "commonmark")}


def _format_block(config: dict, fmt: str) -> dict:
    formats = config.get("format")
    if not isinstance(formats, dict):
        return {}
    for name in FORMAT_NAMES.get(fmt, (fmt,)):
        block = formats.get(name)
        if isinstance(block, dict):
            return block
    return {}


def _layer(config: dict, fmt: str) -> dict[str, Any]:
    """The options one YAML mapping (`_quarto.yml` or front matter) sets for `fmt`."""
    if not isinstance(config, dict):
        return {}
    out = {k: v for k, v in config.items() if k in _KNOWN}
    execute = config.get("execute")
    if isinstance(execute, dict):
        out.update(execute)
    block = _format_block(config, fmt)
    out.update({k: v for k, v in block.items() if k in _KNOWN})
    if isinstance(block.get("execute"), dict):
        out.update(block["execute"])
    return out


def document_options(project: dict | None, front: dict | None, fmt: str) -> dict[str, Any]:
    """Defaults, then `_quarto.yml`, then the front matter, for output format `fmt`."""
    out = dict(DEFAULTS)
    out.update(FIGURE_DEFAULTS.get(fmt, FIGURE_DEFAULTS["html"]))
    out.update(_layer(project or {}, fmt))
    out.update(_layer(front or {}, fmt))
    return out


def cell_options(document: dict[str, Any], cell: dict[str, Any]) -> dict[str, Any]:
    """A cell's options over its document's; figure size and dpi stay the document's."""
    out = dict(document)
    out.update({k: v for k, v in cell.items() if k not in FIGURE_KEYS})
    return out


def truthy(value: Any) -> bool:
    """YAML already gives booleans; a quoted "false" or "no" means false too."""
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "no", "off", "0", "")
    return bool(value)


def evaluated(doc, project_root=None, fmt: str = "html") -> list[bool]:
    """Per cell of `doc`, whether it runs (`eval`), for a caller without the parsed project."""
    config = _project_config(project_root) if project_root is not None else {}
    document = document_options(config, doc.front_matter, fmt)
    return [truthy(cell_options(document, c.options)["eval"]) for c in doc.cells]


def _project_config(root) -> dict:
    from pathlib import Path

    path = Path(root) / "_quarto.yml"
    try:
        return _read_yaml(str(path), path.stat().st_mtime_ns)
    except OSError:
        return {}


@lru_cache(maxsize=8)
def _read_yaml(path: str, _mtime: int) -> dict:
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}  # the project loader reports a broken _quarto.yml, located
    return normalize(data)
