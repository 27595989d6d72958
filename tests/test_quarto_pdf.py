"""The Quarto features in the PDF: one LaTeX run over the fixture book, read with pdftotext."""

from __future__ import annotations

import pytest

from tests.quarto_helpers import book, pdf_text, render

ENV = {"BOOKBUILD_TEST_USER": "ada"}


@pytest.fixture(scope="module")
def pdf_run(tmp_path_factory):
    root = book("features", tmp_path_factory.mktemp("pdf"))
    r = render(root, "--to", "pdf", env=ENV, timeout=600)
    assert r.returncode == 0, r.stderr
    return r, pdf_text(root / "_book" / "book.pdf")


@pytest.fixture(scope="module")
def pdf(pdf_run) -> str:
    return pdf_run[1]


def test_callouts_in_print(pdf: str) -> None:
    for shown in ("Tip from a heading", "Watch out", "Read this first", "Folded away until the reader",
                  "A minimal box has neither title nor icon.", "An untyped callout."):
        assert shown in pdf


def test_shortcodes_in_print(pdf: str) -> None:
    assert "Codes for Orion" in pdf
    assert "The cluster Orion runs release 4.2" in pdf
    assert "The operator is ada; the shell is sh." in pdf
    assert "Press Ctrl-Shift-P to open the palette." in pdf
    assert "Write {{< var release >}} to show" in pdf


def test_conditional_content_in_print(pdf: str) -> None:
    assert "Only readers of the printed book see this sentence." in pdf
    assert "Hidden from the web page, kept in print." in pdf
    assert "Everywhere but print this is hidden." in pdf
    assert "web page see this" not in pdf and "word-processor" not in pdf
    assert "The status is draft." in pdf


def test_images_and_filters_in_print(pdf_run) -> None:
    r, shown = pdf_run
    assert "resources.qmd:16: warning: image 'img/nowhere.png' not found" in r.stderr
    assert "turns WHISPER into a shout" in shown


def test_layout_in_print(pdf: str) -> None:
    assert "Margin remark:" in pdf and "tucked into" in pdf  # narrow margin: hyphenated
    assert "Little’s law relates the queue to the wait." in pdf or "Little's law relates" in pdf
    # every tab in sequence, each under its title
    assert "Shell Compute it in the shell. By hand Compute it with a pencil." in pdf
    assert pdf.index("Python") < pdf.index("Compute it in Python.") < pdf.index("Shell")
    assert "Left cell text. Right cell text." in pdf  # side by side on one line


def test_format_includes_in_print(pdf: str) -> None:
    assert "Printed for review." in pdf  # include-before-body text
    assert "The macro says FIXTURE-MACRO-OK." in pdf  # a macro from include-in-header
