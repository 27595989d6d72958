"""The command's session owns signals, the interrupted state, keep-warm and the children."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from bookbuild.system import processes
from bookbuild.system.session import Session, current


def test_a_signal_inside_a_session_interrupts_it_and_its_end_restores_the_handlers() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), Session() as session:
        os.kill(os.getpid(), signal.SIGTERM)
        signal.pthread_sigmask(signal.SIG_BLOCK, [])  # let the handler run here
    assert session.interrupted
    assert signal.getsignal(signal.SIGTERM) is before
    assert not current().interrupted  # outside the command nothing is interrupted


def test_keep_warm_belongs_to_the_session_and_ends_with_it() -> None:
    assert not current().keep_warm
    with Session(keep_warm=True, signals=False):
        assert current().keep_warm
    assert not current().keep_warm


def test_the_end_of_a_session_stops_the_children_it_left_running() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                            start_new_session=True)
    with Session(signals=False):
        processes.track(proc)
    assert proc.poll() is not None  # killed with its process group, not left behind


def test_ctrl_c_inside_a_finalizer_prints_no_traceback() -> None:
    """A signal that lands in a weakref callback (an import's module lock, seen in CI) cannot
    propagate; Python would print "Exception ignored ... Traceback". The session is already
    interrupted, so nothing is printed; other unraisable errors still are."""
    code = (
        "import weakref\n"
        "from bookbuild.system.session import Session\n"
        "class A: pass\n"
        "def interrupted(_): raise KeyboardInterrupt\n"
        "def broken(_): raise ValueError('a real bug in a finalizer')\n"
        "with Session():\n"
        "    a = A(); r = weakref.ref(a, interrupted); del a\n"
        "    b = A(); q = weakref.ref(b, broken); del b\n"
        "print('went on')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout == "went on\n", r.stderr
    assert "KeyboardInterrupt" not in r.stderr
    assert "ValueError: a real bug in a finalizer" in r.stderr
