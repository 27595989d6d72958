"""`bookbuild preview`: serve the HTML book on 127.0.0.1, rebuild what changed, reload the page.

One event loop runs three things: the server (server.py), the watcher (watcher.py) and the
build loop, which hands each batch of changes to the builder child (builder.py); edits made
during a build are coalesced into the next one. The reload script is added to pages as they
are served, so the preview folder holds exactly what `render` would write.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from pathlib import Path

import bookbuild.preview.engine as engine


class Previewer:
    """Owns the preview folder, the server, the watcher and the builder child."""

    def __init__(self, start: Path, port: int = 4200, open_browser: bool = True,
                 debounce_ms: int = 50) -> None:
        if not 1 <= port <= 65535:
            raise engine.ProjectError(f"bookbuild: --port {port}: not a port number; use "
                                      "1-65535 (default 4200)")
        root = engine.find_root(start)
        if root is None:
            raise engine.ProjectError("bookbuild: preview needs a book project: no _quarto.yml "
                                      "here or above")
        self.root = root
        self.out = engine.preview_dir(root)
        self.port = port
        self.open_browser = open_browser
        self.debounce_ms = debounce_ms
        self.stop = threading.Event()  # set from outside (a signal handler, a test) to stop
        self.builds = 0

    def serve(self) -> int:
        """Serve until Ctrl-C or SIGTERM; 128 + the signal number then, 2 if no port is free."""
        from bookbuild.preview.server import PortError, bind

        try:
            sock = bind(self.port)
        except PortError as exc:
            print(f"bookbuild: {exc}", file=sys.stderr)
            return 2
        return asyncio.run(self._main(sock))

    async def _main(self, sock) -> int:
        from bookbuild.preview.builder import Builder
        from bookbuild.preview.server import Hub, make_app, make_server

        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        received: list[int] = []

        def on_signal(signum: int) -> None:
            received.append(signum)
            stopping.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal, sig)
        hub = Hub()
        server = make_server(make_app(self.out, hub), sock)
        builder = Builder(self.root, self.out)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
        tasks = [asyncio.create_task(server.serve(sockets=[sock])),
                 asyncio.create_task(self._build_loop(builder, hub, stopping)),
                 asyncio.create_task(self._poll_stop(stopping))]
        print(f"preview: serving {self.out} at {url}  (Ctrl-C to stop)", flush=True)
        if self.open_browser and (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            import webbrowser

            # a daemon thread: a browser that blocks must not hold up the exit
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
        done, _ = await asyncio.wait([asyncio.create_task(stopping.wait()), *tasks[:2]],
                                     return_when=asyncio.FIRST_COMPLETED)
        crashed = [t for t in done if t in tasks and t.exception() is not None]
        started = time.monotonic()
        hub.closing.set()  # event streams end, so the server has no open response to wait for
        for t in tasks[1:]:
            t.cancel()  # first, so the killed build is not reported as a failed one
        await asyncio.wait(tasks[1:], timeout=0.5)
        killed = await builder.stop()
        server.should_exit = True
        await asyncio.wait(tasks[:1], timeout=1.0)
        seconds = time.monotonic() - started
        for t in crashed:
            exc = t.exception()
            print(f"bookbuild: preview stopped by an internal error: {type(exc).__name__}: {exc}",
                  file=sys.stderr)
        print(f"preview: stopped in {seconds:.2f} s ({self.builds} builds; {killed} build "
              "process(es) stopped)", file=sys.stderr, flush=True)
        if crashed:
            return 1
        return 128 + received[0] if received else 0

    async def _poll_stop(self, stopping: asyncio.Event) -> None:
        while not self.stop.is_set():
            await asyncio.sleep(0.2)
        stopping.set()

    async def _build_loop(self, builder, hub, stopping: asyncio.Event) -> None:
        """Build the book, then once per batch of changes, until stopped."""
        import bookbuild.preview.watcher as watcher

        pending: set[Path] = set()
        wake = asyncio.Event()
        output, extra = None, []
        try:
            proj = engine.load(self.root)
            output, extra = engine.output_dir(proj).resolve(), engine.extra_watch_dirs(proj)
        except Exception:  # a broken _quarto.yml: the first build reports it
            pass

        async def collect() -> None:
            while not stopping.is_set():
                try:
                    async for batch in watcher.changes(self.root, output, extra, stopping,
                                                       self.debounce_ms):
                        pending.update(batch)
                        wake.set()
                except Exception as exc:  # the watcher must outlive a vanished folder
                    print(f"preview: watching files failed ({exc}); watching again",
                          file=sys.stderr, flush=True)
                    await asyncio.sleep(1)

        watching = asyncio.create_task(collect())  # before the first build: edits meanwhile count
        whole, failed = True, set()
        try:
            while not stopping.is_set():
                changed = None if whole else sorted(pending | failed)
                pending.clear()
                wake.clear()
                hub.publish("building", {})
                result = await builder.build(changed)
                if result.skipped:  # nothing a page is made from changed: no build, no reload
                    if not pending:
                        await wake.wait()
                    continue
                self.builds += 1
                if result.ok:
                    whole = whole and not result.whole
                    failed = set() if result.whole else failed - {Path(p) for p in result.built}
                    print(f"preview: rebuilt in {result.seconds:.2f} s; reloading pages",
                          file=sys.stderr, flush=True)
                    hub.publish("build-ok", {"seconds": result.seconds})
                    hub.publish("reload", {"seconds": result.seconds})
                else:
                    whole = whole or result.whole
                    failed |= {Path(p) for p in result.built}
                    print("preview: build failed; serving the last good pages (fix and save to "
                          "rebuild)", file=sys.stderr, flush=True)
                    hub.publish("build-error", {"message": result.message})
                if not pending:
                    await wake.wait()
        finally:
            watching.cancel()
            await asyncio.gather(watching, return_exceptions=True)
