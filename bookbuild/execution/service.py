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

from bookbuild.execution.cache import Cache, key
from bookbuild.execution.execute import ChapterExecutor, ExecutionError, ExecutionResult, Plan
from bookbuild.execution.prestart import is_cold, prestart_chapters
from bookbuild.model import Chapter
from bookbuild.source.project import Project
from bookbuild.system.session import current

Outcome = ExecutionResult | ExecutionError


@dataclass(frozen=True)
class _Job:
    """A chapter the cache could not serve: its key and the executor that will run it."""

    chapter: Chapter
    key: str
    executor: ChapterExecutor


class Executions:
    """Chapters' results from the cache when nothing they depend on changed, else from kernels.

    `values_only` (the numbers commands and `check --literals`): a result stored for other
    figure formats or sizes serves too, when the same cells run with the same error rules.
    """

    def __init__(self, proj: Project, use_cache: bool = True, formats: list[str] | None = None,
                 values_only: bool = False) -> None:
        self.proj, self.use_cache, self.values_only = proj, use_cache, values_only
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
        """Serve `ch` from the cache, or queue it for a kernel."""
        cwd = self.proj.kernel_cwd(ch.source)
        if not ch.doc.cells and not ch.doc.refs:
            self._served(ch, ExecutionResult([], []))  # nothing to run: no kernel
            return
        plan = Plan.of(ch.doc, self.proj.config, self.formats)
        k = key(ch.doc, cwd, plan.fingerprint())
        hit = self.cache.get(k, ch.doc) if self.use_cache else None
        if hit is None and self.use_cache and self.values_only:
            hit = _same_values(self.cache, ch, cwd, plan, self.proj.config)
        if hit is not None:
            self._served(ch, hit)
        else:
            self.pending.append(_Job(ch, k, ChapterExecutor(
                ch.doc, cwd, timeout=self.proj.settings.timeout, plan=plan)))

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

        if self._loop is None:
            _report_cached(Progress(self.total), self.cached).close()
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

        progress = _report_cached(Progress(self.total), self.cached)
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


def _report_cached(progress, names: list[str]):
    """One progress line per chapter served from the cache; returns the progress."""
    for name in names:
        progress.start(name, "cached")
        progress.finish(name, "cached, no kernel started")
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
