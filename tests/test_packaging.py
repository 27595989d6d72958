"""bookbuild installed from a wheel, outside this repository, renders someone else's book.

The wheel is built from a copy of the sources (so the repository gets no build/ folder) and
installed with pip into a fresh venv in a temporary folder. Its dependencies (pint, nbclient,
pandoc's wheel, ...) are borrowed from our venv by a path entry instead of being downloaded
again; bookbuild itself comes only from the wheel, which the test checks.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import uuid
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_anybook import copy_anybook

TIMEOUT = 600


def run(cmd: list[str], cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, env=env)
    assert r.returncode == 0, f"{cmd}\n{r.stdout}\n{r.stderr}"
    return r


def build_wheel(source: Path, dest: Path) -> Path:
    """`pip wheel` on a copy of `source`; the wheel it wrote."""
    dest.mkdir(parents=True, exist_ok=True)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(dest), str(source)], cwd=dest)
    wheels = list(dest.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def copy_sources(dest: Path, names: list[str]) -> Path:
    dest.mkdir()
    for name in names:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, dest / name)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    src = copy_sources(tmp / "src", ["pyproject.toml", "README.md", "bookbuild", "filters"])
    return build_wheel(src, tmp / "dist")


def test_the_wheel_carries_filters_templates_and_kernel_code_but_not_our_constants(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("bookbuild/filters/crossref.lua", "bookbuild/filters/tikz.lua",
                   "bookbuild/filters/tikz-preamble.tex", "bookbuild/templates/page.html.j2",
                   "bookbuild/templates/book-header.tex", "bookbuild/kernel/__init__.py",
                   "bookbuild/kernel/constants.py", "bookbuild/cli.py",
                   "bookbuild/lua/pandoc_worker.lua", "bookbuild/kernel/readrec.c"):
        assert needed in names
    assert not [n for n in names if n.startswith("mlsysim/")]
    # Every module of the source tree ships (a subpackage missing from pyproject.toml would not).
    for source in (ROOT / "bookbuild").rglob("*.py"):
        assert source.relative_to(ROOT).as_posix() in names
    # Every file the filters load ships beside them (the rules data file too).
    for shipped in (ROOT / "filters").iterdir():
        assert f"bookbuild/filters/{shipped.name}" in names


def test_mlsysim_is_its_own_package(tmp_path: Path) -> None:
    src = copy_sources(tmp_path / "src", ["mlsysim"])
    names = set(zipfile.ZipFile(build_wheel(src / "mlsysim", tmp_path / "dist")).namelist())
    for needed in ("mlsysim/__init__.py", "mlsysim/core/constants.py", "mlsysim/core/units.txt",
                   "mlsysim/data/h100_probe.json"):
        assert needed in names
    assert not [n for n in names if n.startswith("bookbuild/")]


def test_a_fresh_venv_renders_the_fixture_book_from_its_own_folder(wheel: Path) -> None:
    # Venv and book in a folder named without `_x_`: paths in pandoc metadata are still read
    # as Markdown (issue 11, owned by the render pipeline), which pytest's tmp names would trip.
    where = Path(tempfile.gettempdir()) / f"anybook-{uuid.uuid4().hex}"
    where.mkdir()
    try:
        venv = where / "venv"
        run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=where)
        run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
             "-q", "--no-deps", str(wheel)], cwd=where)
        _render_with_the_wheel(venv, copy_anybook(where))
    finally:
        shutil.rmtree(where, ignore_errors=True)


def _render_with_the_wheel(venv: Path, book: Path) -> None:
    python = venv / "bin" / "python"
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                    cwd=book).stdout.strip())
    (site / "borrowed-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    where = run([str(python), "-c", "import bookbuild; print(bookbuild.__file__)"], cwd=book, env=env)
    assert where.stdout.strip().startswith(str(site))  # the wheel's copy, not our sources

    exe = str(venv / "bin" / "bookbuild")
    run([exe, "render", "--to", "html"], cwd=book, env=env)
    page = (book / "_book" / "chapters" / "compute.html").read_text(encoding="utf-8")
    assert re.search(r'As <a href="\.\./index\.html#fig-balance" class="[^"]*xref[^"]*">Figure\s1</a>', page)
    assert "(defined at labconst/physics.py:8)" in page  # constants traced
    assert (book / "_book" / "assets" / "book.css").is_file()  # templates
    index = (book / "_book" / "index.html").read_text(encoding="utf-8")
    assert "<svg" in index or ".svg" in index  # TikZ compiled with the default preamble
    run([exe, "render", "--to", "md"], cwd=book, env=env)
    assert "averaging 14.0 s" in " ".join((book / "_book/chapters/data.md").read_text().split())
    accept = run([exe, "numbers", "accept"], cwd=book, env=env)
    assert "11 constants" in accept.stdout
