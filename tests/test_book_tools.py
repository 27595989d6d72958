"""Quarto's book tools: `book.downloads` links in the sidebar to the files of the same run, and
`repo-url` + `repo-actions` links beside each page's contents."""

from __future__ import annotations

import functools
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bookbuild.publish.downloads import Link
from bookbuild.publish.pages import Book, NavEntry, PageWriter
from tests.conftest import run_cli
from tests.test_browser import CHROMIUM_ARGS, chromium

CONFIG = """project:
  type: book
book:
  title: "Tide Tables"
  output-file: tides
  downloads: [pdf, epub]
  repo-url: https://github.com/example/tides/
  repo-subdir: book
  repo-actions: [edit, source, issue]
  chapters:
    - index.qmd
    - parts/ebb.qmd
format:
  html: default
  epub: default
"""


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("tides")
    (root / "_quarto.yml").write_text(CONFIG, encoding="utf-8")
    (root / "index.qmd").write_text("# Preface\n\nTides rise twice a day.\n", encoding="utf-8")
    (root / "parts").mkdir()
    (root / "parts" / "ebb.qmd").write_text("# Ebb\n\n## Low water\n\nThe sea goes out.\n",
                                            encoding="utf-8")
    r = run_cli("render", cwd=root)  # html and epub, as _quarto.yml says: no PDF this time
    assert r.returncode == 0, r.stderr
    return root / "_book", r.stderr


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_the_sidebar_links_the_epub_of_the_same_run(book) -> None:
    from playwright.sync_api import sync_playwright

    out, stderr = book
    assert (out / "tides.epub").is_file()
    handler = functools.partial(_Quiet, directory=str(out))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/parts/ebb.html")
            link = page.locator("nav.sidebar .sidebar-tools-main a.quarto-navigation-tool")
            assert link.inner_text() == "Download ePub"  # one download: a link, not a menu
            with page.expect_download() as got:
                link.click()
            assert got.value.suggested_filename == "tides.epub"
            assert Path(got.value.path()).read_bytes() == (out / "tides.epub").read_bytes()
            browser.close()
    finally:
        server.shutdown()
        server.server_close()


def test_a_download_this_run_does_not_write_is_left_out_with_a_note(book) -> None:
    out, stderr = book
    assert re.search(r"^note: _quarto\.yml:6: book\.downloads: this render does not write the "
                     r"PDF \(formats: html, epub\); its link is left out$", stderr, re.M)
    assert "tides.pdf" not in (out / "index.html").read_text(encoding="utf-8")


def test_repo_actions_link_to_the_pages_source_as_quarto_does(book) -> None:
    out, stderr = book
    page = (out / "parts" / "ebb.html").read_text(encoding="utf-8")
    actions = re.search(r'<aside class="page-toc".*?<div class="toc-actions">(.*?)</div>', page,
                        re.S)
    assert actions, "the links sit under the page's contents"
    links = re.findall(r'<a href="([^"]+)" class="toc-action"[^>]*>([^<]+)</a>', actions.group(1))
    assert links == [
        ("https://github.com/example/tides/edit/main/book/parts/ebb.qmd", "Edit this page"),
        ("https://github.com/example/tides/blob/main/book/parts/ebb.qmd", "View source"),
        ("https://github.com/example/tides/issues/new", "Report an issue")]
    assert "repo-url" not in stderr and "repo-actions" not in stderr  # no "not supported" note


def test_two_downloads_make_a_menu(tmp_path: Path) -> None:
    links = [Link("Download PDF", "tides.pdf", "pdf"), Link("Download ePub", "tides.epub", "epub")]
    writer = PageWriter(Book("Tide Tables", "", [NavEntry("parts/ebb.html", "Ebb")]),
                        downloads=links)
    writer.write(tmp_path, "parts/ebb.html", "<p>x</p>", "")
    page = (tmp_path / "parts" / "ebb.html").read_text(encoding="utf-8")
    menu = re.search(r'<div class="sidebar-tools-main">(.*?)</div>', page, re.S).group(1)
    assert "<summary" in menu and ">Download</summary>" in menu
    assert re.findall(r'href="([^"]+)" class="dropdown-item', menu) == ["../tides.pdf",
                                                                       "../tides.epub"]
