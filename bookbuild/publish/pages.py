"""HTML pages from pandoc fragments: the jinja2 page shell with navigation and contents."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from bookbuild import __version__
from bookbuild.publish.siteopts import Site
from bookbuild.system.shipped import TEMPLATES


@dataclass
class NavEntry:
    href: str  # relative to the output root, posix
    title: str
    number: str = ""
    part_before: str = ""  # the title of a part (given by title alone) that opens here
    is_part: bool = False  # a part's own title page (`part: file.qmd`)


@dataclass
class Book:
    title: str
    subtitle: str = ""
    chapters: list[NavEntry] = field(default_factory=list)


@lru_cache(maxsize=1)
def _environment():
    """One per process: jinja2 keeps compiled templates and reloads one whose file changed."""
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                              autoescape=jinja2.select_autoescape(["html", "j2"]),
                              keep_trailing_newline=True)


def plain_title(markdown_title: str) -> str:
    """A heading's markdown reduced to text for <title> and navigation."""
    text = re.sub(r"[*_`]", "", markdown_title)
    return re.sub(r"\s+", " ", text).strip()


class PageWriter:
    """Writes one page per chapter, the index when the book has no index chapter, and the CSS."""

    def __init__(self, book: Book, lang: str = "en", extra_body: str = "",
                 code_copy: str = "false", site: Site | None = None, title_block: str | None = None,
                 assets: str = "assets", nav: dict | None = None, page_title: str = "",
                 search: bool = False, downloads: list = (), dark: bool = False) -> None:
        self.book = book
        # a website's page: its navbar, sidebar, previous/next and footer (publish.site_nav)
        self.nav = nav
        self.page_title = page_title
        self.dark = dark  # a dark scheme besides the light one, and Quarto's toggle
        self.downloads = list(downloads)  # publish/downloads.Link of the formats this run writes
        self.search = search  # the sidebar's search box (publish/search.py writes the index)
        # a document's page: its title block instead of the book's sidebar and previous/next
        self.title_block = title_block
        self.assets = assets  # the stylesheet's folder, relative to the output root
        self.site = site or Site(lang=lang)
        self.lang = self.site.lang
        self.extra_body = extra_body  # preview injects its reload script here, render never
        self.code_copy = code_copy  # Quarto's code-copy: hover, true or false
        self.template = _environment().get_template("page.html.j2")

    def write(self, out: Path, href: str, body: str, toc: str, head: str = "",
              before_body: str = "", after_body: str = "", stylesheets: list[str] = (),
              actions: list = ()) -> None:
        """One page; `head`, `before_body`, `after_body` are the author's includes, verbatim;
        `stylesheets` the page's own `css:` (relative to the page) after the book's; `actions`
        its repository links (publish/downloads.Link)."""
        from markupsafe import Markup

        from bookbuild.publish import codecopy

        body, buttons = codecopy.with_buttons(body, self.code_copy)
        hrefs = [c.href for c in self.book.chapters]
        i = hrefs.index(href) if href in hrefs else -1
        entry = self.book.chapters[i] if i >= 0 else NavEntry(href, self.book.title)
        depth = href.count("/")
        root = "../" * depth
        page = {
            "stylesheets": [root + c for c in self.site.stylesheets] + list(stylesheets),
            "favicon": root + self.site.favicon if self.site.favicon else "",
            "href": href,
            "title_text": self.page_title or entry.title,
            "body": Markup(body),
            "toc": Markup(toc),
            "prev": self.book.chapters[i - 1] if i > 0 else None,
            "next": self.book.chapters[i + 1] if 0 <= i < len(hrefs) - 1 else None,
            "document": self.title_block is not None,
            "title_block": Markup(self.title_block or ""),
            "book_css": f"{root}{self.assets}/book.css",
            "search": self.search and self.title_block is None,
            "downloads": self.downloads if self.title_block is None else [],
            "actions": list(actions),
            "dark": self.dark,
        }
        text = self.template.render(book=self.book, page=page, root=root, lang=self.lang,
                                    footer=Markup(self.site.footer),
                                    version=__version__, extra_body=Markup(self.extra_body),
                                    head=Markup(head), before_body=Markup(before_body),
                                    after_body=Markup(after_body),
                                    code_copy=Markup(codecopy.SCRIPT if buttons else ""),
                                    nav=self.nav)
        target = out / href
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def write_index(self, out: Path) -> None:
        """A landing page listing the chapters, for books without an index.qmd."""
        items = "\n".join(
            f'<li><a href="{html.escape(c.href)}">'
            + (f'<span class="chapter-number">{html.escape(c.number)}</span> ' if c.number else "")
            + f"{html.escape(c.title)}</a></li>" for c in self.book.chapters)
        body = f"<h1>{html.escape(self.book.title)}</h1>\n<ol class=\"book-contents\">\n{items}\n</ol>"
        self.write(out, "index.html", body, "")

    def write_assets(self, out: Path, code_css: str = "") -> None:
        """The stylesheet, with `code_css` (the highlight style's token colours) after ours."""
        (out / self.assets).mkdir(parents=True, exist_ok=True)
        css = (TEMPLATES / "book.css").read_text(encoding="utf-8")
        if self.nav is not None:  # a website's navbar, sidebar and footer
            css += "\n" + (TEMPLATES / "website.css").read_text(encoding="utf-8")
        (out / self.assets / "book.css").write_text(css + ("\n" + code_css if code_css else ""),
                                                 encoding="utf-8")



def title_block(front: dict, config: dict) -> str:
    """Quarto's title block of a document: title, subtitle, then its author(s) and date."""
    from bookbuild.source.shapes import author_names

    def text(value: object) -> str:
        return html.escape(plain_title(str(value)))

    title = front.get("title") or config.get("title")
    if not title:
        return ""
    parts = ['<header id="title-block-header" class="quarto-title-block default">',
             f'<div class="quarto-title">\n<h1 class="title">{text(title)}</h1>']
    if front.get("subtitle"):
        parts.append(f'<p class="subtitle lead">{text(front["subtitle"])}</p>')
    parts.append("</div>")
    meta = []
    authors = author_names(front["author"]) if front.get("author") else []
    if authors:
        names = "".join(f"<p>{text(a)}</p>" for a in
                        (authors if isinstance(authors, list) else [authors]))
        heading = "Authors" if isinstance(authors, list) and len(authors) > 1 else "Author"
        meta.append(_meta_item(heading, names))
    if front.get("date"):
        meta.append(_meta_item("Published", f'<p class="date">{text(front["date"])}</p>'))
    if meta:
        parts.append('<div class="quarto-title-meta">\n' + "\n".join(meta) + "\n</div>")
    parts.append("</header>")
    return "\n".join(parts)


def _meta_item(heading: str, contents: str) -> str:
    return (f'<div>\n<div class="quarto-title-meta-heading">{heading}</div>\n'
            f'<div class="quarto-title-meta-contents">\n{contents}\n</div>\n</div>')
