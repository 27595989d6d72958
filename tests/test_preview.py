"""`bookbuild preview` as a user runs it: a real server in a subprocess on a copy of a small book."""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import FIXTURES


class Preview:
    """A running `bookbuild preview` and a listener on its event stream."""

    def __init__(self, root: Path, port: int = 4700) -> None:
        exe = Path(sys.executable).with_name("bookbuild")
        self.root = root
        self.proc = subprocess.Popen([str(exe), "preview", "--no-browser", "--port", str(port)],
                                     cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=dict(os.environ, NO_COLOR="1"))
        self.log: list[str] = []
        threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True).start()
        line = self.proc.stdout.readline()  # printed once the first build is served
        m = re.search(r"at http://127\.0\.0\.1:(\d+)/", line)
        assert m, f"no URL in {line!r}; log: {''.join(self.log)}"
        self.port = int(m.group(1))
        self.events: queue.Queue = queue.Queue()
        threading.Thread(target=self._listen, daemon=True).start()
        self.next_event(("connected",), timeout=10)

    def _drain(self, stream) -> None:
        for line in stream:
            self.log.append(line)

    def _listen(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        conn.request("GET", "/__bookbuild__/events")
        resp = conn.getresponse()
        event = None
        while True:
            line = resp.fp.readline().decode()
            if not line:
                return
            if line.startswith(": connected"):
                self.events.put(("connected", None))
            elif line.startswith("event: "):
                event = line[7:].strip()
            elif line.startswith("data: ") and event:
                self.events.put((event, json.loads(line[6:])))
                event = None

    def next_event(self, names: tuple[str, ...], timeout: float = 60) -> tuple[str, object]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                name, data = self.events.get(timeout=deadline - time.monotonic())
            except queue.Empty:
                break
            if name in names:
                return name, data
        raise AssertionError(f"no {names} event within {timeout} s; log:\n{''.join(self.log)}")

    def get(self, path: str) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", path)  # http.client sends the path as given: no normalisation
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                return self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise
        return self.proc.returncode


@pytest.fixture
def preview(tmp_path: Path):
    root = tmp_path / "book"
    shutil.copytree(FIXTURES / "book", root)
    p = Preview(root)
    yield p
    p.stop()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_prose_edit_reloads_with_new_text_and_no_kernel(preview: Preview) -> None:
    status, page = preview.get("/chapters/one.html")
    assert status == 200 and "Tips are green." in page
    assert 'id="bookbuild-preview"' in page and "/__bookbuild__/events" in page
    edit(preview.root / "chapters" / "one.qmd", "Tips are green.", "Tips are very green.")
    preview.next_event(("reload",))
    assert "Tips are very green." in preview.get("/chapters/one.html")[1]
    log = "".join(preview.log)
    assert "chapters/one.qmd: cached, no kernel started" in log
    # render output is untouched by preview: the script lives only in the preview folder
    assert not (preview.root / "_book").exists()


def test_code_edit_re_executes_and_shows_the_new_value(preview: Preview) -> None:
    edit(preview.root / "chapters" / "one.qmd", "ridge = 295", "ridge = 300")
    preview.next_event(("reload",))
    assert "The ridge point is" in preview.get("/chapters/one.html")[1]
    assert re.search(r"The ridge point is (<span[^>]*>)?300", preview.get("/chapters/one.html")[1])
    assert "chapters/one.qmd: executed 2 cells" in "".join(preview.log)


def test_broken_reference_shows_overlay_keeps_last_page_then_clears(preview: Preview) -> None:
    chapter = preview.root / "chapters" / "one.qmd"
    edit(chapter, "`{python} One.ridge` FLOP/byte", "`{python} One.ridg` FLOP/byte")
    name, data = preview.next_event(("build-error",))
    assert "chapters/one.qmd:12:34: unresolved reference 'One.ridg' (did you mean 'ridge'?)" in data["message"]
    status, page = preview.get("/chapters/one.html")
    assert status == 200 and "The ridge point is" in page  # last good page still served
    assert preview.proc.poll() is None  # the server survives
    edit(chapter, "`{python} One.ridg` FLOP/byte", "`{python} One.ridge` FLOP/byte")
    preview.next_event(("build-ok",))
    preview.next_event(("reload",))


def test_cell_exception_is_reported_to_the_page(preview: Preview) -> None:
    edit(preview.root / "chapters" / "one.qmd", "    ridge = 295", "    ridge = 295 / 0")
    _, data = preview.next_event(("build-error",))
    assert "chapters/one.qmd:6: ZeroDivisionError in cell 'one-values'" in data["message"]


@pytest.mark.parametrize("path", [
    "/../_quarto.yml", "/%2e%2e/_quarto.yml", "/..%2f_quarto.yml", "/assets/../../_quarto.yml",
    "//etc/passwd", "/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/..\\_quarto.yml", "/chapters/",
])
def test_paths_outside_the_output_folder_are_404(preview: Preview, path: str) -> None:
    status, body = preview.get(path)
    assert status == 404
    assert "project:" not in body and "root:" not in body


def test_listens_on_loopback_only(preview: Preview) -> None:
    port_hex = f"{preview.port:04X}"
    listening = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
                 if line.split()[1].endswith(":" + port_hex) and line.split()[3] == "0A"]
    assert listening, "no listening socket found"
    assert all(fields[1] == f"0100007F:{port_hex}" for fields in listening)  # 127.0.0.1
    assert not any(line.split()[1].endswith(":" + port_hex) and line.split()[3] == "0A"
                   for line in Path("/proc/net/tcp6").read_text().splitlines()[1:])


def test_ctrl_c_stops_cleanly_and_leaves_no_kernel(preview: Preview) -> None:
    edit(preview.root / "chapters" / "one.qmd", "import matplotlib.pyplot as plt",
         "import time; time.sleep(30)\nimport matplotlib.pyplot as plt")
    deadline = time.monotonic() + 30
    while "building chapters/one.qmd" not in "".join(preview.log) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2)  # the kernel is now sleeping inside the cell
    assert preview.stop() in (0, 130)
    out = subprocess.run(["ps", "-eo", "pid,ppid,args"], capture_output=True, text=True).stdout
    assert str(preview.root) not in out
    leftover = [line for line in out.splitlines()
                if "ipykernel_launcher" in line and line.split()[1] == str(preview.proc.pid)]
    assert leftover == []


def test_edits_during_a_build_are_coalesced_into_one_follow_up(preview: Preview) -> None:
    chapter = preview.root / "chapters" / "one.qmd"
    edit(chapter, "    name = \"first\"", "    import time; time.sleep(3)\n    name = \"first\"")
    deadline = time.monotonic() + 30
    while "building chapters/one.qmd" not in "".join(preview.log) and time.monotonic() < deadline:
        time.sleep(0.05)
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


def test_busy_port_moves_to_the_next_free_one(tmp_path: Path) -> None:
    import socket

    root = tmp_path / "book"
    shutil.copytree(FIXTURES / "book", root)
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
