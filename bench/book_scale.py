"""Book-scale benchmarks on synthetic books generated here, each paired with a same-run baseline.

- cold 10-chapter `render --to html` whose constants package takes 2 s of CPU to import:
  warm kernels vs plain kernels (`warm-kernels: false`), and what the 2 s package adds to the
  build (against the same book with an instant package) divided by the time of one import of
  it alone in the same round (aim <= 1.25x: the issue's "adds <= 2.5 s" for a 2 s import)
- no-op `render --to html` of a 50-chapter book vs `bookbuild --version` (aim <= 1 s)
- prose edit in one of those chapters vs bare pandoc on that chapter (aim <= 1 s)
- peak memory (summed PSS) of a cold 50-chapter build, warm vs plain kernels
- no-op `render --to html` of a 100-chapter book vs the same of a 50-chapter one (issue 32:
  nothing per unchanged chapter, so aim <= 1.25x), and its absolute time (aim <= 0.3 s)
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from common import BOOKBUILD, Run, absolute, line, paired, prose_editor, scratch
from engine import pandoc

PLAIN = "bookbuild:\n  warm-kernels: false\n"

# A constants package like a real book's: pint quantities behind an import that costs CPU time
# (process time, so a loaded machine does not shorten or lengthen the work itself).
PACKAGE = '''"""Synthetic constants package whose import costs {seconds} s of CPU."""
import time

import pint

_start = time.process_time()
while time.process_time() - _start < {seconds}:
    pass

ureg = pint.UnitRegistry()
BANDWIDTH = 3.35 * ureg("TB/s")
FLOPS = 989e12 / ureg.second
'''

CHAPTER = '''---
title: "Chapter {i}"
---

# Chapter {i} {{#sec-ch{i}}}

Synthetic prose for chapter {i}. A few sentences stand in for the text of a real chapter,
with *emphasis*, `code`, and a list:

- first point of chapter {i}
- second point, which refers to @sec-ch0

```{{python}}
#| label: calc-{i}
from bookconst import BANDWIDTH, FLOPS, ureg

class C{i}:
    """Numbers quoted in chapter {i}."""
    ridge = (FLOPS / BANDWIDTH).to("1/byte").magnitude
    scaled = f"{{ridge * {j}:,.0f}}"
```

## Results

The ridge point times {j} is `{{python}} C{i}.scaled` FLOP per byte.

| quantity | value |
|---|---|
| ridge | `{{python}} C{i}.scaled` |

: Values for chapter {i} {{#tbl-ch{i}}}

More prose closes chapter {i}; this paragraph is the one the prose-edit benchmark edits.
'''


def make_book(root: Path, chapters: int, import_seconds: float = 0.0, settings: str = "") -> Path:
    """A book of `chapters` synthetic chapters whose package imports in `import_seconds`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "bookconst").mkdir(exist_ok=True)
    (root / "bookconst" / "__init__.py").write_text(PACKAGE.format(seconds=import_seconds))
    names = []
    (root / "ch").mkdir(exist_ok=True)
    for i in range(chapters):
        name = f"ch/c{i:03d}.qmd"
        (root / name).write_text(CHAPTER.format(i=i, j=i + 1))
        names.append(name)
    listing = "\n".join(f"    - {n}" for n in names)
    (root / "_quarto.yml").write_text(
        # the package lies at the root, the chapters in ch/: cells run from the root
        f"project:\n  type: book\n  execute-dir: project\nbook:\n  title: Scale\n  chapters:\n{listing}\n"
        f"format:\n  html: {{}}\n{settings}")
    return root


def cold(root: Path, name: str) -> Run:
    """A cold HTML render of the book at `root` (its caches emptied before each run)."""
    def empty() -> None:
        for d in (".bookbuild", "_book"):
            shutil.rmtree(root / d, ignore_errors=True)

    return Run(name, [BOOKBUILD, "render", "--to", "html"], cwd=root, setup=empty)


