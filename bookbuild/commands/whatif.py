"""`bookbuild numbers whatif NAME=VALUE …`: what would move if constants had other values.

The book runs as usual first (cached) to learn where each constant is defined and which
chapters reach it; only those chapters run again, in fresh kernels with the overrides
installed before their first cell. Nothing is written: not the lock, not the cache.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from bookbuild.commands.numbersdiff import executed
from bookbuild.execution.execute import ChapterExecutor, ExecutionError, Plan
from bookbuild.execution.warm.template import attach
from bookbuild.kernel.whatif import ENV as WHATIF_ENV
from bookbuild.kernel.whatif import setup_code
from bookbuild.model import Chapter
from bookbuild.numbers import difftable
from bookbuild.numbers import whatif as overrides_mod
from bookbuild.numbers.drift import compare_with_causes, current
from bookbuild.numbers.provenance import constants_of
from bookbuild.source.project import Project
from bookbuild.system import session
from bookbuild.system.errors import UsageError


def run(proj: Project, files: list[Path], args: list[str]) -> int:
    """Print the numbers that would move and the guards that would fail; 1 if one fails."""
    overrides = overrides_mod.parse(args)
    chapters = executed(proj, files)
    details = constants_of(chapters)
    records = {n: overrides_mod.locate(n, details) for n in overrides}
    used = [ch for ch in chapters
            if any(ch in overrides_mod.users(n, chapters) for n in overrides)]
    by_module = overrides_mod.by_module(overrides, records)
    after, failed = _rerun(proj, used, by_module, {n: r["defined"] for n, r in records.items()})
    before = current(proj.root, used, proj.config, inputs=True)[0]
    now, now_details = current(proj.root, after, proj.config, inputs=True)
    drift, causes = compare_with_causes(before, now, proj.root, after, now_details)
    table = [r for r in difftable.rows(drift, causes) if r["change"] == "moved"]
    changed = [c for c in difftable.inputs(drift) if c["kind"] == "constant"]
    title = (f"numbers whatif {' '.join(f'{n}={v!r}' for n, v in overrides.items())}: "
             f"{len(used)} chapter(s) use {'them' if len(overrides) > 1 else 'it'}"
             + (f" ({', '.join(ch.name for ch in used)})" if used else ""))
    print(difftable.plain(table, changed, title, "whatif"))
    for message in failed:
        print(f"guard: {message}")
    print(f"whatif: {len(failed)} guard(s) would fail; nothing was written")
    return 1 if failed else 0


def _rerun(proj: Project, chapters: list[Chapter], by_module: dict[str, dict[str, str]],
           defined: dict[str, str]) -> tuple[list[Chapter], list[str]]:
    """The chapters executed afresh with the overrides installed first; never cached. A chapter
    whose cell raises (a `check(...)` guard or any exception) keeps its old numbers and is
    listed."""
    code = setup_code(by_module)
    failed: list[str] = []
    misfit: list[str] = []
    out: list[Chapter] = []
    gate = asyncio.Semaphore(max(1, proj.settings.jobs))

    executors = {ch.source: ChapterExecutor(ch.doc, proj.kernel_cwd(ch.source),
                                            timeout=proj.settings.timeout,
                                            plan=Plan.of(ch.doc, proj.config, proj.formats))
                 for ch in chapters}
    # Templates of their own install the overrides before importing the book's packages, so
    # each kernel forks with them imported once, holding the other values.
    warm = proj.settings.warm_kernels and attach(list(executors.values()),
                                                 {WHATIF_ENV: json.dumps(by_module)})

    async def one(ch: Chapter) -> None:
        ex = executors[ch.source]
        ex.extra_setup = code
        async with gate:
            try:
                result = await ex.run()
            except ExecutionError as exc:
                text = str(exc)
                if "WhatifError" in text:  # raised once every kernel is done and stopped
                    misfit.append(_whatif_line(text, defined))
                failed.append(text.splitlines()[0])
                result = ch.result
            out.append(Chapter(ch.source, ch.doc, result=result))

    async def run_all() -> list[str]:
        await asyncio.gather(*(one(ch) for ch in chapters))
        return []

    _run_loop(run_all, warm)
    if misfit:
        raise UsageError(misfit[0])
    order = {ch.source: i for i, ch in enumerate(chapters)}
    return sorted(out, key=lambda ch: order[ch.source]), failed


def _run_loop(run_all, warm: bool) -> None:
    """Run the kernels' event loop; Ctrl-C inside it cancels the main task (an interrupt); the
    loop's signal handlers are gone with it, so the command's are taken back; then the warm
    templates are stopped."""
    try:
        asyncio.run(run_all())
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None
    finally:
        session.current().retake_signals()
        if warm:
            from bookbuild.execution.warm.template import release

            release()


def _whatif_line(text: str, defined: dict[str, str]) -> str:
    """The kernel's WhatifError (a unit only the book's registry knows) as one line, located
    at the constant's definition like the check made before any kernel starts."""
    found = re.search(r"whatif (\w+): (.*)", text)
    if found is None or found.group(1) not in defined:
        return text.splitlines()[0]
    return f"{defined[found.group(1)]}: whatif {found.group(1)}: {found.group(2).strip()} [WIF001]"
