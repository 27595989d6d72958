"""Run a chapter's cells in a fresh Jupyter kernel (nbclient + ipykernel, IPC transport).

`ChapterExecutor` owns one kernel for one chapter: cells run in order, then every inline
expression is evaluated in a single round trip through `user_expressions`. Failures come back
as `ExecutionError`s located in the `.qmd`, with colour-free tracebacks.
"""

from __future__ import annotations

import ast
import bisect
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bookbuild.execution.cwdhint import at_root
from bookbuild.model import ExecutionResult
from bookbuild.source import options as opts
from bookbuild.source.qmd import CodeCell, Document, InlineRef, included_note
from bookbuild.system import session
from bookbuild.system.errors import brief
from bookbuild.system.sockets import socket_dir

# Kernel processes currently running, so a long-lived caller (preview) can kill them on exit.
LIVE_KERNELS: set = set()


def kill_live_kernels() -> int:
    """Kill every kernel still running; return how many there were."""
    n = 0
    for process in list(LIVE_KERNELS):
        if process.poll() is None:
            left = _descendants(process.pid)
            process.kill()
            process.wait()
            _kill_all(left)
            n += 1
        LIVE_KERNELS.discard(process)
    return n


def _descendants(pid: int) -> list:
    """Every process a kernel started, also those in a session of their own (a cell's
    `Popen(..., start_new_session=True)`), which killing the kernel's group would not reach."""
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _kill_all(processes: list) -> None:
    import psutil

    for proc in processes:
        try:
            proc.kill()
        except psutil.Error:
            pass  # gone already


session.on_stop(kill_live_kernels)  # a failed or interrupted command leaves none behind


ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
CELL_FRAME = re.compile(r"Cell In\[(\d+)\], line (\d+)")
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
KERNEL_ARGS = ["--HistoryManager.hist_file=:memory:"]
SETUP_CODE = "import bookbuild.kernel as __bookbuild__\n__bookbuild__.install()\n"
# What matplotlib can hand to the inline backend, per Quarto `fig-format`.
FIGURE_FORMATS = {"svg": "svg", "pdf": "pdf", "png": "png", "retina": "retina", "jpeg": "jpeg",
                  "jpg": "jpeg"}


# Set by preview's builder, which runs in a private TMPDIR: the user's own TMPDIR ("" when
# unset), which the kernels get back.
USER_TMPDIR = "BOOKBUILD_USER_TMPDIR"


def kernel_env() -> dict[str, str]:
    """The environment every chapter kernel gets: the build's, with the inline figure backend,
    and the user's TMPDIR where preview's builder replaced it."""
    from bookbuild.execution.native import preload_env

    env = dict(os.environ, MPLBACKEND=INLINE_BACKEND, PYDEVD_DISABLE_FILE_VALIDATION="1")
    # The figures' bytes follow from the cells alone (matplotlib dates SVG and PDF figures by
    # it), so a re-executed chapter's frozen result differs from the last only where it should.
    env.setdefault("SOURCE_DATE_EPOCH", "0")
    if USER_TMPDIR in env:
        user = env.pop(USER_TMPDIR)
        if user:
            env["TMPDIR"] = user
        else:
            env.pop("TMPDIR", None)
    return preload_env(env)  # the read recorder: files native code opens are inputs too


@dataclass(frozen=True)
class Launch:
    """What a chapter's kernel is started with; chapters that agree on it can share a spare."""

    cwd: str
    args: tuple[str, ...]  # figure formats and size (Plan.kernel_args)
    kernel_name: str
    template: str | None  # the warm template's socket, None for a plain kernel

    async def start(self, template) -> tuple[Any, str]:
        """A started kernel manager and the folder of its IPC sockets."""
        from jupyter_client.manager import AsyncKernelManager

        sockets = socket_dir("bookbuild-kernel-")
        km = AsyncKernelManager(kernel_name=self.kernel_name, transport="ipc")
        km.ip = os.path.join(sockets, "kernel")  # IPC socket files here: no TCP port
        # The connection file too: whoever kills the kernel removes one folder (preview finds
        # it from the kernel's sockets when the kernel was forked and has no `-f` argument).
        km.connection_file = os.path.join(sockets, "connection.json")
        if template is not None:  # bookbuild.execution.warm: fork, don't exec
            template.provision(km)
        # The inline backend renders headless through Agg and turns every figure a cell
        # leaves open into display data; SVG for pages, PDF for the printed book.
        env = kernel_env()
        await km.start_kernel(extra_arguments=KERNEL_ARGS + list(self.args), env=env,
                              cwd=self.cwd)
        process = getattr(km.provisioner, "process", None)
        if process is not None:
            LIVE_KERNELS.add(process)
        return km, sockets


