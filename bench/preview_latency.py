"""Preview save-to-reload latency on our own book, medians of several edits.

- prose edit of appendix/models.qmd vs the bare pandoc binary converting that chapter (aim <= 1.5x)
- code-cell edit of the same chapter vs a cold execution of it, `render --to md --no-cache`
  (aim <= 1.5x)
"""

from __future__ import annotations

import http.client
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from common import BOOKBUILD, ROOT, Run, paired
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


class Reload:
    """One edit of `path` per call, timed from the write to the preview's reload event."""

    def __init__(self, path: Path, events: queue.Queue, old: str, make_new) -> None:
        self.path, self.events, self.old, self.make_new = path, events, old, make_new
        self.text = path.read_text()
        self.count = 0

    def __call__(self) -> None:
        while not self.events.empty():
            self.events.get()
        self.count += 1
        self.path.write_text(self.text.replace(self.old, self.make_new(self.count)))
        while True:
            name, _ = self.events.get(timeout=120)
            if name == "reload":
                break
            if name == "build-error":
                raise RuntimeError("preview build failed during the benchmark")

    def settle(self) -> None:
        """Untimed pause so the watcher is idle before the next edit."""
        time.sleep(0.3)

    def restore(self) -> None:
        self.path.write_text(self.text)


def main(rounds: int = 5) -> None:
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

        prose = Reload(chapter, events, "A handful of small models",
                       lambda i: f"A handful ({i}) of small models")
        paired("preview reload after a prose edit", Run("prose edit", prose, setup=prose.settle),
               Run("bare pandoc on the chapter", [pandoc(), str(chapter), "-o",
                                                  str(work / "bare.html")]), rounds, 1.5)
        prose.restore()
        code = Reload(chapter, events, "n = 4096  # square FP16 matrices, n x n",
                      lambda i: f"n = 4096  # square FP16 matrices, n x n (edit {i})")
        paired("preview reload after a code-cell edit", Run("code edit", code, setup=code.settle),
               Run("cold execution of the chapter", [BOOKBUILD, "render", str(chapter), "--to",
                   "md", "--no-cache", "--output-dir", str(work / "cold")], cwd=root), rounds, 1.5)
        code.restore()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
