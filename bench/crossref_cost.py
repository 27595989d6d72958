"""What cross-references cost on the upstream appendix, against baselines from the same run.

- pandoc to HTML with crossref.lua vs the same pandoc run without any filter (aim <= 1.5x)
- the book-wide index (bookbuild.analysis.crossref.build_index, parse excluded) vs parsing the same
  chapter (aim <= 3.0x: a few regex passes over the text a parse reads once)
"""

from __future__ import annotations

import statistics
import sys
import time

from common import PY, ROOT, report, time_command, upstream_copy

sys.path.insert(0, str(ROOT))


def median_call(fn, runs: int = 15) -> float:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def main(rounds: int = 5) -> None:
    from bookbuild.analysis import crossref
    from bookbuild.publish.pandoc import pandoc_path
    from bookbuild.source.qmd import parse_file

    with upstream_copy("bench-crossref-") as qmd:
        if qmd is None:
            return
        pandoc = [str(pandoc_path()), "-f", "markdown", "-t", "html5", "--mathml", str(qmd), "-o", "/dev/null"]
        filtered = [*pandoc, "--lua-filter", str(ROOT / "filters" / "crossref.lua"), "-M", "crossref-chapters=1"]
        base = time_command(pandoc)
        ours = time_command(filtered)
        report("pandoc + crossref.lua", ours, base, "pandoc alone", 1.5)

        def index() -> None:
            crossref._blanked.cache_clear()  # a cold index, as a build computes it
            crossref.build_index([(parse_file(qmd), False)])

        parse = median_call(lambda: parse_file(qmd))
        report("crossref index", median_call(index) - parse, parse, "qmd parse", 3.0)


if __name__ == "__main__":
    print(f"python: {PY}")
    main()
