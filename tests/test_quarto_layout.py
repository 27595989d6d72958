"""Margins, page columns, tabsets and panel layouts: Quarto's classes, and how a browser shows them."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.quarto_helpers import Elements, book, render, text

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = book("features", tmp_path_factory.mktemp("layout"))
    r = render(root, "--to", "html", "layout.qmd")
    assert r.returncode == 0, r.stderr
    page = root / "_book" / "layout.html"
    return page, Elements(page.read_text())


def test_margin_content_and_margin_footnotes(built) -> None:
    _, page = built
    margins = [text(e["text"]) for e in page.find(None, "column-margin")]
    assert "Margin remark: utilisation above 0.8 is where waiting time climbs." in margins
    assert "tucked into the margin" in margins
    assert any(m.startswith("1 Little") and "relates the queue to the wait." in m for m in margins)
    assert not page.find("section", "footnotes")  # the note moved to the margin
    assert page.find("div", "column-page")
    figure = page.find("figure", "margin-caption")[0]  # fig-cap-location: margin
    assert text(page.within(figure, "figcaption")[0]["text"]) == "A disk whose caption sits in the margin"


def test_images_carry_quartos_figure_and_responsive_classes(built) -> None:
    _, page = built
    figure = page.find("figure", "margin-caption")[0]
    assert "figure" in figure["attrs"]["class"].split()  # a pandoc figure, marked as Quarto does
    [image] = page.within(figure, "img")
    assert image["attrs"]["class"].split() == ["img-fluid", "figure-img"]
    [bare] = page.find("img", "bare-disk")
    assert bare["attrs"]["class"].split() == ["bare-disk", "img-fluid"]  # not in a figure
    [tall] = page.find("img", "tall-disk")  # a height fixes its size: not responsive
    assert tall["attrs"]["class"].split() == ["tall-disk"] and tall["attrs"]["height"] == "40"


def test_fig_responsive_false_leaves_images_as_they_are(tmp_path) -> None:
    root = book("features", tmp_path)
    chapter = root / "layout.qmd"
    chapter.write_text(chapter.read_text().replace("---\n", "---\nfig-responsive: false\n", 1))
    r = render(root, "--to", "html", "layout.qmd")
    assert r.returncode == 0, r.stderr
    page = Elements((root / "_book" / "layout.html").read_text())
    [bare] = page.find("img", "bare-disk")
    assert bare["attrs"]["class"] == "bare-disk"
    assert not page.find("img", "img-fluid") and page.find("img", "figure-img")


def test_tabset_is_radio_inputs_labels_and_panes(built) -> None:
    _, page = built
    tabset = page.find("div", "panel-tabset")[0]
    radios = page.within(tabset, "input", "panel-tabset-radio")
    assert [r["attrs"]["type"] for r in radios] == ["radio"] * 3
    assert "checked" in radios[0]["attrs"] and "checked" not in radios[1]["attrs"]
    labels = page.within(tabset, "label", "nav-link")
    assert [text(lb["text"]) for lb in labels] == ["Python", "Shell", "By hand"]
    assert [lb["attrs"]["for"] for lb in labels] == [r["attrs"]["id"] for r in radios]
    panes = page.within(tabset, "div", "tab-pane")
    assert [text(p["text"]) for p in panes] == ["Compute it in Python.", "Compute it in the shell.",
                                               "Compute it with a pencil."]
    assert not page.within(tabset, "h2") and not page.scripts_besides_search()


def test_panel_layouts_make_rows_of_cells(built) -> None:
    _, page = built
    panels = page.find("div", "quarto-layout-panel")
    assert len(panels) == 3

    def shape(panel):
        rows = page.within(panel, "div", "quarto-layout-row")
        return [[(text(c["text"]), re.search(r"flex-basis: ([\d.]+)%", c["attrs"]["style"]).group(1))
                 for c in page.within(row, "div", "quarto-layout-cell")] for row in rows]

    assert shape(panels[0]) == [[("Left cell text.", "50.0"), ("Right cell text.", "50.0")],
                                [("Third cell text.", "50.0"), ("", "50.0")]]
    assert shape(panels[1]) == [[("Top left.", "50.0"), ("Top right.", "50.0")],
                                [("Bottom, full width.", "100.0")]]
    assert shape(panels[2]) == [[("One of two.", "50.0"), ("Two of two.", "50.0")]]


def test_in_a_browser_tabs_switch_and_margin_notes_sit_right_of_the_text(built) -> None:
    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium")
    assert exe, "chromium is missing: apt-get install chromium (make test installs it)"
    path, _ = built
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            view = b.new_page(viewport={"width": 1400, "height": 900})
            view.goto(path.as_uri())
            assert view.is_visible("text=Compute it in Python.")
            assert not view.is_visible("text=Compute it in the shell.")
            view.click("label:has-text('Shell')")
            assert view.is_visible("text=Compute it in the shell.")
            assert not view.is_visible("text=Compute it in Python.")
            text_box = view.locator("main p").first.bounding_box()
            note = view.locator("div.column-margin").first.bounding_box()
            assert note["x"] >= text_box["x"] + text_box["width"]  # beside, not inside, the text
            caption = view.locator("figure.margin-caption figcaption").bounding_box()
            assert caption["x"] >= text_box["x"] + text_box["width"]
            cells = view.locator(".quarto-layout-panel").first.locator(".quarto-layout-cell")
            left, right = cells.nth(0).bounding_box(), cells.nth(1).bounding_box()
            assert abs(left["y"] - right["y"]) < 2 and right["x"] > left["x"] + left["width"] - 1
        finally:
            b.close()
