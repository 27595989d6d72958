"""Margins in print: a chapter's own `reference-location: margin` and `cap-location: margin`
put its notes and captions beside the text in the PDF, as in its HTML page; other chapters keep
footnotes at the page foot and captions under their figures."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.quarto_helpers import Elements, pdf_text, rendered_book, text


def words(pdf: Path) -> list[tuple[int, float, float, str]]:
    """Every word of the PDF as (page, x, y, word), read with pdftotext -bbox."""
    exe = shutil.which("pdftotext")
    assert exe, "pdftotext is missing: apt-get install poppler-utils"
    out = subprocess.run([exe, "-bbox", str(pdf), "-"], capture_output=True, text=True, timeout=60).stdout
    found, page = [], 0
    for line in out.splitlines():
        if "<page " in line:
            page += 1
        m = re.search(r'xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>', line)
        if m:
            found.append((page, float(m.group(1)), float(m.group(2)), m.group(3)))
    return found


def where(found: list, word: str) -> tuple[int, float, float]:
    hits = [(p, x, y) for p, x, y, w in found if w == word]
    assert hits, f"{word!r} is not in the PDF"
    return hits[0]


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    dest = tmp_path_factory.mktemp("margins")
    rendered_book("margins", dest)
    return dest / "margins" / "_book"


def test_a_chapters_margin_notes_and_captions_sit_beside_the_text_in_print(printed) -> None:
    found = words(printed / "book.pdf")
    page, text_left, _ = where(found, "Arrivals")
    body_right = max(x for p, x, _, w in found if p == page and w in ("ordinary", "column,", "wrap"))
    note_page, note_x, note_y = where(found, "Sidenote")
    _, line_x, line_y = where(found, "outpace")
    assert note_page == page and note_x > body_right + 40  # in the margin, right of the text
    assert abs(note_y - line_y) < 20  # beside the line that cites it
    caption_page, caption_x, _ = where(found, "Disk")  # "Figure 1.1: Disk caption set in the margin"
    assert caption_page == page and caption_x > body_right + 40
    table_page, table_x, _ = where(found, "Waiting")  # "Table 1.1: Waiting climbs with load, ..."
    assert table_page == page and table_x > body_right + 40
    assert "See Table 1.1." in pdf_text(printed / "book.pdf")


def test_other_chapters_keep_footnotes_at_the_foot_and_captions_under_figures(printed) -> None:
    found = words(printed / "book.pdf")
    page, text_left, top = where(found, "This")
    foot_page, foot_x, foot_y = where(found, "Footnote")
    assert foot_page == page and foot_x < text_left + 40 and foot_y > top + 300  # page foot
    _, cap_x, _ = where(found, "kept")
    assert cap_x < 300  # under the image, inside the text column
    shown = pdf_text(printed / "book.pdf")
    assert "Figure 2.1: Disk caption kept under the image" in shown
    assert "See Figure 1.1." in shown


def test_the_html_pages_agree(printed) -> None:
    beside = Elements((printed / "beside.html").read_text(encoding="utf-8"))
    notes = beside.find("span", "column-margin", "margin-footnote")
    assert [text(n["text"]) for n in notes] == ["1 Sidenote about unbounded growth."]
    figure = next(e for e in beside.find("div", "quarto-float") if e["attrs"].get("id") == "fig-disk")
    assert "margin-caption" in figure["classes"]
    below = Elements((printed / "below.html").read_text(encoding="utf-8"))
    assert not below.find(None, "margin-footnote") and not below.find(None, "margin-caption")
    assert any("Footnote kept at the page foot." in text(e["text"]) for e in below.find(None, "footnotes"))


CAPTIONS = """() => {
  const text = document.querySelector('main p').getBoundingClientRect();
  return [...document.querySelectorAll('figcaption, .footnotes li, .margin-footnote')].map(c => {
    const r = c.getBoundingClientRect();
    return {text: c.innerText.trim(), left: r.left, textRight: text.right};
  });
}"""


def test_in_the_browser_the_captions_and_notes_of_the_margin_chapter_sit_right_of_the_text(printed) -> None:
    from playwright.sync_api import sync_playwright

    from tests.test_browser import CHROMIUM_ARGS, chromium

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            seen = {}
            for name in ("beside.html", "below.html"):
                page = browser.new_page(viewport={"width": 1300, "height": 900})
                page.goto((printed / name).as_uri())
                seen[name] = page.evaluate(CAPTIONS)
                page.close()
        finally:
            browser.close()
    beside = {c["text"].replace("\xa0", " "): c["left"] > c["textRight"] for c in seen["beside.html"]}
    assert beside == {"Figure 1.1: Disk caption set in the margin": True,
                      "Table 1.1: Waiting climbs with load, caption in the margin": True,
                      "1 Sidenote about unbounded growth.": True}
    below = {c["text"].replace("\xa0", " "): c["left"] > c["textRight"] for c in seen["below.html"]}
    assert below.get("Figure 2.1: Disk caption kept under the image") is False


def test_the_filters_bring_their_margin_packages_to_plain_pandoc(tmp_path: Path) -> None:
    from bookbuild.publish.pandoc import pandoc_path
    from tests.conftest import ROOT
    from tests.quarto_helpers import QUARTO

    src = QUARTO / "margins"
    r = subprocess.run([str(pandoc_path()), str(src / "beside.qmd"), "-f", "markdown", "-M",
                        "crossref-chapters=1", "--lua-filter", str(ROOT / "filters" / "layout.lua"),
                        "--lua-filter", str(ROOT / "filters" / "crossref.lua"),
                        "--resource-path", str(src), "--pdf-engine=lualatex",
                        "-o", str(tmp_path / "beside.pdf")], capture_output=True, text=True,
                       timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    found = words(tmp_path / "beside.pdf")
    body_right = max(x for _, x, _, w in found if w in ("ordinary", "wrap"))
    assert where(found, "Sidenote")[1] > body_right and where(found, "Disk")[1] > body_right
