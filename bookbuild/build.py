"""`bookbuild render`: check, execute (cached, chapters in parallel), substitute, write.

Data flows one way: parse -> check -> execute -> substitute -> write. Any error stops the
build before the output folder is touched.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from bookbuild import project as project_mod
from bookbuild.cache import Cache, key
from bookbuild.diagnostics import display_path
from bookbuild.execute import ChapterExecutor, ExecutionError, ExecutionResult, Plan
from bookbuild.qmd import Document, parse_file


@dataclass
class Chapter:
    source: Path
    doc: Document
    result: ExecutionResult | None = None
    cached: bool = False

    @property
    def name(self) -> str:
        return display_path(self.source)


def relative_output(proj: project_mod.Project, source: Path, suffix: str) -> Path:
    """Where a chapter's output goes inside the output folder, mirroring the sources."""
    source = source.resolve()
    if proj.root is not None and source.is_relative_to(proj.root):
        return source.relative_to(proj.root).with_suffix(suffix)
    return Path(source.name).with_suffix(suffix)


def report_cached(progress, chapters: list[Chapter]):
    """One progress line per chapter served from the cache; returns the progress."""
    for ch in chapters:
        if ch.cached:
            progress.start(ch.name, "cached")
            progress.finish(ch.name, "cached, no kernel started")
    return progress


def execute_all(proj: project_mod.Project, chapters: list[Chapter], use_cache: bool,
                before_execution=None, formats: list[str] | None = None) -> list[str]:
    """Fill in each chapter's result, from the cache or a fresh kernel; return error texts.

    Kernels for the first chapters to execute are launched before `before_execution()` (the
    static check) runs, so their start-up overlaps it; if it returns errors, they are stopped
    and nothing executes.
    """
    from bookbuild.progress import Progress

    cache = Cache(proj.cache_dir)
    pending: list[tuple[Chapter, str, ChapterExecutor]] = []
    for ch in chapters:
        cwd = proj.kernel_cwd(ch.source)
        if not ch.doc.cells and not ch.doc.refs:
            ch.result, ch.cached = ExecutionResult([], []), True  # nothing to run: no kernel
            continue
        plan = Plan.of(ch.doc, proj.config, formats or proj.formats)
        k = key(ch.doc, cwd, plan.fingerprint())
        hit = cache.get(k, ch.doc) if use_cache else None
        if hit is not None:
            ch.result, ch.cached = hit, True
        else:
            pending.append((ch, k, ChapterExecutor(ch.doc, cwd, timeout=proj.settings.timeout,
                                                   plan=plan)))
    jobs = max(1, proj.settings.jobs)

    async def run_all() -> list[str]:
        early = [ex for _, _, ex in pending[:jobs]]
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
                cache.put(k, ch.result, ch.doc)
                progress.finish(ch.name, f"executed {len(ch.doc.cells)} cells, "
                                         f"{len(ch.doc.refs)} inline values")

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

    return asyncio.run(run_all())


class BuildError(Exception):
    """Stops a build; the message is already located (file:line) and ready to print."""


def build(proj: project_mod.Project, files: list[Path], formats: list[str] | None = None,
          output_dir: Path | None = None, use_cache: bool = True, strict: bool = False,
          whole_book: bool = False, extra_body: str = "") -> int:
    """Render `files`; return the exit code. Errors go to stderr, located in the `.qmd`.

    `extra_body` is HTML appended to every page (preview's reload script; never in render).

    `whole_book` renders into an empty output folder; otherwise other chapters' output stays.
    """
    from bookbuild.check import check_files, report
    from bookbuild.output import staged

    formats = formats or proj.formats

    def check() -> list[str]:
        results = check_files(files, proj.root)
        if not any(r.diagnostics for r in results):
            return []
        report(results, sys.stderr)
        return ["render stopped: fix the problems above first"]

    chapters = [Chapter(f, parse_file(f)) for f in files]
    publisher = None
    if "html" in formats or "pdf" in formats:
        from bookbuild.publish import Publisher

        try:
            publisher = Publisher(proj, chapters, strict=strict, extra_body=extra_body)
        except BuildError as exc:
            print(exc, file=sys.stderr)
            return 1
        if "html" in formats:
            publisher.start_figures()  # TikZ compiles while the kernels run
    errors = execute_all(proj, chapters, use_cache, before_execution=check, formats=formats)
    if errors:
        for e in errors:
            print(e, file=sys.stderr)
        if not errors[-1].startswith("render stopped"):
            print(f"render failed: {len(errors)} chapter(s) with errors; previous output left "
                  "as it was", file=sys.stderr)
        return 1

    if proj.root is not None and formats != ["md"]:
        from bookbuild import numbers

        try:
            lines, drifted = numbers.drift_lines(proj, chapters, "error" if strict else "warning",
                                                 missing_is_drift=False)
        except numbers.LockError as exc:
            lines, drifted = [f"warning: {exc}"], False
        for line in lines:
            print(line, file=sys.stderr)
        if drifted and strict:
            print("render failed: numbers drifted from numbers.lock (--strict); previous output "
                  "left as it was", file=sys.stderr)
            return 1

    out = (output_dir or proj.output_dir).resolve()
    try:
        with staged(out, fresh=whole_book) as stage:
            if "md" in formats:
                write_markdown(proj, chapters, stage)
            if publisher is not None:
                publisher.prepare()
                if "html" in formats:
                    publisher.write_html(stage)
                if "pdf" in formats:
                    publisher.write_pdf(stage)
    except BuildError as exc:
        print(exc, file=sys.stderr)
        print("render failed; previous output left as it was", file=sys.stderr)
        return 1
    print(f"wrote {', '.join(formats)} for {len(chapters)} chapter(s) to {display_path(out)}",
          file=sys.stderr)
    return 0


def write_markdown(proj: project_mod.Project, chapters: list[Chapter], stage: Path) -> None:
    from bookbuild.markdown import substitute

    for ch in chapters:
        rel = relative_output(proj, ch.source, ".md")
        assets_name = f"{rel.stem}_files"
        md = substitute(ch.doc, ch.result, stage / rel.parent / assets_name, assets_name,
                        fmt="md", config=proj.config)
        target = stage / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(md, encoding="utf-8")
