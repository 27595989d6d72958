"""`bookbuild render`: check, execute (cached, chapters in parallel), substitute, write.

Data flows one way: parse -> check -> execute -> substitute -> write. Any error stops the
build before the output folder is touched.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path

from bookbuild import project as project_mod
from bookbuild.cache import Cache, key
from bookbuild.diagnostics import display_path
from bookbuild.execute import ChapterExecutor, ExecutionError, ExecutionResult
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


def execute_all(proj: project_mod.Project, chapters: list[Chapter], use_cache: bool) -> list[str]:
    """Fill in each chapter's result, from the cache or a fresh kernel; return error texts."""
    from bookbuild.progress import Progress

    cache = Cache(proj.cache_dir)
    progress = Progress(len(chapters))
    errors: list[str] = []

    async def one(ch: Chapter, gate: asyncio.Semaphore) -> None:
        cwd = proj.kernel_cwd(ch.source)
        k = key(ch.doc, cwd)
        if use_cache:
            hit = cache.get(k)
            if hit is not None:
                ch.result, ch.cached = hit, True
                progress.start(ch.name, "cached")
                progress.finish(ch.name, "cached, no kernel started")
                return
        async with gate:
            progress.start(ch.name, "executing")
            try:
                ch.result = await ChapterExecutor(ch.doc, cwd, timeout=proj.settings.timeout).run()
            except ExecutionError as exc:
                errors.append(str(exc))
                progress.finish(ch.name, "failed")
                return
            cache.put(k, ch.result)
            progress.finish(ch.name, f"executed {len(ch.doc.cells)} cells, "
                                     f"{len(ch.doc.refs)} inline values")

    async def run_all() -> None:
        gate = asyncio.Semaphore(max(1, proj.settings.jobs))
        await asyncio.gather(*(one(ch, gate) for ch in chapters))

    try:
        asyncio.run(run_all())
    finally:
        progress.close()
    return errors


def build(proj: project_mod.Project, files: list[Path], fmt: str = "md",
          output_dir: Path | None = None, use_cache: bool = True) -> int:
    """Render `files`; return the exit code. Errors go to stderr, located in the `.qmd`."""
    from bookbuild.check import check_files, report
    from bookbuild.markdown import substitute
    from bookbuild.output import staged

    results = check_files(files, proj.root)
    if any(r.diagnostics for r in results):
        report(results, sys.stderr)
        print("render stopped: fix the problems above first", file=sys.stderr)
        return 1

    chapters = [Chapter(f, parse_file(f)) for f in files]
    errors = execute_all(proj, chapters, use_cache)
    if errors:
        for e in errors:
            print(e, file=sys.stderr)
        print(f"render failed: {len(errors)} chapter(s) with errors; previous output left as it was",
              file=sys.stderr)
        return 1

    out = (output_dir or proj.output_dir).resolve()
    with staged(out) as stage:
        for ch in chapters:
            rel = relative_output(proj, ch.source, ".md")
            assets_name = f"{rel.stem}_files"
            md = substitute(ch.doc, ch.result, stage / rel.parent / assets_name, assets_name,
                            echo=proj.settings.echo)
            target = stage / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(md, encoding="utf-8")
    print(f"wrote {len(chapters)} chapter(s) to {display_path(out)}", file=sys.stderr)
    return 0
