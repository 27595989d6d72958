"""The template process: imports ipykernel and the chapters' heavy packages once, then forks a
fresh ipykernel per request (`python -m bookbuild.execution.warm.server SOCKET MODULE...`).

Each request on the Unix socket is one JSON line `{"argv", "cwd", "env"}`; the reply is
`{"pid"}` of a child that runs `IPKernelApp` with that argv in that directory and environment.
`{"op": "status", "modules": [...]}` imports those modules first (a template started before the
chapters were parsed learns what they import this way), then replies with what failed and the
stamps of every file imported so far.
Nothing chapter-specific runs here: the child starts the kernel, and the kernel's first cell
starts recording file reads. The template exits when its parent (the build) goes away, when it
has been idle for `IDLE_LIMIT` seconds, or on SIGTERM, and takes its kernels with it.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import signal
import socket
import sys

IDLE_LIMIT = 900  # seconds without a request before the template gives up on its build
# What every kernel imports; the chapters' packages come on the command line (discover.py).
# The inline matplotlib backend is not imported here: it hooks into the kernel's shell when
# first imported, and the shell exists only in the child.
BASE = ["ipykernel.kernelapp", "ipykernel.ipkernel", "IPython.core.interactiveshell", "zmq",
        "jupyter_client.session", "bookbuild.kernel",
        # What a kernel imports while it starts, measured in a forked child: the shell's
        # inspector and completer helpers, the history's sqlite3 and tornado's asyncio glue.
        # Importing them starts no thread, so a fork gets them for free. (ipykernel's
        # debugger is imported without debugpy: see preload.)
        "ipykernel.debugger", "IPython.core.debugger", "IPython.core.oinspect",
        "IPython.core.completerlib", "IPython.core.logger", "IPython.extensions.storemagic",
        "IPython.utils.wildcard", "sqlite3", "tornado.platform.asyncio", "tornado.queues",
        "tornado.locks", "tornado.gen", "pdb", "pydoc", "http.server", "xmlrpc.server"]


WARM_FIGURES = "--warm-figures"  # preview's templates: also draw one figure (warm_figures)
# The template serves kernels in every folder: no folder on its sys.path while it imports (a
# module beside one chapter must not be preloaded for all); each fork puts its own first.
SHARED_PATH = "--shared-path"
_figures = {"wanted": False, "done": False}
_shared = {"path": False}


def preload(modules: list[str]) -> dict[str, str]:
    """Import what the chapters will need; return {module: error} for those that failed."""
    import bookbuild.kernel as recorder

    recorder.start_preload()  # reads made while importing the book's packages are inputs too
    failed = {}
    for name in BASE + modules:
        try:
            if name in BASE:
                _import_without_debugpy(name)
            else:
                importlib.import_module(name)
        except Exception as exc:  # a chapter importing it will see the real error itself
            failed[name] = f"{type(exc).__name__}: {exc}"
    recorder.end_preload()
    share_mathtext_parses()
    if _figures["wanted"] and not _figures["done"] and "matplotlib" in sys.modules:
        _figures["done"] = True
        warm_figures()
    # Move everything imported so far out of the collector's reach: a collection in a kernel
    # would otherwise write to the header of every inherited object and copy the template's
    # pages into each kernel (copy-on-write); the kernels' own objects are collected as usual.
    gc.freeze()
    return failed


def _import_without_debugpy(name: str) -> None:
    """Import one of the kernel's own modules with debugpy hidden.

    ipykernel offers a debugger only when debugpy imports; nobody can attach one to a build's
    private kernel, and debugpy with pydevd is 70 ms of every cold build's wait for the
    template. Hidden while ipykernel looks, then visible again: a cell (or a book's package)
    that imports debugpy itself still gets it.
    """
    hide = "debugpy" not in sys.modules
    if hide:
        sys.modules["debugpy"] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        importlib.import_module(name)
    finally:
        if hide and "debugpy" in sys.modules and sys.modules["debugpy"] is None:
            del sys.modules["debugpy"]


def warm_figures() -> None:
    """Draw a small log-log figure to SVG and PNG, as a cell's first plot would, so that
    matplotlib's font lookup, loaded fonts, text layout and mathtext parsers are made once here
    and not in every kernel (0.1 s of each code edit in a preview chapter with a plot).

    Through `Figure`, never pyplot: no figure number is taken, no rcParams change, no backend
    is chosen; a kernel can tell nothing happened except by timing (tests/test_warm.py).
    """
    import io

    try:
        from matplotlib.figure import Figure

        # The book's packages may have imported matplotlib without its mathtext, which preload
        # then could not share yet; the warm-up's parses are only worth keeping if shared.
        share_mathtext_parses()
        fig = Figure(figsize=(2, 2))
        ax = fig.add_subplot()
        ax.loglog([0.1, 10.0], [1.0, 100.0], label="x")
        ax.plot([1.0], [10.0], "s")
        ax.set_xlabel("x")
        ax.set_title("$x^2$")
        ax.grid(True, which="both")
        ax.legend()
        fig.tight_layout()
        for fmt in ("svg", "png"):
            fig.savefig(io.BytesIO(), format=fmt, bbox_inches="tight")
    except Exception:  # noqa: BLE001  a broken matplotlib is the chapter's error to report
        pass


def share_mathtext_parses() -> None:
    """Let every figure's renderer reuse matplotlib's parses of math text ($10^{2}$ ticks).

    matplotlib keeps each parse in an lru_cache keyed on the parser instance, and every new
    figure's renderer makes a new parser: each plot in a kernel re-parsed its log-axis labels
    with pyparsing, 30-40 ms of a preview code edit's plot. A parse depends on nothing of the
    instance but its output type (vector or raster), so parsers of one type are made equal and
    share the entries, the warm-up figure's included. Left alone if matplotlib changes shape.
    """
    mathtext = sys.modules.get("matplotlib.mathtext")
    cls = getattr(mathtext, "MathTextParser", None)
    if (cls is None or not hasattr(cls, "_parse_cached") or "__eq__" in vars(cls)
            or "_output_type" not in cls.__init__.__code__.co_names):
        return
    cls.__eq__ = _same_output_type
    cls.__hash__ = _output_type_hash


def _same_output_type(self, other: object) -> bool:
    return type(other) is type(self) and other._output_type == self._output_type


def _output_type_hash(self) -> int:
    return hash(self._output_type)


def stamps() -> dict[str, list[int]]:
    """(mtime_ns, size, inode, ctime_ns) of every file a module came from and every file the book's packages read
    while being imported: the template is stale when one of them changes."""
    import bookbuild.kernel as recorder

    files = {getattr(m, "__file__", None) for m in list(sys.modules.values())}
    out = {}
    for path in files | recorder.preload_reads():
        if isinstance(path, str):
            try:
                st = os.stat(path)
            except OSError:
                continue
            out[path] = [st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns]
    return out


def child(request: dict, parent: int) -> None:
    """In the forked child: become a plain kernel process, then run the kernel. Never returns."""
    code = 1
    try:
        os.setpgid(0, 0)  # its own group, so signals to the kernel never reach the build
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGALRM):
            signal.signal(sig, signal.SIG_DFL)
        signal.alarm(0)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        if _shared["path"]:  # as for `python -m ipykernel_launcher` started there
            sys.path.insert(0, request["cwd"])
        else:
            sys.path[0] = request["cwd"]
        sys.argv = ["ipykernel_launcher", *request["argv"]]
        if "numpy.random" in sys.modules:  # a fresh process seeds from the OS; so must a fork
            sys.modules["numpy.random"].seed()
        from ipykernel.kernelapp import IPKernelApp

        IPKernelApp.launch_instance(argv=[*request["argv"], f"--IPKernelApp.parent_handle={parent}"])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException as exc:  # report, then leave without running the template's cleanup
        print(f"bookbuild warm kernel: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _install_whatif() -> None:
    """`numbers whatif`'s overrides, before any of the book's modules is imported: its kernels
    then fork with the book's packages imported once, holding the other values."""
    from bookbuild.kernel import whatif

    overrides = os.environ.get(whatif.ENV)
    if overrides:
        import json

        whatif.install(json.loads(overrides))


def serve(path: str, modules: list[str]) -> None:
    build = os.getppid()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)  # requests wait in the backlog while the imports run
    kernels: list[int] = []

    def stop(*_: object) -> None:
        for pid in kernels:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        os._exit(0)

    # Before the imports: the build starts us early, and Ctrl-C during an import must end us
    # quietly, not with a KeyboardInterrupt traceback on the build's terminal.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)  # Ctrl-C reaches the build's process group, us included
    _install_whatif()
    failed = preload(modules)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps nothing: children auto-reap
    listener.settimeout(1.0)
    idle = 0.0
    while True:
        if os.getppid() != build or idle > IDLE_LIMIT:
            stop()
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            idle += 1.0
            continue
        idle = 0.0
        with conn, conn.makefile("rw", encoding="utf-8") as stream:
            request = json.loads(stream.readline())
            if request.get("op") == "status":  # after importing what it names, if anything
                failed.update(preload(request.get("modules", [])) if request.get("modules") else {})
                reply = {"pid": os.getpid(), "failed": failed, "stamps": stamps()}
            else:
                pid = os.fork()
                if pid == 0:
                    listener.close()
                    conn.close()
                    child(request, os.getppid())
                try:
                    os.setpgid(pid, pid)  # also here: the reply must not race the child's own call
                except OSError:
                    pass
                kernels[:] = [k for k in kernels if _alive(k)] + [pid]
                reply = {"pid": pid}
            stream.write(json.dumps(reply) + "\n")
            stream.flush()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


if __name__ == "__main__":
    _figures["wanted"] = WARM_FIGURES in sys.argv[2:]
    if SHARED_PATH in sys.argv[2:]:
        _shared["path"] = True
        del sys.path[0]  # `python -m` put the folder it was started in there
    serve(sys.argv[1], [m for m in sys.argv[2:] if m not in (WARM_FIGURES, SHARED_PATH)])
