"""Cells, their outputs and cross-references as Quarto shows them, from the fixture book
tests/fixtures/quarto/cells (rendered for real: kernel, pandoc, LaTeX), read as a reader sees
the HTML page and the PDF's text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.quarto_helpers import Elements, book, pdf_text, render, text


@pytest.fixture(scope="module")
def cells(tmp_path_factory) -> Path:
    """The book rendered with --strict: a correct book must build without a warning."""
    root = book("cells", tmp_path_factory.mktemp("cells"))
    r = render(root, "--strict")
    assert r.returncode == 0, r.stderr
    assert "warning" not in r.stderr, r.stderr
    return root


def main(root: Path, name: str) -> str:
    html = (root / "_book" / f"{name}.html").read_text(encoding="utf-8")
    return html[html.index("<main"):html.index("</main>")]


@pytest.fixture(scope="module")
def pdf(cells: Path) -> str:
    return pdf_text(cells / "_book" / "book.pdf")


def test_a_cell_touching_prose_is_a_cell_and_leaks_no_fence(cells: Path, pdf: str) -> None:
    page = Elements(main(cells, "tight"))
    assert ":::" not in text(main(cells, "tight")) and ":::" not in pdf
    shown = [text(d["text"]) for d in page.find("div", "cell")]
    assert len(shown) == 2 and "tight-output-one" in shown[0] and "tight-output-two" in shown[1]
    paragraphs = [text(p["text"]) for p in page.find("p")]
    assert "The next cell follows this line with no blank line between them." in paragraphs
    assert "And this prose line follows the closing fence directly." in paragraphs
    assert "a list item before a cell" in [text(li["text"]) for li in page.find("li")]


def test_an_em_dash_after_a_key_and_a_commented_reference_raise_no_warning(cells: Path) -> None:
    # the fixture's render ran --strict; check must agree, and the reference must still link
    r = run_cli("check", cwd=cells)
    assert r.returncode == 0 and "unresolved" not in r.stdout + r.stderr, r.stdout + r.stderr
    html = main(cells, "tight")
    assert re.search(r'Closing prose of <a href="#sec-tight"[^>]*>Chapter\s1</a>—and', html)
    assert "<!-- a comment that mentions @fig-nowhere" in html


def test_a_reference_that_is_truly_missing_still_fails_strict(tmp_path: Path) -> None:
    root = book("cells", tmp_path)
    chapter = root / "tight.qmd"
    chapter.write_text(chapter.read_text() + "\nSee @fig-nowhere---there.\n")
    r = render(root, "--strict", "--to", "html")
    assert r.returncode == 1
    assert "tight.qmd:19: error: unresolved cross-reference 'fig-nowhere'" in r.stderr
