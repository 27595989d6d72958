"""Heading numbers and page contents as Quarto gives them, where real books differ from the
simple case.

The fixture book `tests/fixtures/quarto/numbering/`: "Lessons" (titled in its front matter)
holds a titled callout with a heading inside, an untitled callout opened by a heading, and a
`.callout-practice` div (no Quarto callout type); "Two Parts" has a front-matter title and `#`
headings in its text; "Closing Words" follows and refers back to both. The book sets
`toc-depth: 2` for HTML; "Closing Words" sets 3 for itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bookbuild.analysis import crossref
from bookbuild.source.qmd import parse_file
from tests.quarto_helpers import QUARTO, Elements, book, render, text
from tests.test_quarto_formats import shown


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, str]:
    root = book("numbering", tmp_path_factory.mktemp("numbering"))
    r = render(root, "--to", "html")
    assert r.returncode == 0, r.stderr
    return root / "_book", r.stderr


def headings(page: Path) -> list[str]:
    """Each heading of the page's body as a reader sees it, numbers included."""
    found = Elements(page.read_text(encoding="utf-8"))
    return [text(h["text"]) for h in found.all if re.fullmatch(r"h[1-6]", h["tag"])
            and not any(a["tag"] in ("nav", "aside") for a in h["ancestors"])]


def contents(page: Path) -> list[str]:
    """The entries of the page's own table of contents ("On this page")."""
    found = Elements(page.read_text(encoding="utf-8"))
    toc = [e for e in found.find("aside") if "On this page" in e["text"]]
    return [text(a["text"]) for a in found.within(toc[0], "a")] if toc else []


def test_a_heading_inside_a_titled_callout_keeps_its_section_number(rendered) -> None:
    lessons = rendered[0] / "lessons.html"
    shown_headings = headings(lessons)
    assert shown_headings[:2] == ["1 Lessons", "1.1 Getting ready"]
    assert "1.1.1 Try it yourself" in shown_headings
    assert "1.1.2 Deeper inside the note" in shown_headings  # after the note's title heading
    assert "See Section 1.1, Section 1.1.1 and Section 1.2." in shown(lessons)


def test_a_callouts_first_heading_is_its_title_not_a_section(rendered) -> None:
    page = Elements((rendered[0] / "lessons.html").read_text(encoding="utf-8"))
    titles = [text(t["text"]) for t in page.find("div", "callout-title-container")]
    assert titles == ["Exercise", "A heading that titles the note"]
    assert not any("titles the note" in h for h in headings(rendered[0] / "lessons.html"))


def test_callout_headings_stay_out_of_the_page_contents(rendered) -> None:
    assert contents(rendered[0] / "lessons.html")[1:] == [
        "1.1 Getting ready", "1.2 Practice question", "1.3 Wrapping up"]


def test_toc_depth_of_the_book_and_of_a_chapter_limit_the_page_contents(rendered) -> None:
    """`format: html: toc-depth: 2` in `_quarto.yml`; closing.qmd sets `toc-depth: 3`."""
    assert "1.3.1 Loose ends" in headings(rendered[0] / "lessons.html")
    assert "1.3.1 Loose ends" not in contents(rendered[0] / "lessons.html")
    assert contents(rendered[0] / "closing.html") == [
        "3 Closing Words", "3.1 Last section", "3.1.1 Final detail"]
    assert "toc-depth" not in rendered[1]  # honoured, so no "not supported" note


def test_an_unknown_callout_class_is_a_plain_div_and_its_heading_a_section(rendered) -> None:
    page, stderr = rendered
    found = Elements((page / "lessons.html").read_text(encoding="utf-8"))
    practice = found.find("div", "callout-practice") + found.find("section", "callout-practice")
    assert len(practice) == 1 and "callout" not in practice[0]["classes"]
    assert "1.2 Practice question" in headings(page / "lessons.html")
    assert "lessons.qmd:25: '.callout-practice' is not a Quarto callout type" in stderr


def test_a_front_matter_title_is_the_chapter_and_body_chapters_count_on_in_html(rendered) -> None:
    """As Quarto's HTML (the page numbered from its chapter, `number-offset`): the front
    matter's title is chapter 2, the text's `#` headings 3 and 4, and the next page is 3."""
    two = rendered[0] / "twoparts.html"
    assert headings(two) == ["2 Two Parts", "3 First part", "3.1 Inside the first part",
                             "4 Second part", "4.1 Inside the second part"]
    assert "See Chapter 3, Section 3.1 and Figure 3.1." in shown(two)
    assert "Figure 3.1: A figure in the first part" in shown(two)
    closing = rendered[0] / "closing.html"
    assert headings(closing) == ["3 Closing Words", "3.1 Last section", "3.1.1 Final detail"]
    assert "Back in Section 1.1.1, and see Section 3.1." in shown(closing)
    sidebar = Elements((rendered[0] / "closing.html").read_text(encoding="utf-8")).find("nav", "sidebar")
    assert "2 Two Parts 3 Closing Words" in text(sidebar[0]["text"])


def test_in_the_pdf_each_body_chapter_is_a_chapter_of_the_book() -> None:
    """Quarto's PDF is one LaTeX book: the title, then the text, whose `#` headings are
    chapters of their own, so the chapters after them move on."""
    names = ("index.qmd", "lessons.qmd", "twoparts.qmd", "closing.qmd")
    docs = [(parse_file(QUARTO / "numbering" / n), False) for n in names]
    pdf = crossref.format_indexes(docs, {}, {}, ["pdf"])["pdf"]
    assert [c.filter_chapters() for c in pdf.chapters] == [[""], ["1"], ["2", "3", "4"], ["5"]]
    numbers = {k: v.number for k, v in pdf.labels.items()}
    assert (numbers["sec-first-part"], numbers["sec-inside-first"], numbers["fig-first"],
            numbers["sec-closing"], numbers["sec-last"]) == ("3", "3.1", "3.1", "5", "5.1")


def test_toc_depth_in_the_pdf_counts_levels_as_quarto(tmp_path: Path) -> None:
    """`toc-depth: 2` in the PDF lists chapters and sections (LaTeX's tocdepth 1), not also
    subsections: pandoc shifts the option for a book's chapters, never the metadata field."""
    import subprocess

    from bookbuild.publish.pandoc import pandoc_path
    from bookbuild.publish.pandoc_run import latex_args

    latex = subprocess.run([str(pandoc_path()), *latex_args({"toc-depth": 2}, tmp_path)],
                           input="# A\n\n## B\n\n### C\n", capture_output=True, text=True, timeout=60)
    assert latex.returncode == 0, latex.stderr
    assert "\\setcounter{tocdepth}{1}" in latex.stdout
