"""Git revisions for `numbers diff`: resolve one, read a file at one, check one out beside the
user's checkout in a folder of the cache, updated in place from run to run."""

from __future__ import annotations

import contextlib
import os
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
def checkout(top: Path, commit: str, where: Path) -> Iterator[Path]:
    """`commit`'s files at `where`, a folder kept between runs and brought up to date in place.

    `where` is a fixed place per slot, so the execution cache, whose keys hold the kernel's
    folder, finds the entries of the last diff there. The folder is no registered worktree (the
    user's `git worktree list` never shows it): a private index beside it lets git rewrite only
    the files that differ from the last revision checked out there, and drop what cells wrote."""
    index = where.parent / f".{where.name}.index"
    try:
        _update(top, commit, where, index)
    except subprocess.CalledProcessError:  # a run killed mid-update left a lock or a torn index
        remove(top, where)
        _update(top, commit, where, index)
    yield where


def _update(top: Path, commit: str, where: Path, index: Path) -> None:
    where.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GIT_INDEX_FILE=str(index))
    tree = ["--git-dir", _git_dir(top), "--work-tree", str(where)]
    # --reset -u: files that differ from `commit` (changed revisions, or edited by a cell) are
    # rewritten, the rest only stat'ed; clean removes what is in no revision (cell outputs).
    for args in (["read-tree", "--reset", "-u", commit], ["clean", "-f", "-d", "-x", "-q"]):
        subprocess.run(["git", *tree, *args], cwd=where, capture_output=True, text=True,
                       check=True, env=env)


def _git_dir(top: Path) -> str:
    return _git(["rev-parse", "--absolute-git-dir"], top).stdout.strip()


def remove(top: Path, where: Path) -> None:
    """Remove a checkout of ours and its private index (nothing when there is none)."""
    if where.exists() or where.is_symlink():
        shutil.rmtree(where, ignore_errors=True)
    for leftover in (where.parent / f".{where.name}.index", where.parent / f".{where.name}.index.lock"):
        leftover.unlink(missing_ok=True)
