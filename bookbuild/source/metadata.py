"""The document metadata Quarto would hand pandoc for one output format: `_quarto.yml`'s
top-level keys, then `format.<fmt>`'s, then the chapter's front matter."""

from __future__ import annotations

from typing import Any

# Keys that configure the project or the build, not the document.
NOT_METADATA = {"project", "book", "format", "bookbuild", "engine", "execute", "jupyter",
                "filters", "bibliography", "resources", "include-in-header",
                "include-before-body", "include-after-body", "header-includes", "website"}
# The active project profiles, as a list in the metadata (filters/conditional.lua's
# `when-profile` reads it; a page cached under one profile is not reused under another).
PROFILE_KEY = "quarto-profile"
# Quarto's format names that select the same writer as ours.
FORMAT_KEYS = {"html": ("html",), "pdf": ("pdf", "latex")}


def format_options(config: dict, fmt: str) -> dict[str, Any]:
    """The options under `format.<fmt>` (`html: default` and `pdf: {}` alike)."""
    formats = config.get("format") or {}
    merged: dict[str, Any] = {}
    for key in FORMAT_KEYS.get(fmt, (fmt,)):
        if isinstance(formats.get(key), dict):
            merged.update(formats[key])
    return merged


def bibliography(config: dict, fmt: str) -> list[str]:
    """`bibliography:` files of the project, then the format's (Quarto merges the two lists)."""
    found = [*(config.get("bibliography") or []), *(format_options(config, fmt).get("bibliography") or [])]
    return [str(b) for b in dict.fromkeys(found)]


def document_metadata(config: dict, fmt: str, front_matter: dict | None = None) -> dict[str, Any]:
    """Top-level keys, overridden by the format's, overridden by the chapter's."""
    meta = {k: v for k, v in config.items() if k not in NOT_METADATA}
    meta.update({k: v for k, v in format_options(config, fmt).items() if k not in NOT_METADATA})
    front = front_matter or {}
    meta.update({k: v for k, v in front.items() if k not in NOT_METADATA})
    # the chapter's format options over its top-level ones, wherever `format:` sits in it
    meta.update({k: v for k, v in format_options(front, fmt).items() if k not in NOT_METADATA})
    return meta
