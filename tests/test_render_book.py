"""`bookbuild render` of a small book to HTML and PDF: what a reader of the output sees."""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import FIXTURES, run_cli


class Page(HTMLParser):
    """Ids, links, images and visible text of one HTML page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []  # (href, text)
        self.images: list[dict] = []
        self.scripts: list[dict] = []
        self.stylesheets: list[str] = []
        self.text_parts: list[str] = []
        self._link: list | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and "href" in a:
            self._link = [a["href"], ""]
        if tag == "img":
            self.images.append(a)
        if tag == "script":
            self.scripts.append(a)
        if tag == "link" and a.get("rel") == "stylesheet":
            self.stylesheets.append(a["href"])

    def handle_endtag(self, tag):
        if tag == "a" and self._link is not None:
            self.links.append((self._link[0], self._link[1].replace("\xa0", " ").strip()))
            self._link = None

    def handle_data(self, data):
        self.text_parts.append(data)
        if self._link is not None:
            self._link[1] += data

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.text_parts).replace("\xa0", " "))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    root = tmp_path_factory.mktemp("book") / "book"
    shutil.copytree(FIXTURES / "book", root)
    r = run_cli("render", cwd=root)
    assert r.returncode == 0, r.stderr
    return root, r


def page(root: Path, rel: str) -> Page:
    return Page((root / "_book" / rel).read_text(encoding="utf-8"))


def test_one_page_per_chapter_plus_assets_and_pdf(rendered) -> None:
    root, _ = rendered
    out = root / "_book"
    for rel in ("index.html", "chapters/one.html", "chapters/two.html", "assets/book.css", "book.pdf"):
        assert (out / rel).is_file(), rel


def test_values_and_no_raw_source_syntax(rendered) -> None:
    root, _ = rendered
    for rel in ("index.html", "chapters/one.html", "chapters/two.html"):
        text = page(root, rel).text
        assert "{python}" not in text
        assert not re.search(r"@(tbl|fig|sec)-", text.replace("?@pri-unknown", "")), rel
    assert "The ridge point is 295 FLOP/byte" in page(root, "chapters/one.html").text


def test_navigation_sidebar_toc_and_prev_next(rendered) -> None:
    root, _ = rendered
    one = page(root, "chapters/one.html")
    for link in [("../index.html", "Welcome"), ("../chapters/one.html", "1 First Chapter"),
                 ("../chapters/two.html", "A Appendix Chapter"), ("../index.html", "← Welcome"),
                 ("../chapters/two.html", "A Appendix Chapter →")]:
        assert link in one.links
    assert ("#sec-one-numbers", "1.1 Numbers") in one.links  # the per-page table of contents
    assert one.stylesheets == ["../assets/book.css", "../pagefind/pagefind-ui.css"]


def test_cross_references_number_and_link_across_chapters(rendered) -> None:
    root, _ = rendered
    one = page(root, "chapters/one.html")
    assert ("#tbl-one", "Table 1.1") in one.links
    assert ("#fig-line", "Figure 1.2") in one.links
    assert ("two.html#tbl-two", "Table A.1") in one.links
    assert ("https://example.org/elsewhere", "the other book") in one.links
    two = page(root, "chapters/two.html")
    assert ("one.html#sec-one-numbers", "Section 1.1") in two.links
    assert ("one.html#fig-diagram", "Figure 1.1") in two.links
    index = page(root, "index.html")
    # a whole chapter is a "Chapter" (Quarto's refs.lua: ch-prefix for a chapter's heading)
    assert ("chapters/one.html#sec-one", "Chapter 1") in index.links
    assert "Table A.1: An appendix table." in two.text


def test_every_internal_link_has_a_target(rendered) -> None:
    root, _ = rendered
    out = root / "_book"
    pages = {p.relative_to(out).as_posix(): Page(p.read_text()) for p in out.rglob("*.html")}
    for rel, pg in pages.items():
        for href, text in pg.links:
            parts = urlsplit(href)
            if parts.scheme or href == "#ref-little1967missing":  # cited on purpose, not in refs.bib
                continue
            target = posixpath.normpath((Path(rel).parent / parts.path).as_posix()) if parts.path else rel
            assert target in pages, f"{rel}: link {href!r} ({text}) points at a missing page"
            if parts.fragment:
                assert parts.fragment in pages[target].ids, f"{rel}: {href!r} has no target id"


def test_unresolved_reference_is_warned_with_location_and_shown(rendered) -> None:
    root, r = rendered
    assert "chapters/one.qmd:14: warning: unresolved cross-reference 'pri-unknown'" in r.stderr
    assert "?@pri-unknown" in page(root, "chapters/one.html").text


def test_callouts_with_titles_and_nesting(rendered) -> None:
    root, _ = rendered
    html = (root / "_book" / "chapters" / "one.html").read_text()
    text = page(root, "chapters/one.html").text
    # Quarto's callouts: the title replaces the type's name, which stays in the classes
    assert "A tip here Tips are green." in text
    assert "Outer Outer body." in text and "Inner warning Nested box." in text
    outer = html.index('class="callout callout-style-default callout-takeaways callout-titled')
    inner = html.index('class="callout callout-style-default callout-warning callout-titled')
    assert outer < inner < html.index("Nested box.")


def test_figures_tikz_svg_and_matplotlib_with_captions_and_alt(rendered) -> None:
    root, _ = rendered
    one = page(root, "chapters/one.html")
    tikz = [i for i in one.images if "tikz" in i.get("class", "")]
    assert len(tikz) == 1 and tikz[0]["alt"] == "Two boxes joined by an arrow."
    svg = (root / "_book" / "chapters" / tikz[0]["src"]).read_text()
    assert "<svg" in svg and re.search(r'width=["\']\d', svg)
    assert "Figure 1.1: A diagram drawn in TikZ." in one.text
    plot = [i for i in one.images if i["src"].endswith("fig-line-1.png")]  # Quarto: retina PNG
    assert plot and plot[0]["alt"] == "A straight line rising to the right."
    assert "Figure 1.2: A line plotted by matplotlib." in one.text


def test_math_tables_footnotes_citations(rendered) -> None:
    root, r = rendered
    html = (root / "_book" / "chapters" / "one.html").read_text()
    assert "<math" in html and 'display="block"' in html and "$" not in page(root, "chapters/one.html").text
    assert re.search(r'<td style="text-align: right;">(<span class="num"[^>]*>)?295(</span>)?</td>', html)
    assert 'class="footnotes' in html or 'id="footnotes"' in html
    text = page(root, "chapters/one.html").text
    assert "Little 1961" in text and "References" in text and "A Proof for the Queuing Formula" in text
    assert "citation little1967missing not found" in r.stderr
    two = (root / "_book" / "chapters" / "two.html").read_text()
    assert '<td style="text-align: center;">b</td>' in two


def test_html_works_offline(rendered) -> None:
    root, _ = rendered
    for p in (root / "_book").rglob("*.html"):
        pg = Page(p.read_text())
        # nothing loaded from elsewhere: scripts (code-copy's, the search box's) are in the book
        for src in (s["src"] for s in pg.scripts if s.get("src")):
            assert not urlsplit(src).scheme and (p.parent / src).is_file(), (p, src)
        for href in pg.stylesheets:
            assert not urlsplit(href).scheme and (p.parent / href).is_file(), (p, href)
    css = (root / "_book" / "assets" / "book.css").read_text()
    assert "@import" not in css and "url(" not in css


def test_pdf_has_the_same_numbers_references_and_callouts(rendered) -> None:
    root, _ = rendered
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: apt-get install poppler-utils (make test installs it)")
    text = subprocess.run(["pdftotext", "-layout", str(root / "_book" / "book.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", " ", text)
    assert "The ridge point is 295 FLOP/byte" in flat
    for s in ("Table 1.1", "Table A.1", "Figure 1.1", "Section 1.1", "A tip here", "Inner warning",
              "Values of the first chapter", "A diagram drawn in TikZ", "Little"):
        assert s in flat, s
    assert "{python}" not in flat


def test_strict_turns_unresolved_references_into_an_error(rendered, tmp_path: Path) -> None:
    root = tmp_path / "book"
    shutil.copytree(rendered[0], root)
    before = (root / "_book" / "chapters" / "one.html").read_bytes()
    assert run_cli("numbers", "accept", cwd=root).returncode == 0  # --strict also needs a lock
    r = run_cli("render", "--to", "html", "--strict", cwd=root)
    assert r.returncode == 1
    assert "chapters/one.qmd:14: error: unresolved cross-reference 'pri-unknown'" in r.stderr
    assert (root / "_book" / "chapters" / "one.html").read_bytes() == before


def test_tikz_error_names_figure_and_line_and_keeps_output(rendered, tmp_path: Path) -> None:
    root = tmp_path / "book"
    shutil.copytree(rendered[0], root)
    chapter = root / "chapters" / "one.qmd"
    chapter.write_text(chapter.read_text().replace("\\draw[-{Latex}, GrayLine]", "\\drw[-{Latex}, GrayLine]"))
    before = (root / "_book" / "chapters" / "one.html").read_bytes()
    r = run_cli("render", "--to", "html", cwd=root)
    assert r.returncode == 1
    line = chapter.read_text().splitlines().index("\\drw[-{Latex}, GrayLine] (a) -- (b);") + 1
    assert f"chapters/one.qmd:{line}: LaTeX error in figure 'fig-diagram'" in r.stderr
    assert "Undefined control sequence" in r.stderr
    assert (root / "_book" / "chapters" / "one.html").read_bytes() == before


def test_missing_tex_is_a_clear_message(rendered, tmp_path: Path) -> None:
    root = tmp_path / "book"
    shutil.copytree(rendered[0], root)
    shutil.rmtree(root / ".bookbuild" / "tikz", ignore_errors=True)
    env = dict(os.environ, LATEX="/nonexistent/latex")
    r = subprocess.run([str(Path(sys.executable).with_name("bookbuild")), "render",
                        "--to", "html"], cwd=root, capture_output=True, text=True, env=env)
    assert r.returncode == 1
    assert "/nonexistent/latex not found: TikZ figures need TeX Live and dvisvgm" in r.stderr
    assert "apt-get install" in r.stderr and "Traceback" not in r.stderr


def test_upstream_appendix_renders_to_html_and_pdf_unmodified(tmp_path: Path) -> None:
    from tests.conftest import make_upstream_book

    root = make_upstream_book(tmp_path / "upstream")
    r = run_cli("render", cwd=root)
    assert r.returncode == 0, r.stderr
    assert "warning" not in r.stderr  # every reference resolves or is mapped in _quarto.yml
    html = page(root, "appendix/machine.html")
    assert "Principle “the Iron Law”" in html.text
    assert ("#tbl-ridge-current-ref", "Table 1.8") in html.links
    text = subprocess.run(["pdftotext", str(root / "_book" / "machine-foundations.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", " ", text)
    assert "1.2.1 The Roofline Model" in flat and "≪" in flat and "{python}" not in flat
