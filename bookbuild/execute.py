"""Run a chapter's cells in a fresh Jupyter kernel (nbclient + ipykernel, IPC transport).

`ChapterExecutor` owns one kernel for one chapter: cells run in order, then every inline
expression is evaluated in a single round trip through `user_expressions`. Failures come back
as `ExecutionError`s located in the `.qmd`, with colour-free tracebacks.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bookbuild.qmd import CodeCell, Document, InlineRef

# Kernel processes currently running, so a long-lived caller (preview) can kill them on exit.
LIVE_KERNELS: set = set()


def kill_live_kernels() -> int:
    """Kill every kernel still running; return how many there were."""
    n = 0
    for process in list(LIVE_KERNELS):
        if process.poll() is None:
            process.kill()
            process.wait()
            n += 1
        LIVE_KERNELS.discard(process)
    return n


ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
CELL_FRAME = re.compile(r"Cell In\[(\d+)\], line (\d+)")
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
KERNEL_ARGS = ["--InlineBackend.figure_formats=svg", "--InlineBackend.figure_formats=pdf",
               "--InlineBackend.rc={'savefig.dpi': 150}", "--HistoryManager.hist_file=:memory:"]
SETUP_CODE = "import bookbuild.kernel as __bookbuild__\n__bookbuild__.install()\n"


@dataclass
class ExecutionResult:
    """What a chapter's execution produced; plain data so it can be cached as JSON."""

    outputs: list[list[dict[str, Any]]]  # nbformat outputs, per code cell
    inline: list[str]  # text per inline reference, in document order
    dependencies: list[str] = field(default_factory=list)
    constants: dict | None = None  # mlsysim's constants as this kernel saw them, if it loaded them


class ExecutionError(Exception):
    """A located failure: `path:line[:col]: message`, plus the traceback when there is one."""

    def __init__(self, path: str, line: int, message: str, col: int | None = None,
                 traceback: str = "") -> None:
        super().__init__(message)
        self.path, self.line, self.col = path, line, col
        self.message, self.traceback = message, traceback

    def __str__(self) -> str:
        from bookbuild.errors import display_path

        where = f"{display_path(self.path)}:{self.line}" + (f":{self.col}" if self.col else "")
        text = f"{where}: {self.message}"
        if self.traceback:
            text += "\n" + "\n".join("    " + line for line in self.traceback.splitlines())
        return text


def clean_traceback(lines: list[str]) -> str:
    return ANSI.sub("", "\n".join(lines)).rstrip()


