"""Preview's hot path (issue 14): a code edit runs in a kernel that was forked from the warm
template and started while the author was typing, yet each run is a fresh process with a fresh
namespace; an edited constants module shows its new value; nothing outlives preview."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import psutil

from tests.conftest import FIXTURES
from tests.test_preview import Preview, edit, stop_and_time

PROBE = re.compile(r"The toll is (?:<span[^>]*>)?(\d+)(?:</span>)? coins; this kernel ran the "
                   r"chapter (?:<span[^>]*>)?(\d+)(?:</span>)?\s+time\(s\) as process "
                   r"(?:<span[^>]*>)?(\d+)")


def page(p: Preview) -> tuple[int, int, int]:
    """(toll, runs, kernel pid) as the served page shows them."""
    m = PROBE.search(p.get("/probe.html")[1])
    assert m, p.get("/probe.html")[1]
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def waiting_kernels(p: Preview, timeout: float = 30) -> dict[int, list[Path]]:
    """The kernels forked from the template that are alive now (pid -> their socket folders),
    waiting at least `timeout` seconds for one to appear."""
    deadline = time.monotonic() + timeout
    while True:
        found = {}
        for proc in psutil.Process(p.proc.pid).children(recursive=True):
            try:
                forked = ("bookbuild.execution.warm.server" in " ".join(proc.cmdline())
                          and "bookbuild.execution.warm.server" in " ".join(proc.parent().cmdline()))
                if forked:
                    found[proc.pid] = sorted({Path(c.laddr).parent
                                              for c in proc.net_connections("unix") if c.laddr})
            except psutil.Error:
                continue
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_code_edits_run_in_a_waiting_fresh_kernel_and_constants_edits_show(tmp_path: Path) -> None:
    root = tmp_path / "book"
    shutil.copytree(FIXTURES / "warm_preview", root)
    p = Preview(root, port=4790)
    try:
        toll, runs, first_pid = page(p)
        assert (toll, runs) == (3, 1)

        spare = waiting_kernels(p)
        assert spare, "no kernel was kept waiting after the first build:\n" + "".join(p.log)
        edit(root / "probe.qmd", "import os\n", "import os  # an edit to the code\n")
        p.next_event(("reload",))
        toll, runs, pid = page(p)
        assert (toll, runs) == (3, 1)  # nothing of the first run leaked into this one
        assert pid != first_pid and pid in spare  # the kernel that was waiting ran it

        edit(root / "rates" / "__init__.py", "TOLL = 3", "TOLL = 45")
        p.next_event(("reload",))
        toll, runs, pid = page(p)
        assert (toll, runs) == (45, 1)  # the template imported the old value: it was replaced

        left = waiting_kernels(p)
        folders = [f for fs in left.values() for f in fs]
        assert folders, "the kernels' socket folders could not be found"
        code, _, alive = stop_and_time(p, 2)  # SIGINT, as Ctrl-C in the terminal
        assert code == 130
        assert alive == []
        assert [f for f in folders if f.exists()] == []  # their sockets and connection files
    finally:
        p.stop()
