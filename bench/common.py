"""Timing helpers: medians of several runs of whole commands, reported as ratios."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = ROOT.parent / "shared" / "upstream" / "appendix_machine.qmd"
PY = sys.executable
BOOKBUILD = str(Path(PY).with_name("bookbuild"))


def time_command(cmd: list[str], runs: int = 5, cwd: Path | None = None, setup=None) -> float:
    """Median wall time of `cmd` in seconds; `setup()` runs before each (untimed)."""
    samples = []
    for _ in range(runs):
        if setup:
            setup()
        t = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def report(name: str, ours: float, baseline: float, baseline_name: str, aim: float | None) -> None:
    ratio = ours / baseline
    verdict = ""
    if aim is not None:
        verdict = f"  (aim <= {aim:.2f}x: {'met' if ratio <= aim else 'MISSED'})"
    print(f"{name}: {ours * 1000:.0f} ms vs {baseline_name} {baseline * 1000:.0f} ms "
          f"= {ratio:.2f}x{verdict}", flush=True)
