"""Execute chapters: from the cache when nothing they depend on changed, else in fresh kernels.

Kernels for the first chapters start before the static check runs, so start-up overlaps it.
"""

from __future__ import annotations

from pathlib import Path

from bookbuild.execution.cache import Cache, key
from bookbuild.execution.execute import (
    ChapterExecutor,
    ExecutionError,
    ExecutionResult,
    Plan,
)
from bookbuild.execution.prestart import is_cold, prestart_chapters
from bookbuild.model import Chapter
from bookbuild.source.project import Project
from bookbuild.system import processes


def report_cached(progress, chapters: list[Chapter]):
    """One progress line per chapter served from the cache; returns the progress."""
    for ch in chapters:
        if ch.cached:
            progress.start(ch.name, "cached")
            progress.finish(ch.name, "cached, no kernel started")
    return progress


def _run(run_all, warm: bool) -> list[str]:
    """Run the kernels' event loop; then stop the warm templates (unless preview keeps them),
    so that none holds memory while pandoc runs."""
    import asyncio

    try:
        return asyncio.run(run_all())
    except asyncio.CancelledError:  # Ctrl-C inside the event loop cancels the main task
        raise KeyboardInterrupt from None
    finally:
        processes.retake_interrupts()  # the loop's handlers are gone with it
        if warm:
            from bookbuild.execution.warm.template import release

            release()


def execute_all(proj: Project, chapters: list[Chapter], use_cache: bool,
                before_execution=None, formats: list[str] | None = None,
                values_only: bool = False) -> list[str]:
    """Fill in each chapter's result, from the cache or a fresh kernel; return error texts.

    Kernels for the first chapters to execute are launched before `before_execution()` (the
    static check) runs, so their start-up overlaps it; if it returns errors, they are stopped
    and nothing executes. `values_only` (the numbers commands): a result stored for other
    figure formats or sizes serves too, when the same cells run with the same error rules.
    """
    from bookbuild.system.progress import Progress

    cache = Cache(proj.cache_dir)
    if proj.settings.warm_kernels and is_cold(proj, use_cache):
        prestart_chapters(proj, chapters)  # the template's imports overlap cache keys and the check
    pending: list[tuple[Chapter, str, ChapterExecutor]] = []
    for ch in chapters:
        cwd = proj.kernel_cwd(ch.source)
        if not ch.doc.cells and not ch.doc.refs:
            ch.result, ch.cached = ExecutionResult([], []), True  # nothing to run: no kernel
            continue
        plan = Plan.of(ch.doc, proj.config, formats or proj.formats)
        k = key(ch.doc, cwd, plan.fingerprint())
        hit = cache.get(k, ch.doc) if use_cache else None
        if hit is None and use_cache and values_only:
            hit = _same_values(cache, ch, cwd, plan, proj.config)
        if hit is not None:
            ch.result, ch.cached = hit, True
        else:
            pending.append((ch, k, ChapterExecutor(ch.doc, cwd, timeout=proj.settings.timeout,
                                                   plan=plan)))
    jobs = max(1, proj.settings.jobs)
    warm = False
    if pending and proj.settings.warm_kernels:
        from bookbuild.execution.warm.template import attach

        warm = attach([ex for _, _, ex in pending])  # the template starts importing now

    async def run_all() -> list[str]:
        early = [ex for _, _, ex in pending[:jobs]]
        if warm:  # forks wait for the template's imports: run the check meanwhile, in a thread
            starting = asyncio.gather(*(ex.start() for ex in early))
            # Ctrl-C can land in a start while the check runs: the KeyboardInterrupt ends the
            # build either way; marking it seen keeps asyncio from printing it as a traceback.
            starting.add_done_callback(lambda f: f.cancelled() or f.exception())
            errors = list(await asyncio.to_thread(before_execution) if before_execution else [])
            await starting
        else:
            await asyncio.gather(*(ex.start() for ex in early))
            errors = list(before_execution() if before_execution else [])
        if errors:
            await asyncio.gather(*(ex.abort() for ex in early))
            return errors
        progress = report_cached(Progress(len(chapters)), chapters)
        gate = asyncio.Semaphore(jobs)

        async def one(ch: Chapter, k: str, ex: ChapterExecutor) -> None:
            async with gate:
                progress.start(ch.name, "executing")
                try:
                    ch.result = await ex.run()
                except ExecutionError as exc:
                    errors.append(str(exc))
                    progress.finish(ch.name, "failed")
                    return
                moved = cache.put(k, ch.result, ch.doc)
                progress.finish(ch.name, f"executed {len(ch.doc.cells)} cells, "
                                         f"{len(ch.doc.refs)} inline values" + _not_cached(moved))

        try:
            await asyncio.gather(*(one(*p) for p in pending))
        finally:
            progress.close()
        return errors

    if not pending:  # all cached: no event loop, no kernel
        errors = list(before_execution() if before_execution else [])
        if not errors:
            report_cached(Progress(len(chapters)), chapters).close()
        return errors
    import asyncio  # only here: a fully cached build never needs an event loop

    errors = _run(run_all, warm)
    if processes.interrupted:  # the failures above are the kernels we stopped
        raise KeyboardInterrupt
    return errors


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
