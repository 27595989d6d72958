"""Parts and appendices as Quarto's books number them (quarto.org/docs/books/book-structure.html).

A part, given by a title or by a file, is a heading over its chapters, never a chapter itself:
chapters count on across parts. A reference to a whole chapter reads "Chapter 2", to an
appendix "Appendix A" (Quarto's crossref refs.lua), and an appendix's heading reads
"Appendix A — Title" in HTML (sections.lua).
"""

from __future__ import annotations

import html as entities
import re
import subprocess
from pathlib import Path

import pytest

from tests.quarto_helpers import pdf_text, render

CONFIG = """\
project:
  type: book
book:
  title: "Tides"
  chapters:
    - index.qmd
    - part: "Basics"
      chapters:
        - moon.qmd
    - part: oceans-part.qmd
      chapters:
        - basins.qmd
  appendices:
    - tables.qmd
format:
  html: default
  pdf: default
"""

FILES = {
    "index.qmd": ("# Welcome {.unnumbered}\n\nStart with @sec-moon, then @sec-basins and @sec-tables."
                  "\n\nOr read [the basins page](basins.qmd) or [on resonance](basins.qmd#sec-resonance).\n"),
    "moon.qmd": "# The Moon's pull {#sec-moon}\n\nTwo bulges a day.\n",
    "oceans-part.qmd": "# Oceans\n\nThis part follows the water.\n",
    "basins.qmd": ("# Basins {#sec-basins}\n\nBack to @sec-moon; see @sec-resonance.\n\n"
                   "## Resonance {#sec-resonance}\n\nSome basins ring.\n"),
    "tables.qmd": "# Tide tables {#sec-tables}\n\nAs @sec-basins showed.\n",
}


def make_book(root: Path, config: str = CONFIG) -> Path:
    root.mkdir(parents=True)
    (root / "_quarto.yml").write_text(config)
    for name, text in FILES.items():
        (root / name).write_text(text)
    return root


def html(root: Path, page: str) -> str:
    return (root / "_book" / page).read_text(encoding="utf-8")


def links(page: str) -> dict[str, str]:
    """href -> text of each cross-reference link."""
    return {m.group(1): m.group(2) for m in
            re.finditer(r'<a href="([^"]*)" class="quarto-xref xref">([^<]*)</a>', page)}


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    root = make_book(tmp_path_factory.mktemp("parts") / "tides")
    r = render(root, "--to", "html")
    assert r.returncode == 0, r.stderr
    return root


def test_parts_are_no_chapters_so_chapters_count_on_across_them(book: Path) -> None:
    assert '<span class="header-section-number">1</span> The Moon' in html(book, "moon.html")
    assert '<span class="header-section-number">2</span> Basins' in html(book, "basins.html")
    part = html(book, "oceans-part.html")
    assert re.search(r"<h1[^>]*>Oceans</h1>", part), "a part's page is not numbered"
    assert "header-section-number" not in part


def test_the_sidebar_shows_both_kinds_of_part_over_their_chapters(book: Path) -> None:
    sidebar = html(book, "moon.html").split('<nav class="sidebar"')[1].split("</nav>")[0]
    items = re.findall(r"<li[^>]*>.*?</li>", sidebar)
    texts = [entities.unescape(re.sub(r"<[^>]+>", "", i)).strip() for i in items]
    assert texts == ["Welcome", "Basics", "1 The Moon's pull", "Oceans", "2 Basins", "A Tide tables"]
    assert 'class="sidebar-part"' in items[1] and "<a " not in items[1]  # a title, not a page
    assert 'class="sidebar-part"' in items[3] and 'href="oceans-part.html"' in items[3]


def test_references_to_whole_chapters_and_appendices(book: Path) -> None:
    index = links(html(book, "index.html"))
    assert index["moon.html#sec-moon"] == "Chapter\u00a01"
    assert index["basins.html#sec-basins"] == "Chapter\u00a02"
    assert index["tables.html#sec-tables"] == "Appendix\u00a0A"
    basins = links(html(book, "basins.html"))
    assert basins["#sec-resonance"] == "Section\u00a02.1"  # a section stays a section
    assert links(html(book, "tables.html"))["basins.html#sec-basins"] == "Chapter\u00a02"


def test_an_appendix_heading_names_itself(book: Path) -> None:
    assert ('<h1>Appendix <span class="header-section-number">A</span> \u2014 Tide tables</h1>'
            in html(book, "tables.html"))


def test_the_prefixes_follow_the_crossref_options(tmp_path: Path) -> None:
    config = CONFIG + ("crossref:\n  ch-prefix: Kapitel\n  apx-prefix: Anhang\n"
                       "  appendix-title: Anhang\n  appendix-delim: ':'\n")
    root = make_book(tmp_path / "tides", config)
    r = render(root, "--to", "html")
    assert r.returncode == 0, r.stderr
    index = links(html(root, "index.html"))
    assert index["moon.html#sec-moon"] == "Kapitel\u00a01"
    assert index["tables.html#sec-tables"] == "Anhang\u00a0A"
    assert '<h1>Anhang <span class="header-section-number">A</span>: Tide tables</h1>' in html(
        root, "tables.html")


def test_the_pdf_opens_each_part_and_numbers_chapters_alike(tmp_path: Path) -> None:
    root = make_book(tmp_path / "tides")
    r = render(root, "--to", "pdf", timeout=600)
    assert r.returncode == 0, r.stderr
    text = pdf_text(root / "_book" / "book.pdf")
    body = text[text.index("Contents"):]
    body = body[body.index("Tide tables") + len("Tide tables"):]  # past the contents
    order = [body.index(s) for s in ("Basics", "1 The Moon", "Two bulges a day", "Oceans",
                                     "This part follows the water", "2 Basins", "A Tide tables")]
    assert order == sorted(order), body
    assert "Back to Chapter 1; see Section 2.1." in body
    assert "As Chapter 2 showed." in body
    assert "Start with Chapter 1, then Chapter 2 and Appendix A." in text
    # each part opens on a page of its own, as LaTeX's \part does (a chapter's text follows it)
    raw = subprocess.run(["pdftotext", str(root / "_book" / "book.pdf"), "-"],
                         capture_output=True, text=True, timeout=60).stdout
    pages = [" ".join(p.split()) for p in raw.split("\f")]
    assert any(re.fullmatch(r"Basics \d+", p) for p in pages), pages
    assert any(re.fullmatch(r"Oceans \d+", p) for p in pages), pages


def test_links_to_chapter_sources_reach_their_pages(book: Path) -> None:
    index = html(book, "index.html")
    assert '<a href="basins.html">the basins page</a>' in index
    assert '<a href="basins.html#sec-resonance">on resonance</a>' in index