def import_kernel_client() -> None:
    """Import what talks to a kernel (jupyter_client, nbformat, nbclient), ahead of need."""
    import jupyter_client.manager  # noqa: F401
    import nbclient  # noqa: F401
    import nbformat  # noqa: F401


# Preview's hot path: after each build the builder starts one kernel for each of the latest
# launches (`start_spares`), so the next code edit finds a kernel already forked and listening
# and pays only for its cells. A spare has run nothing: it is exactly the fresh kernel the
# chapter would have started itself.
MAX_SPARES = 2
RECENT: dict[Launch, Any] = {}  # the latest launches, oldest first, with their template
SPARES: dict[Launch, tuple[Any, str]] = {}


def start_spares() -> int:
    """Start a spare kernel for each recent launch whose template is still current; kill the
    spares nobody can use any more. Returns how many spares are waiting."""
    import asyncio

    async def refill() -> None:
        for launch in [k for k in SPARES if k not in RECENT]:
            await _discard(*SPARES.pop(launch))
        for launch, template in list(RECENT.items()):
            usable = template is None or (template.alive() and not template.stale())
            if launch in SPARES and not usable:
                await _discard(*SPARES.pop(launch))
            if usable and launch not in SPARES:
                SPARES[launch] = await launch.start(template)

    asyncio.run(refill())
    return len(SPARES)


async def _discard(km, sockets: str) -> None:
    """Kill a spare kernel (dead or alive) and remove its files."""
    process = getattr(km.provisioner, "process", None)
    try:
        await km.shutdown_kernel(now=True)
    except Exception:  # noqa: BLE001  already gone: only its files are left to remove
        if process is not None and process.poll() is None:
            process.kill()
    LIVE_KERNELS.discard(process)
    shutil.rmtree(sockets, ignore_errors=True)


@dataclass(frozen=True)
class Plan:
    """What the kernel needs to know before it runs: per cell whether to run it and whether an
    exception is allowed, and the document's figure size, dpi and the image formats to make
    (only those the requested outputs use)."""

    run: tuple[bool, ...]
    allow_errors: tuple[bool, ...]
    fig_width: float = 7
    fig_height: float = 5
    fig_dpi: float = 96
    figure_formats: tuple[str, ...] = ("svg",)

    @classmethod
    def of(cls, doc: Document, config: dict | None = None,
           formats: list[str] | tuple[str, ...] = ("html",)) -> Plan:
        """Options as Quarto resolves them; execution follows the first requested format."""
        formats = tuple(formats) or ("html",)
        docs = {f: opts.document_options(config, doc.front_matter, f) for f in formats}
        first = docs[formats[0]]
        cells = [opts.cell_options(first, c.options) for c in doc.cells]
        made = []
        for f in formats:
            name = FIGURE_FORMATS.get(str(docs[f].get("fig-format")).lower(), "svg")
            if name not in made:
                made.append(name)
        return cls(tuple(opts.truthy(c["eval"]) for c in cells),
                   tuple(opts.truthy(c["error"]) for c in cells),
                   float(first["fig-width"]), float(first["fig-height"]), float(first["fig-dpi"]),
                   tuple(made))

    def kernel_args(self) -> list[str]:
        size = (self.fig_width, self.fig_height)
        rc = {"figure.figsize": size, "figure.dpi": self.fig_dpi, "savefig.dpi": self.fig_dpi,
              "svg.hashsalt": "bookbuild"}  # SVG ids the same at every execution
        return [f"--InlineBackend.figure_formats={f}" for f in self.figure_formats] + [
            f"--InlineBackend.rc={rc!r}"]

    def fingerprint(self) -> str:
        """Everything here that changes what the kernel produces (for the cache key)."""
        return json.dumps([self.run, self.allow_errors, self.fig_width, self.fig_height,
                           self.fig_dpi, self.figure_formats])


