"""A level-1 heading inside an aside (a callout's first, a tabset, the margin, a theorem, a proof)
titles the aside and opens no chapter: the chapter numbers and figure numbers after it, and each
chapter's own layout options (here `cap-location: margin`), stay those of the chapters around it.

The fixture book `tests/fixtures/quarto/asidechapters/`: "Queues" is titled only in its front
matter and holds one aside of each kind with a `#` heading, then a figure whose caption stays
under it and a section; the next chapter puts its captions in the margin.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.quarto_helpers import Elements, pdf_text, rendered_book
from tests.test_quarto_formats import shown
from tests.test_quarto_margins import where, words


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("asidechapters")
    rendered_book("asidechapters", dest)
    return dest / "asidechapters" / "_book"


def test_html_chapters_and_figures_after_the_asides_keep_their_numbers(rendered) -> None:
    queues = shown(rendered / "queues.html")
    assert "1 Queues" in queues and "Theorem 1.1 (Little’s law)" in queues
    assert "Figure 1.1: Queue caption kept under the picture" in queues
    # the note's second heading is a section, as in Quarto (its first one is its title)
    assert "1.1 A second heading in the note" in queues
    assert "1.2 After the asides" in queues and "See Figure 1.1 and Section 1.2." in queues
    beside = shown(rendered / "margins.html")
    assert "2 Captions Beside" in beside and "Figure 2.1: Sideways caption set in the margin" in beside
    assert "See Figure 2.1 and Figure 1.1." in beside
    figures = Elements((rendered / "margins.html").read_text(encoding="utf-8")).find("div", "quarto-float")
    assert ["margin-caption" in f["classes"] for f in figures] == [True]
    figures = Elements((rendered / "queues.html").read_text(encoding="utf-8")).find("div", "quarto-float")
    assert ["margin-caption" in f["classes"] for f in figures] == [False]


def test_pdf_chapters_figures_and_layout_after_the_asides_are_right(rendered) -> None:
    pdf = rendered / "book.pdf"
    text = pdf_text(pdf)
    # the contents list the chapters and their sections (a callout's too), no aside's title
    assert re.search(r"Contents Preface \d+ 1 Queues \d+ 1\.1 A second heading in the note [ .]*\d+ "
                     r"1\.2 After the asides [ .]*\d+ 2 Captions Beside \d+ ", text), text[:300]
    assert "1.2 After the asides See Figure 1.1 and Section 1.2." in text
    assert "Figure 1.1: Queue caption kept under the picture" in text
    assert "Figure 2.1: Sideways caption set in the margin" in text
    assert "See Figure 2.1 and Figure 1.1." in text
    found = words(pdf)
    filler = ("plain", "filler", "spans", "whole", "text", "column,", "long", "enough", "wrap")
    body_right = max(x for _, x, _, w in found if w in filler)
    _, kept_x, _ = where(found, "kept")  # the Queues chapter keeps its caption in the column
    assert kept_x < body_right
    _, margin_x, _ = where(found, "Sideways")  # the next chapter's own cap-location: margin
    assert margin_x > body_right + 40
