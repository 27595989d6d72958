"""External programs (pandoc, LaTeX, dvisvgm) under a timeout, each in its own process group.

A timeout, Ctrl-C or SIGTERM kills the whole group (LaTeX forks helpers), and `kill_all` stops
whatever is still running when a command's session ends (`session.py` owns the signals).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading

from bookbuild.system import session

_live: set[subprocess.Popen] = set()
_lock = threading.Lock()


class Timeout(Exception):
    """The program ran past its time limit and was killed with its process group."""

    def __init__(self, cmd: list[str], seconds: float) -> None:
        super().__init__(f"{os.path.basename(cmd[0])} did not finish within {seconds:g} s")
        self.cmd, self.seconds = cmd, seconds


def run(cmd: list[str], timeout: float, input: str | bytes | None = None, cwd=None, env=None,
        text: bool = True) -> subprocess.CompletedProcess:
    """Like `subprocess.run(capture_output=True)`, but the group dies on timeout or interrupt."""
    if session.current().interrupted:  # stopping: a thread falling back to another program stops too
        raise KeyboardInterrupt
    kwargs = {"encoding": "utf-8", "errors": "replace"} if text else {}
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env,
                            start_new_session=True, **kwargs)
    with _lock:
        _live.add(proc)
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        proc.communicate()
        raise Timeout(cmd, timeout) from None
    except BaseException:
        _kill(proc)
        raise
    finally:
        with _lock:
            _live.discard(proc)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def track(proc: subprocess.Popen) -> None:
    """A long-lived program (a warm worker) that `kill_all` must stop too."""
    with _lock:
        _live.add(proc)


def kill(proc: subprocess.Popen) -> None:
    """Kill a tracked program with its process group and forget it."""
    with _lock:
        _live.discard(proc)
    _kill(proc)


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def kill_all(wait_for_lock: bool = True) -> int:
    """Kill every program still running; return how many there were. From a signal handler,
    `wait_for_lock=False`: the interrupted code may hold the lock (the caller kills again later)."""
    if not _lock.acquire(timeout=-1 if wait_for_lock else 0):
        return 0
    try:
        procs = list(_live)
        _live.clear()
    finally:
        _lock.release()
    for proc in procs:
        if proc.poll() is None:
            _kill(proc)
    return len(procs)


session.on_stop(kill_all)
# From the signal handler the interrupted code may hold the lock (the session's end kills again).
session.on_interrupt(lambda: kill_all(wait_for_lock=False))
