"""Remake the screenshots in docs/screenshots/: `make screenshots` (or run this file).

Renders our book (index.qmd, appendix/) and the showcase fixture book
(tests/fixtures/quarto/showcase/) to HTML in a temporary folder with the worktree's bookbuild,
then photographs pages with Debian's headless chromium through playwright, as tests/test_browser.py
does. Only the PNGs listed in SHOTS are written; nothing else in the repository changes.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SHOWCASE = ROOT / "tests" / "fixtures" / "quarto" / "showcase"
WEBSITE = ROOT / "tests" / "fixtures" / "quarto" / "website"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1300, "height": 900}

# (png name, which book, page, CSS selector to frame or None for the top of the page,
#  JavaScript run first to bring a state into view, e.g. a clicked tab)
SHOTS = [
    ("book-index.png", "ours", "index.html", None, None),
    ("book-numbers.png", "ours", "appendix/numbers.html", None, None),
    ("book-measured-table.png", "ours", "appendix/measured.html", "table", None),
    ("showcase-callouts.png", "showcase", "tour.html", "#sec-callouts", None),
    ("showcase-callout-opened.png", "showcase", "tour.html", "#sec-callouts",
     "document.querySelectorAll('details.callout-collapse').forEach(d => d.open = true)"),
    ("showcase-tabset-second-tab.png", "showcase", "tour.html", "#sec-tabsets",
     "document.querySelector('.panel-tabset label[for$=\"-2\"]').click()"),
    ("showcase-subfigures.png", "showcase", "tour.html", "#sec-subfigures", None),
    ("showcase-margins.png", "showcase", "tour.html", "#sec-margins", None),
    ("website.png", "website", "guide/anemones.html", None, None),
]
# (png name, page of our book, words typed into the sidebar's search box): search needs the
# book served (Pagefind fetches its index), so these pages come from a local static server.
SEARCHES = [("search.png", "appendix/models.html", "0.00331")]
# (png name, page of our book): seen by a reader whose system asks for a dark scheme.
DARK = [("dark.png", "appendix/models.html")]


def bookbuild() -> str:
    exe = Path(sys.executable).with_name("bookbuild")
    if not exe.exists():
        sys.exit("shoot.py: run it with the worktree's .venv/bin/python (make screenshots does)")
    return str(exe)


def render(cwd: Path, out: Path, fmt: str = "html") -> Path:
    r = subprocess.run([bookbuild(), "render", "--to", fmt, "--output-dir", str(out)], cwd=cwd,
                       capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        sys.exit(f"shoot.py: rendering {cwd} failed:\n{r.stderr}")
    return out


def frame(page, selector: str | None) -> dict | None:
    """The clip: the element's rows, across the whole width (margin content included)."""
    if selector is None:
        return None
    box = page.locator(selector).first.bounding_box()
    if box is None:
        sys.exit(f"shoot.py: nothing matches {selector!r}")
    # margin notes may reach below their section: frame them too
    bottom = page.evaluate(BOTTOM, selector)
    top = max(box["y"] - 16, 0)
    return {"x": 0, "y": top, "width": VIEWPORT["width"], "height": min(bottom + 16 - top, 1800)}


BOTTOM = """s => Math.max(...[...document.querySelectorAll(`${s}, ${s} .column-margin`)]
  .map(e => e.getBoundingClientRect().bottom + window.scrollY))"""


def main() -> int:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("shoot.py: chromium is missing (apt-get install chromium)")
    wanted = set(sys.argv[1:])  # png names; none: every shot
    shots = [s for s in SHOTS if not wanted or s[0] in wanted]
    with tempfile.TemporaryDirectory(prefix="bookbuild-shots-") as tmp:
        books = {}
        for which in dict.fromkeys(s[1] for s in shots):
            if which == "ours":
                books[which] = render(ROOT, Path(tmp) / "ours")
            else:  # a fixture project, rendered in a copy
                copy = Path(tmp) / which
                shutil.copytree(SHOWCASE if which == "showcase" else WEBSITE, copy)
                books[which] = render(copy, Path(tmp) / f"{which}-out")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                if "ours" in books:  # search, EPUB and dark shots are of our book
                    shoot_searches(browser, books["ours"])
                    shoot_epub(browser, render(ROOT, Path(tmp) / "epub", "epub"), Path(tmp) / "unzipped")
                    for name, path in DARK:
                        page = browser.new_page(viewport=VIEWPORT, color_scheme="dark")
                        page.goto((books["ours"] / path).as_uri())
                        page.wait_for_load_state("load")
                        page.screenshot(path=str(HERE / name))
                        page.close()
                        print(f"wrote docs/screenshots/{name}")
                for name, which, path, selector, script in shots:
                    page = browser.new_page(viewport=VIEWPORT)
                    page.goto((books[which] / path).as_uri())
                    page.wait_for_load_state("load")
                    if script:
                        page.evaluate(f"() => {{ {script}; }}")
                    page.screenshot(path=str(HERE / name), clip=frame(page, selector),
                                    full_page=selector is not None, timeout=60_000)
                    page.close()
                    print(f"wrote docs/screenshots/{name}")
            finally:
                browser.close()
    return 0


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # a request log line per file would bury the output
        pass


def shoot_epub(browser, out: Path, unzipped: Path) -> None:
    """epub.png: appendix B's file of our EPUB, unzipped, as chromium lays it out (700 px wide)."""
    import zipfile

    with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
        z.extractall(unzipped)
    page = browser.new_page(viewport={"width": 700, "height": 900})
    page.goto((unzipped / "EPUB" / "text" / "ch003.xhtml").as_uri())
    page.wait_for_load_state("load")
    page.screenshot(path=str(HERE / "epub.png"))
    page.close()
    print("wrote docs/screenshots/epub.png")


def shoot_searches(browser, book: Path) -> None:
    """Each of SEARCHES: the page served over HTTP, the words typed, the results shown."""
    handler = functools.partial(_Quiet, directory=str(book))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for name, path, words in SEARCHES:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/{path}")
            page.locator("#quarto-search input").fill(words)
            page.locator(".pagefind-ui__result-nested").first.wait_for(timeout=15_000)
            page.wait_for_timeout(300)  # the excerpts' highlight
            page.screenshot(path=str(HERE / name))
            page.close()
            print(f"wrote docs/screenshots/{name}")
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