class ChapterExecutor:
    """Executes one parsed chapter in a fresh kernel.

    Options: `cwd` is the kernel's working directory; `timeout` bounds each cell, in seconds;
    `startup_timeout` bounds kernel start; `kernel_name` picks the kernelspec (the venv's).
    """

    def __init__(self, doc: Document, cwd: Path, timeout: int = 120, startup_timeout: int = 60,
                 kernel_name: str = "python3") -> None:
        self.doc = doc
        self.cwd = cwd
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self.kernel_name = kernel_name

    async def start(self) -> None:
        """Launch the kernel process without waiting for it, so the caller can work meanwhile."""
        from jupyter_client.manager import AsyncKernelManager

        self._sockets = tempfile.mkdtemp(prefix="bookbuild-kernel-")
        self.km = AsyncKernelManager(kernel_name=self.kernel_name, transport="ipc")
        self.km.ip = os.path.join(self._sockets, "kernel")  # IPC socket files here: no TCP port
        if getattr(self, "template", None) is not None:  # bookbuild.warm: fork, don't exec
            self.template.provision(self.km)
        # The inline backend renders headless through Agg and turns every figure a cell
        # leaves open into display data; SVG for pages, PDF for the printed book.
        env = dict(os.environ, MPLBACKEND=INLINE_BACKEND, PYDEVD_DISABLE_FILE_VALIDATION="1")
        await self.km.start_kernel(extra_arguments=KERNEL_ARGS, env=env, cwd=str(self.cwd))
        process = getattr(self.km.provisioner, "process", None)
        if process is not None:
            LIVE_KERNELS.add(process)

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

            await provisioner.kill()
            await asyncio.to_thread(process.wait)
            LIVE_KERNELS.discard(process)

    async def run(self) -> ExecutionResult:
        import nbformat
        from nbclient import NotebookClient

        if getattr(self, "km", None) is None:
            await self.start()
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(SETUP_CODE)]
        nb.cells += [nbformat.v4.new_code_cell(c.source) for c in self.doc.cells]
        client = NotebookClient(nb, km=self.km, timeout=self.timeout,
                                startup_timeout=self.startup_timeout,
                                kernel_name=self.kernel_name, allow_errors=False,
                                shutdown_kernel="immediate")
        try:
            async with client.async_setup_kernel(cleanup_kc=True):
                await self._run_cell(client, nb, 0, None)
                for i, cell in enumerate(self.doc.cells, start=1):
                    await self._run_cell(client, nb, i, cell)
                inline, deps, constants = await self._evaluate_inline(client)
                await self._kill()
        finally:
            self.km = None
            shutil.rmtree(self._sockets, ignore_errors=True)
        outputs = [[dict(o) for o in c.outputs] for c in nb.cells[1:]]
        return ExecutionResult(_plain(outputs), inline, deps, constants)

    async def _run_cell(self, client, nb, index: int, cell: CodeCell | None) -> None:
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

        where = cell or (self.doc.cells[0] if self.doc.cells else None)
        path, line = self.doc.path, where.first_line if where else 1
        name = cell.describe() if cell else "kernel setup"
        try:
            await client.async_execute_cell(nb.cells[index], index)
        except CellTimeoutError:
            raise ExecutionError(path, line, f"{name} did not finish within {self.timeout} s "
                                 "(raise bookbuild.timeout in _quarto.yml if it needs longer)") from None
        except DeadKernelError as exc:
            raise ExecutionError(path, line, f"the kernel died while running {name}: {exc}") from None
        except CellExecutionError as exc:
            raise self._located(exc, cell, nb, index) from None

    def _located(self, exc, cell: CodeCell | None, nb, index: int) -> ExecutionError:
        """Map the innermost traceback frame that lies in a cell back to its `.qmd` line."""
        errors = [o for o in nb.cells[index].outputs if o.get("output_type") == "error"]
        tb = clean_traceback(errors[-1]["traceback"]) if errors else ""
        by_count = {nb.cells[i + 1].execution_count: c for i, c in enumerate(self.doc.cells)}
        line = cell.first_line if cell else 1
        for count, cell_line in CELL_FRAME.findall(tb):
            owner = by_count.get(int(count))
            if owner is not None:
                line = owner.first_line + int(cell_line) - 1
        name = cell.describe() if cell else "kernel setup"
        what = "guard failed" if exc.ename == "GuardError" else exc.ename
        return ExecutionError(self.doc.path, line, f"{what} in {name}: {exc.evalue}",
                              traceback=self._excerpt(line, tb))

    def _excerpt(self, line: int, tb: str) -> str:
        """The failing `.qmd` line, then frames outside the chapter (library code), innermost last."""
        lines = self.doc.text.splitlines()
        out = [f"{line:>5} | {lines[line - 1]}"] if 0 < line <= len(lines) else []
        out += [f"  in {m}" for m in _project_frames(tb)]
        return "\n".join(out)

    async def _evaluate_inline(self, client) -> tuple[list[str], list[str], dict | None]:
        exprs = {f"r{i}": f"__bookbuild__.inline(({ref.expr}\n))"
                 for i, ref in enumerate(self.doc.refs)}
        exprs["deps"] = "__bookbuild__.dependencies()"
        exprs["constants"] = "__bookbuild__.constants()"
        msg_id = client.kc.execute("", silent=True, store_history=False, user_expressions=exprs)
        reply = await client.async_wait_for_reply(msg_id)
        if reply is None:
            raise ExecutionError(self.doc.path, 1, "the kernel did not answer the inline expressions")
        results = reply["content"].get("user_expressions", {})
        values = []
        for i, ref in enumerate(self.doc.refs):
            values.append(_inline_text(results.get(f"r{i}"), ref))
        anchor = self.doc.refs[0] if self.doc.refs else InlineRef(self.doc.path, 1, 1, "", 1, 1, 0, 0)
        deps = json.loads(_inline_text(results["deps"], anchor))
        constants = json.loads(_inline_text(results["constants"], anchor))
        return values, deps, constants


def _inline_text(result: dict | None, ref: InlineRef) -> str:
    if result is None:
        raise ExecutionError(ref.path, ref.line, f"no value came back for '{ref.expr}'", col=ref.col)
    if result.get("status") != "ok":
        frames = _project_frames(clean_traceback(result.get("traceback", [])))
        raise ExecutionError(ref.path, ref.line,
                             f"inline expression '{ref.expr}' raised {result.get('ename')}: "
                             f"{result.get('evalue')}", col=ref.col,
                             traceback="\n".join(f"  in {f}" for f in frames))
    # The helper returns a str; the kernel sends back its repr.
    return ast.literal_eval(result["data"]["text/plain"])


def _project_frames(tb: str, keep: int = 3) -> list[str]:
    """Traceback frames outside installed packages (the user's and mlsysim's code), innermost last.

    Frames inside site-packages (pint's internals, say) say little about what to fix.
    """
    frames = re.findall(r"^File (.+)$", tb, re.M)
    ours = [f for f in frames if "site-packages" not in f and "/lib/python" not in f]
    return ours[-keep:]


def _plain(value: Any) -> Any:
    """nbformat nodes to plain JSON-able data."""
    return json.loads(json.dumps(value))


def execute(doc: Document, cwd: Path, timeout: int = 120) -> ExecutionResult:
    """Run one chapter synchronously (tests and simple callers)."""
    import asyncio

    return asyncio.run(ChapterExecutor(doc, cwd, timeout).run())