class ExecutionError(Exception):
    """A located failure: `path:line[:col]: message`, plus the traceback when there is one."""

    def __init__(self, path: str, line: int, message: str, col: int | None = None,
                 traceback: str = "") -> None:
        super().__init__(message)
        self.path, self.line, self.col = path, line, col
        self.message, self.traceback = message, traceback

    def __str__(self) -> str:
        from bookbuild.system.errors import display_path

        where = f"{display_path(self.path)}:{self.line}" + (f":{self.col}" if self.col else "")
        text = f"{where}: {self.message}"
        if self.traceback:
            text += "\n" + "\n".join("    " + line for line in self.traceback.splitlines())
        return text


def _blank_lead(source: str) -> int:
    """The blank lines IPython drops from the top of a cell before it compiles it (its line
    numbers count from the first other line)."""
    lines = source.split("\n")
    return next((i for i, line in enumerate(lines) if line and not line.isspace()), 0)


def clean_traceback(lines: list[str]) -> str:
    return ANSI.sub("", "\n".join(lines)).rstrip()


class ChapterExecutor:
    """Executes one parsed chapter in a fresh kernel.

    Options: `cwd` is the kernel's working directory; `timeout` bounds each cell, in seconds;
    `startup_timeout` bounds kernel start; `kernel_name` picks the kernelspec (the venv's).
    """

    def __init__(self, doc: Document, cwd: Path, timeout: int = 120, startup_timeout: int = 60,
                 kernel_name: str = "python3", plan: Plan | None = None) -> None:
        self.doc = doc
        self.plan = plan or Plan.of(doc)
        self.cwd = cwd
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self.kernel_name = kernel_name

    async def start(self) -> None:
        """Launch the kernel process without waiting for it, so the caller can work meanwhile
        (or take the spare one preview started for these options after its last build)."""
        template = getattr(self, "template", None)
        launch = Launch(str(self.cwd), tuple(self.plan.kernel_args()), self.kernel_name,
                        getattr(template, "socket", None))
        RECENT.pop(launch, None)
        RECENT[launch] = template
        while len(RECENT) > MAX_SPARES:
            RECENT.pop(next(iter(RECENT)))
        spare = SPARES.pop(launch, None)
        if spare is not None:
            process = getattr(spare[0].provisioner, "process", None)
            if process is not None and process.poll() is None:
                self.km, self._sockets = spare
                return
            await _discard(*spare)  # it died while waiting: start a new one
        self.km, self._sockets = await launch.start(template)

    async def abort(self) -> None:
        """Stop a kernel that was started but will not be used."""
        if getattr(self, "km", None) is not None:
            await self.km.shutdown_kernel(now=True)
            self.km = None
        shutil.rmtree(getattr(self, "_sockets", ""), ignore_errors=True)

    async def _kill(self) -> None:
        """Kill the finished kernel and reap it at once (jupyter_client polls every 100 ms)."""
        provisioner = self.km.provisioner
        process = getattr(provisioner, "process", None)
        if process is not None:
            import asyncio

            left = _descendants(process.pid)
            await provisioner.kill()
            await asyncio.to_thread(process.wait)
            _kill_all(left)
            LIVE_KERNELS.discard(process)

    async def run(self) -> ExecutionResult:
        import nbformat
        from nbclient import NotebookClient

        if getattr(self, "km", None) is None:
            await self.start()
        nb = nbformat.v4.new_notebook()
        # `numbers whatif` appends its overrides to the setup: they must precede every import
        nb.cells = [nbformat.v4.new_code_cell(SETUP_CODE + getattr(self, "extra_setup", ""))]
        nb.cells += [nbformat.v4.new_code_cell(c.source) for c in self.doc.cells]
        for cell, allowed in zip(nb.cells[1:], self.plan.allow_errors, strict=True):
            if allowed:  # nbclient's own marker for a cell whose exception belongs in the page
                cell.metadata["tags"] = ["raises-exception"]
        client = NotebookClient(nb, km=self.km, timeout=self.timeout,
                                startup_timeout=self.startup_timeout,
                                kernel_name=self.kernel_name, allow_errors=False,
                                shutdown_kernel="immediate")
        try:
            try:
                client.kc = await connect(self.km, self.startup_timeout)
            except RuntimeError as exc:
                await self.km.shutdown_kernel(now=True)
                hint = ("rerun, or set `bookbuild: {warm-kernels: false}` in _quarto.yml"
                        if getattr(self, "template", None) is not None else
                        "rerun, and check that `python -m ipykernel` starts in this environment")
                raise ExecutionError(self.doc.path, 1, f"{exc}; {hint}") from None
            async with client.async_setup_kernel(cleanup_kc=True):
                _take_back_signals()  # nbclient installed its own; ours stop the whole build
                self._with_inline_values(client)
                after = self._refs_after_cells()
                await self._run_cell(client, nb, 0, None, after[0])
                for i, cell in enumerate(self.doc.cells, start=1):
                    if self.plan.run[i - 1]:  # `eval: false`: shown, never run
                        await self._run_cell(client, nb, i, cell, after[i])
                deps, constants, stamps = await self._evaluate_record(client)
                inline = [_inline_text(self._results.get(f"r{i}"), ref)
                          for i, ref in enumerate(self.doc.refs)]
                await self._kill()
        finally:
            self.km = None
            shutil.rmtree(self._sockets, ignore_errors=True)
        outputs = [[dict(o) for o in c.outputs] for c in nb.cells[1:]]
        return ExecutionResult(_plain(outputs), inline, deps, constants, stamps)

    def _refs_after_cells(self) -> dict[int, list[int]]:
        """For each notebook cell that runs (0: setup), the inline references between it and
        the next one that runs: Quarto evaluates each where it stands, so a name a later cell
        binds again shows its value at that point of the chapter."""
        ran = [i + 1 for i, c in enumerate(self.doc.cells) if self.plan.run[i]]
        starts = [self.doc.cells[i - 1].start for i in ran]
        out: dict[int, list[int]] = {i: [] for i in range(len(self.doc.cells) + 1)}
        for r, ref in enumerate(self.doc.refs):
            # the last cell that runs at or before it (a synthetic cell and reference share an
            # offset: literals' probe), else the setup
            before = bisect.bisect_right(starts, ref.start)
            out[ran[before - 1] if before else 0].append(r)
        return out

    def _with_inline_values(self, client) -> None:
        """Each cell's execute request carries the inline expressions that follow it (Jupyter's
        `user_expressions`, evaluated after its code): no extra round trip per prose block."""
        self._results: dict[str, dict] = {}
        self._attached: dict[str, str] = {}
        send = client.kc.execute

        def execute(code: str, **kwargs):
            kwargs.setdefault("user_expressions", self._attached)
            return send(code, **kwargs)

        def collected(cell, cell_index: int, execute_reply: dict) -> None:
            self._results.update(execute_reply.get("content", {}).get("user_expressions") or {})

        client.kc.execute = execute
        client.on_cell_executed = collected

    @staticmethod
    def _expression(ref: InlineRef) -> str:
        return f"__bookbuild__.inline(({ref.expr}\n))"

    async def _run_cell(self, client, nb, index: int, cell: CodeCell | None,
                        refs: list[int] = ()) -> None:
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

        where = cell or (self.doc.cells[0] if self.doc.cells else None)
        path, line = (where.path, where.first_line) if where else (self.doc.path, 1)
        name = cell.describe() if cell else "kernel setup"
        note = included_note(where.included_from) if where else ""
        attached = {f"r{r}": self._expression(self.doc.refs[r]) for r in refs}
        self._attached = attached
        try:
            await client.async_execute_cell(nb.cells[index], index)
        except CellTimeoutError:
            what = name + (" (or an inline value after it)" if refs else "")
            if refs and cell is None:  # our setup code is quick: an inline value hung
                first = self.doc.refs[refs[0]]
                path, line, what = first.path, first.line, "the inline values here"
                note = included_note(first.included_from)
            raise ExecutionError(path, line, f"{what} did not finish within {self.timeout} s "
                                 "(raise bookbuild.timeout in _quarto.yml if it needs longer)"
                                 + note) from None
        except DeadKernelError as exc:
            raise ExecutionError(path, line, f"the kernel died while running {name}: {exc}"
                                 + note) from None
        except CellExecutionError as exc:
            raise self._located(exc, cell, nb, index) from None
        finally:
            self._attached = {}
        missing = {k: v for k, v in attached.items() if k not in self._results}
        if missing:  # a cell whose error belongs in the page: the kernel evaluated none of them
            self._results.update(await self._user_expressions(client, missing))

    def _located(self, exc, cell: CodeCell | None, nb, index: int) -> ExecutionError:
        """Map the innermost traceback frame that lies in a cell back to its `.qmd` line."""
        errors = [o for o in nb.cells[index].outputs if o.get("output_type") == "error"]
        tb = clean_traceback(errors[-1]["traceback"]) if errors else ""
        by_count = {nb.cells[i + 1].execution_count: c for i, c in enumerate(self.doc.cells)}
        owner_cell = cell
        line = cell.first_line if cell else 1
        for count, cell_line in CELL_FRAME.findall(tb):
            owner = by_count.get(int(count))
            if owner is not None:
                owner_cell = owner
                line = owner.first_line + _blank_lead(owner.source) + int(cell_line) - 1
        name = cell.describe() if cell else "kernel setup"
        ename, evalue = exc.ename, exc.evalue
        if errors and ename in (None, "NoneType", "<Error>"):
            # An exception while an output was displayed (a failing _repr_html_, say): the
            # reply carries no name, the error output does.
            ename, evalue = errors[-1].get("ename"), errors[-1].get("evalue")
        what = "guard failed" if ename == "GuardError" else ename
        path = owner_cell.path if owner_cell else self.doc.path
        note = included_note(owner_cell.included_from) if owner_cell else ""
        note += at_root(ename, evalue, Path(self.cwd))
        return ExecutionError(path, line, f"{what} in {name}: {evalue}{note}",
                              traceback=self._excerpt(path, line, tb))

    def _excerpt(self, path: str, line: int, tb: str) -> str:
        """The failing `.qmd` line, then frames outside the chapter (library code), innermost last."""
        text = self.doc.source_line(path, line)
        out = [f"{line:>5} | {text}"] if text is not None else []
        out += [f"  in {m}" for m in _project_frames(tb)]
        return "\n".join(out)

    async def _user_expressions(self, client, exprs: dict[str, str]) -> dict[str, dict]:
        """Evaluate `exprs` in a request of their own, within the cell time limit."""
        import asyncio

        msg_id = client.kc.execute("", silent=True, store_history=False, user_expressions=exprs)
        try:
            reply = await asyncio.wait_for(client.async_wait_for_reply(msg_id), self.timeout)
        except (asyncio.TimeoutError, TimeoutError, AssertionError):
            reply = None
        if reply is None:
            raise ExecutionError(self.doc.path, 1, f"the inline values did not finish within "
                                 f"{self.timeout} s (raise bookbuild.timeout in _quarto.yml "
                                 "if they need longer)")
        return reply["content"].get("user_expressions", {})

    async def _evaluate_record(self, client) -> tuple[list[str], dict | None, dict]:
        """What the chapter read, the constants it saw and the stamps of the files it read,
        once every cell has run."""
        results = await self._user_expressions(client, {
            "deps": "__bookbuild__.dependencies()", "constants": "__bookbuild__.constants()",
            "stamps": "__bookbuild__.stamps()"})
        anchor = self.doc.refs[0] if self.doc.refs else InlineRef(self.doc.path, 1, 1, "", 1, 1, 0, 0)
        deps = json.loads(_inline_text(results.get("deps"), anchor))
        constants = json.loads(_inline_text(results.get("constants"), anchor))
        stamps = json.loads(_inline_text(results.get("stamps"), anchor))
        return deps, constants, stamps


