"""A website page's navigation: navbar, sidebar, previous/next and footer, with every href
relative to the page and the page's own entries marked active (Quarto's website-navigation)."""

from __future__ import annotations

import html
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from bookbuild.source import website
from bookbuild.source.website import Link, Website

_EXTERNAL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//|#)")  # a URL, mailto:, a fragment


@dataclass
class NavItem:
    """One entry as the templates draw it."""

    text: str  # HTML (the author's markdown, rendered inline)
    href: str = ""
    icon: str = ""
    aria_label: str = ""
    active: bool = False
    external: bool = False
    section: bool = False
    id: str = ""
    menu: list[NavItem] = field(default_factory=list)
    contents: list[NavItem] = field(default_factory=list)


def output_of(source: str) -> str:
    """The page a source becomes, below the output root (`posts/a.qmd` -> `posts/a.html`)."""
    return PurePosixPath(source).with_suffix(".html").as_posix()


class _Page:
    """Resolves the links of the site for one page (`source`, below the project root)."""

    def __init__(self, site: Website, root: Path, source: str) -> None:
        self.site, self.root, self.source = site, root, source
        self.here = PurePosixPath(output_of(source)).parent.as_posix()
        self.sections = 0
        self.missing: list[str] = []  # entries naming a page the site does not have

    def href(self, target: str) -> str:
        """`target` as written in `_quarto.yml`, relative to this page; a page's source
        becomes its `.html`; URLs stay as written."""
        if not target or _EXTERNAL.match(target):
            return target
        cut = len(re.match(r"[^#?]*", target).group(0))
        path, rest = target[:cut].lstrip("/").removeprefix("./"), target[cut:]
        if path.endswith(website.PAGE_SUFFIXES):
            path = output_of(path)
        return quote(posixpath.relpath(path or ".", self.here or ".")) + rest

    def item(self, link: Link) -> NavItem:
        page = link.target.lstrip("/").removeprefix("./")
        is_page = page in self.site.pages
        if not is_page and page.endswith(website.PAGE_SUFFIXES) and not _EXTERNAL.match(page):
            self.missing.append(link.target)
        text = link.text or (website.page_title(self.root, page) if is_page else "")
        if not text and not link.icon and link.target:
            text = link.target
        section_id = ""
        if link.section:
            self.sections += 1
            section_id = f"quarto-sidebar-section-{self.sections}"
        return NavItem(text=_inline(text) if text else "", href=self.href(link.target),
                       icon=_icon(link.icon), aria_label=link.aria_label or link.icon,
                       active=is_page and page == self.source,
                       external=bool(link.target) and bool(_EXTERNAL.match(link.target)),
                       section=link.section, id=section_id,
                       menu=[self.item(m) for m in link.menu],
                       contents=[self.item(c) for c in link.contents])


def page_nav(site: Website, root: Path, source: str, front: dict) -> dict:
    """Everything the website templates draw around the page `source` (below `root`)."""
    page = _Page(site, root, source)
    out: dict = {"title": _inline(site.title) if site.title else "",
                 "home": page.href("index.html"), "navbar": None, "sidebar": None,
                 "prev": None, "next": None, "footer": _footer(site.footer, page),
                 "canonical": (site.site_url.rstrip("/") + "/" + output_of(source)
                               if site.site_url else "")}
    if site.navbar is not None:
        left, right = site.navbar
        out["navbar"] = {"left": [page.item(i) for i in left],
                         "right": [page.item(i) for i in right]}
    chosen = website.sidebar_for(site, source, front or {})
    if chosen is not None:
        items = [page.item(i) for i in chosen.contents]
        title = chosen.title or site.title
        out["sidebar"] = {"title": _inline(title) if title else "", "entries": items}
        if site.page_navigation:
            out["prev"], out["next"] = _neighbours(items)
    out["missing"] = list(dict.fromkeys(page.missing))
    return out


def _neighbours(items: list[NavItem]) -> tuple[NavItem | None, NavItem | None]:
    """The pages before and after the active one in the sidebar's order (links to pages of
    the site only, each once), as Quarto's page navigation."""
    flat: list[NavItem] = []

    def walk(entries: list[NavItem]) -> None:
        for e in entries:
            if e.href and not e.external and e.href not in {f.href for f in flat}:
                flat.append(e)
            walk(e.contents)

    walk(items)
    at = next((i for i, e in enumerate(flat) if e.active), None)
    if at is None:
        return None, None
    return (flat[at - 1] if at > 0 else None), (flat[at + 1] if at + 1 < len(flat) else None)


def _footer(value: object, page: _Page) -> dict | None:
    """`page-footer`: one text (centred), or `left`/`center`/`right`, each text or items."""
    if value is None or value == "":
        return None
    sides = value if isinstance(value, dict) else {"center": value}
    out = {}
    for side in ("left", "center", "right"):
        part = sides.get(side)
        if isinstance(part, list):
            out[side] = {"entries": [page.item(website.Link(
                text=str(p.get("text") or ""), target=str(p.get("href") or p.get("file") or ""),
                icon=str(p.get("icon") or ""), aria_label=str(p.get("aria-label") or ""))
                if isinstance(p, dict) else website.Link(target=str(p))) for p in part]}
        elif part is not None:
            out[side] = {"text": _inline(str(part))}
    return out


def _icon(name: str) -> str:
    """A Bootstrap icon's class (`github` -> `bi-github`), as Quarto names it."""
    return "" if not name else (name if name.startswith("bi-") else f"bi-{name}")


def _inline(text: str) -> str:
    """The author's markdown (a title, a link text) as inline HTML."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").renderInline(text) if text else html.escape(text)


def sitemap(site: Website, root: Path) -> str:
    """`sitemap.xml` of a site with a `site-url`: each page's address and its source's last
    change (Quarto writes one beside the pages)."""
    import datetime

    base = site.site_url.rstrip("/")
    urls = []
    for source in site.pages:
        try:
            stamp = (root / source).stat().st_mtime
        except OSError:
            continue
        when = datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc)
        urls.append(f"  <url>\n    <loc>{html.escape(base + '/' + output_of(source))}</loc>\n"
                    f"    <lastmod>{when.strftime('%Y-%m-%dT%H:%M:%S.000Z')}</lastmod>\n  </url>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + "\n".join(urls) + "\n</urlset>\n")