def import_cost(rounds: int) -> None:
    with scratch("bookbuild-bench-import-") as work:
        slow = make_book(work / "slow", 10, 2.0)
        slow_plain = make_book(work / "slow-plain", 10, 2.0, PLAIN)
        fast = make_book(work / "fast", 10, 0.0)
        paired("cold 10-chapter HTML, 2 s package, warm vs plain kernels",
               cold(slow, "warm"), cold(slow_plain, "plain kernels"), rounds)
        # What the 2 s package adds to the warm build, against what importing it alone takes
        # right now (on a loaded machine 2 s of CPU take longer than 2 s): aim <= 1.25x, the
        # issue's 2.5 s for a 2 s import.
        alone = Run("import alone", [sys.executable, "-c", "import bookconst"], cwd=slow)
        runs = [cold(slow, "2 s"), cold(fast, "instant package"), alone]
        samples = []
        for i in range(rounds):
            order = runs[i % 3:] + runs[:i % 3]
            got = {id(r): r.once()[0] for r in order}
            samples.append((got[id(runs[0])] - got[id(runs[1])], got[id(alone)]))
        print(line("cold 10-chapter HTML, warm kernels: time the 2 s package adds / its import alone",
                   [a / b for a, b in samples], [a for a, _ in samples], [b for _, b in samples],
                   "import alone", 1.25), flush=True)


def fifty(rounds: int, chapters: int = 50) -> None:
    with scratch("bookbuild-bench-fifty-") as work:
        book = make_book(work / "warm", chapters)
        plain = make_book(work / "plain", chapters, settings=PLAIN)
        paired(f"cold {chapters}-chapter HTML, warm vs plain kernels", cold(book, "warm"),
               cold(plain, "plain kernels"), rounds, memory=True)

        render = [BOOKBUILD, "render", "--to", "html"]
        Run("prime", render, cwd=book).once()
        noop = Run("no-op", render, cwd=book)
        paired(f"no-op HTML render, {chapters} chapters", noop,
               Run("bookbuild --version", [BOOKBUILD, "--version"]), rounds)
        absolute(f"no-op HTML render, {chapters} chapters (absolute)", noop, rounds, aim=1.0)

        chapter = book / "ch" / "c007.qmd"
        edit = Run("prose edit", render, cwd=book,
                   setup=prose_editor(chapter, "More prose closes chapter 7"))
        paired(f"HTML render after a prose edit, {chapters} chapters", edit,
               Run("bare pandoc on the chapter", [pandoc(), str(chapter), "-o",
                                                  str(work / "bare.html")]), rounds)
        absolute(f"HTML render after a prose edit, {chapters} chapters (absolute)", edit, rounds,
                 aim=1.0)


def noop_growth(rounds: int, sizes: tuple[int, int] = (50, 100)) -> None:
    """What a no-op render costs per chapter: the larger book against the smaller, same run."""
    with scratch("bookbuild-bench-noop-") as work:
        render = [BOOKBUILD, "render", "--to", "html"]
        runs = []
        for n in sizes:
            book = make_book(work / f"b{n}", n)
            Run("prime", render, cwd=book).once()
            runs.append(Run(f"no-op, {n} chapters", render, cwd=book))
        paired(f"no-op HTML render, {sizes[1]} vs {sizes[0]} chapters", runs[1], runs[0], rounds,
               aim=1.25)
        absolute(f"no-op HTML render, {sizes[1]} chapters (absolute)", runs[1], rounds, aim=0.3)


def main(rounds: int = 5) -> None:
    import_cost(rounds)
    fifty(rounds)
    noop_growth(rounds)


def main_import(rounds: int = 5) -> None:
    import_cost(rounds)


def main_fifty(rounds: int = 5) -> None:
    fifty(rounds)


def main_noop(rounds: int = 5) -> None:
    noop_growth(rounds)


if __name__ == "__main__":
    main()
