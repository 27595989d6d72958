"""Shared fixtures: paths to the project, the upstream appendix, and a CLI runner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = ROOT.parent / "shared" / "upstream" / "appendix_machine.qmd"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def upstream() -> Path:
    if not UPSTREAM.is_file():
        pytest.skip(f"{UPSTREAM} not present (it lives in ../shared beside the repository)")
    return UPSTREAM


def bookbuild_exe() -> str:
    exe = Path(sys.executable).with_name("bookbuild")
    if not exe.exists():
        pytest.fail("the bookbuild console script is missing: run `make setup` (pip install -e .)")
    return str(exe)


def run_cli(*args: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run the real `bookbuild` command as a user would."""
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    return subprocess.run([bookbuild_exe(), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty folder outside any project."""
    d = tmp_path / "work"
    d.mkdir()
    return d


def copy_fixture(name: str, dest: Path) -> Path:
    target = dest / name
    shutil.copy(FIXTURES / name, target)
    return target
