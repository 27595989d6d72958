"""`bookbuild preview` as a user runs it: a real server in a subprocess on a copy of a small book,
spoken to by a real HTTP client over loopback (and headless chromium where the page matters)."""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import FIXTURES, run_cli

TRACEBACK = re.compile(r"Traceback \(most recent call last\)|BrokenPipe|ConnectionReset|"
                       r"Exception in ASGI|Task exception")


class Preview:
    """A running `bookbuild preview` and a listener on its event stream."""

    def __init__(self, root: Path, port: int = 4700, env: dict | None = None) -> None:
        exe = Path(sys.executable).with_name("bookbuild")
        self.root = root
        self.proc = subprocess.Popen([str(exe), "preview", "--no-browser", "--port", str(port)],
                                     cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=dict(os.environ, NO_COLOR="1", **(env or {})))
        self.log: list[str] = []
        threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True).start()
        line = self.proc.stdout.readline()  # printed as soon as the port is bound
        m = re.search(r"at http://127\.0\.0\.1:(\d+)/", line)
        assert m, f"no URL in {line!r}; log: {''.join(self.log)}"
        self.port = int(m.group(1))
        self.events: queue.Queue = queue.Queue()
        threading.Thread(target=self._listen, daemon=True).start()
        name, data = self.next_event(("state",), timeout=10)
        if data["state"] == "building":  # wait for the first build to finish
            name, _ = self.next_event(("build-ok", "build-error"), timeout=120)
            if name == "build-ok":
                self.next_event(("reload",))

    def _drain(self, stream) -> None:
        for line in stream:
            self.log.append(line)

    def _listen(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=180)
        conn.request("GET", "/__bookbuild__/events")
        resp = conn.getresponse()
        event = None
        while True:
            try:
                line = resp.fp.readline().decode()
            except OSError:
                return
            if not line:
                return
            if line.startswith("event: "):
                event = line[7:].strip()
            elif line.startswith("data: ") and event:
                self.events.put((event, json.loads(line[6:])))
                event = None

    def next_event(self, names: tuple[str, ...], timeout: float = 60) -> tuple[str, dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                name, data = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if name in names:
                return name, data
        raise AssertionError(f"no {names} event within {timeout} s; log:\n{''.join(self.log)}")

    def get(self, path: str, headers: dict | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", path, headers=headers or {})  # sent as given: no normalisation
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")

    def builder(self) -> psutil.Process:
        kids = psutil.Process(self.proc.pid).children()
        assert len(kids) == 1, kids
        return kids[0]

    def wait_log(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in "".join(self.log):
            assert time.monotonic() < deadline, f"{text!r} never logged:\n{''.join(self.log)}"
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGINT) -> int:
        if self.proc.poll() is None:
            tree = psutil.Process(self.proc.pid).children(recursive=True)
            self.proc.send_signal(sig)
            try:
                return self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                for p in [psutil.Process(self.proc.pid), *tree]:
                    p.kill()
                raise
        return self.proc.returncode


def copy_book(tmp_path: Path) -> Path:
    root = tmp_path / "book"
    shutil.copytree(FIXTURES / "book", root)
    return root


@pytest.fixture
def preview(tmp_path: Path):
    p = Preview(copy_book(tmp_path))
    yield p
    p.stop()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One preview for the tests that only read from it."""
    p = Preview(copy_book(tmp_path_factory.mktemp("served")), port=4750)
    yield p
    p.stop()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


# --- rebuilding what changed ------------------------------------------------------------------

def test_prose_edit_reloads_with_new_text_and_no_kernel(preview: Preview) -> None:
    status, page = preview.get("/chapters/one.html")
    assert status == 200 and "Tips are green." in page
    assert 'id="bookbuild-preview"' in page and "/__bookbuild__/events" in page
    edit(preview.root / "chapters" / "one.qmd", "Tips are green.", "Tips are very green.")
    preview.next_event(("reload",))
    assert "Tips are very green." in preview.get("/chapters/one.html")[1]
    log = "".join(preview.log)
    assert "preview: building chapters/one.qmd" in log
    assert "chapters/one.qmd: cached, no kernel started" in log
    # the search index covers the whole book again: the other pages from the last build
    indexed = re.findall(r"search: indexed (\d+) page\(s\)", log)
    assert len(indexed) >= 2 and indexed[-1] == indexed[0], log
    assert preview.get("/pagefind/pagefind-entry.json")[0] == 200
    # the reload script is added as pages are served: the files on disk are render's own
    on_disk = (preview.root / ".bookbuild" / "preview" / "chapters" / "one.html").read_text()
    assert "bookbuild-preview" not in on_disk
    assert not (preview.root / "_book").exists()


def test_code_edit_re_executes_that_chapter_only(preview: Preview) -> None:
    edit(preview.root / "chapters" / "one.qmd", "ridge = 295", "ridge = 300")
    preview.next_event(("reload",))
    assert re.search(r"The ridge point is (<span[^>]*>)?300", preview.get("/chapters/one.html")[1])
    log = "".join(preview.log)
    assert "preview: building chapters/one.qmd\n" in log
    assert "chapters/one.qmd: executed 2 cells" in log


def test_stopping_right_after_a_code_edit_leaves_no_temporary_folder(tmp_path: Path) -> None:
    # Preview is stopped while the spare kernel for the next edit is being forked, before it
    # has bound its sockets; its folder (and the template's) must go too. The kernels still
    # see the user's own TMPDIR.
    root = copy_book(tmp_path)
    edit(root / "chapters" / "two.qmd", "Back to", "```{python}\nimport tempfile\n"
         "class Tmp:\n    where = tempfile.gettempdir()\n```\n\nTemporary files go to "
         "`{python} Tmp.where`. Back to")
    scratch = Path(tempfile.mkdtemp(prefix="bb-", dir="/tmp"))
    try:
        p = Preview(root, env={"TMPDIR": str(scratch)})
        try:
            shown = re.sub(r"<[^>]+>", "", p.get("/chapters/two.html")[1])
            assert f"Temporary files go to {scratch}. Back to" in shown, shown
            edit(root / "chapters" / "one.qmd", "ridge = 295", "ridge = 300")
            p.next_event(("reload",))
        finally:
            assert p.stop() == 130
        left = sorted(q.name for q in scratch.iterdir())
        assert left == [], left
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def test_edit_to_any_local_module_re_executes_and_shows_the_new_value(tmp_path: Path) -> None:
    root = copy_book(tmp_path)
    (root / "chapters" / "shop").mkdir()
    (root / "chapters" / "shop" / "__init__.py").write_text("")
    (root / "chapters" / "shop" / "prices.py").write_text("APPLE = 3\n")
    edit(root / "chapters" / "two.qmd", "Back to", "```{python}\nfrom shop.prices import APPLE\n```"
         "\n\nAn apple costs `{python} APPLE` coins. Back to")
    p = Preview(root)
    try:
        price = re.compile(r"An apple costs (?:<span[^>]*>)?(\d+)")
        assert price.search(p.get("/chapters/two.html")[1]).group(1) == "3"
        seen = len(p.log)
        (root / "chapters" / "shop" / "prices.py").write_text("APPLE = 4\n")
        p.next_event(("reload",))
        assert price.search(p.get("/chapters/two.html")[1]).group(1) == "4"
        after = "".join(p.log[seen:])
        assert "chapters/two.qmd: executed" in after
        assert "chapters/one.qmd: cached, no kernel started" in after  # it does not import shop
    finally:
        p.stop()


def test_a_file_no_page_is_made_from_rebuilds_nothing_a_data_file_does(tmp_path: Path) -> None:
    """`bookbuild preview 2> preview.log` in the book's folder: every build wrote the log, and
    the log's change started the next build, for ever. A data file a module reads (named by no
    chapter, with no source suffix) still rebuilds."""
    root = copy_book(tmp_path)
    (root / "chapters" / "shop").mkdir()
    (root / "chapters" / "shop" / "__init__.py").write_text("")
    (root / "chapters" / "shop" / "prices.py").write_text(
        "from pathlib import Path\n"
        "APPLE = int(Path(__file__).with_name('apple.dat').read_text())\n")
    (root / "chapters" / "shop" / "apple.dat").write_text("3\n")
    edit(root / "chapters" / "two.qmd", "Back to", "```{python}\nfrom shop.prices import APPLE\n```"
         "\n\nAn apple costs `{python} APPLE` coins. Back to")
    p = Preview(root)
    try:
        seen = len(p.log)
        log = root / "preview.log"
        for n in range(5):  # what preview's own messages, sent to a file here, would do
            with log.open("a") as f:
                f.write(f"preview: rebuilt in 0.0{n} s; reloading pages\n")
            time.sleep(0.3)
        time.sleep(1.0)
        assert "preview: building" not in "".join(p.log[seen:])
        (root / "chapters" / "shop" / "apple.dat").write_text("4\n")
        p.next_event(("reload",))
        price = re.compile(r"An apple costs (?:<span[^>]*>)?(\d+)")
        assert price.search(p.get("/chapters/two.html")[1]).group(1) == "4"
    finally:
        p.stop()


def test_edits_during_a_build_are_coalesced_into_one_follow_up(preview: Preview) -> None:
    chapter = preview.root / "chapters" / "one.qmd"
    edit(chapter, "    name = \"first\"", "    import time; time.sleep(3)\n    name = \"first\"")
    preview.wait_log("building chapters/one.qmd")
    for word in ("alpha", "beta", "gamma"):  # three saves while the slow build runs
        edit(chapter, "Outer body.", f"Outer body {word}.")
        chapter.write_text(chapter.read_text().replace(f"Outer body {word}.", "Outer body."))
        time.sleep(0.2)
    edit(chapter, "Outer body.", "Outer body, final.")
    preview.next_event(("reload",), timeout=60)  # the slow build
    preview.next_event(("reload",), timeout=60)  # one follow-up with every edit
    time.sleep(1.5)
    assert "Outer body, final." in preview.get("/chapters/one.html")[1]
    assert "".join(preview.log).count("preview: building") == 3  # initial + slow + one follow-up


# --- surviving errors ---------------------------------------------------------------------------

def test_broken_reference_shows_overlay_keeps_last_page_then_clears(preview: Preview) -> None:
    chapter = preview.root / "chapters" / "one.qmd"
    edit(chapter, "`{python} One.ridge` FLOP/byte", "`{python} One.ridg` FLOP/byte")
    name, data = preview.next_event(("build-error",))
    assert "chapters/one.qmd:12:34: unresolved reference 'One.ridg'" in data["message"]
    status, page = preview.get("/chapters/one.html")
    assert status == 200 and "The ridge point is" in page  # last good page still served
    edit(chapter, "`{python} One.ridg` FLOP/byte", "`{python} One.ridge` FLOP/byte")
    preview.next_event(("build-ok",))
    preview.next_event(("reload",))


def test_cell_exception_is_reported_to_the_page(preview: Preview) -> None:
    edit(preview.root / "chapters" / "one.qmd", "    ridge = 295", "    ridge = 295 / 0")
    _, data = preview.next_event(("build-error",))
    assert "chapters/one.qmd:6: ZeroDivisionError in cell 'one-values'" in data["message"]


def test_broken_quarto_yml_shows_located_error_then_recovers(preview: Preview) -> None:
    config = preview.root / "_quarto.yml"
    good = config.read_text()
    config.write_text(good.replace("  title: \"Fixture Book\"", "  title: [unclosed"))
    _, data = preview.next_event(("build-error",))
    assert re.match(r"_quarto\.yml:\d+(:\d+)?: ", data["message"]), data["message"]
    assert preview.get("/chapters/one.html")[0] == 200  # last good pages still served
    config.write_text(good.replace("Fixture Book", "Fixed Book"))
    preview.next_event(("build-ok",))
    preview.next_event(("reload",))
    assert "Fixed Book" in preview.get("/index.html")[1]
    # and the builder is still alive for the next edit
    edit(preview.root / "chapters" / "one.qmd", "Tips are green.", "Tips are blue.")
    preview.next_event(("reload",))
    assert "Tips are blue." in preview.get("/chapters/one.html")[1]
    assert not TRACEBACK.search("".join(preview.log))


def test_removed_quarto_yml_is_reported_then_recovers(preview: Preview) -> None:
    config = preview.root / "_quarto.yml"
    good = config.read_text()
    config.unlink()
    _, data = preview.next_event(("build-error",))
    assert data["message"].startswith("_quarto.yml: missing")
    config.write_text(good)
    preview.next_event(("reload",))
    assert preview.get("/chapters/two.html")[0] == 200


def test_bad_setting_value_is_reported_not_fatal(preview: Preview) -> None:
    config = preview.root / "_quarto.yml"
    config.write_text(config.read_text() + "  timeout: abc\n")
    _, data = preview.next_event(("build-error",))
    assert data["message"].startswith("_quarto.yml:")
    assert "timeout" in data["message"] and "Traceback" not in data["message"]


def test_starting_on_a_broken_chapter_serves_a_helpful_page_then_the_book(tmp_path: Path) -> None:
    root = copy_book(tmp_path)
    edit(root / "chapters" / "one.qmd", "`{python} One.ridge` FLOP/byte",
         "`{python} One.ridg` FLOP/byte")
    p = Preview(root)
    try:
        status, page = p.get("/")
        assert status == 200, page
        assert "The book did not build" in page
        assert "chapters/one.qmd:12:34: unresolved reference" in page
        assert "Fix the file named above and save" in page
        assert 'id="bookbuild-preview"' in page  # it reloads itself after the fix
        edit(root / "chapters" / "one.qmd", "One.ridg`", "One.ridge`")
        p.next_event(("build-ok",))
        p.next_event(("reload",))
        status, page = p.get("/")
        assert status == 200 and "This fixture book has two chapters" in page
        assert "The ridge point is" in p.get("/chapters/one.html")[1]  # the whole book, not one
        assert "The book did not build" not in page
    finally:
        p.stop()


def test_while_the_first_build_runs_the_start_page_says_so(tmp_path: Path) -> None:
    root = copy_book(tmp_path)
    edit(root / "chapters" / "one.qmd", "    name = \"first\"",
         "    import time; time.sleep(20)\n    name = \"first\"")
    exe = Path(sys.executable).with_name("bookbuild")
    proc = subprocess.Popen([str(exe), "preview", "--no-browser", "--port", "4760"], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(re.search(r":(\d+)/", proc.stdout.readline()).group(1))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/")
        resp = conn.getresponse()
        page = resp.read().decode()
        assert resp.status == 200
        assert "Building the book" in page and 'id="bookbuild-preview"' in page
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 143


def test_a_killed_builder_is_replaced(preview: Preview) -> None:
    edit(preview.root / "chapters" / "one.qmd", "    name = \"first\"",
         "    import time; time.sleep(30)\n    name = \"first\"")
    preview.wait_log("building chapters/one.qmd")
    builder = preview.builder()
    builder.kill()
    _, data = preview.next_event(("build-error",))
    assert "the builder process ended unexpectedly (signal 9)" in data["message"]
    edit(preview.root / "chapters" / "one.qmd", "    import time; time.sleep(30)\n", "")
    preview.next_event(("reload",), timeout=120)
    assert preview.builder().pid != builder.pid
    assert "The ridge point is" in preview.get("/chapters/one.html")[1]


# --- the page in a browser ----------------------------------------------------------------------

def test_overlay_and_reload_in_a_real_browser(preview: Preview) -> None:
    from playwright.sync_api import sync_playwright

    from tests.test_browser import CHROMIUM_ARGS, chromium

    chapter = preview.root / "chapters" / "one.qmd"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{preview.port}/chapters/one.html")
            page.wait_for_function("() => document.readyState === 'complete'")
            time.sleep(0.5)  # the event stream is open
            edit(chapter, "`{python} One.ridge` FLOP/byte", "`{python} One.ridg` FLOP/byte")
            overlay = page.locator("#bookbuild-error")
            overlay.wait_for(state="visible", timeout=60_000)
            assert "chapters/one.qmd:12:34: unresolved reference 'One.ridg'" in overlay.inner_text()
            assert "The ridge point is" in page.inner_text("main")  # the last good page
            edit(chapter, "`{python} One.ridg` FLOP/byte", "`{python} One.ridge` FLOP/byte "
                 "(as reloaded)")
            page.wait_for_function("() => document.body.innerText.includes('as reloaded')",
                                   timeout=60_000)
            assert page.locator("#bookbuild-error").count() == 0
        finally:
            browser.close()


# --- the server: only the book, only to this machine -----------------------------------------

@pytest.mark.parametrize("path", [
    "/../_quarto.yml", "/%2e%2e/_quarto.yml", "/..%2f_quarto.yml", "/assets/../../_quarto.yml",
    "/%2E%2E/%2E%2E/etc/passwd", "//etc/passwd", "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/..\\_quarto.yml", "/..%5c_quarto.yml", "/chapters/one.html%00.css", "/%252e%252e/_quarto.yml",
    "http://127.0.0.1/../_quarto.yml", "/etc/passwd", "/chapters/", "/" + "a" * 300,
    "/" + "b/" * 3000 + "x.html",
])
def test_paths_outside_the_output_folder_are_404(served: Preview, path: str) -> None:
    status, body = served.get(path)
    assert status in (403, 404)  # an absolute-form target is refused before routing
    assert "project:" not in body and "root:" not in body


def test_symlinks_pointing_outside_are_404_inside_ones_served(served: Preview) -> None:
    out = served.root / ".bookbuild" / "preview"
    (out / "leak.yml").symlink_to(served.root / "_quarto.yml")
    (out / "leakdir").symlink_to("/etc")
    (out / "again.html").symlink_to(out / "index.html")
    (out / "loop.html").symlink_to(out / "loop.html")
    try:
        assert served.get("/leak.yml")[0] == 404
        assert served.get("/leakdir/passwd")[0] == 404
        assert served.get("/loop.html")[0] == 404
        assert served.get("/again.html")[0] == 200
    finally:
        for name in ("leak.yml", "leakdir", "again.html", "loop.html"):
            (out / name).unlink()
    assert not TRACEBACK.search("".join(served.log))


@pytest.mark.parametrize("host,status", [
    ("127.0.0.1:{port}", 200), ("localhost:{port}", 200), ("[::1]:{port}", 200),
    ("LOCALHOST:{port}", 200),
    ("evil.example:{port}", 403), ("evil.example", 403), ("127.0.0.1", 403),
    ("127.0.0.1:1", 403), ("localhost.evil.example:{port}", 403), ("127.0.0.1.nip.io:{port}", 403),
    ("", 400),  # HTTP/1.1 without Host is malformed: refused before the app sees it
])
def test_host_header_must_name_this_server(served: Preview, host: str, status: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    conn.putrequest("GET", "/index.html", skip_host=True)
    if host:
        conn.putheader("Host", host.format(port=served.port))
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read().decode()
    assert resp.status == status
    if status == 403:
        assert "Fixture Book" not in body


def test_foreign_origin_cannot_read_the_book_or_the_error_stream(served: Preview) -> None:
    evil = {"Origin": "http://evil.example"}
    assert served.get("/index.html", evil)[0] == 403
    assert served.get("/__bookbuild__/events", evil)[0] == 403
    same = {"Origin": f"http://127.0.0.1:{served.port}"}
    assert served.get("/index.html", same)[0] == 200


def test_listens_on_loopback_only(served: Preview) -> None:
    port_hex = f"{served.port:04X}"
    listening = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
                 if line.split()[1].endswith(":" + port_hex) and line.split()[3] == "0A"]
    assert listening, "no listening socket found"
    assert all(fields[1] == f"0100007F:{port_hex}" for fields in listening)  # 127.0.0.1
    assert not any(line.split()[1].endswith(":" + port_hex) and line.split()[3] == "0A"
                   for line in Path("/proc/net/tcp6").read_text().splitlines()[1:])


def threads(pid: int) -> int:
    return psutil.Process(pid).num_threads()


def test_held_open_requests_cost_no_threads_and_are_closed(served: Preview) -> None:
    from bookbuild.preview.server import HEAD_TIMEOUT

    before = threads(served.proc.pid)
    socks = []
    for i in range(60):  # half-sent request heads, and sockets that say nothing at all
        s = socket.create_connection(("127.0.0.1", served.port), timeout=HEAD_TIMEOUT + 5)
        if i % 2:
            s.sendall(b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1")
        socks.append(s)
    time.sleep(0.5)
    assert threads(served.proc.pid) <= before + 1
    assert served.get("/index.html")[0] == 200  # others are still served meanwhile
    deadline = time.monotonic() + HEAD_TIMEOUT + 5
    for s in socks:  # the server hangs up on each of them after the head timeout
        s.settimeout(max(0.1, deadline - time.monotonic()))
        assert s.recv(100) == b""
        s.close()
    assert served.get("/index.html")[0] == 200


def test_event_streams_are_bounded_and_cost_no_threads(served: Preview) -> None:
    from bookbuild.preview.server import MAX_STREAMS

    before = threads(served.proc.pid)
    conns, statuses = [], []
    for _ in range(MAX_STREAMS + 5):
        c = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
        c.request("GET", "/__bookbuild__/events")
        r = c.getresponse()
        statuses.append(r.status)
        conns.append(c)
    try:
        assert threads(served.proc.pid) <= before + 1
        assert statuses.count(503) >= 5  # the listener thread holds one stream too
        assert served.get("/index.html")[0] == 200
    finally:
        for c in conns:
            c.close()
    # closed tabs free their places: a new stream is accepted again (bounded wait)
    deadline = time.monotonic() + 10
    while True:
        c = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
        c.request("GET", "/__bookbuild__/events")
        status = c.getresponse().status
        c.close()
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status == 200


def test_client_disconnects_are_quiet(served: Preview) -> None:
    for path in ("/__bookbuild__/events", "/chapters/one.html", "/index.html"):
        for _ in range(5):
            s = socket.create_connection(("127.0.0.1", served.port), timeout=5)
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n\r\n".encode())
            s.recv(10)
            # reset instead of a clean close: the next write of the server fails
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
    time.sleep(1)
    assert served.get("/index.html")[0] == 200
    assert not TRACEBACK.search("".join(served.log)), "".join(served.log)


# --- starting and stopping ----------------------------------------------------------------------

@pytest.mark.parametrize("port", ["70000", "0", "-5"])
def test_invalid_port_is_one_line_and_exit_2(tmp_path: Path, port: str) -> None:
    r = run_cli("preview", f"--port={port}", "--no-browser", cwd=copy_book(tmp_path), timeout=30)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    error = r.stderr.strip().splitlines()[-1]  # argparse puts its usage line above
    assert port.lstrip("-") in error and ("1-65535" in error or "not a port" in error), error


def test_busy_port_moves_to_the_next_free_one(tmp_path: Path) -> None:
    root = copy_book(tmp_path)
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        p = Preview(root, port=taken)
        try:
            assert p.port > taken
            assert p.get("/index.html")[0] == 200
        finally:
            p.stop()


def stop_and_time(preview: Preview, sig: int) -> tuple[int, float, list[psutil.Process]]:
    """Signal preview; its exit code, seconds to exit, and the processes it left alive."""
    tree = psutil.Process(preview.proc.pid).children(recursive=True)
    started = time.monotonic()
    preview.proc.send_signal(sig)
    code = preview.proc.wait(timeout=20)
    seconds = time.monotonic() - started
    print(f"stopped by signal {sig} in {seconds:.2f} s")
    _, alive = psutil.wait_procs(tree, timeout=0.5)
    return code, seconds, [p for p in alive if not zombie(p)]


def _is_kernel(p: psutil.Process) -> bool:
    """A plain ipykernel, or one forked from the warm template (bookbuild.execution.warm)."""
    try:
        return "ipykernel" in " ".join(p.cmdline()) or (
            "bookbuild.execution.warm.server" in " ".join(p.cmdline())
            and "bookbuild.execution.warm.server" in " ".join(p.parent().cmdline()))
    except psutil.Error:
        return False


def zombie(p: psutil.Process) -> bool:
    """Dead and waiting for its new parent (init) to reap it."""
    try:
        return p.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_during_a_long_cell_stops_within_2_s_and_kills_the_kernel(
        preview: Preview, sig: int, code: int) -> None:
    edit(preview.root / "chapters" / "one.qmd", "import matplotlib.pyplot as plt",
         "import time; time.sleep(60)\nimport matplotlib.pyplot as plt")
    deadline = time.monotonic() + 60
    while not any(_is_kernel(p) for p in psutil.Process(preview.proc.pid).children(recursive=True)):
        assert time.monotonic() < deadline, "".join(preview.log)
        time.sleep(0.1)
    time.sleep(1.5)  # the kernel is now sleeping inside the cell
    kernel = next(p for p in psutil.Process(preview.proc.pid).children(recursive=True)
                  if _is_kernel(p))
    args = kernel.cmdline()  # a kernel forked from the warm template carries the template's
    connection = Path(args[args.index("-f") + 1]) if "-f" in args else None
    assert connection is None or connection.exists()
    exit_code, seconds, alive = stop_and_time(preview, sig)
    assert exit_code == code
    assert alive == []
    assert connection is None or not connection.exists()  # a killed kernel's files go too
    assert seconds < 2.0, f"took {seconds:.2f} s"
    assert not TRACEBACK.search("".join(preview.log))


def test_sigterm_during_a_looping_tikz_figure_kills_latex(preview: Preview) -> None:
    edit(preview.root / "chapters" / "one.qmd", r"\node[draw=BlueLine",
         r"\def\forever{\forever}\forever \node[draw=BlueLine")
    deadline = time.monotonic() + 60
    while not any(p.name() in ("latex", "pdflatex", "lualatex", "pdftex", "luatex")
                  for p in psutil.Process(preview.proc.pid).children(recursive=True)):
        assert time.monotonic() < deadline, "".join(preview.log)
        time.sleep(0.1)
    time.sleep(1)
    exit_code, seconds, alive = stop_and_time(preview, signal.SIGTERM)
    assert exit_code == 143
    assert alive == []
    assert seconds < 2.0, f"took {seconds:.2f} s"


def test_sigterm_during_a_long_pandoc_run_kills_pandoc(preview: Preview) -> None:
    # a million emphasised words keep pandoc busy for far longer than the test waits
    edit(preview.root / "chapters" / "two.qmd", "Back to",
         "```{python}\nclass Two:\n    big = '*a* ' * 1_000_000\n```\n\n`{python} Two.big`"
         "\n\nBack to")
    deadline = time.monotonic() + 90
    while not any(p.name() == "pandoc" and "--version" not in p.cmdline()
                  for p in psutil.Process(preview.proc.pid).children(recursive=True)):
        assert time.monotonic() < deadline, "".join(preview.log)
        time.sleep(0.1)
    time.sleep(1)
    exit_code, seconds, alive = stop_and_time(preview, signal.SIGTERM)
    assert exit_code == 143
    assert alive == []
    assert seconds < 2.0, f"took {seconds:.2f} s"


# --- what a change rebuilds (pure planning, on real files) -----------------------------------

def test_plan_maps_edits_to_chapters(tmp_path: Path) -> None:
    from bookbuild.preview.watcher import plan

    root = tmp_path
    (root / "_quarto.yml").write_text("project: {type: book}\n")
    a, b, part = root / "a.qmd", root / "b.qmd", root / "_part.qmd"
    a.write_text("# A\n\n{{< include _part.qmd >}}\n")
    b.write_text("# B\n")
    part.write_text("Shared text.\n")
    assert plan({b}, [a, b]) == [b]
    assert plan({part}, [a, b]) == [a]  # an included file rebuilds the chapters that include it
    assert plan({a, b}, [a, b]) == [a, b]
    assert plan({root / "_quarto.yml"}, [a, b]) is None
    assert plan({root / "helpers.py"}, [a, b]) is None  # the cache decides which re-execute
    assert plan({b, root / "data.csv"}, [a, b]) is None
