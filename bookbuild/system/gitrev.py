"""Git revisions for `numbers diff`: resolve one, read a file at one, check one out beside the
user's checkout in a temporary `git worktree` that is removed afterwards (also on Ctrl-C)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from bookbuild.system.errors import UsageError


def _git(args: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=check)


def repository(path: Path) -> tuple[Path, str]:
    """(top folder of the git checkout holding `path`, `path`'s place below it as a prefix)."""
    if shutil.which("git") is None:
        raise UsageError("bookbuild: numbers diff needs git, and no `git` is on PATH")
    found = _git(["rev-parse", "--show-toplevel", "--show-prefix"], path, check=False)
    if found.returncode != 0:
        raise UsageError(f"bookbuild: {path} is not in a git repository; numbers diff compares "
                         "git revisions (run `git init` and commit, or use `bookbuild numbers check`)")
    top, _, prefix = found.stdout.partition("\n")
    return Path(top.strip()), prefix.strip()


def resolve(top: Path, rev: str) -> str:
    """The commit `rev` names; UsageError `unknown revision` when it names none."""
    found = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"],
                 top, check=False)
    if found.returncode != 0 or rev.startswith("-"):
        raise UsageError(f"bookbuild: unknown revision '{rev}'")
    return found.stdout.strip()


def show(top: Path, commit: str, path: str) -> str | None:
    """The text of `path` (relative to the top) at `commit`, None when it has no such file."""
    found = _git(["show", f"{commit}:{path}"], top, check=False)
    return found.stdout if found.returncode == 0 else None


@contextlib.contextmanager
def worktree(top: Path, commit: str, where: Path) -> Iterator[Path]:
    """`commit` checked out (detached) at `where`; removed on the way out, whatever happens.

    `where` is a fixed place per slot, so the execution cache, whose keys hold the kernel's
    folder, finds the entries of the last diff there."""
    remove(top, where)  # left over by a run that was killed outright
    where.parent.mkdir(parents=True, exist_ok=True)
    _git(["worktree", "add", "--detach", "--force", str(where), commit], top)
    try:
        yield where
    finally:
        remove(top, where)


def remove(top: Path, where: Path) -> None:
    """Remove a worktree of ours and git's record of it (nothing when there is none)."""
    # Deleting the folder and pruning git's record of it is what `git worktree remove --force`
    # does, without first comparing every file with the index (0.3-0.4 s each).
    if where.exists() or where.is_symlink():
        shutil.rmtree(where, ignore_errors=True)
    _git(["worktree", "prune"], top, check=False)
