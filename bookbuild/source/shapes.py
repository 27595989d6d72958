"""Quarto's YAML in the shapes the rest of bookbuild reads, made in this one place.

Quarto's schema lets most keys take several shapes (`format: html`, `format: [html, pdf]`,
`format: {html: default}`; `bibliography: a.bib` or a list; `execute:` left empty). `normalize`
turns a `_quarto.yml` or a chapter's front matter into one shape per key, with Quarto's meaning,
so that a reader never meets a string where it expects a mapping.
"""

from __future__ import annotations

import datetime
from typing import Any

# The project's own mappings (never passed to pandoc): null, a scalar or an entry left empty
# means "not set".
OWN = ("project", "book", "bookbuild", "website")
# Keys whose value is one item or a list of them (`maybeArrayOf` in Quarto's schema).
LISTS = ("bibliography", "css", "filters", "resources", "include-in-header",
         "include-before-body", "include-after-body", "header-includes")
# Options that are mappings, at the top level or a format's (`format: {html: {execute: ...}}`).
OPTION_MAPPINGS = ("execute",)
# `date:` values Quarto replaces with the day of the render.
TODAY = ("today", "now", "last-modified")


def normalize(data: object) -> dict[str, Any]:
    """A copy of `data` (a parsed `_quarto.yml` or front matter) with each key in one shape."""
    data = plain(data)
    if not isinstance(data, dict):
        return {}
    out = _options(data)
    if "format" in data:
        out["format"] = formats(data["format"])
    for key in OWN:
        if key in out:
            out[key] = {k: v for k, v in _mapping(out[key]).items() if v is not None}
    project, book = out.get("project", {}), out.get("book", {})
    if "resources" in project:
        out["project"] = {**project, "resources": as_list(project["resources"])}
    if "date" in book:
        out["book"] = {**book, "date": _date(book["date"])}
    return out


def _options(data: dict) -> dict[str, Any]:
    """Document options (top level, a format's, the front matter's) with list keys as lists."""
    out = dict(data)
    for key in LISTS:
        if key in out:
            out[key] = as_list(out[key])
    for key in OPTION_MAPPINGS:
        if key in out:
            out[key] = _mapping(out[key])
    if "date" in out:
        out["date"] = _date(out["date"])
    return out


def formats(value: object) -> dict[str, dict[str, Any]]:
    """`format:` as {name: options}: a name, a list of names, or names mapped to options,
    `default`, `true` or nothing (all three: the format's defaults)."""
    if isinstance(value, str):
        return {value: {}} if value else {}
    if isinstance(value, list):
        return {str(v): {} for v in value if isinstance(v, str | int | float) and str(v)}
    if isinstance(value, dict):
        return {str(k): _options(v) if isinstance(v, dict) else {} for k, v in value.items()}
    return {}


def as_list(value: object) -> list[Any]:
    """One item or a list of them, as a list (null: empty)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def plain(value: object) -> object:
    """YAML's dates as ISO text and every key as text, so the metadata goes to JSON (and to a
    cache key sorted by key) as pandoc would read it."""
    if isinstance(value, dict):
        return {str(k).lower() if isinstance(k, bool) else str(k): plain(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _mapping(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _date(value: object) -> object:
    """`today`/`now`/`last-modified` as the day of the render, as Quarto writes it."""
    if isinstance(value, str) and value.strip().lower() in TODAY:
        return datetime.date.today().isoformat()
    return value


def without_nulls(markdown: str, end: int, metadata: dict[str, Any] | None = None) -> str:
    """`markdown` whose front matter (its first `end` characters) keeps no key left empty:
    pandoc would read `bibliography:` as a file named "" where Quarto reads nothing. With
    `metadata` (keys a folder's `_metadata.yml` or the document's `metadata-files` set), those
    keys are written into it, so pandoc sees them."""
    import yaml

    head = markdown[:end]
    try:
        data = yaml.safe_load(head.strip().strip("-.").strip() or "{}")
    except yaml.YAMLError:
        return markdown  # the parser has reported it, located
    if not isinstance(data, dict):
        return markdown
    extra = dict(metadata or {})
    if all(v is not None for v in data.values()) and not extra:
        return markdown
    kept = {k: v for k, v in data.items() if v is not None} | extra
    dumped = yaml.safe_dump(kept, sort_keys=False, allow_unicode=True) if kept else ""
    return f"---\n{dumped}---\n" + ("\n" if not end else "") + markdown[end:]


def author_names(value: object) -> object:
    """`author:` as pandoc's templates print it: names, from Quarto's author mappings
    (`{name: Ann, affiliation: ...}`, `name: {given:, family:}` or `{literal:}`)."""
    if isinstance(value, list):
        return [author_names(v) for v in value]
    if not isinstance(value, dict):
        return value
    name = value.get("name", value)
    if isinstance(name, dict):
        name = name.get("literal") or " ".join(
            str(name[k]) for k in ("given", "dropping-particle", "non-dropping-particle", "family")
            if name.get(k))
    return str(name) if name else ""
