"""Shared fixtures: paths to the project, the upstream appendix, and a CLI runner."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = ROOT.parent / "shared" / "upstream" / "appendix_machine.qmd"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def require_upstream() -> Path:
    """The upstream appendix; without it a test skips, saying why, except in CI (`CI=true`),
    where a missing compatibility target is a failure: a green run must have tested it."""
    if not UPSTREAM.is_file():
        why = f"{UPSTREAM} not present (it lives in ../shared beside the repository)"
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(f"CI=true and {why}: the upstream compatibility tests cannot run",
                        pytrace=False)
        pytest.skip(why)
    return UPSTREAM


@pytest.fixture
def upstream() -> Path:
    return require_upstream()


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


def make_upstream_book(root: Path) -> Path:
    """The upstream appendix, unmodified, as the one chapter of a book configured like ours."""
    import yaml

    require_upstream()
    (root / "appendix").mkdir(parents=True)
    shutil.copy(UPSTREAM, root / "appendix" / "machine.qmd")
    shutil.copy(ROOT / "appendix" / "references.bib", root / "appendix" / "references.bib")
    config = yaml.safe_load((ROOT / "_quarto.yml").read_text())
    config["book"]["chapters"] = ["appendix/machine.qmd"]
    config["book"].pop("appendices", None)
    config["bookbuild"].pop("tikz-preamble")  # the default preamble ships with the filters
    (root / "_quarto.yml").write_text(yaml.safe_dump(config))
    return root


def render_html(root: Path) -> str:
    """`bookbuild render --to html` (caches on) must succeed; its stderr."""
    r = run_cli("render", "--to", "html", cwd=root)
    assert r.returncode == 0, r.stderr
    return r.stderr


def snapshot(root: Path) -> Path:
    """A copy of a rendered book beside it, to restore it from between cases."""
    pristine = root.parent / "pristine"
    shutil.copytree(root, pristine, symlinks=True)
    return pristine


def restore(root: Path, pristine: Path) -> Path:
    """The book back in its first state at the path its caches were made for."""
    shutil.rmtree(root)
    shutil.copytree(pristine, root, symlinks=True)
    return root


# `make test-slow`, not `make test` (which must stay near 8 minutes on two cores): the print
# (PDF) renders of the Quarto feature fixtures, whose HTML tests stay in `make test`; the
# browser suites of the reader features (search, light/dark, accessibility); the wheel in a
# fresh venv; a 200 MB output; our book copied and rendered in all three formats.
SLOW = re.compile("|".join([
    r"^tests/(test_quarto_[a-z_]+|test_crossref_render|test_config_shapes)\.py::\S*(pdf|print)",
    r"^tests/test_(accessibility|color_scheme|search)\.py::",
    r"^tests/test_packaging\.py::test_a_fresh_venv",
    r"^tests/faults/test_odd_places\.py::test_a_cell_printing_hundreds",
    r"^tests/test_anybook\.py::test_renders_html_pdf_and_md",
]))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """For `--dist loadgroup` (make test): a module whose tests share a module- or class-scoped
    fixture (one render, many asserts) runs on one worker, so that render is made once; the
    tests of any other module are independent and are spread over the workers one by one, so
    no worker is left with a long file at the end."""
    shared = ("module", "class", "package")
    for item in items:
        if SLOW.search(item.nodeid):
            item.add_marker(pytest.mark.slow)
        info = getattr(item, "_fixtureinfo", None)
        defs = info.name2fixturedefs.values() if info is not None else ()
        if any(d.scope in shared for chain in defs for d in chain):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
