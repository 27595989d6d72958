"""Progress of long work: a live line per chapter on a terminal, plain lines elsewhere (CI)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.total = total
        self.done = 0
        self.started: dict[str, float] = {}
        self.live = None
        if self.stream.isatty():
            from rich.console import Console

            self.console = Console(file=self.stream)
            self.live = self.console.status("")
            self.live.start()

    def start(self, name: str, what: str) -> None:
        self.started[name] = time.perf_counter()
        if self.live is not None:
            self.live.update(f"{what} {', '.join(self.started)}")

    def finish(self, name: str, status: str) -> None:
        self.done += 1
        seconds = time.perf_counter() - self.started.pop(name, time.perf_counter())
        line = f"[{self.done}/{self.total}] {name}: {status} ({seconds:.1f} s)"
        if self.live is not None:
            self.console.print(line)
            self.live.update(f"running {', '.join(self.started)}" if self.started else "")
        else:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
