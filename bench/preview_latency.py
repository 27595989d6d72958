"""Preview save-to-reloaded-page latency on a copy of our own book, in paired interleaved rounds.

Each round times one preview edit and one baseline run back to back, alternating which goes
first, and the ratio of that round is kept; we print the median [min-max] of the ratios.
"Reloaded" means the `reload` event arrived and a fresh GET of the page shows the edit.

- prose edit of appendix/models.qmd vs the bare pandoc binary converting that chapter
  (issue 14 aims at <= 1.5x)
- code-cell edit of the same chapter vs a cold execution of it (`render --to md --no-cache`);
  the absolute median is printed too (issue 14 aims at <= 0.5 s)
"""

from __future__ import annotations

import http.client
import json
import queue
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BOOKBUILD, ROOT  # noqa: E402
from engine import pandoc  # noqa: E402

BUILD_SECONDS: list[float] = []  # the builder's own time per build, from `build-ok` events
PROSE = "A handful of small models"
CODE = "n = 4096  # square FP16 matrices, n x n"
OTHER_CODE = "# EXECUTE: nothing beyond the layouts"


def listen(port: int, events: queue.Queue) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    conn.request("GET", "/__bookbuild__/events")
    resp = conn.getresponse()
    name = ""
    while True:
        line = resp.fp.readline().decode()
        if not line:
            return
        if line.startswith("event: "):
            name = line[7:].strip()
            events.put(name)
        elif line.startswith("data: ") and name == "build-ok":
            BUILD_SECONDS.append(json.loads(line[6:])["seconds"])


def get(port: int, path: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path)
    return conn.getresponse().read().decode("utf-8", "replace")


def reloaded(port: int, events: queue.Queue, chapter: Path, text: str, marker: str,
             page: str = "/appendix/models.html") -> float:
    """Seconds from saving `text` into `chapter` to a served page that shows `marker`."""
    while not events.empty():
        events.get()
    started = time.perf_counter()
    chapter.write_text(text, encoding="utf-8")
    while True:
        name = events.get(timeout=120)
        if name == "build-error":
            raise RuntimeError("preview build failed during the benchmark")
        if name == "reload" and marker in get(port, page):
            return time.perf_counter() - started


def timed(cmd: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=300)
    return time.perf_counter() - started


def paired(rounds: int, candidate: Callable[[int], float], baseline: Callable[[int], float]
           ) -> tuple[list[float], list[float]]:
    """Per-round times of both, alternating which runs first."""
    ours, base = [], []
    for i in range(rounds):
        if i % 2:
            base.append(baseline(i))
            ours.append(candidate(i))
        else:
            ours.append(candidate(i))
            base.append(baseline(i))
        time.sleep(0.3)  # let the watcher settle between rounds
    return ours, base


def summary(name: str, ours: list[float], base: list[float], base_name: str,
            aim: float | None) -> None:
    ratios = [o / b for o, b in zip(ours, base, strict=True)]
    med = statistics.median(ratios)
    verdict = f"  (aim <= {aim:.2f}x: {'met' if med <= aim else 'MISSED'})" if aim else ""
    print(f"{name}: {statistics.median(ours) * 1000:.0f} ms vs {base_name} "
          f"{statistics.median(base) * 1000:.0f} ms; ratio {med:.2f}x "
          f"[{min(ratios):.2f}-{max(ratios):.2f}] over {len(ratios)} rounds{verdict}", flush=True)


def builder_share() -> None:
    """How much of the latency is the build itself (the rest: watcher, events, serving)."""
    if BUILD_SECONDS:
        print(f"  of which the build itself (bookbuild.commands.render in the builder process): "
              f"{statistics.median(BUILD_SECONDS) * 1000:.0f} ms median", flush=True)


def main(rounds: int = 6) -> None:
    work = Path(tempfile.mkdtemp(prefix="bookbuild-bench-preview-"))
    root = work / "book"
    shutil.copytree(ROOT, root, ignore=shutil.ignore_patterns(
        ".venv", ".git", "_book", ".bookbuild", "test-artifacts", "__pycache__", "bench", "tests"))
    proc = subprocess.Popen([BOOKBUILD, "preview", "--no-browser", "--port", "4800"], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(re.search(r":(\d+)/", proc.stdout.readline()).group(1))
        events: queue.Queue = queue.Queue()
        threading.Thread(target=listen, args=(port, events), daemon=True).start()
        deadline = time.monotonic() + 300
        while "reload" not in list(events.queue):  # the first build
            if time.monotonic() > deadline or "build-error" in list(events.queue):
                raise RuntimeError("preview's first build did not succeed")
            time.sleep(0.1)
        chapter = root / "appendix" / "models.qmd"
        text = chapter.read_text(encoding="utf-8")
        bare = [pandoc(), str(chapter), "-o", str(work / "bare.html")]

        def prose(i: int) -> float:
            return reloaded(port, events, chapter, text.replace(PROSE, f"A handful ({i}) of "
                                                                "small models"), f"({i}) of")

        BUILD_SECONDS.clear()
        ours, base = paired(rounds, prose, lambda i: timed(bare, root))
        summary("preview reload after a prose edit", ours, base, "bare pandoc on the chapter",
                1.5)
        builder_share()

        cold = [BOOKBUILD, "render", str(chapter), "--to", "md", "--no-cache", "--output-dir",
                str(work / "cold")]

        def code(i: int) -> float:
            return reloaded(port, events, chapter,
                            text.replace(CODE, f"{CODE} (edit {i})"), "")

        BUILD_SECONDS.clear()
        ours, base = paired(rounds, code, lambda i: timed(cold, root))
        summary("preview reload after a code-cell edit", ours, base,
                "cold execution of the chapter", None)
        builder_share()
        med = statistics.median(ours)
        print(f"preview reload after a code-cell edit, absolute: {med * 1000:.0f} ms "
              f"(aim <= 500 ms: {'met' if med <= 0.5 else 'MISSED'})", flush=True)
        chapter.write_text(text, encoding="utf-8")

        # The same in a chapter without a plot: models.qmd's figure cell alone (matplotlib's
        # tight_layout and savefig of a log-log plot) takes 0.5-0.9 s.
        other = root / "appendix" / "formats.qmd"
        plain = other.read_text(encoding="utf-8")
        BUILD_SECONDS.clear()
        times = [reloaded(port, events, other, plain.replace(OTHER_CODE, f"{OTHER_CODE} ({i})"),
                          "", "/appendix/formats.html") for i in range(rounds)]
        other.write_text(plain, encoding="utf-8")
        med = statistics.median(times)
        print(f"preview reload after a code-cell edit in formats.qmd (no plot): {med * 1000:.0f} "
              f"ms [{min(times) * 1000:.0f}-{max(times) * 1000:.0f}] "
              f"(aim <= 500 ms: {'met' if med <= 0.5 else 'MISSED'})", flush=True)
        builder_share()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
