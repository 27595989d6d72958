"""The builder: a long-lived child process that runs one build per request.

Builds run in a child process of their own session so that stopping preview can kill the whole
tree at once (the builder, pandoc, LaTeX, dvisvgm, and the kernels, which jupyter_client starts
in sessions of their own), and so that a crash in a build never takes the server down: the
parent notices the dead child and starts a new one. The child stays alive between edits, so its
imports and warm state are paid once per preview session, not once per edit.

Protocol: one JSON line per request on stdin (`{"changed": [paths] | null}`), one JSON line per
result on the original stdout (`{"ok": bool, "message": str, "built": [paths]}`).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import shutil
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

# Lines of a failed build's output that are progress, not the error a reader needs.
PROGRESS_PREFIXES = ("[", "tikz:", "html:", "note:", "wrote ")


@dataclass
class Result:
    """What one build came to, as the page and the terminal see it."""

    ok: bool
    message: str = ""
    built: list[str] = field(default_factory=list)  # chapters built; [] means the whole book
    whole: bool = False
    seconds: float = 0.0
    skipped: bool = False  # nothing a page is made from changed: nothing built or reloaded


# ----------------------------------------------------------------------------------------------
# child side


class Tee(io.TextIOBase):
    """Writes to the terminal and keeps a copy, so a failed build's messages reach the page.

    The copy is kept line by line per thread: the static check prints its problems from a
    thread while the kernels' progress prints from the event loop, and `print` writes a line's
    text and its newline in two calls, so a problem could end up glued behind a progress line
    and be dropped with it from the overlay.
    """

    def __init__(self, terminal) -> None:
        self.terminal = terminal
        self._lines = io.StringIO()
        self._partial: dict[int, str] = {}  # by thread: text not yet ended by a newline
        self._lock = threading.Lock()

    def write(self, s: str) -> int:
        with self._lock:
            self.terminal.write(s)
            self.terminal.flush()
            thread = threading.get_ident()
            done, newline, rest = (self._partial.pop(thread, "") + s).rpartition("\n")
            self._lines.write(done + newline)
            if rest:
                self._partial[thread] = rest
        return len(s)

    def text(self) -> str:
        """Everything written so far, whole lines of each thread kept together."""
        with self._lock:
            return self._lines.getvalue() + "".join(p + "\n" for p in self._partial.values())

    def flush(self) -> None:
        self.terminal.flush()

    def isatty(self) -> bool:
        return False  # plain progress lines: a live status line would end up in the overlay


def located_config_error(root: Path, exc: BaseException) -> str:
    """`_quarto.yml:LINE:COL: what` for a YAML error; the project's own message otherwise."""
    import bookbuild.preview.engine as engine

    if engine.is_located(exc):  # already `file:line: message`, as the CLI prints it
        return str(exc).replace(str(root) + os.sep, "")
    cause = exc.__cause__ or exc
    mark = getattr(cause, "problem_mark", None)
    if mark is not None:
        problem = getattr(cause, "problem", None) or "invalid YAML"
        return (f"_quarto.yml:{mark.line + 1}:{mark.column + 1}: {problem}; fix the YAML and save "
                "(preview rebuilds by itself)")
    text = str(exc).replace(str(root / "_quarto.yml"), "_quarto.yml")
    return text if text.startswith("_quarto.yml") else f"_quarto.yml: {type(exc).__name__}: {text}"


def run_build(root: Path, out: Path, changed: list[str] | None) -> Result:
    """One build for the `changed` paths (None: the whole book); never raises.

    The message is what the overlay shows when it fails.
    """
    import bookbuild.preview.engine as engine
    from bookbuild.preview.watcher import plan

    started = time.perf_counter()
    if not (root / "_quarto.yml").is_file():
        return _config_failure("_quarto.yml: missing from the project folder; restore it (preview "
                               "rebuilds when it is back)")
    try:
        proj = engine.load(root)
        listed = engine.chapters(proj)
    except Exception as exc:  # a broken _quarto.yml must not stop preview
        return _config_failure(located_config_error(root, exc))
    missing = [c for c in listed if not c.is_file()]
    if missing:
        names = ", ".join(str(c.relative_to(root)) for c in missing)
        return _config_failure(f"_quarto.yml: listed chapter(s) not found: {names}; create the "
                               "file or remove it from the book's chapters")
    chosen = None if changed is None else plan({Path(p) for p in changed}, listed, _INPUTS)
    if chosen == []:  # say, a log file of preview's own messages: building would write it again
        return Result(True, skipped=True)
    whole = chosen is None
    chosen = listed if chosen is None else chosen
    what = "the book" if whole else ", ".join(str(c.relative_to(root)) for c in chosen)
    print(f"preview: building {what}", file=sys.stderr, flush=True)
    tee = Tee(sys.stderr)
    try:
        with contextlib.redirect_stderr(tee):
            read: set[Path] = set()
            code = engine.build_html(proj, chosen, out, read, whole=whole)
            _remember_inputs(read, whole)
    except (Exception, SystemExit) as exc:  # a bug in a build must not end preview
        log = out.parent / "preview-crash.log"
        with contextlib.suppress(OSError):
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        code = 1
        tee.write(f"internal error while building: {type(exc).__name__}: {exc} "
                  f"(traceback in {log})\n")
    built = [] if whole else [str(c) for c in chosen]
    seconds = time.perf_counter() - started
    if code == 0:
        return Result(True, "", built, whole, seconds)
    lines = [line for line in tee.text().splitlines()
             if line.strip() and not line.startswith(PROGRESS_PREFIXES)]
    return Result(False, "\n".join(lines).strip() or f"the build failed (exit {code})", built,
                  whole, seconds)


