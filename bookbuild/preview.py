"""`bookbuild preview`: serve the HTML book on 127.0.0.1, rebuild what changed, reload the page.

Three parts: a watcher (watchfiles) that collects changed paths, a builder thread that turns
each batch into one build (edits during a build are coalesced into the next), and an HTTP server
that serves only the preview folder and pushes `reload` and `error` events (server-sent events).
The reload script is added to pages here only; `render` output never carries it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import posixpath
import queue
import socket
import sys
import threading
import time
import urllib.parse
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bookbuild import project as project_mod
from bookbuild.errors import BookbuildError

HOST = "127.0.0.1"
EVENTS = "/__bookbuild__/events"
RELOAD_SCRIPT = """<script id="bookbuild-preview">
(() => {
  const key = "bookbuild-scroll:" + location.pathname;
  const saved = sessionStorage.getItem(key);
  if (saved !== null) { window.scrollTo(0, Number(saved)); sessionStorage.removeItem(key); }
  let overlay = null;
  const events = new EventSource("/__bookbuild__/events");
  events.addEventListener("reload", () => {
    sessionStorage.setItem(key, String(window.scrollY));
    location.reload();
  });
  events.addEventListener("build-error", (e) => {
    if (!overlay) {
      overlay = document.createElement("div");
      overlay.id = "bookbuild-error";
      overlay.setAttribute("role", "alert");
      overlay.style.cssText = "position:fixed;inset:auto 1rem 1rem 1rem;max-height:50vh;overflow:auto;" +
        "background:#fff5f5;color:#7f1d1d;border:2px solid #b91c1c;border-radius:6px;padding:1rem;" +
        "font:13px/1.4 ui-monospace,monospace;white-space:pre-wrap;z-index:2147483647;box-shadow:0 4px 24px #0003";
      document.body.appendChild(overlay);
    }
    overlay.textContent = "Build failed; this is the last good page.\\n\\n" + JSON.parse(e.data).message;
  });
  events.addEventListener("build-ok", () => { if (overlay) { overlay.remove(); overlay = null; } });
})();
</script>"""


class Hub:
    """Fans build results out to every connected page (one queue per event stream)."""

    def __init__(self) -> None:
        self.clients: set[queue.Queue] = set()
        self.lock = threading.Lock()
        self.error: str | None = None

    def subscribe(self) -> queue.Queue:
        q: queue.Queue = queue.Queue()
        with self.lock:
            self.clients.add(q)
            if self.error is not None:  # a page opened while the build is broken sees why
                q.put(("build-error", {"message": self.error}))
        return q

    def unsubscribe(self, q: queue.Queue) -> None:
        with self.lock:
            self.clients.discard(q)

    def publish(self, event: str, data: dict) -> None:
        with self.lock:
            self.error = data.get("message") if event == "build-error" else None
            for q in self.clients:
                q.put((event, data))


def make_handler(root: Path, hub: Hub):  # noqa: C901  (replaced by the new preview server)
    root = root.resolve()

    class Handler(SimpleHTTPRequestHandler):
        """Static files from the preview folder only, plus the event stream."""

        server_version = "bookbuild-preview"

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, format, *args):  # noqa: A002 (the base class's name)
            pass  # the terminal shows builds, not requests

        def inside(self, path: str) -> Path | None:
            """The file a URL path names inside the preview folder, or None if it points out."""
            raw = urllib.parse.urlsplit(path).path
            decoded = urllib.parse.unquote(raw)
            parts = [p for p in decoded.split("/") if p not in ("", ".")]
            if ".." in parts or "\\" in decoded or "\x00" in decoded or raw.startswith("//"):
                return None
            target = (root / posixpath.join(*parts)) if parts else root
            try:
                resolved = target.resolve()
            except (OSError, ValueError):
                return None
            if resolved != root and root not in resolved.parents:
                return None  # a symlink pointing out of the folder
            return resolved

        def translate_path(self, path: str) -> str:
            target = self.inside(path)
            return str(target if target is not None else root / ".bookbuild-denied" / "missing")

        def send_error(self, code, message=None, explain=None):
            if code == HTTPStatus.FORBIDDEN:
                code = HTTPStatus.NOT_FOUND  # never confirm that something exists outside
            super().send_error(code, message, explain)

        def list_directory(self, path):
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None

        def do_GET(self):
            if urllib.parse.urlsplit(self.path).path == EVENTS:
                return self._events()
            if self.inside(self.path) is None:
                return self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return super().do_GET()

        def do_HEAD(self):
            if self.inside(self.path) is None:
                return self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return super().do_HEAD()

        def _events(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            q = hub.subscribe()
            try:
                self.wfile.write(b": connected\n\n")
                self.wfile.flush()
                while not self.server.stopping.is_set():
                    try:
                        event, data = q.get(timeout=1)
                    except queue.Empty:
                        self.wfile.write(b": ping\n\n")  # notices closed connections
                        self.wfile.flush()
                        continue
                    payload = json.dumps(data)
                    self.wfile.write(f"event: {event}\ndata: {payload}\n\n".encode())
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                hub.unsubscribe(q)

    return Handler


def bind(port: int) -> ThreadingHTTPServer:
    """A server on 127.0.0.1 at `port`, or the next free port above it."""
    last: OSError | None = None
    for candidate in range(port, port + 100):
        try:
            server = ThreadingHTTPServer((HOST, candidate), None)  # handler set by the caller
            return server
        except OSError as exc:
            last = exc
    raise OSError(f"no free port in {port}..{port + 99} on {HOST}: {last}")


class Tee(io.TextIOBase):
    """Writes to the terminal and keeps a copy, so a failed build's messages reach the page."""

    def __init__(self, terminal) -> None:
        self.terminal = terminal
        self.buffer_ = io.StringIO()

    def write(self, s: str) -> int:
        self.terminal.write(s)
        self.terminal.flush()
        return self.buffer_.write(s)

    def flush(self) -> None:
        self.terminal.flush()

    def text(self) -> str:
        return self.buffer_.getvalue()


