"""`check --literals` on the upstream appendix against bare pandoc on the same file.

Warm (execution cached, the lint itself runs in full) vs `pandoc -f markdown -t html`,
measured in interleaved paired rounds in the same run (aim <= 0.5x); the cold case (cache
emptied, one kernel) is reported once for information.
"""

from __future__ import annotations

import shutil
import statistics

from common import BOOKBUILD, Run, paired, upstream_copy
from engine import pandoc


def main(rounds: int = 7) -> None:
    with upstream_copy("bookbuild-bench-literals-") as qmd:
        if qmd is None:
            return
        work = qmd.parent
        lint = [BOOKBUILD, "check", "--literals", str(qmd)]
        bare = [pandoc(), "-f", "markdown", "-t", "html", str(qmd), "-o", str(work / "bare.html")]
        shutil.rmtree(work / ".bookbuild", ignore_errors=True)
        # Exit 1 means findings: the lint did its work.
        cold = Run("cold", lint, cwd=work, codes=(0, 1)).once()[0]  # fills the cache too
        r = paired("check --literals (warm)", Run("lint", lint, cwd=work, codes=(0, 1)),
                   Run("bare pandoc to HTML", bare, cwd=work), rounds, 0.5)
        base = statistics.median(b for _, b in r.times)
        print(f"check --literals (cold, one kernel): {cold * 1000:.0f} ms = "
              f"{cold / base:.2f}x bare pandoc", flush=True)


if __name__ == "__main__":
    main()
