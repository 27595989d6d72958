"""A `project: type: website`: its pages, and its `website:` navigation read into records.

Links keep what the author wrote, a page as its source path below the root (`posts/a.qmd`);
the publish stage turns them into hrefs relative to each page (bookbuild.publish.site_nav).
"""

from __future__ import annotations

import fnmatch
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

PAGE_SUFFIXES = (".qmd", ".md")
OUTPUT_DIR = "_site"  # Quarto's default output folder for a website
# Files Quarto never renders in a project, besides those whose name or folder starts with _ or .
_NOT_PAGES = ("README.md", "README.qmd", "README.rmd", "README.Rmd", "CLAUDE.md",
              "CLAUDE.local.md", "AGENTS.md", "AGENTS.local.md")


_ITEMS = {"type": "array", "items": {"type": ["string", "object"]}}
_SIDEBAR = {"type": "object", "properties": {"id": {"type": "string"}, "title": {"type": "string"},
                                             "contents": {"type": ["string", "array", "object"]}}}
SCHEMA = {"type": ["object", "null"], "properties": {  # the keys read here (Quarto's shapes)
    "title": {"type": "string"}, "site-url": {"type": "string"},
    "page-navigation": {"type": "boolean"},
    "navbar": {"oneOf": [{"type": "boolean"}, {"type": "object", "properties": {
        "title": {"type": ["string", "boolean"]}, "left": _ITEMS, "right": _ITEMS}}]},
    "sidebar": {"oneOf": [{"type": "boolean"}, _SIDEBAR, {"type": "array", "items": _SIDEBAR}]},
    "page-footer": {"type": ["string", "object"]},
}}


@dataclass(frozen=True)
class Link:
    """A navigation entry: a page (`target` is its source below the root), a URL, a section
    of `contents`, a `menu`, or text alone."""

    text: str = ""  # empty: the page's title
    target: str = ""  # a page source ("posts/a.qmd"), or any other href as written
    icon: str = ""
    aria_label: str = ""
    menu: tuple[Link, ...] = ()
    contents: tuple[Link, ...] = ()
    section: bool = False  # a sidebar section: its `contents` nest below it


@dataclass(frozen=True)
class Sidebar:
    id: str = ""
    title: str = ""
    contents: tuple[Link, ...] = ()


@dataclass(frozen=True)
class Website:
    """What every page shows from `website:` (Quarto's project-website schema)."""

    title: str = ""
    navbar: tuple[tuple[Link, ...], tuple[Link, ...]] | None = None  # (left, right)
    sidebars: tuple[Sidebar, ...] = ()
    footer: Any = None  # `page-footer` as written: text, or left/center/right
    site_url: str = ""
    page_navigation: bool = False
    pages: tuple[str, ...] = field(default=())  # every page source, below the root


def is_page(root: Path, path: Path) -> bool:
    """Whether Quarto renders `path` as a page of the site at `root` (by its name alone)."""
    parts = path.relative_to(root).parts
    return (path.suffix in PAGE_SUFFIXES and path.name not in _NOT_PAGES
            and not path.name.endswith(".llms.md")
            and not any(p.startswith(("_", ".")) for p in parts))


def pages(root: Path, config: dict) -> list[Path]:
    """The site's pages: `project.render` (files and globs, `!` excluding), else every `.qmd`
    and `.md` under the root that Quarto would render, sorted."""
    found = sorted(p for p in _files(root) if is_page(root, p))
    listed = (config.get("project") or {}).get("render")
    if not listed:
        return found
    chosen: dict[Path, None] = {}
    for entry in listed:
        entry = str(entry)
        negate = entry.startswith("!")
        pattern = entry.lstrip("!").removeprefix("./")
        matched = [p for p in found if _matches(p.relative_to(root).as_posix(), pattern)]
        if not matched and not negate and not _is_glob(pattern):
            matched = [root / pattern]  # named but missing: the check says so
        for p in matched:
            if negate:
                chosen.pop(p, None)
            else:
                chosen[p] = None
    return list(chosen)


def _files(root: Path) -> list[Path]:
    """Files under `root`, never descending into `_` or `.` folders (`.venv`, `_site`)."""
    import os

    out = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(("_", "."))]
        out += [Path(folder) / f for f in files if f.endswith(PAGE_SUFFIXES)]
    return out


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def _matches(rel: str, pattern: str) -> bool:
    """A page below the root against an entry of `project.render`: a file, a folder, a glob."""
    pattern = pattern.rstrip("/")
    return (rel == pattern or rel.startswith(pattern + "/")
            or fnmatch.fnmatchcase(rel, pattern) or fnmatch.fnmatchcase(rel, pattern.replace("**/", "")))


def read(root: Path, config: dict) -> Website:
    """The `website:` key of a parsed `_quarto.yml`, with the page list of the site."""
    site = config.get("website") or {}
    listed = tuple(p.relative_to(root).as_posix() for p in pages(root, config)
                   if p.is_relative_to(root))
    title = str(site.get("title") or config.get("title") or "")
    navbar = site.get("navbar")
    bar = None
    if navbar:
        nb = navbar if isinstance(navbar, dict) else {}
        bar = (tuple(_item(i) for i in nb.get("left") or []),
               tuple(_item(i) for i in nb.get("right") or []))
        if isinstance(nb.get("title"), str):
            title = title or nb["title"]
    return Website(title=title, navbar=bar, sidebars=_sidebars(site.get("sidebar"), listed),
                   footer=site.get("page-footer"), site_url=str(site.get("site-url") or ""),
                   page_navigation=bool(site.get("page-navigation")), pages=listed)