async def connect(km, timeout: float):
    """A client of `km`'s kernel once the kernel answers on the shell and IOPub channels.

    jupyter_client's `wait_for_ready` ends by draining IOPub until it has been quiet for 0.2 s,
    a fixed 0.2 s per chapter. Here the wait ends on the `idle` status that follows our own
    `kernel_info` request, which proves the IOPub subscription is live; cells are matched to
    their messages by parent id, so nothing older can be mistaken for their output.
    """
    import time

    kc = km.client()
    kc.start_channels()
    kc.allow_stdin = False
    try:
        return await _wait_ready(kc, time.monotonic() + timeout, timeout)
    except BaseException:
        # Cancelled (Ctrl-C) or failed: close the sockets now, or the client's zmq context
        # waits for them forever when it is collected.
        kc.stop_channels()
        raise


async def _wait_ready(kc, deadline: float, timeout: float):
    import time
    from queue import Empty

    asked: set[str] = set()
    while time.monotonic() < deadline:
        asked.add(kc.kernel_info())
        try:
            await kc.get_shell_msg(timeout=1)
            while True:  # until the idle of a kernel_info of ours; Empty: ask again
                msg = await kc.get_iopub_msg(timeout=0.2)
                if (msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle"
                        and msg["parent_header"].get("msg_id") in asked):
                    return kc
        except Empty:
            pass
        if not await kc.is_alive():
            break
    raise RuntimeError(f"the kernel did not answer within {timeout:g} s of starting")


