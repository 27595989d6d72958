"""Rendered pages in a real browser (Debian chromium, headless): what a reader sees."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, make_upstream_book, run_cli

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("chromium is missing: apt-get install chromium (make test installs it)")
    return exe


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is missing: run `make setup` (pip install -e '.[dev]')")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def upstream_book(tmp_path_factory) -> Path:
    root = make_upstream_book(tmp_path_factory.mktemp("upstream") / "book")
    r = run_cli("render", "--to", "html", cwd=root)
    assert r.returncode == 0, r.stderr
    return root / "_book"


@pytest.fixture(scope="module")
def our_book(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ours") / "_book"
    r = run_cli("render", "--to", "html", "--output-dir", str(out), cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return out


READER_VIEW = """() => {
  const body = document.querySelector('main').innerText;
  const tikz = [...document.querySelectorAll('img.tikz')].map(i => {
    const r = i.getBoundingClientRect();
    return {src: i.getAttribute('src'), natural: i.naturalWidth, width: r.width, height: r.height,
            alt: i.alt};
  });
  const xrefs = [...document.querySelectorAll('main a.xref:not(.xref-external)')].map(a => ({
    text: a.innerText, href: a.getAttribute('href'),
    target: a.getAttribute('href').startsWith('#') ?
      !!document.getElementById(decodeURIComponent(a.getAttribute('href').slice(1))) : null}));
  const callouts = [...document.querySelectorAll('.callout-header')].map(t => {
    const r = t.getBoundingClientRect();
    return {text: t.innerText.trim(), visible: r.width > 0 && r.height > 0};
  });
  const math = [...document.querySelectorAll('math')].map(m => m.namespaceURI);
  return {body, tikz, xrefs, callouts, math};
}"""


def read_page(browser, path: Path, shot: str) -> dict:
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    view = page.evaluate(READER_VIEW)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / shot), full_page=False)
    page.close()
    return view


def callouts_in(qmd: Path) -> int:
    """Callout blocks the author wrote in a chapter (each renders one titled box)."""
    return len(re.findall(r"^:{3,}\s*\{[^}\n]*\.callout-", qmd.read_text(encoding="utf-8"), re.M))


def assert_reader_view(view: dict, tikz_count: int, callouts: int, math: bool) -> None:
    """What a reader sees; counts come from the source, so an empty page cannot pass."""
    assert "{python}" not in view["body"]
    for raw in ("@tbl-", "@fig-", "@sec-"):
        assert raw not in view["body"].replace("?@", "")
    assert len(view["tikz"]) == tikz_count
    for img in view["tikz"]:
        assert img["src"].endswith(".svg") and img["natural"] > 0
        assert img["width"] > 50 and img["height"] > 20, img
        assert img["alt"], img
    for x in view["xrefs"]:
        assert re.fullmatch(r"(Section|Table|Figure|Chapter|Appendix)\s[0-9A-Z][0-9A-Z.]*",
                                x["text"]), x
        if x["target"] is not None:
            assert x["target"], f"{x['href']} has no target on the page"
    assert len(view["callouts"]) == callouts
    for c in view["callouts"]:
        assert c["visible"] and c["text"], c
    assert bool(view["math"]) == math
    assert set(view["math"]) <= {"http://www.w3.org/1998/Math/MathML"}  # math is MathML


def test_upstream_appendix_in_a_browser(browser, upstream_book: Path) -> None:
    view = read_page(browser, upstream_book / "appendix" / "machine.html", "upstream-appendix.png")
    assert_reader_view(view, tikz_count=3, callouts=callouts_in(upstream_book.parent / "appendix"
                                                                / "machine.qmd"), math=True)
    assert len(view["math"]) > 20
    assert len(view["xrefs"]) >= 15
    titles = {" ".join(c["text"].split()).lower() for c in view["callouts"]}
    assert {"learning objectives", "three numbers that matter most"} <= titles
    assert re.search(r"DRAM access costs ~581\s*×\s*more energy", view["body"])
    assert "295 ops/byte" in view["body"]


def test_fixture_book_in_a_browser(browser, tmp_path: Path) -> None:
    from tests.conftest import FIXTURES

    root = tmp_path / "book"
    shutil.copytree(FIXTURES / "book", root)
    r = run_cli("render", "--to", "html", cwd=root)
    assert r.returncode == 0, r.stderr
    view = read_page(browser, root / "_book" / "chapters" / "one.html", "fixture-chapter.png")
    assert_reader_view(view, tikz_count=1, callouts=3, math=True)
    assert "The ridge point is 295 FLOP/byte" in view["body"]


@pytest.mark.parametrize(("page", "tikz_count", "math"), [
    ("appendix/numbers.html", 1, True), ("appendix/models.html", 1, True),
    ("appendix/formats.html", 1, True), ("appendix/measured.html", 0, False),
    ("appendix/sources.html", 0, False), ("index.html", 0, False),
])
def test_our_book_in_a_browser(browser, our_book: Path, page: str, tikz_count: int,
                               math: bool) -> None:
    view = read_page(browser, our_book / page, "ours-" + page.replace("/", "-") + ".png")
    assert_reader_view(view, tikz_count, callouts_in(ROOT / page.replace(".html", ".qmd")), math)


def test_website_navbar_and_sidebar_links_in_a_browser(browser, tmp_path: Path) -> None:
    """A reader clicks through the fixture website: navbar, sidebar, then the next-page link."""
    from tests.conftest import FIXTURES

    root = tmp_path / "site"
    shutil.copytree(FIXTURES / "quarto" / "website", root)
    r = run_cli("render", cwd=root)
    assert r.returncode == 0, r.stderr
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    try:
        page.goto((root / "_site" / "index.html").as_uri())
        page.click("nav.navbar a.nav-link:has-text('About')")
        page.wait_for_load_state("load")
        assert page.url.endswith("/_site/about.html")
        assert page.inner_text("h1.title") == "About"
        assert page.inner_text("nav.navbar a.nav-link.active") == "About"
        page.click("#quarto-sidebar a.sidebar-link:has-text('Shore crabs')")
        page.wait_for_load_state("load")
        assert page.url.endswith("/_site/guide/crabs.html")
        assert page.inner_text("#quarto-sidebar a.sidebar-link.active") == "Shore crabs"
        # the sidebar sits left of the text, the navbar above both
        side, main = page.locator("#quarto-sidebar").bounding_box(), page.locator("main").bounding_box()
        bar = page.locator("nav.navbar").bounding_box()
        assert side["x"] + side["width"] <= main["x"] and bar["y"] + bar["height"] <= main["y"]
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "website-crabs.png"))
        page.click(".nav-page-previous a.pagination-link")
        page.wait_for_load_state("load")
        assert page.url.endswith("/_site/guide/anemones.html")
        # the site's stylesheet reached the page in guide/: the current entry stands out
        weight = page.evaluate("getComputedStyle(document.querySelector("
                               "'#quarto-sidebar a.sidebar-link.active')).fontWeight")
        assert weight == "700"
    finally:
        page.close()