def _item(value: Any) -> Link:
    """A navbar or footer item: a path, or {href|file|url, text, icon, aria-label, menu}."""
    if not isinstance(value, dict):
        return Link(target=str(value))
    href = value.get("href") or value.get("file") or value.get("url") or ""
    return Link(text=str(value.get("text") or ""), target=str(href),
                icon=str(value.get("icon") or ""), aria_label=str(value.get("aria-label") or ""),
                menu=tuple(_item(m) for m in value.get("menu") or []))


def _sidebars(value: Any, listed: tuple[str, ...]) -> tuple[Sidebar, ...]:
    """`website.sidebar`: one mapping or a list of them (`true`: every page)."""
    if not value:
        return ()
    if value is True:
        return (Sidebar(contents=_contents("auto", listed)),)
    out = []
    for sb in value if isinstance(value, list) else [value]:
        if isinstance(sb, dict):
            out.append(Sidebar(id=str(sb.get("id") or ""), title=str(sb.get("title") or ""),
                               contents=_contents(sb.get("contents"), listed)))
    return tuple(out)


def _contents(value: Any, listed: tuple[str, ...]) -> tuple[Link, ...]:
    """Sidebar `contents`: paths (globs too), `href`/`text` items, `section:` with nested
    `contents:`, `auto` (true, a folder, globs) and the string `auto`."""
    if value is None:
        return ()
    if value == "auto" or (isinstance(value, dict) and "auto" in value and "section" not in value):
        return _auto(value.get("auto") if isinstance(value, dict) else True, listed)
    out: list[Link] = []
    for entry in value if isinstance(value, list) else [value]:
        if isinstance(entry, dict) and "section" in entry:
            section = entry.get("section")
            text = str(section or "")
            target = ""
            if text.endswith(PAGE_SUFFIXES) and text.removeprefix("./") in listed:
                text, target = "", text.removeprefix("./")  # the section's own page
            out.append(Link(text=text, target=target, section=True, icon=str(entry.get("icon") or ""),
                            contents=_contents(entry.get("contents"), listed)))
        elif isinstance(entry, dict) and "auto" in entry:
            out.extend(_auto(entry["auto"], listed))
        elif isinstance(entry, str) and _is_glob(entry):
            out.extend(Link(target=p) for p in listed if _matches(p, entry.removeprefix("./")))
        elif isinstance(entry, str) and entry == "auto":
            out.extend(_auto(True, listed))
        else:
            item = _item(entry)
            out.append(Link(text=item.text, target=item.target.removeprefix("./"), icon=item.icon,
                            aria_label=item.aria_label))
    return tuple(out)


def _auto(spec: Any, listed: tuple[str, ...]) -> tuple[Link, ...]:
    """Pages chosen by `auto`: every page (true), a folder's, or those matching globs; a
    folder below them becomes a section (titled by its index page when it has one)."""
    if spec is True:
        chosen = list(listed)
    else:
        patterns = [str(s).removeprefix("./") for s in (spec if isinstance(spec, list) else [spec])]
        chosen = [p for p in listed if any(_matches(p, pat) for pat in patterns)]
    prefix = _common_folder(chosen)
    return _tree(chosen, prefix)


def _common_folder(paths: list[str]) -> str:
    folders = [PurePosixPath(p).parent.parts for p in paths]
    common: list[str] = []
    for level in zip(*folders, strict=False) if folders else []:
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return "/".join(common)


def _tree(paths: list[str], folder: str) -> tuple[Link, ...]:
    """Pages directly in `folder` (its index first), then one section per subfolder."""
    here, below = [], {}
    for p in paths:
        rest = p[len(folder) + 1:] if folder else p
        head, _, tail = rest.partition("/")
        if tail:
            below.setdefault(head, []).append(p)
        else:
            here.append(p)
    here.sort(key=lambda p: (PurePosixPath(p).stem != "index", p))
    out = [Link(target=p) for p in here]
    for name in sorted(below):
        sub = f"{folder}/{name}" if folder else name
        index = next((p for p in below[name] if p in (f"{sub}/index.qmd", f"{sub}/index.md")), "")
        rest = [p for p in below[name] if p != index]
        out.append(Link(text="" if index else name, target=index, section=True,
                        contents=_tree(rest, sub)))
    return tuple(out)


@functools.lru_cache(maxsize=1024)
def _title_at(path: Path, stamp: int) -> str:
    """A page's title: its front matter's `title`, else its first `# ` heading, else ""."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    m = re.match(r"---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|$)", text, re.S)
    if m:
        try:
            front = yaml.safe_load(m.group(1))
        except yaml.YAMLError:
            front = None
        if isinstance(front, dict) and front.get("title"):
            return str(front["title"])
        text = text[m.end():]
    heading = re.search(r"^#[ \t]+(.+?)[ \t]*(?:\{[^}]*\})?[ \t]*$", text, re.M)
    return heading.group(1) if heading else ""


def page_title(root: Path, source: str) -> str:
    """The title of the page `source` (below `root`), or its file name's stem."""
    path = root / source
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return PurePosixPath(source).stem
    return _title_at(path, stamp) or PurePosixPath(source).stem


def sidebar_for(site: Website, source: str, front: dict) -> Sidebar | None:
    """The sidebar a page shows (Quarto's rule): the only one when it has no id; else the one
    its front matter's `sidebar:` names, else the first that lists it."""
    if len(site.sidebars) == 1 and not site.sidebars[0].id:
        return site.sidebars[0]
    named = front.get("sidebar")
    for sb in site.sidebars:
        if named and sb.id == named:
            return sb
    return next((sb for sb in site.sidebars if source in _targets(sb.contents)), None)


def _targets(links: tuple[Link, ...]) -> list[str]:
    out = []
    for link in links:
        if link.target:
            out.append(link.target)
        out += _targets(link.contents) + _targets(link.menu)
    return out
