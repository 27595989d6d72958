"""Quarto's HTML site options: those bookbuild honours (`css`, `favicon`, `page-footer`, `lang`)
and those it does not do yet, each named once in a `note:` line rather than silently dropped.

Other keys Quarto documents reach pandoc as metadata, as Quarto passes them.
"""

from __future__ import annotations

import html
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bookbuild.publish.resources import line_of
from bookbuild.source.metadata import format_options

# Document options Quarto's HTML format implements itself (quarto-cli schema document-*.yml):
# pandoc would ignore them, and so does bookbuild, saying so.
UNSUPPORTED_OPTIONS = (
    "theme", "code-link", "code-annotations",
    "syntax-highlighting", "toc-location", "toc-expand", "smooth-scroll", "anchor-sections",
    "citations-hover", "footnotes-hover", "crossrefs-hover", "link-external-icon",
    "link-external-newwindow", "link-external-filter", "page-layout", "title-block-banner",
    "title-block-style", "grid", "max-width", "comments", "lightbox", "respect-user-color-scheme",
    "embed-resources", "self-contained", "html-math-method", "mermaid", "brand",
)
# What bookbuild reads under `book:` and `website:`; every other key there is a site option it
# does not do yet (sharing, ...).
SITE_KEYS = {"title", "subtitle", "author", "date", "chapters", "appendices", "output-file", "search",
             "favicon", "page-footer", "abstract", "description", "downloads", "repo-url",
             "repo-actions", "repo-branch", "repo-subdir", "issue-url",
             # a website's navigation (bookbuild.publish.site_nav)
             "navbar", "sidebar", "site-url", "page-navigation"}
SITE = ("book", "website")
# What bookbuild draws of a website's navbar and sidebar(s); other keys there get a note.
NAV_KEYS = {"navbar": {"title", "left", "right"}, "sidebar": {"id", "title", "contents"}}
# Formats bookbuild writes (under Quarto's names for them); `docx`, `revealjs`... it does not.
WRITTEN = {"html", "pdf", "epub", "latex", "md", "markdown", "gfm", "commonmark"}


@dataclass
class Site:
    """What every page of the book shows from `_quarto.yml`."""

    favicon: str = ""  # relative to the output root
    footer: str = ""  # HTML
    lang: str = "en"
    stylesheets: list[str] = field(default_factory=list)  # relative to the output root


def _site_value(config: dict, key: str) -> Any:
    """`book.<key>`, else `website.<key>` (a book takes website options too)."""
    for holder in SITE:
        value = (config.get(holder) or {}).get(key)
        if value is not None:
            return value
    return None


def stylesheets(holder: dict) -> list[str]:
    """`css:` of one YAML mapping, top level then `format.html` (each one file or a list)."""
    found = [*(holder.get("css") or []), *(format_options(holder, "html").get("css") or [])]
    return [str(c) for c in dict.fromkeys(found) if isinstance(c, str) and c]


def copy_beside(files: list[str], base: Path, target_dir: Path, stage: Path) -> tuple[list[str], list[str]]:
    """Copy each file (relative to `base`) to the same relative place under `target_dir`, or to
    the output root when that would leave the output; return (hrefs relative to `target_dir`,
    files not found)."""
    hrefs, missing = [], []
    for name in files:
        if "://" in name or name.startswith("/"):
            hrefs.append(name)  # a URL or a site-absolute path: linked as written
            continue
        origin = base / name
        if not origin.is_file():
            missing.append(name)
            continue
        target = (target_dir / name).resolve()
        if not target.is_relative_to(stage.resolve()):
            target = stage.resolve() / origin.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(origin, target)
        hrefs.append(Path(os.path.relpath(target, target_dir.resolve())).as_posix())
    return hrefs, missing


def site(config: dict, lang: object, root: Path, stage: Path) -> tuple[Site, list[str]]:
    """The book-wide page settings, with their files copied into `stage`; also the names of
    the files that were not found."""
    css, missing = copy_beside(stylesheets(config), root, stage, stage)
    icon = _site_value(config, "favicon")
    icons, lost = copy_beside([str(icon)] if icon else [], root, stage, stage)
    return Site(favicon=icons[0] if icons else "", footer=footer_html(_site_value(config, "page-footer")),
                lang=str(lang or "en"), stylesheets=css), missing + lost


def _inline(text: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").renderInline(text)


def _items(value: object) -> str:
    """A footer part: markdown text, or a list of texts and `{text, href}` navigation items."""
    if isinstance(value, list):
        return " ".join(_items(v) for v in value)
    if isinstance(value, dict):
        href = value.get("href") or value.get("url") or value.get("file") or ""
        text = value.get("text") or value.get("aria-label") or value.get("icon") or href
        return f'<a href="{html.escape(str(href))}">{html.escape(str(text))}</a>'
    return _inline(str(value)) if value is not None else ""


def footer_html(value: object) -> str:
    """`page-footer`: one text, or `left`/`center`/`right` parts (Quarto's three columns)."""
    if value is None or value == "":
        return ""
    if not isinstance(value, dict):
        return f'<div class="footer-center">{_items(value)}</div>'
    return "".join(f'<div class="footer-{side}">{_items(value[side])}</div>'
                   for side in ("left", "center", "right") if side in value)


def unsupported(holders: list[tuple[str, str, dict]]) -> list[str]:
    """One `note:` line per option Quarto has and bookbuild ignores, at its first place.
    `holders`: (shown path, its text, its parsed YAML) for `_quarto.yml` then each chapter."""
    seen: dict[str, str] = {}
    for shown, text, data in holders:
        for key in _ignored_keys(data):
            if key not in seen:
                name = key.partition("format: ")[2]
                what = f"the format '{name}'" if name else f"'{key}'"
                parent, _, child = key.rpartition(".")  # `navbar.logo`: the logo under navbar
                needle = (name or child.partition(":")[0]) + ":"
                start = text.find(parent + ":") if parent else 0
                line = line_of(text[max(start, 0):], needle) + text.count("\n", 0, max(start, 0))
                seen[key] = (f"note: {shown}:{line}: {what} is "
                             "not supported by bookbuild yet; ignored")
    return list(seen.values())


def _ignored_keys(data: dict) -> list[str]:
    found = [f"format: {name}" for name in (data.get("format") or {})
             if name.partition("+")[0] not in WRITTEN]
    found += [k for k in UNSUPPORTED_OPTIONS if k in data and not _light_dark(data, k)]
    if data.get("crossref") is False:  # Quarto's switch that leaves references to pandoc
        found.append("crossref: false")
    html = format_options(data, "html")
    found += [k for k in UNSUPPORTED_OPTIONS if k in html and not _light_dark(html, k)]
    for holder in SITE:
        found += [k for k in (data.get(holder) or {}) if k not in SITE_KEYS]
    site = data.get("website") or {}
    for part, known in NAV_KEYS.items():
        value = site.get(part) if isinstance(site, dict) else None
        for holder in value if isinstance(value, list) else [value]:
            if isinstance(holder, dict):
                found += [f"{part}.{k}" for k in holder if k not in known]
    return list(dict.fromkeys(found))


def _light_dark(holder: dict, key: str) -> bool:
    """`theme: {light: …, dark: …}`: bookbuild's own light and dark schemes, with a toggle."""
    return key == "theme" and isinstance(holder.get(key), dict) and "dark" in holder[key]


def has_dark_theme(config: dict) -> bool:
    """Whether the book's HTML theme names a dark scheme (top level or `format.html`)."""
    return _light_dark(config, "theme") or _light_dark(format_options(config, "html"), "theme")
