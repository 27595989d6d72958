"""One owner of a command's process lifetime: its signal handlers, whether it was interrupted,
whether warm workers outlive a build (preview), and stopping every child it started.

`cli.run_command` enters one `Session`, and preview's builder child one that keeps workers
warm. Modules that start children register how to stop them (`on_stop`: kernels, warm
templates, pandoc workers, LaTeX) and what must die at once on Ctrl-C (`on_interrupt`); code
that holds no session asks `current()`.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable

_STOPPERS: list[Callable[[], object]] = []  # one per module that starts children, at import
_ON_INTERRUPT: list[Callable[[], object]] = []
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def on_stop(stop: Callable[[], object]) -> Callable[[], object]:
    """Register what stops a module's children when a session ends (idempotent calls)."""
    if stop not in _STOPPERS:
        _STOPPERS.append(stop)
    return stop


def on_interrupt(kill: Callable[[], object]) -> Callable[[], object]:
    """Register what must be killed inside the signal handler itself (it must not block)."""
    if kill not in _ON_INTERRUPT:
        _ON_INTERRUPT.append(kill)
    return kill


_hooks: list = []  # the unraisable hook the session replaced


def _quiet_interrupts(unraisable) -> None:
    """Ctrl-C landing in a weakref callback or a finalizer (an import's module lock, say) cannot
    propagate: Python prints it as "Exception ignored ... Traceback". The session has noted the
    interrupt and the command ends as interrupted at its next step; print nothing."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        return
    (_hooks[0] if _hooks else sys.__unraisablehook__)(unraisable)


class Session:
    """A command's lifetime. `signals`: Ctrl-C and SIGTERM stop it alike (children killed, then
    KeyboardInterrupt); `keep_warm`: warm templates and pandoc workers serve the next build."""

    def __init__(self, keep_warm: bool = False, signals: bool = True) -> None:
        self.keep_warm = keep_warm
        self.signals = signals
        self.interrupted = False  # Ctrl-C or SIGTERM reached it
        self._handling = False
        self._previous: dict[int, object] = {}
        self._outer: Session | None = None

    def __enter__(self) -> Session:
        global _current
        self._outer, _current = _current, self
        if self.signals:
            self.take_signals()
        return self

    def __exit__(self, kind, exc, tb) -> None:
        global _current
        try:
            self.stop_children()
        finally:
            _current = self._outer
            if self._handling:  # scoped, as nbclient scopes its own
                for sig, handler in self._previous.items():
                    signal.signal(sig, handler)
                self._handling = False

    def take_signals(self) -> None:
        """Install the session's handlers (again, after an asyncio loop reset them)."""
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in _SIGNALS:
            handler = signal.signal(sig, self._interrupt)
            self._previous.setdefault(sig, handler)
        self._handling = True
        if sys.unraisablehook is not _quiet_interrupts:
            _hooks.append(sys.unraisablehook)
            sys.unraisablehook = _quiet_interrupts

    def retake_signals(self) -> None:
        """After code that replaced the handlers: an asyncio loop that held SIGTERM leaves it at
        the default on closing, which killed bookbuild with -15 and left children behind."""
        if self._handling:
            self.take_signals()

    def _interrupt(self, signum, frame) -> None:
        self.interrupted = True
        # Now, not after unwinding: threads converting pages wait on their pandoc, which may run
        # for minutes; killed, they end at once and start nothing new.
        for kill in _ON_INTERRUPT:
            kill()
        raise KeyboardInterrupt

    def loop_signals(self, loop, stop: Callable[[], None]) -> None:
        """Inside an asyncio loop (nbclient installs its own handlers there): mark the session
        interrupted and call `stop`. Outside the main thread (preview's builder), nothing."""
        def interrupted() -> None:
            self.interrupted = True
            stop()

        for sig in _SIGNALS:
            try:
                loop.add_signal_handler(sig, interrupted)
            except (RuntimeError, NotImplementedError, ValueError):
                pass  # not the main thread: its parent stops it

    def on_terminate(self, stop: Callable[[], None]) -> None:
        """SIGTERM calls `stop` instead (preview: its server shuts down in order)."""
        if threading.current_thread() is threading.main_thread():
            self._previous.setdefault(signal.SIGTERM, signal.signal(signal.SIGTERM,
                                                                    lambda *_: stop()))
            self._handling = True

    def stop_children(self) -> None:
        """Stop what the command left running: kernels, templates, pandoc workers, LaTeX."""
        for stop in list(_STOPPERS):
            stop()


_current: Session | None = None
_OUTSIDE = Session(signals=False)  # library use and tests: no command entered a session


def current() -> Session:
    """The session of the running command (a default one outside any command)."""
    return _current or _OUTSIDE