def _take_back_signals() -> None:
    """Ctrl-C / SIGTERM: note it, kill every kernel and cancel the build's tasks, so the command
    ends as interrupted (exit 130) instead of failing on a kernel nbclient shut down."""
    import asyncio

    from bookbuild.system.session import current

    loop = asyncio.get_running_loop()

    def stop() -> None:
        kill_live_kernels()
        for task in asyncio.all_tasks(loop):
            task.cancel()

    current().loop_signals(loop, stop)


def _inline_text(result: dict | None, ref: InlineRef) -> str:
    if result is None:
        raise ExecutionError(ref.path, ref.line, f"no value came back for '{ref.expr}'", col=ref.col)
    if result.get("status") != "ok":
        frames = _project_frames(clean_traceback(result.get("traceback", [])))
        raise ExecutionError(ref.path, ref.line,
                             f"inline expression '{brief(ref.expr)}' raised {result.get('ename')}: "
                             f"{result.get('evalue')}{included_note(ref.included_from)}",
                             col=ref.col,
                             traceback="\n".join(f"  in {f}" for f in frames))
    # The helper returns a str; the kernel sends back its repr.
    return ast.literal_eval(result["data"]["text/plain"])


def _project_frames(tb: str, keep: int = 3) -> list[str]:
    """Traceback frames outside installed packages (the book's own code), innermost last.

    Frames inside site-packages (pint's internals, say) say little about what to fix.
    """
    frames = re.findall(r"^File (.+)$", tb, re.M)
    ours = [f for f in frames if "site-packages" not in f and "/lib/python" not in f
            and not f.startswith(KERNEL_SIDE)]  # our import recorder: no place to fix
    return ours[-keep:]


KERNEL_SIDE = str(Path(__file__).resolve().parents[1] / "kernel")


def _plain(value: Any) -> Any:
    """nbformat nodes to plain JSON-able data."""
    return json.loads(json.dumps(value))


def execute(doc: Document, cwd: Path, timeout: int = 120, plan: Plan | None = None) -> ExecutionResult:
    """Run one chapter synchronously (tests and simple callers)."""
    import asyncio

    return asyncio.run(ChapterExecutor(doc, cwd, timeout, plan=plan).run())