# What a change touches: the whole book, or only the chapters edited.
WHOLE_BOOK = ("_quarto.yml", ".py", ".lua", ".tex", ".bib", ".css", ".j2", ".html", ".txt", ".json")


class Previewer:
    """Owns the output folder, the watcher, the builder thread and the server."""

    def __init__(self, start: Path, port: int = 4200, open_browser: bool = True,
                 debounce_ms: int = 50) -> None:
        self.start_dir = start
        self.proj = project_mod.load(start)
        if self.proj.root is None:
            raise project_mod.ProjectError("preview needs a book project: no _quarto.yml here or above")
        self.out = self.proj.cache_dir / "preview"
        self.port = port
        self.open_browser = open_browser
        self.debounce_ms = debounce_ms
        self.hub = Hub()
        self.pending: set[Path] = set()
        self.pending_lock = threading.Lock()
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.builds = 0

    # --- building -----------------------------------------------------------------------
    def build(self, changed: set[Path] | None) -> bool:
        """One build: the whole book when `changed` is None or touches shared files."""
        from bookbuild.build import build

        started = time.perf_counter()
        self.proj = project_mod.load(self.proj.root)
        chapters = [c for c in self.proj.chapters() if c.is_file()]
        targets = chapters
        if changed is not None:
            edited = {p.resolve() for p in changed}
            only_chapters = all(p.suffix == ".qmd" for p in edited)
            wanted = [c for c in chapters if c.resolve() in edited]
            if only_chapters and wanted:
                targets = wanted
        what = "book" if targets == chapters else ", ".join(str(t.relative_to(self.proj.root)) for t in targets)
        print(f"preview: building {what}", file=sys.stderr, flush=True)
        tee = Tee(sys.stderr)
        with contextlib.redirect_stderr(tee):
            try:
                code = build(self.proj, targets, formats=["html"], output_dir=self.out,
                             whole_book=False, extra_body=RELOAD_SCRIPT)
            except BookbuildError as exc:
                print(str(exc), file=sys.stderr)
                code = 1
            except Exception as exc:  # the server must survive any build failure
                import traceback

                print("".join(traceback.format_exception(exc)), file=sys.stderr)
                code = 1
        seconds = time.perf_counter() - started
        self.builds += 1
        if code == 0:
            print(f"preview: rebuilt in {seconds:.2f} s; reloading pages", file=sys.stderr, flush=True)
            self.hub.publish("build-ok", {"seconds": seconds})
            self.hub.publish("reload", {"seconds": seconds})
            return True
        message = "\n".join(line for line in tee.text().splitlines()
                            if not line.startswith(("[", "tikz:", "html:", "note:")))
        print("preview: build failed; serving the last good pages", file=sys.stderr, flush=True)
        self.hub.publish("build-error", {"message": message.strip()})
        return False

    def _builder(self) -> None:
        while not self.stop.is_set():
            if not self.wake.wait(timeout=0.5):
                continue
            with self.pending_lock:
                changed, self.pending = self.pending, set()
                self.wake.clear()
            if changed:
                self.build(changed)  # edits that arrive meanwhile wait for the next round

    # --- watching -----------------------------------------------------------------------
    def watched(self) -> list[Path]:
        root = self.proj.root
        paths = [root / "_quarto.yml", *[c.parent for c in self.proj.chapters()]]
        # The book's own Python (any constants package or helper module at the root), filters.
        paths += [d for d in root.iterdir() if (d / "__init__.py").is_file() or d.suffix == ".py"]
        if (root / "filters").is_dir():
            paths.append(root / "filters")
        from bookbuild.pages import TEMPLATES
        from bookbuild.render import FILTERS

        paths += [TEMPLATES, FILTERS]
        bib = self.proj.config.get("bibliography")
        for b in [bib] if isinstance(bib, str) else bib or []:
            paths.append((root / b).parent)
        preamble = self.proj.option("tikz-preamble")
        if preamble:
            paths.append((root / preamble).parent)
        unique = []
        for p in paths:
            p = p.resolve()
            if p.exists() and not any(p == u or u in p.parents for u in unique):
                unique = [u for u in unique if p not in u.parents] + [p]
        return unique

    def relevant(self, path: Path) -> bool:
        parts = set(path.parts)
        if parts & {".bookbuild", "_book", ".venv", "__pycache__", ".git", ".pytest_cache"}:
            return False
        return path.suffix in (".qmd", *WHOLE_BOOK) or path.name == "_quarto.yml"

    def _watcher(self) -> None:
        from watchfiles import watch

        for changes in watch(*self.watched(), stop_event=self.stop, debounce=self.debounce_ms,
                             step=20, yield_on_timeout=False, raise_interrupt=False):
            paths = {Path(p) for _, p in changes if self.relevant(Path(p))}
            if not paths:
                continue
            with self.pending_lock:
                self.pending |= paths
                self.wake.set()

    # --- serving ------------------------------------------------------------------------
    def serve(self) -> int:
        # Watch before the first build: an edit made while it runs is picked up afterwards.
        threading.Thread(target=self._watcher, daemon=True).start()
        try:
            self.build(None)
        except KeyboardInterrupt:
            from bookbuild.execute import kill_live_kernels

            kill_live_kernels()
            return 130
        server = bind(self.port)
        server.RequestHandlerClass = make_handler(self.out, self.hub)
        server.stopping = self.stop
        server.daemon_threads = True
        url = f"http://{HOST}:{server.server_address[1]}/"
        print(f"preview: serving {self.out} at {url}  (Ctrl-C to stop)", flush=True)
        threads = [threading.Thread(target=server.serve_forever, daemon=True),
                   threading.Thread(target=self._builder, daemon=True)]
        for t in threads:
            t.start()
        if self.open_browser and (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            import webbrowser

            webbrowser.open(url)
        try:
            while not self.stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.shutdown(server)
        return 0

    def shutdown(self, server: ThreadingHTTPServer) -> None:
        from bookbuild.execute import kill_live_kernels

        self.stop.set()
        server.shutdown()
        server.server_close()
        killed = kill_live_kernels()
        print(f"preview: stopped ({self.builds} builds; {killed} kernel(s) stopped)",
              file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]
