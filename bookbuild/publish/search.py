"""Full-text search of an HTML book: a Pagefind index of its pages, built once they are written.

The index is static files beside the pages (`pagefind/`), so any static server, or the output
folder copied anywhere, searches without a CDN or a search service. Pagefind fetches its index,
so a page opened as `file://` cannot search (Quarto's own search has the same limit).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path

from bookbuild.system import processes
from bookbuild.system.errors import BuildError

FOLDER = "pagefind"  # Pagefind's own name for its bundle, beside the pages
TIMEOUT = 300.0  # seconds; a book of hundreds of pages indexes in a few

# Pandoc puts a section's id on <section>; Pagefind opens a result at a heading with an id.
# The copy it indexes carries the id on the heading, so a result links to page.html#sec-x.
_SECTION_HEADING = re.compile(r'<section id="([^"]+)"([^>]*)>(\s*)<h([1-6])(?![^>]*\sid=)')
# MathML carries its TeX source for copying; a result should quote the math as shown, not "\alpha".
_ANNOTATION = re.compile(r"<annotation\b[^>]*>.*?</annotation>", re.DOTALL)


def enabled(config: dict) -> bool:
    """Quarto's `book.search` (or `website.search`): on unless it is `false`."""
    for holder in ("book", "website"):
        value = (config.get(holder) or {}).get("search")
        if value is not None:
            return value is not False
    return True


def executable() -> str:
    """The pagefind binary of the `pagefind-bin` wheel (never one on PATH)."""
    try:
        from pagefind_bin import get_executable
    except ImportError:
        raise BuildError("search: pagefind is not installed in bookbuild's environment\nhelp: "
                         "pip install pagefind-bin, or set `search: false` under `book:` in "
                         "_quarto.yml") from None
    return str(get_executable())


def for_index(page: str) -> str:
    """A page as Pagefind should read it: each section's id on its heading, math without its
    TeX source."""
    return _SECTION_HEADING.sub(r'<section\2>\3<h\4 id="\1"', _ANNOTATION.sub("", page))


def index(pages: dict[str, Path], dest: Path, timeout: float = TIMEOUT) -> str:
    """Index `pages` (name relative to the output root -> its file) into `dest/pagefind`;
    return the progress line. Raises BuildError when pagefind fails or runs too long."""
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="bookbuild-search-"))
    try:
        for rel, path in pages.items():
            target = work / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(for_index(path.read_text(encoding="utf-8")), encoding="utf-8")
        cmd = [executable(), "--site", str(work), "--output-path", str(dest / FOLDER)]
        try:
            done = processes.run(cmd, timeout)
        except processes.Timeout as exc:
            raise BuildError(f"search: {exc}; set `search: false` under `book:` in _quarto.yml "
                             "to build without the search index") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if done.returncode != 0:
        said = (done.stderr.strip() or done.stdout.strip()).splitlines()[-3:]
        raise BuildError(f"search: pagefind failed (exit {done.returncode}): " + " / ".join(said)
                         + "\nhelp: set `search: false` under `book:` in _quarto.yml to build "
                         "without the search index")
    return f"search: indexed {len(pages)} page(s) ({time.perf_counter() - started:.1f} s)"
