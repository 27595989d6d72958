"""Timing helpers: medians of several runs of whole commands, reported as ratios."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


@contextmanager
def upstream_copy(prefix: str) -> Iterator[Path | None]:
    """A scratch folder holding a copy of the upstream appendix (None when ../shared is absent)."""
    if not UPSTREAM.is_file():
        print(f"skipped: {UPSTREAM} not found")
        yield None
        return
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        qmd = work / "appendix_machine.qmd"
        shutil.copy(UPSTREAM, qmd)
        yield qmd
    finally:
        shutil.rmtree(work, ignore_errors=True)


def prose_editor(qmd: Path) -> Callable[[], None]:
    """A setup step that makes a new prose-only edit of `qmd` each time it is called."""
    text = qmd.read_text(encoding="utf-8")
    edits = iter(range(1_000_000))

    def edit() -> None:
        qmd.write_text(text.replace("This appendix collects",
                                    f"This appendix (edit {next(edits)}) collects"), encoding="utf-8")

    return edit
