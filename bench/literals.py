"""`check --literals` on the upstream appendix against bare pandoc on the same file.

Warm (execution cached, the lint itself runs in full) vs `pandoc -f markdown -t html`,
measured in interleaved paired rounds in the same run (aim <= 0.5x); the cold case (cache
emptied, one kernel) is reported once for information.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import time

import common
from common import BOOKBUILD, upstream_copy
from engine import pandoc


def _find_upstream() -> None:
    """From a git worktree, ../shared lies beside the main checkout rather than beside us."""
    if common.UPSTREAM.is_file():
        return
    out = subprocess.run(["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
                         cwd=common.ROOT, capture_output=True, text=True, timeout=30).stdout
    if out.strip():
        from pathlib import Path

        candidate = Path(out.strip()).parent.parent / "shared" / "upstream" / common.UPSTREAM.name
        if candidate.is_file():
            common.UPSTREAM = candidate


def _once(cmd: list[str], cwd) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=300)
    return time.perf_counter() - t


def _spread(xs: list[float]) -> str:
    return f"{statistics.median(xs) * 1000:.0f} ms [{min(xs) * 1000:.0f}-{max(xs) * 1000:.0f}]"


def main(rounds: int = 7) -> None:
    _find_upstream()
    with upstream_copy("bookbuild-bench-literals-") as qmd:
        if qmd is None:
            return
        work = qmd.parent
        lint = [BOOKBUILD, "check", "--literals", str(qmd)]
        bare = [pandoc(), "-f", "markdown", "-t", "html", str(qmd), "-o", str(work / "bare.html")]
        shutil.rmtree(work / ".bookbuild", ignore_errors=True)
        cold = _once(lint, work)  # also fills the cache for the warm rounds
        ours, base = [], []
        for i in range(rounds):  # interleaved, alternating which goes first
            pair = [(lint, ours), (bare, base)]
            for cmd, into in (pair if i % 2 == 0 else pair[::-1]):
                into.append(_once(cmd, work))
        ratio = statistics.median(ours) / statistics.median(base)
        paired = statistics.median(o / b for o, b in zip(ours, base, strict=True))
        print(f"check --literals (warm): {_spread(ours)} vs bare pandoc to HTML {_spread(base)} "
              f"= {ratio:.2f}x (paired median {paired:.2f}x; aim <= 0.50x: "
              f"{'met' if ratio <= 0.5 else 'MISSED'})", flush=True)
        print(f"check --literals (cold, one kernel): {cold * 1000:.0f} ms = "
              f"{cold / statistics.median(base):.2f}x bare pandoc", flush=True)


if __name__ == "__main__":
    main()
