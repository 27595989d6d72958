"""A chapter built from 20 `{{< include >}}`s against the same text written inline.

Both books are rendered once (cold) to fill the cache; then paired rounds alternate the two, so
drift on a shared machine hits both alike. Reported: median of the per-round ratios for
`bookbuild check` and for a cached `render --to md` (parse, include, substitute, write).
Aim: <= 1.1x.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from common import BOOKBUILD, Run, paired

PARTS = 20
CONFIG = "project:\n  type: book\nbook:\n  title: Bench\n  chapters:\n    - ch.qmd\n"


def part(i: int) -> str:
    prose = " ".join(f"Sentence {k} of part {i} says something about the numbers." for k in range(12))
    refs = " ".join(f"`{{python}} P{i}.v{k}`" for k in range(5))
    attrs = "\n".join(f"    v{k} = {i} * {k} + 1" for k in range(5))
    return (f"## Part {i}\n\n```{{python}}\nclass P{i}:\n{attrs}\n```\n\n{prose}\n\n"
            f"Values: {refs}.\n\n{prose}\n")


def make_books(work: Path) -> tuple[Path, Path]:
    included, inline = work / "included", work / "inline"
    for root in (included, inline):
        root.mkdir()
        (root / "_quarto.yml").write_text(CONFIG, encoding="utf-8")
    parts = [part(i) for i in range(PARTS)]
    for i, text in enumerate(parts):
        (included / f"_part{i:02}.qmd").write_text(text, encoding="utf-8")
    heads = "# Chapter\n\n"
    (included / "ch.qmd").write_text(
        heads + "\n".join(f"{{{{< include _part{i:02}.qmd >}}}}\n" for i in range(PARTS)),
        encoding="utf-8")
    (inline / "ch.qmd").write_text(heads + "\n".join(parts), encoding="utf-8")
    return included, inline


def run(cmd: list[str], cwd: Path) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=300)
    return time.perf_counter() - t


def in_process(a: Path, b: Path, rounds: int) -> tuple[float, float, float]:
    """Parse and check in this process (no interpreter start-up to drown the difference):
    per round the best of 10 runs each, alternating; medians as in `paired`."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bookbuild.analysis.check import check_files

    def best(root: Path) -> float:
        times = []
        for _ in range(10):
            t = time.perf_counter()
            check_files([root / "ch.qmd"], root)
            times.append(time.perf_counter() - t)
        return min(times)

    ta, tb, ratios = [], [], []
    for r in range(rounds):
        x, y = (best(a), best(b)) if r % 2 == 0 else tuple(reversed((best(b), best(a))))
        ta.append(x)
        tb.append(y)
        ratios.append(x / y)
    return statistics.median(ta), statistics.median(tb), statistics.median(ratios)


def main(rounds: int = 15) -> None:
    work = Path(tempfile.mkdtemp(prefix="bookbuild-bench-includes-"))
    try:
        included, inline = make_books(work)
        render = [BOOKBUILD, "render", "--to", "md"]
        for root in (included, inline):  # cold: fill the cache, and check the outputs agree
            run(render, root)
        same = (included / "_book" / "ch.md").read_text() == (inline / "_book" / "ch.md").read_text()
        print(f"includes: rendered markdown identical to the inline chapter: {same}")
        for name, cmd in (("check", [BOOKBUILD, "check"]), ("render --to md (cached)", render)):
            paired(f"includes: {name}, {PARTS} includes", Run("includes", cmd, cwd=included),
                   Run("inline", cmd, cwd=inline), rounds, 1.1)
        a, b, ratio = in_process(included, inline, rounds)
        verdict = "met" if ratio <= 1.1 else "MISSED"
        print(f"includes: parse + check in process: {a * 1000:.1f} ms vs inline {b * 1000:.1f} ms"
              f" = {ratio:.2f}x (aim <= 1.10x: {verdict})", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
