"""`bookbuild numbers diff [REV1] [REV2]`: the numbers of two git revisions side by side.

Each revision is executed in a checkout of its own under `.bookbuild/diff/` (the user's checkout
is never touched) with the project's own execution cache; without revisions, the lock committed
at HEAD is compared with the working tree's numbers.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from bookbuild.analysis.checkcache import static_check
from bookbuild.commands.steps import start_check_finish
from bookbuild.execution import cache
from bookbuild.execution.execute import Plan
from bookbuild.execution.revision import own_packages
from bookbuild.execution.service import errors_of
from bookbuild.execution.service import executed as with_results
from bookbuild.model import Chapter
from bookbuild.numbers import difftable
from bookbuild.numbers import lock as lockfile
from bookbuild.numbers.drift import compare_with_causes, current
from bookbuild.source import project as project_mod
from bookbuild.source.parsecache import ParseCache
from bookbuild.source.project import Project
from bookbuild.system import gitrev
from bookbuild.system.errors import BuildError


@dataclass(frozen=True)
class _Borrowing(Project):
    """A project checked out in a worktree that keeps its cache in the user's `.bookbuild/`."""

    cache_home: Path | None = None

    @property
    def cache_dir(self) -> Path:
        return self.cache_home or super().cache_dir


def executed(proj: Project, files: list[Path] | None = None,
             home: Project | None = None) -> list[Chapter]:
    """The project's chapters, checked and executed (cached); BuildError when one fails.
    With `home` (the user's checkout of a worktree's project), its cached results seed ours."""
    files = files or proj.chapters()
    parsed = ParseCache(proj.cache_entries)
    chapters = [Chapter(f, parsed.parse_file(f)) for f in files]
    if home is not None and home.root is not None and proj.root is not None:
        _seed(home, proj, chapters)
    results = start_check_finish(proj, chapters, lambda: static_check(
        files, proj.root, "numbers", {ch.source: ch.doc for ch in chapters}, proj.cache_entries,
        config=proj.config), values_only=True)
    errors = errors_of(results)
    if errors:
        raise BuildError("\n".join(errors))
    parsed.flush()
    return with_results(chapters, results)


def _seed(home: Project, proj: Project, chapters: list[Chapter]) -> None:
    """Offer each chapter the entry the user's checkout has for the same cells: the cache's
    keys hold the kernel's folder, which differs in a worktree, and its dependencies are
    verified against the worktree's files when read."""
    for ch in chapters:
        plan = Plan.of(ch.doc, proj.config, proj.formats).fingerprint()
        here = proj.kernel_cwd(ch.source)
        there = home.root / here.relative_to(proj.root)
        cache.seed(proj.cache_dir, cache.key(ch.doc, there, plan), cache.key(ch.doc, here, plan),
                   home.root, proj.root)


def _checked_out(stack: contextlib.ExitStack, home: Project, top: Path, prefix: str,
                 commit: str, slot: str) -> Project:
    """The project as it is at `commit`, in its slot's checkout under the cache."""
    where = stack.enter_context(gitrev.checkout(top, commit, home.cache_dir / "diff" / slot))
    proj = project_mod.load(where / prefix)
    return _Borrowing(proj.root, proj.config, proj.settings, cache_home=home.cache_dir)


def run(home: Project, rev1: str | None, rev2: str | None, fmt: str) -> int:
    """Print the numbers that moved from `rev1` to `rev2`; 1 when any moved, else 0."""
    top, prefix = gitrev.repository(home.root or Path.cwd())
    old_commit = gitrev.resolve(top, rev1 or "HEAD")
    new_commit = gitrev.resolve(top, rev2) if rev2 else None
    old_name, new_name = rev1 or "HEAD", rev2 or "working tree"
    with contextlib.ExitStack() as stack:
        if rev1 is None:  # the committed lock, as the reviewer of the change sees it
            text = gitrev.show(top, old_commit, prefix + lockfile.LOCK)
            old = lockfile.parse(text, f"{old_name}:{prefix}{lockfile.LOCK}") if text else \
                lockfile.Lock(shown=[], files={}, packages={})
        else:
            then = _checked_out(stack, home, top, prefix, old_commit, "old")
            with own_packages(then.root):  # the revision's package, not the installed one
                old = current(then.root, executed(then, home=home), then.config, inputs=True)[0]
        proj = home if new_commit is None else _checked_out(stack, home, top, prefix,
                                                             new_commit, "new")
        with own_packages(proj.root) if proj is not home else contextlib.nullcontext():
            chapters = executed(proj, home=None if proj is home else home)
        now, details = current(proj.root, chapters, proj.config, inputs=True)
        drift, causes = compare_with_causes(old, now, proj.root, chapters, details)
    if not drift.files and not drift.packages:  # compare_with_causes skips them when no drift
        lockfile.changed_inputs(old, now, drift)
    table, changed = difftable.rows(drift, causes), difftable.inputs(drift)
    title = (f"numbers diff {old_name} ({old_commit[:8]}) → {new_name}"
             + (f" ({new_commit[:8]})" if new_commit else ""))
    if fmt == "json":
        print(difftable.as_json(table, changed, old_name, new_name))
    elif fmt == "md":
        print(difftable.markdown(table, changed, title))
    else:
        print(difftable.plain(table, changed, title))
    return 1 if drift else 0
