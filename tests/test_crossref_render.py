"""`bookbuild render` of the crossref fixture book: Quarto's float structure and the numbers a
reader sees, in the HTML pages and in the PDF; a label defined twice stops the build."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.conftest import FIXTURES, run_cli

BOOK = FIXTURES / "crossref" / "book"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("crossref") / "book"
    shutil.copytree(BOOK, root)
    r = run_cli("render", cwd=root, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "unresolved" not in r.stderr, r.stderr
    return root


def soup(root: Path, page: str) -> BeautifulSoup:
    return BeautifulSoup((root / "_book" / page).read_text(encoding="utf-8"), "html.parser")


def text(el) -> str:
    assert el is not None
    return re.sub(r"\s+", " ", el.get_text().replace("\xa0", " ")).strip()


def one(page: BeautifulSoup, selector: str):
    found = page.select(selector)
    assert len(found) == 1, f"{selector}: {len(found)} matches"
    return found[0]


def xref(page: BeautifulSoup, href: str) -> str:
    return text(one(page, f'a.quarto-xref[href="{href}"]'))


def test_front_matter_title_equations_listings_and_callouts(rendered: Path) -> None:
    page = soup(rendered, "kinds.html")
    assert text(one(page, "main h1")) == "1 Every Kind of Label"
    assert text(one(page, "main .subtitle")) == "Numbered from the front matter"
    assert text(one(page, "#sec-energy h2")) == "1.1 Energy"
    # equations: numbered in the math, linked by @eq- and bare by -@eq-
    assert "(1.1)" in text(one(page, "span#eq-mass-energy math"))
    assert xref(page, "#eq-mass-energy") == "Equation 1.1"
    assert xref(page, "#eq-force") == "1.2"
    caption = one(page, "div#lst-greet > figure.quarto-float-lst > figcaption.quarto-float-caption-top")
    assert text(caption) == "Listing 1.1: Greeting a reader"
    assert "Tip 1.1: Keep labels short" in text(one(page, "div#tip-shortcut.callout"))
    assert "Warning 1.1" in text(one(page, "div#wrn-units.callout"))
    assert xref(page, "#tip-shortcut") == "Tip 1.1"
    assert xref(page, "#sec-code") == "Section 1.2"  # written @Sec-code
    assert xref(page, "#sec-sub") == "Section 1.2.1"  # the callout headings are not sections
    assert xref(page, "floats.html#fig-left") == "Figure 2.2 (a)"
    nav = [text(a) for a in page.select("nav a")]
    assert "1 Every Kind of Label" in nav


def test_figures_subfigures_and_tables_in_quarto_structure(rendered: Path) -> None:
    page = soup(rendered, "floats.html")
    cap = one(page, "div#fig-swatch > figure.quarto-float-fig > figcaption.quarto-float-caption-bottom")
    assert text(cap) == "Figure 2.1: A swatch of two colours"
    assert one(page, "div#fig-swatch img")["alt"] == "Blue on the left, orange on the right."

    panel = one(page, "div#fig-panel.quarto-layout-panel")
    assert text(one(panel, "figure.quarto-float-fig > figcaption.quarto-float-caption")) == \
        "Figure 2.2: Two swatches side by side"
    cells = panel.select("div.quarto-layout-row > div.quarto-layout-cell-subref[data-ref-parent=fig-panel]")
    assert len(cells) == 2 and all("flex-basis: 50.0%" in c["style"] for c in cells)
    assert text(one(panel, "div#fig-left figure.quarto-subfloat-fig figcaption.quarto-subfloat-caption")) == \
        "(a) Left swatch"
    assert text(one(panel, "div#fig-right figcaption.quarto-subfloat-caption")) == "(b) Right swatch"

    assert text(one(page, "div#fig-captioned figcaption")) == \
        "Figure 2.3: The last paragraph of a figure div is its caption."
    assert one(page, 'div#fig-linked a[href="https://example.org/swatch"] img')
    assert text(one(page, "div#fig-linked figcaption")) == "Figure 2.4: A linked swatch"

    assert text(one(page, "div#tbl-div > figure.quarto-float-tbl > figcaption.quarto-float-caption-top")) == \
        "Table 2.1: Colours and their codes"
    assert one(page, "div#tbl-div table")
    assert text(one(page, "div#tbl-from-image figcaption")) == "Table 2.2: Colours as a picture"
    assert one(page, "div#tbl-from-image figure.quarto-float-tbl img")
    assert text(one(page, "div#tbl-panel div#tbl-second figcaption.quarto-subfloat-caption")) == \
        "(b) Second half"

    refs = {a["href"]: text(a) for a in page.select("#sec-floats-refs a.quarto-xref")}
    assert refs == {
        "#fig-swatch": "Figure 2.1", "#fig-panel": "Figure 2.2", "#fig-left": "Figure 2.2 (a)",
        "#fig-right": "Figure 2.2 (b)", "#fig-captioned": "Figure 2.3", "#fig-linked": "Figure 2.4",
        "#tbl-div": "Table 2.1", "#tbl-from-image": "Table 2.2", "#tbl-panel": "Table 2.3",
        "#tbl-first": "Table 2.3 (a)", "#tbl-second": "Table 2.3 (b)",
        "kinds.html#eq-mass-energy": "Equation 1.1", "kinds.html#sec-energy": "Section 1.1",
    }
    for name in ("kinds.html", "floats.html", "extra.html"):
        body = text(soup(rendered, name).main)
        assert "?@" not in body and "{#" not in body, name


def test_pdf_has_the_same_numbers(rendered: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: apt-get install poppler-utils (make test installs it)")
    pdf = rendered / "_book" / "crossref-fixture.pdf"
    flat = re.sub(r"\s+", " ", subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                                              text=True, check=True, timeout=60).stdout)
    for s in ("1 Every Kind of Label", "Numbered from the front matter", "Equation 1.1", "(1.1)",
              "Listing 1.1: Greeting a reader", "Tip 1.1: Keep labels short", "(a) Left swatch",
              "Figure 2.2: Two swatches side by side", "Figure 2.2 (a)", "Table 2.3 (b)",
              "Table 2.1: Colours and their codes", "Figure A.a: An appendix swatch", "(A.1)",
              "Section 1.2.1"):
        assert s in flat, s
    assert "1.3 Keep labels short" not in flat  # a callout's title is no section


def test_a_label_defined_twice_stops_the_build_with_both_places(rendered: Path, tmp_path: Path) -> None:
    root = tmp_path / "book"
    shutil.copytree(rendered, root)
    chapter = root / "extra.qmd"
    original = chapter.read_text()
    chapter.write_text(original + "\n![Again](swatch.png){#fig-swatch}\n")
    line = len(original.splitlines()) + 2
    before = (root / "_book" / "floats.html").read_bytes()
    r = run_cli("render", "--to", "html", cwd=root)
    assert r.returncode == 1
    # the static check that starts every render reports it, with columns
    assert (f"extra.qmd:{line}:22: label 'fig-swatch' is defined twice (first at floats.qmd:5:40) "
            "[XRF001]") in r.stderr
    assert "Traceback" not in r.stderr
    assert (root / "_book" / "floats.html").read_bytes() == before


def test_one_bibliography_on_the_references_page(rendered: Path) -> None:
    refs = soup(rendered, "references.html")
    entries = [e["id"] for e in refs.select("div#refs div.csl-entry")]
    assert entries == ["ref-knuth1984", "ref-lamport1994"]
    assert "Addison-Wesley" in text(one(refs, "div#ref-knuth1984"))
    for name, key in (("kinds.html", "knuth1984"), ("floats.html", "lamport1994")):
        page = soup(rendered, name)
        assert page.select("div.csl-entry") == [] and page.select("#refs") == [], name
        assert page.select(f'a[href="references.html#ref-{key}"]'), name
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: apt-get install poppler-utils (make test installs it)")
    pdf = rendered / "_book" / "crossref-fixture.pdf"
    flat = re.sub(r"\s+", " ", subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                                              text=True, check=True, timeout=60).stdout)
    assert flat.count("Knuth, Donald") == 1 and flat.count("Lamport, Leslie") == 1  # listed once
