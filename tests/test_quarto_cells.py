"""Cells, their outputs and cross-references as Quarto shows them, from the fixture book
tests/fixtures/quarto/cells (rendered for real: kernel, pandoc, LaTeX), read as a reader sees
the HTML page and the PDF's text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.quarto_helpers import Elements, book, pdf_text, render, text
from tests.test_browser import CHROMIUM_ARGS, chromium


@pytest.fixture(scope="module")
def cells(tmp_path_factory) -> Path:
    """The book rendered with --strict: a correct book must build without a warning (its
    numbers reviewed and locked first, as --strict asks of any book that shows numbers)."""
    root = book("cells", tmp_path_factory.mktemp("cells"))
    accepted = run_cli("numbers", "accept", cwd=root)
    assert accepted.returncode == 0, accepted.stderr
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
    assert run_cli("numbers", "accept", cwd=root).returncode == 0
    chapter = root / "tight.qmd"
    chapter.write_text(chapter.read_text() + "\nSee @fig-nowhere---there.\n")
    r = render(root, "--strict", "--to", "html")
    assert r.returncode == 1
    assert "tight.qmd:19: error: unresolved cross-reference 'fig-nowhere'" in r.stderr


def floats_in(page: Elements) -> dict[str, str]:
    """Each float's id and its caption as the reader sees it."""
    return {f["attrs"]["id"]: text(page.within(f, "figcaption")[0]["text"])
            for f in page.find("div", "quarto-float") if "id" in f["attrs"]}


def test_a_float_whose_output_is_html_is_numbered_and_captioned(cells: Path, pdf: str) -> None:
    page = Elements(main(cells, "floats"))
    floats = floats_in(page)
    assert floats == {"tbl-frame": "Table 2.1: An HTML table from a cell",
                      "fig-map": "Figure 2.1: A map drawn as HTML",
                      "fig-line": "Figure 2.2: A real image",
                      "tbl-second": "Table 2.2: A second table"}
    fig_map = next(f for f in page.find("div", "quarto-float") if f["attrs"].get("id") == "fig-map")
    assert [e["attrs"].get("id") for e in page.within(fig_map, "div", "folium-map")] == ["map-one"]
    assert page.within(fig_map, "figure", "quarto-float-fig")
    # every reference reads the number its float's caption shows
    for link in page.find("a", "quarto-xref"):
        target = link["attrs"]["href"].lstrip("#")
        assert floats[target].startswith(text(link["text"]) + ":"), (target, link["text"])
    # a table rebuilt from a data frame's HTML keeps its natural widths, as Quarto's does
    for ident in ("tbl-frame", "tbl-second"):
        float_div = next(f for f in page.find("div", "quarto-float") if f["attrs"].get("id") == ident)
        (table,) = page.within(float_div, "table")
        assert "style" not in table["attrs"] and not page.within(float_div, "colgroup")
    for caption in floats.values():
        assert caption in pdf
    assert "<folium.Map object>" in pdf  # print shows the map's text/plain


def test_rich_html_keeps_its_markup_and_script_and_print_gets_the_fallback(
        cells: Path, pdf: str) -> None:
    html = main(cells, "rich")
    assert ("<div class='widget-box' id='widget-one'>widget-html</div><script>document"
            ".getElementById('widget-one').textContent = 'widget-script-ran';</script>") in html
    assert "<style>#est-one .est-name {font-weight: bold;}</style>" in html
    assert "est-notebook-only-hint" in html
    assert ('<script type="application/javascript">\ndocument.body.dataset.jsOutput = '
            "'js-output-ran';\n</script>") in html and "js-plain-fallback" not in html
    # print: the text/plain of an output without a table; only the table of one with it
    assert "widget-plain-fallback" in pdf and "widget-html" not in pdf
    assert "est-param-alpha 0.5" in pdf and "est-notebook-only-hint" not in pdf
    assert "font-weight" not in pdf and "js-plain-fallback" in pdf


def test_several_plots_of_one_cell_are_each_a_figure(cells: Path) -> None:
    page = Elements(main(cells, "rich"))
    outputs = [d for d in page.find("div", "cell-output-display") if page.within(d, "img")]
    assert len(outputs) == 2
    for out in outputs:
        (img,) = page.within(out, "img")
        assert "figure-img" in img["classes"]
        assert any(a["tag"] == "figure" for a in img["ancestors"])


