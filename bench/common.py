"""Paired benchmark rounds: baseline and candidate alternate, and each round yields one ratio.

Timing all baseline runs before all candidate runs lets machine drift (other jobs on a shared
2-core box, thermal state, page cache) land in the ratio. Here every round times both, in an
order that rotates, and the report is the median [min-max] of the per-round ratios.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _upstream() -> Path:
    """../shared/upstream/appendix_machine.qmd beside the repository (or beside the main
    checkout, when this is a git worktree elsewhere)."""
    here = ROOT.parent / "shared" / "upstream" / "appendix_machine.qmd"
    if here.is_file():
        return here
    common = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--git-common-dir"],
                            capture_output=True, text=True, timeout=30).stdout.strip()
    if common:
        main = (ROOT / common).resolve().parent
        return main.parent / "shared" / "upstream" / "appendix_machine.qmd"
    return here


UPSTREAM = _upstream()
PY = sys.executable
BOOKBUILD = str(Path(PY).with_name("bookbuild"))
TIMEOUT = 600  # seconds for any one benchmarked command


@dataclass
class Run:
    """One side of a comparison: a command (or a Python callable) and an untimed setup step."""

    name: str
    cmd: list[str] | Callable[[], None]
    cwd: Path | None = None
    setup: Callable[[], None] | None = None
    env: dict[str, str] | None = None
    codes: tuple[int, ...] = (0,)  # exit codes that mean the command did its work

    def once(self) -> tuple[float, int]:
        """Wall seconds and peak summed PSS (bytes) of the process tree, setup excluded."""
        if self.setup:
            self.setup()
        if callable(self.cmd):
            t = time.perf_counter()
            self.cmd()
            return time.perf_counter() - t, 0
        env = None if self.env is None else {**os.environ, **self.env}
        t = time.perf_counter()
        proc = subprocess.Popen(self.cmd, cwd=self.cwd, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        peak = PeakRss(proc.pid)
        peak.start()
        try:
            _, err = proc.communicate(timeout=TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            peak.stop()
        elapsed = time.perf_counter() - t
        if proc.returncode not in self.codes:
            raise RuntimeError(f"{self.name}: {' '.join(self.cmd)} exited {proc.returncode}\n{err}")
        return elapsed, peak.peak


@dataclass
class Paired:
    """Per-round samples of a paired comparison."""

    name: str
    times: list[tuple[float, float]]  # (candidate, baseline) seconds per round
    rss: list[tuple[int, int]]

    @property
    def ratios(self) -> list[float]:
        return [c / b for c, b in self.times]

    @property
    def rss_ratios(self) -> list[float]:
        return [c / b for c, b in self.rss if b]


def paired(name: str, candidate: Run, baseline: Run, rounds: int = 5, aim: float | None = None,
           memory: bool = False) -> Paired:
    """Time `rounds` rounds of both runs, alternating which goes first, and print the ratio."""
    times, rss = [], []
    for i in range(rounds):
        order = (candidate, baseline) if i % 2 else (baseline, candidate)
        got = {id(r): r.once() for r in order}
        c, b = got[id(candidate)], got[id(baseline)]
        times.append((c[0], b[0]))
        rss.append((c[1], b[1]))
    result = Paired(name, times, rss)
    print(line(name, result.ratios, [c for c, _ in times], [b for _, b in times], baseline.name,
               aim), flush=True)
    if memory:
        print(line(f"{name}, peak PSS", result.rss_ratios, [c for c, _ in rss],
                   [b for _, b in rss], baseline.name, None, unit="MB"), flush=True)
    return result


def line(name: str, ratios: list[float], ours: list[float], base: list[float], base_name: str,
         aim: float | None, unit: str = "ms") -> str:
    """`name: 0.42x [0.40-0.47] (123 ms vs baseline 290 ms)  (aim <= 0.5x: met)`."""
    scale = 1000 if unit == "ms" else 1 / 2**20
    med = statistics.median(ratios)
    text = (f"{name}: {med:.2f}x [{min(ratios):.2f}-{max(ratios):.2f}] "
            f"({statistics.median(ours) * scale:.0f} {unit} vs {base_name} "
            f"{statistics.median(base) * scale:.0f} {unit}; {len(ratios)} paired rounds)")
    if aim is not None:
        text += f"  (aim <= {aim:.2f}x: {'met' if med <= aim else 'MISSED'})"
    return text


def absolute(name: str, run: Run, rounds: int = 5, aim: float | None = None) -> float:
    """Median [min-max] wall time of a run that has no same-run baseline (an absolute aim)."""
    samples = [run.once()[0] for _ in range(rounds)]
    med = statistics.median(samples)
    text = (f"{name}: {med * 1000:.0f} ms [{min(samples) * 1000:.0f}-{max(samples) * 1000:.0f}] "
            f"({rounds} runs)")
    if aim is not None:
        text += f"  (aim <= {aim * 1000:.0f} ms: {'met' if med <= aim else 'MISSED'})"
    print(text, flush=True)
    return med


class PeakRss:
    """Samples the summed memory of a process and its descendants every 20 ms: proportional set
    size (shared pages split between their sharers, so forked kernels are not counted as full
    copies of their template), or resident size where PSS cannot be read."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, sum(_memory(p) for p in _tree(self.pid)))
            self._done.wait(0.02)


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def _memory(pid: int) -> int:
    """PSS of one process in bytes (RSS if smaps_rollup is unreadable; 0 once it is gone)."""
    try:
        for row in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if row.startswith("Pss:"):
                return int(row.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


@contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A temporary folder removed afterwards."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


@contextmanager
def upstream_copy(prefix: str) -> Iterator[Path | None]:
    """A scratch folder holding a copy of the upstream appendix (None when ../shared is absent)."""
    if not UPSTREAM.is_file():
        print(f"skipped: {UPSTREAM} not found")
        yield None
        return
    with scratch(prefix) as work:
        qmd = work / "appendix_machine.qmd"
        shutil.copy(UPSTREAM, qmd)
        yield qmd


def prose_editor(qmd: Path, anchor: str = "This appendix collects") -> Callable[[], None]:
    """A setup step that makes a new prose-only edit of `qmd` each time it is called."""
    text = qmd.read_text(encoding="utf-8")
    if anchor not in text:
        raise ValueError(f"{qmd}: prose anchor {anchor!r} not found")
    edits = iter(range(1_000_000))

    def edit() -> None:
        qmd.write_text(text.replace(anchor, f"{anchor} (edit {next(edits)})", 1), encoding="utf-8")

    return edit
