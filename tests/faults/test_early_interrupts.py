"""Ctrl-C at any instant: a terminal's SIGINT to the whole process group, at many points of a
cold render (imports, parsing, the static check, kernel start), is one line and exit 130."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import bookbuild_exe
from tests.faults.conftest import tree

# From just after the interpreter's own start-up (before it, Python itself reports the
# interrupt: no code of ours has run) through imports, parsing and the check to kernel start.
DELAYS = [0.0, 0.15, 0.3, 0.45, 0.65, 0.95, 1.35, 1.95]


def _start_up() -> float:
    """Seconds until the command's first handlers are in place on this machine now: the
    interpreter's start and the import of the entry module (on a loaded machine, far more than
    on an idle one), with a margin."""
    import sys

    start = time.monotonic()
    subprocess.run([sys.executable, "-c", "import bookbuild.__main__"], check=True)
    return 1.5 * (time.monotonic() - start) + 0.05


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_at_any_early_instant_is_one_line_and_exit_130(book: Path, sig) -> None:
    before = tree(book)
    outcomes = []
    for delay in [_start_up() + d for d in DELAYS]:
        # A session of its own, so the signal reaches every process of the command as a
        # terminal's Ctrl-C does (the kernels and their templates included).
        proc = subprocess.Popen([bookbuild_exe(), "render", "--to", "md", "--no-cache"], cwd=book,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True, env=dict(os.environ, NO_COLOR="1"))
        time.sleep(delay)
        os.killpg(proc.pid, sig)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            pytest.fail(f"after {delay:.2f} s the command did not end within 60 s of the signal")
        outcomes.append((delay, proc.returncode, err))
    for delay, code, err in outcomes:
        if code == 0:
            continue  # finished before the signal came: nothing to stop
        assert code == 130, f"after {delay:.2f} s: exit {code}\n{err}"
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, f"after {delay:.2f} s:\n{err}"
        assert err.strip().splitlines()[-1].startswith("bookbuild: interrupted"), err
    assert any(code == 130 for _, code, _ in outcomes)
    # No staging folder or lock file left; an interrupted build wrote no output folder.
    left = {p.name for p in book.iterdir()} - {p.split("/")[0] for p in before} - {".bookbuild"}
    assert left <= {"_book"}, left
    if all(code == 130 for _, code, _ in outcomes):
        assert "_book" not in left
