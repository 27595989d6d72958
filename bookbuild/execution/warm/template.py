"""The build's side of the warm template: start it, ask it for kernels, notice when it is stale.

Kernels run beside their chapters (Quarto's `execute-dir: file`), so one shared template, with
no folder on its `sys.path`, serves every folder: each fork changes to its chapter's folder.
Chapters that import a module found only in their own folder get a template of that folder
(its modules preloaded there, as the kernel would find them). Templates start on first use and
stop when the build (or the preview) exits. `Template.provision(km)` makes a jupyter_client
kernel manager launch its kernel by forking from the template instead of starting a new
interpreter.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from bookbuild.execution.warm.discover import folder_modules, imported_tops, preload_list
from bookbuild.execution.warm.server import SHARED_PATH, WARM_FIGURES
from bookbuild.system import session
from bookbuild.system.sockets import socket_dir

PROVISIONER = "bookbuild-warm"
CONNECT_TIMEOUT = 60.0  # seconds for the template to start listening (imports run after that)
REPLY_TIMEOUT = 120.0  # seconds for one fork request, preload included on the first one
_TEMPLATES: dict[str, Template] = {}  # by kernel working directory; SHARED: every folder's
SHARED = ""
_CLOSING: list[Template] = []  # released by a build, not yet waited for


class TemplateError(RuntimeError):
    """The template could not be started or did not answer; the caller falls back to a plain kernel."""


class Template:
    """One running template process and the files of every module it imported."""

    def __init__(self, cwd: Path, env: dict[str, str], modules: list[str],
                 shared: bool = False) -> None:
        self.cwd, self.env, self.modules, self.shared = cwd, env, modules, shared
        self._dir = socket_dir("bookbuild-warm-")
        self.socket = os.path.join(self._dir, "template")
        # preview's templates fork a kernel per code edit: worth warming matplotlib's fonts once
        figures = [WARM_FIGURES] if session.current().keep_warm else []
        flags = figures + ([SHARED_PATH] if shared else [])
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bookbuild.execution.warm.server", self.socket, *flags, *modules],
            cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            # A session of its own: a terminal's Ctrl-C reaches bookbuild alone, which stops the
            # template itself (a template interrupted mid-import printed its own traceback).
            start_new_session=True)
        self._stamps: dict[str, list[int]] | None = None
        self._pending: list[str] = []  # wanted since the start, not yet imported by the template
        self._lock = threading.Lock()  # forks of several chapters ask from several threads

    def request(self, message: dict) -> dict:
        """Send one JSON request and return the reply, waiting for the template if it starts."""
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise TemplateError(f"the warm template exited with {self.process.returncode}")
            try:
                conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                conn.settimeout(REPLY_TIMEOUT)
                conn.connect(self.socket)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                conn.close()
                if time.monotonic() > deadline:
                    raise TemplateError("the warm template did not start listening") from None
                time.sleep(0.01)
        try:
            with conn, conn.makefile("rw", encoding="utf-8") as stream:
                stream.write(json.dumps(message) + "\n")
                stream.flush()
                line = stream.readline()
        except TimeoutError:
            raise TemplateError("the warm template did not answer") from None
        except OSError:  # reset or broken pipe: the template died while we talked to it
            line = ""
        if not line:
            try:
                code = self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                raise TemplateError("the warm template closed the connection") from None
            raise TemplateError(f"the warm template exited with {code}")
        return json.loads(line)

    def want(self, modules: list[str]) -> None:
        """Have the template import `modules` too, before its next fork (no waiting here)."""
        with self._lock:
            new = [m for m in modules if m not in self.modules]
            self.modules += new
            self._pending += new

    def ready(self) -> dict[str, str]:
        """Wait until the template has imported everything; return {module: error} of failures."""
        with self._lock:
            pending, self._pending = self._pending, []
            status = self.request({"op": "status", "modules": pending})
            if self._stamps is None:
                self._stamps = status["stamps"]
            else:  # files of the modules just imported; those seen before keep their first stamp
                self._stamps = {**status["stamps"], **self._stamps}
            return status["failed"]

    def fork(self, argv: list[str], cwd: str, env: dict[str, str]) -> int:
        """Pid of a new kernel process running `ipykernel_launcher argv` in `cwd` with `env`."""
        if self._stamps is None or self._pending:
            self.ready()
        return int(self.request({"op": "fork", "argv": argv, "cwd": cwd, "env": env})["pid"])

    def stale(self) -> bool:
        """True when a file the template imported or read while importing has changed."""
        if self._stamps is None:
            return False
        for path, stamp in self._stamps.items():
            try:
                st = os.stat(path)
            except OSError:
                return True
            # inode and ctime too: a replacement keeping size and mtime (`cp -p`) is a change
            if [st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns] != list(stamp):
                return True
        return False

    def alive(self) -> bool:
        return self.process.poll() is None

    def terminate(self) -> None:
        """Ask the template to exit (it takes its kernels with it); `close` waits for it."""
        if self.process.poll() is None:
            self.process.terminate()

    def close(self) -> None:
        if self.process.poll() is None:
            self.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self._dir, ignore_errors=True)
        _BY_SOCKET.pop(self.socket, None)

    def provision(self, km) -> None:
        """Make kernel manager `km` launch its kernel as a fork of this template."""
        _register_provisioner()
        km.kernel_spec.metadata["kernel_provisioner"] = {
            "provisioner_name": PROVISIONER, "config": {"template_socket": self.socket}}
        _BY_SOCKET[self.socket] = self


_BY_SOCKET: dict[str, Template] = {}


def template_for(cwd: Path, env: dict[str, str], sources: list[str],
                 shared: bool = False) -> Template:
    """The running template for kernels in `cwd` (`shared`: for kernels in any folder, started
    in `cwd`), started (or restarted when stale) as needed.

    `sources` are the chapters' code cells: what they import is preloaded (see discover.py). A
    running template is reused while nothing it imported changed (preview re-runs one chapter
    at a time), and imports what the chapters newly need before its next fork; a stale one is
    replaced by one that imports both sets.
    """
    wanted = preload_list(sources, None if shared else cwd)
    slot = SHARED if shared else str(cwd)
    current = _TEMPLATES.get(slot)
    if current is not None:
        if current.env == env and current.alive() and not current.stale():
            current.want(wanted)
            return current
        wanted = list(dict.fromkeys(current.modules + wanted)) if current.env == env else wanted
        current.close()
    current = _TEMPLATES[slot] = Template(cwd, env, wanted, shared)
    return current


def kernel_env() -> dict[str, str]:
    """The environment every chapter kernel gets (`execute.kernel_env`)."""
    from bookbuild.execution.execute import kernel_env as of_kernels

    return of_kernels()


def own_folders(groups: dict[Path, list[str]]) -> set[Path]:
    """The folders (of `{folder: its chapters' cells}`) whose kernels need a template of their
    own: their chapters import a module found in that folder that kernels elsewhere would not
    find (or would find elsewhere), or a module the shared template imports is found there
    otherwise. The others fork from the shared template."""
    running = _TEMPLATES.get(SHARED)
    shared = {m.split(".")[0] for m in running.modules} if running is not None else set()
    own: set[Path] = set()
    for folder, sources in groups.items():
        if folder_modules(imported_tops(sources), folder):
            own.add(folder)
        else:
            shared |= {m.split(".")[0] for m in preload_list(sources, None)}
    return own | {f for f in groups if f not in own and folder_modules(shared, f)}


def prestart(groups: dict[Path, list[str]]) -> None:
    """Start the templates for kernels in these folders (`{folder: cells}`) now, importing what
    every kernel needs, so that their start-up overlaps the build's own work (parsing, cache
    keys, the static check); `attach` adds the chapters' own packages later. A template
    running already is kept."""
    env = kernel_env()
    own = own_folders(groups)
    wanted = [(f, False) for f in own] + [(f, True) for f in groups if f not in own][:1]
    for cwd, shared in wanted:
        current = _TEMPLATES.get(SHARED if shared else str(cwd))
        if current is not None and current.env == env and current.alive():
            continue
        try:
            template_for(cwd, env, [], shared)
        except OSError:
            pass  # `attach` reports it, and the chapters start plain kernels


def attach(executors: list, extra_env: dict[str, str] | None = None) -> bool:
    """Give each `ChapterExecutor` the template for its working directory; False if none could
    be started (the executors then start plain kernels). `extra_env` is added to the templates'
    environment (`numbers whatif`'s overrides: templates of their own)."""
    env = kernel_env() | (extra_env or {})
    by_cwd: dict[Path, list] = {}
    for ex in executors:
        by_cwd.setdefault(Path(ex.cwd), []).append(ex)
    sources = {cwd: [cell.source for ex in group for cell in ex.doc.cells]
               for cwd, group in by_cwd.items()}
    own = own_folders(sources)
    try:
        for cwd, group in by_cwd.items():
            template = template_for(cwd, env, sources[cwd], shared=cwd not in own)
            for ex in group:
                ex.template = template
    except OSError as exc:
        print(f"warning: warm kernels unavailable ({exc}); starting plain kernels", file=sys.stderr)
        for ex in executors:
            ex.template = None
        return False
    return True


def by_socket(path: str) -> Template:
    return _BY_SOCKET[path]


def release() -> None:
    """The build's chapters have all run: stop the templates unless the session keeps them warm
    (preview's builder: they serve the next edit). They are signalled now, so they free their
    memory while pandoc starts; waiting for them to exit is left to `close_all`, off the build's
    path."""
    if session.current().keep_warm:
        return
    for template in list(_TEMPLATES.values()):
        template.terminate()
        _CLOSING.append(template)
    _TEMPLATES.clear()


@session.on_stop
@atexit.register  # code that runs builds outside a command's session (tests, a library caller)
def close_all() -> None:
    """Stop every template (their kernels go with them) and wait for them to be gone."""
    for template in [*_TEMPLATES.values(), *_CLOSING]:
        template.close()
    _TEMPLATES.clear()
    _CLOSING.clear()
    _BY_SOCKET.clear()


def _register_provisioner() -> None:
    """Make our provisioner known to jupyter_client's factory, as the entry point it would read
    from package metadata (registered here, so no reinstall of bookbuild is needed)."""
    from importlib.metadata import EntryPoint

    from jupyter_client.provisioning.factory import KernelProvisionerFactory

    factory = KernelProvisionerFactory.instance()
    if PROVISIONER not in factory.provisioners:
        factory.provisioners[PROVISIONER] = EntryPoint(
            name=PROVISIONER, value="bookbuild.execution.warm.provisioner:WarmProvisioner",
            group="jupyter_client.kernel_provisioners")
