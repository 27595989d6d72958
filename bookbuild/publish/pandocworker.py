"""Warm pandoc processes (`pandoc lua`) that convert one HTML page per request.

A page converted by the command line pays pandoc's start-up, the loading of every Lua filter and
the parsing of the book's metadata file, about 130 ms of the 220 ms of a typical chapter. A worker
pays them once and then converts page after page, with the same reader, filters, citeproc and
writer options, so the HTML is byte for byte what the command line writes (tests/test_pandoc_
worker.py renders books both ways). Whatever the worker cannot do the same way (a JSON filter,
a failing page, a platform without /dev/fd) goes to the command line, which stays the authority
for errors.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from bookbuild.publish.pandoc import pandoc_path
from bookbuild.system import processes, session
from bookbuild.system.shipped import LUA

SCRIPT = LUA / "pandoc_worker.lua"
DONE = "\x01bookbuild-done "  # the worker's end-of-request line on stderr
CITEPROC = "\x01bookbuild-citeproc "  # marks citeproc's warnings (lua/citeproc_memo.lua)
ENV_SWITCH = "BOOKBUILD_PANDOC_WORKER"  # "0": every page through the command line
# pandoc is built with `-with-rtsopts=-H64m`: fine for one page, but a worker that lives for a
# whole book then keeps a heap of that size. `-H1m` lowers a worker's peak from 130 to 60 MB on
# a 50-chapter book (our models.qmd: 190 to 158 MB) at the same speed per page.
RTS = ["+RTS", "-H1m", "-RTS"]


class WorkerFailed(Exception):
    """The worker could not convert the page; the caller asks the command line instead."""


class WorkerTimeout(Exception):
    """The page took longer than its time limit; the worker was killed with its group."""


@dataclass
class Request:
    """One page, as the command line would get it: markdown, options and the filter chain."""

    markdown: str
    cwd: Path
    reader: str  # e.g. markdown+tex_math_single_backslash
    writer: str  # e.g. html5
    writer_options: dict  # pandoc.WriterOptions fields
    template: Path
    metadata_file: str  # the JSON text the command line would read with --metadata-file
    literals: dict[str, list[str]]  # what the command line passes with -M key=value
    steps: list[str]  # Lua filter paths in order, and "citeproc" where it runs


def enabled() -> bool:
    return os.name == "posix" and os.environ.get(ENV_SWITCH, "1") != "0" and Path("/dev/fd").is_dir()


class Worker:
    """One `pandoc lua` process, its reply pipe and its merged stdout/stderr."""

    def __init__(self) -> None:
        if session.current().interrupted:  # the build is stopping: start no pandoc
            raise WorkerFailed("interrupted")
        read_end, write_end = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [str(pandoc_path()), *RTS, "lua", str(SCRIPT)], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, pass_fds=(write_end,),
                env={**os.environ, "BOOKBUILD_REPLY_FD": str(write_end)},
                start_new_session=True)  # its own group: a timeout or Ctrl-C kills all of it
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        processes.track(self.proc)
        self.replies: queue.Queue[bytes] = queue.Queue()
        self.logs: queue.Queue[str] = queue.Queue()
        self._next_id = 0
        # citeproc's warnings by the worker's memo entry: a page that reuses the entry gets them
        # again, as the command line would print them again
        self._citeproc_warnings: dict[str, list[str]] = {}
        # Readers on their own threads: a page with many warnings must not fill a pipe and
        # stall the worker while we wait on the other one.
        threading.Thread(target=_pump, args=(os.fdopen(read_end, "rb"), self.replies),
                         daemon=True).start()
        threading.Thread(target=_pump, args=(self.proc.stdout, self.logs, True),
                         daemon=True).start()

    def convert(self, req: Request, timeout: float) -> tuple[str, list[str]]:
        """The page's output and its warnings; raises WorkerFailed or WorkerTimeout."""
        self._next_id += 1
        payload = {
            "id": self._next_id, "markdown": req.markdown, "cwd": str(req.cwd),
            "from": req.reader, "to": req.writer, "writer": req.writer_options,
            "template": req.template.read_text(encoding="utf-8"),
            "template_name": str(req.template), "metadata_file": req.metadata_file,
            "literals": req.literals, "steps": req.steps,
        }
        try:
            self.proc.stdin.write((json.dumps(payload) + "\n").encode("utf-8"))
            self.proc.stdin.flush()
        except OSError as exc:
            raise WorkerFailed(f"worker gone: {exc}") from None
        try:
            line = self.replies.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            raise WorkerTimeout(f"pandoc did not finish within {timeout:g} s") from None
        if not line:
            raise WorkerFailed("worker ended")
        answer = json.loads(line)
        warnings = self._warnings(answer.get("id"), min(timeout, 30.0))
        if not answer.get("ok") or answer.get("id") != self._next_id:
            raise WorkerFailed(str(answer.get("error")))
        return answer["output"], warnings

    def _warnings(self, ident: object, timeout: float) -> list[str]:
        lines: list[str] = []
        held: list[str] | None = None  # citeproc's, until the worker says whether they count
        while True:
            try:
                line = self.logs.get(timeout=timeout)
            except queue.Empty:  # the reply came but not its end line: a confused worker
                self.stop()
                raise WorkerFailed("the worker's messages never ended") from None
            if line is None:
                raise WorkerFailed("worker ended")
            if line.startswith(DONE):
                if line[len(DONE):].strip() == str(ident):
                    return lines
                continue
            if line.startswith(CITEPROC):
                kind, _, entry = line[len(CITEPROC):].strip().partition(" ")
                if kind == "begin":
                    held = []
                elif kind == "end" and held is not None:
                    if held:
                        self._citeproc_warnings[entry] = held
                    lines += held
                    held = None
                elif kind == "drop":
                    held = None
                elif kind == "again":
                    lines += self._citeproc_warnings.get(entry, [])
                continue
            (lines if held is None else held).append(line)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        processes.kill(self.proc)


def _pump(stream, into: queue.Queue, text: bool = False) -> None:
    """Lines of `stream` into `into` (decoded with `text`), then an end marker ("" or None)."""
    with stream:
        for raw in stream:
            into.put(raw.decode("utf-8", "replace").rstrip("\n") if text else raw)
    into.put(None if text else b"")


class Pool:
    """Idle workers, shared by the threads that convert pages; one page per worker at a time."""

    def __init__(self) -> None:
        self._idle: list[Worker] = []
        self._lock = threading.Lock()

    def convert(self, req: Request, timeout: float) -> tuple[str, list[str]]:
        with self._lock:
            worker = self._idle.pop() if self._idle else None
        if worker is None or not worker.alive():
            worker = Worker()
        try:
            result = worker.convert(req, timeout)
        except WorkerFailed:
            if worker.alive():  # a page it could not do; the worker itself is fine
                self._give_back(worker)
            raise
        except BaseException:
            worker.stop()
            raise
        self._give_back(worker)
        return result

    def _give_back(self, worker: Worker) -> None:
        with self._lock:
            self._idle.append(worker)

    def close(self) -> None:
        """Stop the idle workers (end of a one-off build)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()


POOL = Pool()
session.on_stop(POOL.close)
atexit.register(POOL.close)  # builds run outside a command's session (tests, a library caller)


def after_build() -> None:
    """A one-off build stops its workers; a session that keeps warm (preview) keeps them."""
    if not session.current().keep_warm:
        POOL.close()
