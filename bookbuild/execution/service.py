"""The one execution service of every command (render, numbers, check --literals, preview).

`Executions(proj, ...)` is given the project (its `_quarto.yml` makes each chapter's `Plan`), the
cache, the warm templates and the progress. `start(chapters)` looks each chapter up in the cache
and launches kernels for the first misses, so that their start-up overlaps what the caller does
next (the static check); `finish()` runs the rest and returns `{source: result or error}`;
`abort()` stops what `start` launched. Chapters are never changed: `executed` makes new ones.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path

from bookbuild.execution import freeze
from bookbuild.execution.cache import Cache, key
from bookbuild.execution.execute import ChapterExecutor, ExecutionError, ExecutionResult, Plan
from bookbuild.execution.prestart import is_cold, prestart_chapters
from bookbuild.model import Chapter
from bookbuild.source.project import DOCUMENT, Project
from bookbuild.system.session import current

Outcome = ExecutionResult | ExecutionError


@dataclass(frozen=True)
class _Job:
    """A chapter the cache could not serve: its key and the executor that will run it."""

    chapter: Chapter
    key: str
    executor: ChapterExecutor
    freeze: bool | str = False  # `execute: freeze`: its result is exported to _freeze/


class Executions:
    """Chapters' results from the cache when nothing they depend on changed, else from kernels.

    `values_only` (the numbers commands and `check --literals`): a result stored for other
    figure formats or sizes serves too, when the same cells run with the same error rules.
    With `execute: freeze`, a chapter's frozen result serves before the cache, except for the
    `explicit` files a render names (Quarto executes those); `render` exports what ran.
    """

    def __init__(self, proj: Project, use_cache: bool = True, formats: list[str] | None = None,
                 values_only: bool = False, explicit: frozenset[Path] = frozenset(),
                 strict: bool = False) -> None:
        self.proj, self.use_cache, self.values_only = proj, use_cache, values_only
        self.strict = strict  # a stale frozen result stops the build (render --strict)
        self.explicit = {p.resolve() for p in explicit}
        self.frozen: dict[str, Path] = {}  # chapters served from _freeze/: name -> file
        self.stale: list[str] = []  # a warning per frozen result whose inputs changed
        self.formats = formats or proj.formats
        self.cache = Cache(proj.cache_dir)
        self.jobs = max(1, proj.settings.jobs)
        self.results: dict[Path, Outcome] = {}
        self.cached: list[str] = []  # names of the chapters served without a kernel
        self.pending: list[_Job] = []
        self.total = 0
        self.warm = False
        self._loop = None
        self._started: threading.Event | None = None  # set once the launching thread ends
        self._start_error: BaseException | None = None

    def __enter__(self) -> Executions:
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if kind is not None:  # the check failed or the command was stopped: no kernel stays
            self.abort()

    def start(self, chapters: list[Chapter]) -> None:
        """Cache lookups, then kernels launched for the first misses (not waited for when they
        fork from a warm template, whose imports may take seconds)."""
        self.total = len(chapters)
        settings = self.proj.settings
        if settings.warm_kernels and is_cold(self.proj, self.use_cache):
            prestart_chapters(self.proj, chapters)  # imports overlap the cache keys and the check
        for ch in chapters:
            self._look_up(ch)
        if not self.pending:
            return  # all cached: no event loop, no kernel
        if settings.warm_kernels:
            from bookbuild.execution.warm.template import attach

            self.warm = attach([job.executor for job in self.pending])  # imports start now
        self._launch([job.executor for job in self.pending[:self.jobs]])

    def _look_up(self, ch: Chapter) -> None:
        """Serve `ch` from its frozen result or the cache, or queue it for a kernel."""
        cwd = self.proj.kernel_cwd(ch.source)
        if not ch.doc.cells and not ch.doc.refs:
            self._served(ch, ExecutionResult([], []))  # nothing to run: no kernel
            return
        plan = Plan.of(ch.doc, self.proj.config, self.formats)
        how = self._freeze_mode(ch)
        if how and ch.source.resolve() not in self.explicit and self._thaw(ch, plan, how):
            return
        k = key(ch.doc, cwd, plan.fingerprint())
        hit = self.cache.get(k, ch.doc) if self.use_cache else None
        if hit is None and self.use_cache and self.values_only:
            hit = _same_values(self.cache, ch, cwd, plan, self.proj.config)
        if hit is not None:
            self._served(ch, hit)
            self._export(ch, plan, hit, how)
        else:
            self.pending.append(_Job(ch, k, ChapterExecutor(
                ch.doc, cwd, timeout=self.proj.settings.timeout, plan=plan), how))

    def _freeze_mode(self, ch: Chapter) -> bool | str:
        """`execute: freeze` for the chapter; False outside a project (Quarto's rule)."""
        if self.proj.root is None or self.proj.kind == DOCUMENT:
            return False
        return freeze.mode(self.proj.config, ch.doc.front_matter)

    def _thaw(self, ch: Chapter, plan: Plan, how: bool | str) -> bool:
        """Serve `ch` from `_freeze/` when a frozen result answers it; warn when what it read
        changed since (named, never served as current without a word)."""
        thawed = freeze.thaw(self.proj.root, ch.source, ch.doc, plan, self.formats, how,
                             self.values_only)
        if thawed is None:
            return False
        self.results[ch.source] = thawed.result
        self.frozen[ch.name] = thawed.file
        if thawed.stale:
            from bookbuild.system.errors import display_path

            self.stale.append(
                f"{display_path(ch.source)}:1: warning: its frozen result is stale: "
                f"{', '.join(thawed.stale)} changed since {display_path(thawed.file)} was "
                f"written; render {display_path(ch.source)} to execute it again")
        return True

    def _export(self, ch: Chapter, plan: Plan, result: ExecutionResult, how: bool | str) -> None:
        """A render's result of a chapter with `execute: freeze` goes to `_freeze/` too."""
        if how and not self.values_only:
            freeze.export(self.proj.root, ch.source, ch.doc, plan, self.formats, result)

    def _warn_stale(self) -> None:
        """Name each stale frozen result; with `strict`, they stop the build."""
        import sys

        if self.strict and self.stale:
            from bookbuild.system.errors import BuildError

            raise BuildError("\n".join(line.replace(": warning: ", ": error: ", 1)
                                       for line in self.stale)
                             + f"\nrender failed: {len(self.stale)} stale frozen result(s) "
                             "(--strict); previous output left as it was")
        for line in self.stale:
            print(line, file=sys.stderr)

    def _served(self, ch: Chapter, result: ExecutionResult) -> None:
        self.results[ch.source] = result
        self.cached.append(ch.name)

    def _launch(self, early: list[ChapterExecutor]) -> None:
        """Start the first kernels on the service's event loop. Forks wait for the template's
        imports: then the loop turns in a thread, so the caller's check runs meanwhile."""
        import asyncio

        self._loop = asyncio.new_event_loop()
        starting = _gather(early)
        if not self.warm:
            self._loop.run_until_complete(starting)
            return

        def launch() -> None:
            try:
                self._loop.run_until_complete(starting)
            except BaseException as exc:  # noqa: BLE001  finish() raises it, abort() drops it
                self._start_error = exc
            finally:
                self._started.set()

        self._started = threading.Event()
        threading.Thread(target=launch, name="bookbuild-kernel-start", daemon=True).start()

    def _launched(self) -> None:
        """Wait for the kernels `start` launched in a thread. An Event, not `Thread.join`: a
        join that Ctrl-C interrupts marks the thread finished while it still runs the loop."""
        if self._started is not None:
            self._started.wait()
            self._started = None

    def finish(self) -> dict[Path, Outcome]:
        """Run every chapter not served from the cache; `{source: result or located error}`."""
        from bookbuild.system.progress import Progress

        self._warn_stale()
        if self._loop is None:
            _report_cached(Progress(self.total), self.cached, self.frozen).close()
            return dict(self.results)
        self._launched()
        if self._start_error is not None:
            self._close()
            raise self._start_error
        import asyncio

        try:
            self._loop.run_until_complete(self._run_all())
        except asyncio.CancelledError:  # Ctrl-C inside the event loop cancels the main task
            raise KeyboardInterrupt from None
        finally:
            self._close()
        if current().interrupted:  # the failures above are the kernels we stopped
            raise KeyboardInterrupt
        return dict(self.results)

    async def _run_all(self) -> None:
        import asyncio

        from bookbuild.system.progress import Progress

        progress = _report_cached(Progress(self.total), self.cached, self.frozen)
        gate = asyncio.Semaphore(self.jobs)

        async def one(job: _Job) -> None:
            async with gate:
                self.results[job.chapter.source] = await self._run(job, progress)

        try:
            await asyncio.gather(*(one(job) for job in self.pending))
        finally:
            progress.close()

    async def _run(self, job: _Job, progress) -> Outcome:
        """One chapter in its kernel, its result stored in the cache."""
        ch = job.chapter
        progress.start(ch.name, "executing")
        try:
            result = await job.executor.run()
        except ExecutionError as exc:
            progress.finish(ch.name, "failed")
            return exc
        moved = self.cache.put(job.key, result, ch.doc)
        if not moved:
            self._export(ch, job.executor.plan, result, job.freeze)
        progress.finish(ch.name, f"executed {len(ch.doc.cells)} cells, "
                                 f"{len(ch.doc.refs)} inline values" + _not_cached(moved))
        return result

    def abort(self) -> None:
        """Stop the kernels `start` launched (the check failed, or the command was stopped)."""
        if self._loop is None:
            return
        self._launched()
        try:
            if self._start_error is None:
                self._loop.run_until_complete(
                    _gather([job.executor for job in self.pending[:self.jobs]], "abort"))
        finally:
            self._close()

    def _close(self) -> None:
        """Close the event loop as `asyncio.run` does; stop the warm templates unless preview
        keeps them, so that none holds memory while pandoc runs."""
        loop, self._loop = self._loop, None
        try:
            _close_loop(loop)
        finally:
            current().retake_signals()  # the loop's handlers are gone with it
            if self.warm:
                from bookbuild.execution.warm.template import release

                release()


def executed(chapters: list[Chapter], results: dict[Path, Outcome]) -> list[Chapter]:
    """The chapters with their results (every one an `ExecutionResult`: errors were raised)."""
    return [replace(ch, result=results.get(ch.source)) for ch in chapters]


def errors_of(results: dict[Path, Outcome]) -> list[str]:
    """The located error texts of the chapters that failed, in chapter order."""
    return [str(r) for r in results.values() if isinstance(r, ExecutionError)]


def _gather(executors: list[ChapterExecutor], what: str = "start"):
    """All of `executors` started (or aborted: a kernel that failed to start has nothing to stop)."""
    import asyncio

    async def each() -> None:
        await asyncio.gather(*(getattr(ex, what)() for ex in executors),
                             return_exceptions=what == "abort")

    return each()


def _close_loop(loop) -> None:
    """Cancel what is left, shut down generators and the default executor, close."""
    import asyncio

    try:
        tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()


def _report_cached(progress, names: list[str], frozen: dict[str, Path] | None = None):
    """One progress line per chapter served from the cache or its frozen result; returns the
    progress."""
    from bookbuild.system.errors import display_path

    for name in names:
        progress.start(name, "cached")
        progress.finish(name, "cached, no kernel started")
    for name, file in (frozen or {}).items():
        progress.start(name, "frozen")
        progress.finish(name, f"frozen ({display_path(file)}), no kernel started")
    return progress


def _not_cached(moved: list[str]) -> str:
    """The progress note for a result not cached because files it read changed meanwhile."""
    if not moved:
        return ""
    from bookbuild.system.errors import display_path

    names = ", ".join(display_path(p) for p in moved[:3]) + (" ..." if len(moved) > 3 else "")
    return f"; not cached: {names} changed while it ran (the next build runs it again)"


def _same_values(cache: Cache, ch: Chapter, cwd: Path, plan: Plan, config: dict):
    """A result stored by a render of one format whose plan runs the same cells with the same
    error rules: its inline values and constants are this plan's (only images differ)."""
    for fmt in ("html", "pdf", "md"):
        other = Plan.of(ch.doc, config, [fmt])
        if other != plan and (other.run, other.allow_errors) == (plan.run, plan.allow_errors):
            hit = cache.get(key(ch.doc, cwd, other.fingerprint()), ch.doc)
            if hit is not None:
                return hit
    return None