# What the builds so far were made from (None until one has run): `plan` rebuilds nothing for a
# changed file outside it that no chapter names either.
_INPUTS: set[Path] | None = None


def _remember_inputs(read: set[Path], whole: bool) -> None:
    global _INPUTS
    if not read:  # the build stopped before its chapters were read: keep what was known
        return
    _INPUTS = set(read) if whole or _INPUTS is None else _INPUTS | read


def _config_failure(message: str) -> Result:
    print(message, file=sys.stderr, flush=True)
    return Result(False, message, whole=True)


def child_main(root: str, out: str) -> None:
    """Serve build requests until stdin closes; the parent kills this process to stop a build.

    No signal handler here: nbclient replaces SIGTERM's while a kernel runs and resets it to
    the default afterwards, so the parent does all the killing itself.
    """
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything a library prints goes to the terminal, never into the protocol

    import bookbuild.preview.engine as engine

    with engine.warm_session():
        for line in sys.stdin:
            request = json.loads(line)
            result = run_build(Path(root), Path(out), request.get("changed"))
            protocol.write(json.dumps(result.__dict__) + "\n")
            protocol.flush()
            try:  # after the reply: the page reloads while the next edit's kernel starts
                engine.keep_kernels_warm()
            except Exception as exc:  # noqa: BLE001  a missing spare only costs the next edit
                print(f"preview: no kernel kept warm ({type(exc).__name__}: {exc})",
                      file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------
# parent side


# Started with -c, not -m: either puts the working folder (the book) first on sys.path, where
# a chapter's helper named like a library (`numbers.py`, `yaml.py`) would shadow it; drop it.
CHILD = ("import sys; sys.path.pop(0); from bookbuild.preview.builder import child_main; "
         "child_main(sys.argv[1], sys.argv[2])")


class Builder:
    """The parent's handle on the builder child: start it, send builds, kill its whole tree."""

    def __init__(self, root: Path, out: Path) -> None:
        self.root, self.out = root, out
        self.proc: asyncio.subprocess.Process | None = None
        self.scratch: str | None = None

    async def _spawn(self) -> asyncio.subprocess.Process:
        # The child's temporary folders (kernels' and templates' sockets, pandoc's and TeX's
        # work) go into one private TMPDIR, removed whole once its tree is killed: a kernel
        # killed before it bound its sockets cannot be traced back to its folder. The kernels
        # themselves get the user's TMPDIR back (execute.kernel_env).
        self._remove_scratch()
        from bookbuild.execution.execute import USER_TMPDIR
        from bookbuild.system.sockets import socket_dir

        self.scratch = socket_dir("bookbuild-preview-")
        env = dict(os.environ, TMPDIR=self.scratch, **{USER_TMPDIR: os.environ.get("TMPDIR", "")})
        return await asyncio.create_subprocess_exec(
            sys.executable, "-c", CHILD, str(self.root), str(self.out),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=self.root,
            env=env, start_new_session=True)  # its own process group: pandoc and LaTeX die with it

    def _remove_scratch(self) -> None:
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

    async def build(self, changed: list[Path] | None) -> Result:
        """Build for `changed` (None: the whole book) in the child, starting one if needed."""
        if self.proc is None or self.proc.returncode is not None:
            self.proc = await self._spawn()
        request = {"changed": None if changed is None else [str(p) for p in changed]}
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            await self.proc.stdin.drain()
            line = await self.proc.stdout.readline()
        except (BrokenPipeError, ConnectionResetError):
            line = b""
        if not line:  # the child died mid-build (killed, out of memory, a crash in C code)
            code = await self.proc.wait()
            how = f"signal {-code}" if code < 0 else f"exit {code}"
            return Result(False, f"the builder process ended unexpectedly ({how}); it restarts "
                                 "with your next save", whole=True)
        return Result(**json.loads(line))

    async def stop(self) -> int:
        """Kill the child's whole tree at once; the number of processes killed.

        Nothing in a build is worth waiting for at shutdown, and SIGKILL cannot be caught, so
        it cannot be delayed by a handler that a library installed.
        """
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return 0
        tree = descendants(proc.pid)  # listed first: kernels would be orphaned out of reach
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # the child, pandoc, LaTeX, dvisvgm
        await asyncio.to_thread(kill_all, tree)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(proc.wait(), 0.5)
        self._remove_scratch()
        return 1 + len(tree)


def descendants(pid: int) -> list:
    """Every process below `pid` (psutil handles), whatever session it runs in."""
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def kill_all(procs: list, wait: float = 0.3) -> None:
    """SIGKILL each process and the group it leads (a kernel's own subprocesses), then wait
    for them. What killed kernels leave (connection files, socket folders) lies in the
    builder's private TMPDIR, which `Builder.stop` removes whole."""
    import psutil

    for p in procs:
        with contextlib.suppress(OSError):
            os.killpg(p.pid, signal.SIGKILL)
        with contextlib.suppress(psutil.Error):
            p.kill()  # psutil checks the pid was not reused
    deadline = time.monotonic() + wait
    while any(_alive(p) for p in procs) and time.monotonic() < deadline:
        time.sleep(0.02)


def _alive(p) -> bool:
    """Running and not a zombie: a killed kernel's new parent (init) may be slow to reap it."""
    import psutil

    try:
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
