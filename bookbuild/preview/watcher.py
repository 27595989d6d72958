"""What preview watches, which changes matter, and what each change rebuilds.

The project folder is watched without descending into folders that are not the author's
sources (virtual environments, caches, outputs, VCS data): watching a `.venv` recursively would
cost thousands of inotify watches and start slowly. Top-level folders are watched recursively,
the project folder itself flatly; a new top-level folder restarts the recursive watch.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

# Folder names that never hold sources a page depends on.
SKIP_DIRS = {".bookbuild", ".git", ".hg", ".svn", ".venv", "venv", "env", "node_modules",
             "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".ipynb_checkpoints",
             ".quarto", "_freeze", "_book", "site-packages", ".tox", ".nox"}
# Editor droppings and byte code: saving through them must not trigger two builds.
# editors' backup and swap files, temporaries, and a build's lock beside its output (._book.lock)
NOISE = re.compile(r"(^\.#|~$|\.sw[a-p]$|^4913$|\.pyc$|^\.DS_Store$|\.tmp$|\.part$|^\..*\.lock$)")


def skipped_dir(path: Path, output: Path | None) -> bool:
    return (path.name in SKIP_DIRS or path.name.startswith(".")
            or (path / "pyvenv.cfg").exists() or (output is not None and path == output))


def deep_dirs(root: Path, output: Path | None, extra: Iterable[Path] = ()) -> list[Path]:
    """Folders to watch recursively: the project's top-level source folders plus `extra`."""
    dirs = [p for p in sorted(root.iterdir()) if p.is_dir() and not skipped_dir(p, output)]
    for p in extra:
        p = p.resolve()
        if p.is_dir() and not p.is_relative_to(root):
            dirs.append(p)
    unique: list[Path] = []
    for p in dirs:
        if not any(p == u or p.is_relative_to(u) for u in unique):
            unique = [u for u in unique if not u.is_relative_to(p)] + [p]
    return unique


def relevant(path: Path, root: Path, output: Path | None) -> bool:
    """Whether a changed path can change a page (sources, modules, data, filters, templates)."""
    if NOISE.search(path.name):
        return False
    if output is not None and path.is_relative_to(output):
        return False
    rel = path.relative_to(root).parts[:-1] if path.is_relative_to(root) else ()
    return not any(part in SKIP_DIRS or part.startswith(".") for part in rel)


# Files that can shape a page without a chapter naming them or a kernel reading them: sources,
# configuration, modules, filters, styles, templates, bibliographies.
SOURCE_SUFFIXES = {".qmd", ".md", ".ipynb", ".yml", ".yaml", ".py", ".lua", ".css", ".scss",
                   ".html", ".tex", ".bib", ".csl"}


def plan(changed: set[Path], chapters: list[Path],
         inputs: set[Path] | None = None) -> list[Path] | None:
    """The chapters to rebuild for `changed`: None for the whole book, [] for none.

    An edited chapter rebuilds alone (the cache decides whether its kernel runs: prose edits go
    straight to pandoc). A file a chapter includes rebuilds the chapters that name it. Anything
    else that a page may be made from (`_quarto.yml`, a module, a data file, a filter, a
    template) rebuilds the book; the cache then re-executes only the chapters whose inputs
    changed. `inputs` are the files the last builds read: once known, a file that is none of
    them, has no source suffix and is named by no chapter (a log the author writes preview's
    messages to) rebuilds nothing, as in Quarto.
    """
    by_path = {c.resolve(): c for c in chapters}
    targets: list[Path] = []
    for path in changed:
        path = path.resolve()
        if path in by_path:
            targets.append(by_path[path])
            continue
        if path.suffix in (".qmd", ".md") and path.exists():
            users = [c for c in chapters if _includes(c, path)]
            if users:
                targets += users
                continue
        if inputs is None or _may_shape_a_page(path, chapters, inputs):
            return None
    return sorted(set(targets), key=chapters.index)


def _may_shape_a_page(path: Path, chapters: list[Path], inputs: set[Path]) -> bool:
    """A file the builds read, a source by its suffix, or one a chapter or the config names."""
    if path in inputs or path.suffix.lower() in SOURCE_SUFFIXES:
        return True
    root = _root_of(chapters[0]) if chapters else None
    named = [*chapters, *([root / "_quarto.yml"] if root is not None else [])]
    for text_file in named:
        try:
            if path.name in text_file.read_text(encoding="utf-8", errors="replace"):
                return True
        except OSError:
            continue
    return False


def _includes(chapter: Path, included: Path) -> bool:
    """Whether `chapter` names `included` in an include shortcode (relative to itself or root)."""
    try:
        text = chapter.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    for m in re.finditer(r"\{\{<\s*include\s+(\S+?)\s*>\}\}", text):
        name = m.group(1).strip("\"'")
        for base in (chapter.parent, _root_of(chapter)):
            if base is not None and (base / name).resolve() == included:
                return True
    return False


def _root_of(chapter: Path) -> Path | None:
    for d in chapter.resolve().parents:
        if (d / "_quarto.yml").is_file():
            return d
    return None


async def changes(root: Path, output: Path | None, extra: Iterable[Path],
                  stop: asyncio.Event, debounce_ms: int = 50) -> AsyncIterator[set[Path]]:
    """Batches of relevant changed paths until `stop` is set."""
    from watchfiles import awatch

    extra = list(extra)
    queue: asyncio.Queue[set[Path]] = asyncio.Queue()
    restart = asyncio.Event()

    async def pump(paths: list[Path], recursive: bool, until: asyncio.Event) -> None:
        if not paths:
            await until.wait()
            return
        async for batch in awatch(*paths, stop_event=until, debounce=debounce_ms, step=10,
                                  recursive=recursive, yield_on_timeout=False,
                                  rust_timeout=200):
            found = {Path(p) for _, p in batch}
            if not recursive and any(p.is_dir() and p.parent == root and not
                                     skipped_dir(p, output) for p in found):
                restart.set()  # a new top-level folder: watch inside it too
            found = {p for p in found if relevant(p, root, output) and not p.is_dir()}
            if found:
                queue.put_nowait(found)

    async def deep() -> None:
        while not stop.is_set():
            restart.clear()
            until = asyncio.Event()
            task = asyncio.create_task(pump(deep_dirs(root, output, extra), True, until))
            waiter = asyncio.create_task(_first(stop, restart))
            try:
                await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                until.set()  # also on cancellation: the watch thread ends at its next step
                waiter.cancel()
            failed = (await asyncio.gather(task, return_exceptions=True))[0]
            if isinstance(failed, Exception) and not stop.is_set():
                # a watched folder vanished mid-watch, say: watch again what exists now
                await asyncio.sleep(0.5)

    tasks = [asyncio.create_task(pump([root], False, stop)), asyncio.create_task(deep())]
    getter: asyncio.Task | None = None
    try:
        while not stop.is_set():
            getter = asyncio.create_task(queue.get())
            stopper = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if getter in done:
                yield getter.result()
            else:
                getter.cancel()
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _first(*events: asyncio.Event) -> None:
    waits = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
