"""Remake the screenshots in docs/screenshots/: `make screenshots` (or run this file).

Renders our book (index.qmd, appendix/) and the showcase fixture book
(tests/fixtures/quarto/showcase/) to HTML in a temporary folder with the worktree's bookbuild,
then photographs pages with Debian's headless chromium through playwright, as tests/test_browser.py
does. Only the PNGs listed in SHOTS are written; nothing else in the repository changes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
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


def bookbuild() -> str:
    exe = Path(sys.executable).with_name("bookbuild")
    if not exe.exists():
        sys.exit("shoot.py: run it with the worktree's .venv/bin/python (make screenshots does)")
    return str(exe)


def render(cwd: Path, out: Path) -> Path:
    r = subprocess.run([bookbuild(), "render", "--to", "html", "--output-dir", str(out)], cwd=cwd,
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


if __name__ == "__main__":
    sys.exit(main())
