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
    """Kernel processes whose working directory is `folder` (cells run at the project root):
    plain ipykernels, or kernels forked from the warm template (they carry its command line)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_text()
            kernel = "ipykernel" in cmdline or "bookbuild.warm.server" in cmdline
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
    while not kernels_in(book.resolve()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert kernels_in(book.resolve()), "the kernel never started"
    time.sleep(1.0)  # inside the sleeping cell
    started = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - started < 10
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "CancelledError" not in err
    assert "interrupted" in err.splitlines()[-1]
    time.sleep(0.5)
    assert kernels_in(book.resolve()) == []
    assert tree(book / "_book") == before
    assert not list(book.glob("._book.staging-*"))
