"""The search index of a small book: rebuilt after a one-chapter build, off with `search: false`."""

from __future__ import annotations

import functools
import json
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.test_browser import CHROMIUM_ARGS, chromium

CONFIG = """project:
  type: book
book:
  title: "Sea Mammals"
  chapters:
    - index.qmd
    - walrus.qmd
format: html
"""
WALRUS = """# Walruses

## Tusks {#sec-tusks}

A walrus tusk grows to 1,234 millimetres.
"""
SEARCH = """async (q) => {
  const pf = await import(new URL('pagefind/pagefind.js', location.href).href);
  const found = await pf.search(q);
  const data = await Promise.all(found.results.map(r => r.data()));
  return data.flatMap(d => [d.url, ...d.sub_results.map(s => s.url)]);
}"""


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> dict:
    """A two-chapter book rendered whole, then one chapter edited and rendered alone (its index
    searched in chromium), then rendered with `search: false`."""
    root = tmp_path_factory.mktemp("seabook")
    (root / "_quarto.yml").write_text(CONFIG, encoding="utf-8")
    (root / "index.qmd").write_text("# Preface\n\nAbout seals and sea lions.\n", encoding="utf-8")
    (root / "walrus.qmd").write_text(WALRUS, encoding="utf-8")
    out = root / "_book"
    whole = run_cli("render", cwd=root)
    assert whole.returncode == 0, whole.stderr
    before = sorted(p.name for p in (out / "pagefind" / "fragment").iterdir())
    (root / "walrus.qmd").write_text(WALRUS + "\nA narwhal has one tusk.\n", encoding="utf-8")
    one = run_cli("render", "walrus.qmd", cwd=root)
    assert one.returncode == 0, one.stderr
    after = sorted(p.name for p in (out / "pagefind" / "fragment").iterdir())
    owned = json.loads((out / ".bookbuild-manifest.json").read_text(encoding="utf-8"))["files"]
    found = search(out, ["narwhal", "seals", "1,234"])
    config = CONFIG.replace('  title: "Sea Mammals"\n', '  title: "Sea Mammals"\n  search: false\n')
    (root / "_quarto.yml").write_text(config, encoding="utf-8")
    off = run_cli("render", cwd=root)
    assert off.returncode == 0, off.stderr
    return {"out": out, "whole": whole.stderr, "one": one.stderr, "before": before,
            "after": after, "owned": owned, "found": found, "off": off.stderr}


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # a request log line per file would bury the output
        pass


def search(folder: Path, words: list[str]) -> dict[str, list[str]]:
    """What Pagefind's own API finds for each word, in chromium, the folder served statically."""
    from playwright.sync_api import sync_playwright

    handler = functools.partial(_Quiet, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
            found = {w: page.evaluate(SEARCH, w) for w in words}
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return found


def test_a_one_chapter_build_reindexes_the_whole_book(book) -> None:
    assert re.search(r"search: indexed 2 page\(s\)", book["whole"])
    assert re.search(r"search: indexed 2 page\(s\)", book["one"])  # the other page from before
    found = book["found"]
    assert "/walrus.html#sec-tusks" in found["narwhal"]  # the edit, at its section
    assert "/" in found["seals"] or "/index.html" in found["seals"]  # the page not rebuilt
    assert "/walrus.html#sec-tusks" in found["1,234"]  # a number as the page shows it


def test_the_last_index_is_replaced_not_added_to(book) -> None:
    assert len(book["after"]) == 2 == len(book["before"])  # one per page, no stale ones
    assert book["after"] != book["before"]  # walrus.html's changed
    assert {f"pagefind/fragment/{f}" for f in book["after"]} <= set(book["owned"]["search"])


def test_search_false_removes_the_box_and_the_index(book) -> None:
    assert "search" not in book["off"]  # no index, and no note that `search` is ignored
    assert not (book["out"] / "pagefind").exists()  # nor its empty folders
    page = (book["out"] / "walrus.html").read_text(encoding="utf-8")
    assert "quarto-search" not in page and "pagefind" not in page
