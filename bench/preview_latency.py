"""Preview save-to-reload latency on our own book, medians of several edits.

- prose edit of appendix/models.qmd vs the bare pandoc binary converting that chapter (aim <= 1.3x)
- code-cell edit of the same chapter vs a cold execution of it, `render --to md --no-cache`
  (aim <= 1.5x)
"""

from __future__ import annotations

import http.client
import queue
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from common import BOOKBUILD, ROOT, report, time_command
from engine import pandoc


def listen(port: int, events: queue.Queue) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    conn.request("GET", "/__bookbuild__/events")
    resp = conn.getresponse()
    while True:
        line = resp.fp.readline().decode()
        if not line:
            return
        if line.startswith("event: "):
            events.put((line[7:].strip(), time.perf_counter()))


def latency(path: Path, events: queue.Queue, old: str, make_new, runs: int) -> float:
    samples = []
    text = path.read_text()
    for i in range(runs):
        while not events.empty():
            events.get()
        started = time.perf_counter()
        path.write_text(text.replace(old, make_new(i)))
        while True:
            name, at = events.get(timeout=120)
            if name == "reload":
                samples.append(at - started)
                break
            if name == "build-error":
                raise RuntimeError("preview build failed during the benchmark")
        time.sleep(0.3)
    path.write_text(text)
    return statistics.median(samples)


def main(runs: int = 5) -> None:
    work = Path(tempfile.mkdtemp(prefix="bookbuild-bench-preview-"))
    root = work / "book"
    shutil.copytree(ROOT, root, ignore=shutil.ignore_patterns(".venv", ".git", "_book", ".bookbuild",
                                                                "test-artifacts", "__pycache__"))
    proc = subprocess.Popen([BOOKBUILD, "preview", "--no-browser", "--port", "4800"], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(re.search(r":(\d+)/", proc.stdout.readline()).group(1))
        events: queue.Queue = queue.Queue()
        threading.Thread(target=listen, args=(port, events), daemon=True).start()
        time.sleep(0.5)
        chapter = root / "appendix" / "models.qmd"

        prose = latency(chapter, events, "A handful of small models",
                        lambda i: f"A handful ({i}) of small models", runs)
        bare = time_command([pandoc(), str(chapter), "-o", str(work / "bare.html")], runs)
        report("preview reload after a prose edit", prose, bare, "bare pandoc on the chapter", 1.3)

        code = latency(chapter, events, "n = 4096  # square FP16 matrices, n x n",
                       lambda i: f"n = 4096  # square FP16 matrices, n x n (edit {i})", runs)
        cold = time_command([BOOKBUILD, "render", str(chapter), "--to", "md", "--no-cache",
                             "--output-dir", str(work / "cold")], runs, cwd=root)
        report("preview reload after a code-cell edit", code, cold, "cold execution of the chapter", 1.5)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
