"""The HTTP side of preview: a Starlette app served by uvicorn on 127.0.0.1 only.

It serves files from the preview folder and nothing else, answers only requests addressed to a
loopback name on its own port (a page on another site that rebinds its DNS name to 127.0.0.1
gets 403), and pushes build events to pages over server-sent events. Everything runs on one
event loop: a held-open or half-sent request costs a socket and a coroutine, never a thread,
and is closed after an idle timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import html
import json
import socket
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

HOST = "127.0.0.1"
EVENTS = "/__bookbuild__/events"
HEAD_TIMEOUT = 5.0  # seconds a connection may take to send a complete request head
KEEP_ALIVE = 5  # seconds an idle keep-alive connection stays open
MAX_CONNECTIONS = 100  # beyond this uvicorn answers 503 at once
MAX_STREAMS = 32  # event streams (open tabs) at once
PING = 15.0  # seconds between comments on an idle event stream

RELOAD_SCRIPT = """<script id="bookbuild-preview">
(() => {
  const key = "bookbuild-scroll:" + location.pathname;
  const saved = sessionStorage.getItem(key);
  if (saved !== null) { window.scrollTo(0, Number(saved)); sessionStorage.removeItem(key); }
  let overlay = null;
  const events = new EventSource("/__bookbuild__/events");
  const show = (message) => {
    if (!overlay) {
      overlay = document.createElement("div");
      overlay.id = "bookbuild-error";
      overlay.setAttribute("role", "alert");
      overlay.style.cssText = "position:fixed;inset:auto 1rem 1rem 1rem;max-height:50vh;" +
        "overflow:auto;background:#fff5f5;color:#7f1d1d;border:2px solid #b91c1c;" +
        "border-radius:6px;padding:1rem;font:13px/1.4 ui-monospace,monospace;" +
        "white-space:pre-wrap;z-index:2147483647;box-shadow:0 4px 24px #0003";
      document.body.appendChild(overlay);
    }
    overlay.textContent = "Build failed; this is the last good page.\\n\\n" + message;
  };
  events.addEventListener("reload", () => {
    sessionStorage.setItem(key, String(window.scrollY));
    location.reload();
  });
  events.addEventListener("build-error", (e) => show(JSON.parse(e.data).message));
  events.addEventListener("build-ok", () => { if (overlay) { overlay.remove(); overlay = null; } });
})();
</script>"""


@dataclass
class Hub:
    """The build state and the open event streams it is pushed to."""

    state: str = "building"  # building | ok | error
    message: str = ""
    clients: set[asyncio.Queue] = field(default_factory=set)
    closing: asyncio.Event = field(default_factory=asyncio.Event)

    def publish(self, event: str, data: dict) -> None:
        if event == "build-error":
            self.state, self.message = "error", data.get("message", "")
        elif event == "build-ok":
            self.state, self.message = "ok", ""
        for q in list(self.clients):
            try:
                q.put_nowait((event, data))
            except asyncio.QueueFull:  # a stalled tab: drop it rather than buffer without end
                self.clients.discard(q)


def inside(root: Path, url_path: str) -> Path | None:
    """The file `url_path` (already percent-decoded) names inside `root`, or None if outside.

    Refuses `..` segments, backslashes and NUL outright, then checks the resolved path, so a
    symlink inside the folder that points out of it is refused too.
    """
    if "\x00" in url_path or "\\" in url_path:
        return None
    parts = [p for p in url_path.split("/") if p not in ("", ".")]
    if ".." in parts:
        return None
    base = root.resolve()
    try:
        target = base.joinpath(*parts).resolve()
        target.stat()  # a name too long or a symlink loop fails here, not later as a 500
    except FileNotFoundError:
        pass  # missing inside the folder: the caller answers with a page saying so
    except (OSError, ValueError, RuntimeError):
        return None
    return target if target == base or target.is_relative_to(base) else None


def inject(page: str) -> str:
    """The page with the reload script before its closing body tag."""
    at = page.lower().rfind("</body>")
    return page + RELOAD_SCRIPT if at < 0 else page[:at] + RELOAD_SCRIPT + page[at:]


def status_page(hub: Hub, title: str, status: int = 200) -> HTMLResponse:
    """The page shown where no book page exists yet: building, or why the build failed."""
    if hub.state == "error":
        heading = "The book did not build"
        body = (f"<pre id='bookbuild-message'>{html.escape(hub.message)}</pre>"
                "<p>Fix the file named above and save it: preview rebuilds by itself and this "
                "page reloads when the build succeeds. The terminal running "
                "<code>bookbuild preview</code> shows the same messages.</p>")
    elif hub.state == "building":
        heading = "Building the book…"
        body = "<p>This page reloads by itself when the first build is done.</p>"
    else:
        heading = title
        body = "<p>There is no such page in the book. <a href='/'>Go to the start</a>.</p>"
    page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(heading)} · bookbuild preview</title></head>"
            f"<body style='font:16px/1.5 system-ui,sans-serif;max-width:50rem;margin:3rem auto'>"
            f"<h1>{html.escape(heading)}</h1>{body}</body></html>")
    return HTMLResponse(inject(page), status_code=status, headers={"Cache-Control": "no-store"})


class Site:
    """The two kinds of answer: the event stream, and files from the preview folder."""

    def __init__(self, root: Path, hub: Hub) -> None:
        self.root, self.hub = root, hub

    async def events(self, request: Request) -> Response:
        if len(self.hub.clients) >= MAX_STREAMS:
            return Response("too many open preview tabs\n", status_code=503)
        queue: asyncio.Queue = asyncio.Queue(maxsize=16)
        self.hub.clients.add(queue)
        return StreamingResponse(self._stream(queue), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})

    async def _stream(self, queue: asyncio.Queue):
        """Build events for one page until it goes away or preview stops (a coroutine each)."""
        hub = self.hub
        try:
            yield ": connected\n\n"
            if hub.state == "error":  # a page opened while the build is broken sees why
                yield f"event: build-error\ndata: {json.dumps({'message': hub.message})}\n\n"
            yield f"event: state\ndata: {json.dumps({'state': hub.state})}\n\n"
            while not hub.closing.is_set():
                item = await _next(queue, hub.closing, PING)
                if item is not None:
                    yield f"event: {item[0]}\ndata: {json.dumps(item[1])}\n\n"
                elif not hub.closing.is_set():
                    yield ": ping\n\n"  # finds connections that closed without a word
        finally:
            hub.clients.discard(queue)

    async def files(self, request: Request) -> Response:
        url_path = request.scope["path"]  # percent-decoded once by the server
        target = inside(self.root, url_path)
        if target is None:
            return Response("not found\n", status_code=404)  # never confirm what lies outside
        if target.is_dir():
            if not url_path.endswith("/"):
                return Response(status_code=301, headers={"Location": url_path + "/"})
            target = target / "index.html"
        page = url_path.endswith((".html", "/"))
        if not target.is_file():
            if not page:
                return Response("not found\n", status_code=404)
            # no book yet (building, or broken): say so at `/` rather than a bare 404
            status = 200 if url_path == "/" and self.hub.state != "ok" else 404
            return status_page(self.hub, "Not found", status)
        if target.suffix != ".html":
            return FileResponse(target, headers={"Cache-Control": "no-cache"})
        try:
            text = target.read_text(encoding="utf-8", errors="replace")
        except OSError:  # swapped out by a build at this instant
            return status_page(self.hub, "Not found", 404)
        return HTMLResponse(inject(text), headers={"Cache-Control": "no-store"})


async def _next(queue: asyncio.Queue, closing: asyncio.Event, timeout: float):
    """The next queued item, or None after `timeout` or once `closing` is set."""
    get = asyncio.ensure_future(queue.get())
    stop = asyncio.ensure_future(closing.wait())
    done, _ = await asyncio.wait({get, stop}, timeout=timeout,
                                 return_when=asyncio.FIRST_COMPLETED)
    stop.cancel()
    if get in done:
        return get.result()
    get.cancel()
    return None


def make_app(root: Path, hub: Hub) -> Starlette:
    """The ASGI app: the event stream plus files from `root`."""
    site = Site(root, hub)
    return Starlette(routes=[Route(EVENTS, site.events),
                             Route("/{path:path}", site.files, methods=["GET", "HEAD"])])


class LocalOnly:
    """ASGI middleware: 403 unless `Host` (and `Origin`, when sent) name this server on loopback.

    A DNS-rebinding page reaches 127.0.0.1 with its own name in `Host`; refusing it keeps the
    book and the error stream (paths, messages) away from other sites.
    """

    def __init__(self, app, port: int) -> None:
        self.app = app
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}
        self.origins = {f"http://{h}" for h in self.hosts}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                       for k, v in scope["headers"]}
            host = headers.get("host", "").strip().lower()
            origin = headers.get("origin")
            if host not in self.hosts or (origin is not None and origin.lower() not in
                                          self.origins):
                response = Response("forbidden: bookbuild preview answers only to "
                                    f"http://{HOST}:{scope['server'][1]}/\n", status_code=403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class GuardedH11(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for each request head.

    uvicorn's keep-alive timer stops at the first byte received, so a client that sends a
    request a byte at a time, or opens a socket and says nothing, would hold it forever.
    """

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc) -> None:
        timer = getattr(self, "_head_timer", None)
        if timer is not None:
            timer.cancel()
        super().connection_lost(exc)

    def _arm(self) -> None:
        armed_with = self.cycle

        def expire() -> None:
            if self.cycle is armed_with and not self.transport.is_closing():
                self.transport.close()  # no new request arrived in time

        old = getattr(self, "_head_timer", None)
        if old is not None:
            old.cancel()
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT, expire)


class PortError(Exception):
    """No port could be bound; the message is one line for the user."""


def bind(port: int, tries: int = 100) -> socket.socket:
    """A listening socket on 127.0.0.1 at `port`, or the next free port above it."""
    last: OSError | None = None
    for candidate in range(port, min(port + tries, 65536)):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, candidate))
            sock.listen(128)
        except OSError as exc:
            sock.close()
            last = exc
            if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                break
            continue
        sock.setblocking(False)
        return sock
    why = last.strerror if last is not None and last.strerror else str(last)
    raise PortError(f"cannot listen on {HOST} ports {port}-{candidate}: {why}; "
                    "pass another --port")


def make_server(app, sock: socket.socket):
    """A uvicorn server for `app` on `sock` that leaves signals to the caller."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):  # preview stops the server itself, after the builds
            yield

    config = uvicorn.Config(LocalOnly(app, sock.getsockname()[1]), http=GuardedH11, ws="none",
                            lifespan="off", log_config=None, log_level="error",
                            access_log=False, timeout_keep_alive=KEEP_ALIVE,
                            limit_concurrency=MAX_CONNECTIONS, timeout_graceful_shutdown=1,
                            server_header=False)
    return Server(config)
