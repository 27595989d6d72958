"""Figures in the margin of the PDF: a float div with `.column-margin`, a labelled image inside
margin content and an unlabelled one. A float cannot sit in a \\marginpar (LaTeX stops with
"Not in outer par mode"), so each goes there as its image and caption, numbered as in HTML."""

from __future__ import annotations

import re

import pytest

from tests.quarto_helpers import pdf_text, rendered_book, text
from tests.test_quarto_margins import where, words


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    dest = tmp_path_factory.mktemp("marginfloats")
    rendered_book("marginfloats", dest)
    return dest / "marginfloats" / "_book"


def test_margin_figures_render_numbered_beside_the_text(printed) -> None:
    text = pdf_text(printed / "book.pdf")
    assert "Figure 1.1 shows the first one, and Figure 1.2 the well" in text
    assert "Figure 1.1: Staffgauge painted" in text
    assert "Figure 1.2: Wellfloat drawn" in text
    assert "Radarsensor on its bracket" in text and "Figure 1.3" not in text
    found = words(printed / "book.pdf")
    page, _, _ = where(found, "harbour")
    body_right = max(x for p, x, _, w in found if p == page and w in ("harbour", "instruments."))
    for word in ("Staffgauge", "Wellfloat", "Radarsensor"):
        on, x, _ = where(found, word)
        assert on == page and x > body_right + 40, f"{word} is not in the margin"


def test_the_html_page_numbers_them_the_same(printed) -> None:
    page = text(re.sub(r"<[^>]+>", "", (printed / "gauges.html").read_text(encoding="utf-8")))
    assert "Figure 1.1 shows the first one, and Figure 1.2 the well" in page
    assert "Figure 1.1: Staffgauge painted" in page and "Figure 1.2: Wellfloat drawn" in page