@pytest.fixture(scope="module")
def browser():
    """Headless chromium, started as tests/test_browser.py starts it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        yield b
        b.close()


LAYOUT_VIEW = """() => {
  const main = document.querySelector('main').getBoundingClientRect();
  const box = el => { const r = el.getBoundingClientRect(); return {left: r.left, right: r.right, width: r.width}; };
  const plots = [...document.querySelectorAll('main .cell-output-display img')].map(box);
  const table = document.querySelector('main table.dataframe');
  const holder = table.closest('.cell-output-display');
  const toc = document.querySelector('.page-toc');
  return {main: box(document.querySelector('main')), plots, table: box(table), holder: box(holder),
          scrolls: holder.scrollWidth > holder.clientWidth,
          toc: toc ? box(toc) : null,
          widget: document.getElementById('widget-one').textContent,
          js: document.body.dataset.jsOutput,
          pageWidth: document.documentElement.scrollWidth, viewport: window.innerWidth};
}"""


def test_plots_and_a_wide_table_stay_in_the_text_column(browser, cells: Path) -> None:
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    page.goto((cells / "_book" / "rich.html").as_uri())
    page.wait_for_load_state("load")
    view = page.evaluate(LAYOUT_VIEW)
    page.close()
    column = view["main"]
    assert len(view["plots"]) == 2
    for plot in view["plots"]:  # each plot is laid out like the first: within the column
        assert column["left"] - 1 <= plot["left"] and plot["right"] <= column["right"] + 1, view
        assert plot["width"] == view["plots"][0]["width"]
    # the wide table scrolls inside its output, which stays in the column, clear of the TOC
    assert view["scrolls"], view
    assert view["holder"]["right"] <= column["right"] + 1, view
    assert view["pageWidth"] <= view["viewport"], view
    if view["toc"]:
        assert view["holder"]["right"] <= view["toc"]["left"], view
    assert view["widget"] == "widget-script-ran"  # the outputs' own scripts ran
    assert view["js"] == "js-output-ran"


CODE_VIEW = """() => {
  const style = sel => getComputedStyle(document.querySelector(sel));
  return {builtin: style('main div.sourceCode span.bu').color,
          string: style('main div.sourceCode span.st').color,
          text: style('main div.sourceCode code').color,
          box: style('main div.sourceCode').backgroundColor,
          pre: style('main div.sourceCode > pre').backgroundColor};
}"""


def code_colours(browser, page_path: Path) -> dict:
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    page.goto(page_path.as_uri())
    page.wait_for_load_state("load")
    view = page.evaluate(CODE_VIEW)
    page.close()
    return view


def test_code_is_coloured_by_the_highlight_style(browser, cells: Path, tmp_path: Path) -> None:
    # the default: pandoc's pygments style (builtins green, strings blue)
    view = code_colours(browser, cells / "_book" / "tight.html")
    assert view["builtin"] == "rgb(0, 128, 0)" and view["string"] == "rgb(64, 112, 160)", view
    assert view["text"] != view["builtin"]
    # `highlight-style: zenburn` under format.html: its dark box and light text
    root = book("cells", tmp_path)
    config = root / "_quarto.yml"
    config.write_text(config.read_text().replace(
        "  html: default", "  html:\n    highlight-style: zenburn\n    code-copy: false"))
    r = render(root, "--to", "html")
    assert r.returncode == 0, r.stderr
    dark = code_colours(browser, root / "_book" / "tight.html")
    assert dark["box"] == "rgb(48, 48, 48)" and dark["pre"] == "rgba(0, 0, 0, 0)", dark
    assert dark["text"] == "rgb(204, 204, 204)" and dark["builtin"] != view["builtin"], dark
    # code-copy: false: no button and no script (but the search box's)
    off = (root / "_book" / "tight.html").read_text()
    assert "code-copy-button" not in off
    assert not Elements(off).scripts_besides_search()


def test_a_code_block_has_quartos_copy_button(browser, cells: Path) -> None:
    page = Elements(main(cells, "tight"))
    blocks = page.find("div", "sourceCode")
    assert len(blocks) == 2
    for block in blocks:  # Quarto's markup: the button after the <pre>, inside the block
        (button,) = page.within(block, "button", "code-copy-button")
        assert button["attrs"]["title"] == "Copy to Clipboard"
        assert "code-with-copy" in page.within(block, "pre")[0]["classes"]
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    tab = context.new_page()
    tab.goto((cells / "_book" / "tight.html").as_uri())
    button = tab.locator(".code-copy-button").first
    assert button.evaluate("b => getComputedStyle(b).opacity") == "0"  # hover, Quarto's default
    tab.locator("div.sourceCode").first.hover()
    tab.wait_for_timeout(300)
    assert button.evaluate("b => getComputedStyle(b).opacity") == "1"
    button.click()
    tab.wait_for_timeout(100)
    assert button.get_attribute("title") == "Copied!"
    assert tab.evaluate("() => navigator.clipboard.readText()") == 'print("tight-output-" + "one")'
    context.close()
