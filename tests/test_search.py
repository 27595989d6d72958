"""Full-text search of our rendered book (Pagefind), in a real browser over a static server."""

from __future__ import annotations

import functools
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, run_cli
from tests.test_browser import CHROMIUM_ARGS, chromium

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, str]:
    """Our book's HTML (one render for the module) and its progress output."""
    out = tmp_path_factory.mktemp("search") / "_book"
    r = run_cli("render", "--to", "html", "--output-dir", str(out), cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return out, r.stderr


@pytest.fixture(scope="module")
def served(rendered) -> str:
    """The output folder behind a plain static server (what a reader's host would be)."""
    out, _ = rendered
    handler = functools.partial(_Quiet, directory=str(out))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def locked_text(chapter: str, expr: str) -> str:
    """A number of our book as it is rendered, from the committed numbers.lock."""
    lock = yaml.safe_load((ROOT / "numbers.lock").read_text(encoding="utf-8"))
    return next(e["text"] for e in lock["chapters"][chapter] if e["expr"] == expr)


def test_index_is_written_beside_the_pages(rendered) -> None:
    out, stderr = rendered
    assert (out / "pagefind" / "pagefind-ui.js").is_file()
    assert (out / "pagefind" / "pagefind-entry.json").is_file()
    assert re.search(r"search: indexed \d+ page\(s\)", stderr)
    manifest = (out / ".bookbuild-manifest.json").read_text(encoding="utf-8")
    assert '"pagefind/pagefind-ui.js"' in manifest  # ours, so the next render replaces it
    page = (out / "appendix" / "formats.html").read_text(encoding="utf-8")
    assert '<div id="quarto-search"' in page  # Quarto's id for the box, in the sidebar
    assert page.index('id="quarto-search"') < page.index("<main")
    assert "data-pagefind-body" in page  # the text, not the sidebar, is what is searched


def test_a_number_from_the_appendix_finds_its_section(served) -> None:
    from playwright.sync_api import expect, sync_playwright

    number = locked_text("appendix/formats.qmd", "Quant.scale_text")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.goto(served + "index.html")
            box = page.locator("#quarto-search input")
            box.fill(number)
            # the section's result under its page's (Pagefind's sub-result)
            hit = page.locator(".pagefind-ui__result-nested .pagefind-ui__result-link",
                               has_text=re.compile("Quantization"))
            hit.first.wait_for(timeout=15000)
            results = page.locator(".pagefind-ui__results").inner_text()
            assert number in results
            assert "\\alpha" not in results  # the math as read, not its TeX source
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "search.png"))
            hit.first.click()
            page.wait_for_url(re.compile(r"formats\.html#sec-formats-quantization$"))
            section = page.locator("#sec-formats-quantization")
            assert number in section.inner_text()
            expect(section.locator("h2")).to_be_in_viewport()  # the page opens at the section
        finally:
            browser.close()


def test_from_disk_the_box_says_to_serve_the_book(rendered) -> None:
    from playwright.sync_api import sync_playwright

    out, _ = rendered
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto((out / "index.html").as_uri())
            assert "served" in page.locator("#quarto-search").inner_text()
        finally:
            browser.close()
