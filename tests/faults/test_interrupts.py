"""Ctrl-C and SIGTERM stop a render cleanly: exit 130, no traceback, no kernel left, old output kept."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import bookbuild_exe
from tests.faults.conftest import bb, tree

SLOW = """\
# Slow

```{python}
import time
time.sleep(60)
class Slow:
    done = "yes"
```

Done: `{python} Slow.done`.
"""


def kernels_in(folder: Path) -> list[int]:
    """Kernel processes whose working directory is `folder` (cells run in their chapter's):
    plain ipykernels, or kernels forked from the warm template (they carry its command line)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_text()
            kernel = "ipykernel" in cmdline or "bookbuild.execution.warm.server" in cmdline
            if kernel and (proc / "cwd").resolve() == folder:
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_render_stops_everything_and_keeps_the_old_book(book: Path, sig) -> None:
    assert bb("render", "--to", "md", cwd=book).returncode == 0
    before = tree(book / "_book")
    (book / "part" / "speed.qmd").write_text(SLOW)
    proc = subprocess.Popen([bookbuild_exe(), "render", "--to", "md"], cwd=book, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, NO_COLOR="1"))
    deadline = time.monotonic() + 60
    where = (book / "part").resolve()  # cells run in their chapter's folder (execute-dir: file)
    while not kernels_in(where) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert kernels_in(where), "the kernel never started"
    time.sleep(1.0)  # inside the sleeping cell
    started = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - started < 10
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "CancelledError" not in err
    assert "interrupted" in err.splitlines()[-1]
    time.sleep(0.5)
    assert kernels_in(where) == []
    assert tree(book / "_book") == before
    assert not list(book.glob("._book.staging-*"))


def pandoc_workers_of(pid: int) -> list[int]:
    """The pandoc worker processes `pid` started (each in a session of its own)."""
    out = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == pid and "pandoc_worker.lua" in (proc / "cmdline").read_text():
                out.append(int(proc.name))
        except (OSError, ValueError, IndexError):
            continue
    return out


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_while_pandoc_converts_ends_at_once_and_kills_it(book: Path, sig) -> None:
    # 20,000 nested brackets keep pandoc busy for minutes: the command must not wait for it
    # (it waited up to pandoc's 600 s limit), and no worker may be left computing
    (book / "part" / "speed.qmd").write_text("# Brackets\n\n" + "[" * 20000 + "x" + "]" * 20000 + "\n")
    proc = subprocess.Popen([bookbuild_exe(), "render", "--to", "html"], cwd=book, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, NO_COLOR="1"))
    deadline = time.monotonic() + 60
    while not pandoc_workers_of(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    workers = pandoc_workers_of(proc.pid)
    assert workers, "no pandoc worker started"
    time.sleep(2.0)  # converting the brackets
    started = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - started < 10, err
    assert proc.returncode == 130, err
    assert "interrupted" in err.splitlines()[-1] and "Traceback" not in err
    time.sleep(0.3)
    assert [w for w in workers if Path(f"/proc/{w}").exists()] == []


def test_a_program_a_cell_starts_in_a_session_of_its_own_is_stopped_too(book: Path) -> None:
    (book / "part" / "speed.qmd").write_text(
        "# Speed\n\n```{python}\nimport subprocess\n"
        "daemon = subprocess.Popen(['sleep', '4317'], start_new_session=True)\n```\n")
    # (it also held the build's output pipes open: `bookbuild render | cat` waited for it)
    assert bb("render", "--to", "md", cwd=book, timeout=120).returncode == 0
    time.sleep(0.5)

    def running(pid_dir: Path) -> bool:
        try:
            return "4317" in (pid_dir / "cmdline").read_text(errors="replace")
        except OSError:
            return False  # gone meanwhile

    left = [p for p in Path("/proc").iterdir() if p.name.isdigit() and running(p)]
    assert left == [], "a program the cell started outlived the build"
