"""TikZ figures: a figure that never finishes is stopped at the configured timeout, located, and a
damaged cached SVG is rebuilt, never published."""

from __future__ import annotations

import time
from pathlib import Path

from tests.faults.conftest import bb

FIGURE = """\
# Drawn

::: {#fig-box}
```{.tikz}
\\begin{tikzpicture}
\\draw (0,0) rectangle (2,1) node[midway] {BODY};
\\end{tikzpicture}
```
A box.
:::
"""


def with_figure(book: Path, body: str) -> Path:
    chapter = book / "index.qmd"
    chapter.write_text(FIGURE.replace("BODY", body))
    return chapter


def test_a_figure_that_loops_forever_stops_at_the_timeout(book: Path) -> None:
    config = book / "_quarto.yml"
    config.write_text(config.read_text() + "bookbuild:\n  timeout: 3\n")
    with_figure(book, "x\\def\\spin{\\spin}\\spin")
    started = time.monotonic()
    r = bb("render", "--to", "html", cwd=book, timeout=120)
    assert time.monotonic() - started < 60
    assert r.returncode == 1
    assert "index.qmd:4: figure 'fig-box'" in r.stderr and "did not compile within 3 s" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (book / "_book").exists()


def test_a_truncated_cached_figure_is_rebuilt(book: Path) -> None:
    with_figure(book, "kept")
    assert bb("render", "--to", "html", cwd=book).returncode == 0
    cached = list((book / ".bookbuild" / "tikz").glob("*.svg"))
    assert len(cached) == 1
    whole = cached[0].read_bytes()
    cached[0].write_bytes(whole[: len(whole) // 2])
    r = bb("render", "--to", "html", cwd=book)
    assert r.returncode == 0, r.stderr
    published = list((book / "_book").rglob("tikz-*.svg"))
    assert len(published) == 1 and published[0].read_bytes() == whole
