"""`execute: freeze` as Quarto defines it, kept in a portable, committed `_freeze/` folder.

The fixture book (tests/fixtures/frozen, `freeze: auto`) has a chapter that imports `pomology`,
a package only the author has (tests/fixtures/frozen_site, on the author's PYTHONPATH), a
module of the book's own beside it, and reads `data/trees.csv` beside it. The author renders;
a co-author's copy (the committed files: no cache, no `pomology`) renders from `_freeze/`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, bookbuild_exe

FROZEN = "_freeze/chapters/yield/execute-results/html.json"
PLOT = "_freeze/chapters/plot/execute-results/html.json"
PAGE = "_book/chapters/yield.html"


def run(root: Path, *args: str, site: Path | None = None) -> subprocess.CompletedProcess:
    """bookbuild in `root`, with `site` (the author's installed packages) on PYTHONPATH."""
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    env.pop("PYTHONPATH", None)
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return subprocess.run([bookbuild_exe(), *args], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)


def words(path: Path) -> str:
    """The page's text without tags ("" when the render wrote none)."""
    if not path.is_file():
        return ""
    return " ".join(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")).split())


def committed(author: Path, where: Path) -> Path:
    """What a co-author's clone holds: sources and `_freeze/`, no cache, no output."""
    shutil.copytree(author, where, ignore=shutil.ignore_patterns(".bookbuild", "_book"))
    return where


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The author's renders, then a co-author's, each step's output kept in order."""
    base = tmp_path_factory.mktemp("freeze")
    site = base / "site"
    shutil.copytree(FIXTURES / "frozen_site", site)
    author = base / "author"
    shutil.copytree(FIXTURES / "frozen", author)
    out: dict = {"author": author}
    out["first"] = run(author, "render", "--to", "html", site=site)
    out["frozen"] = {f: (author / f).read_bytes() for f in (FROZEN, PLOT)}
    shutil.rmtree(author / "_freeze")  # executed again: the same bytes, figures included
    out["again"] = run(author, "render", "--to", "html", "--no-cache", site=site)
    out["frozen again"] = {f: (author / f).read_bytes() for f in (FROZEN, PLOT)}

    coauthor = committed(author, base / "coauthor")
    out["coauthor"] = coauthor
    out["co render"] = run(coauthor, "render", "--to", "html")
    out["co page"] = words(coauthor / PAGE)
    out["co md"] = run(coauthor, "render", "--to", "md")
    out["co accept"] = run(coauthor, "numbers", "accept")
    out["co check"] = run(coauthor, "numbers", "check")
    out["co explicit"] = run(coauthor, "render", "chapters/yield.qmd", "--to", "html")
    edit(coauthor / "_quarto.yml", "freeze: auto", "freeze: true")
    edit(coauthor / "chapters/yield.qmd", "# Yield\n", "# Yield\n\nProse the co-author wrote.\n")
    out["co prose"] = run(coauthor, "render", "--to", "html")
    with (coauthor / "chapters/data/trees.csv").open("a") as f:
        f.write("middle,5\n")
    out["co stale"] = run(coauthor, "render", "--to", "html")
    out["co stale page"] = words(coauthor / PAGE)
    out["co stale check"] = run(coauthor, "numbers", "check")
    out["co strict"] = run(coauthor, "render", "--to", "html", "--strict")
    out["co strict page"] = words(coauthor / PAGE)

    before = (author / FROZEN).read_text()
    edit(author / "chapters/yield.qmd", "# Yield\n", "# Yield\n\nA new first line.\n")
    out["auto"] = run(author, "render", "--to", "html", site=site)
    out["auto frozen"] = (before, (author / FROZEN).read_text())
    return out


def test_a_render_freezes_the_result_portably_and_deterministically(books: dict) -> None:
    assert books["first"].returncode == 0, books["first"].stderr
    text = books["frozen"][FROZEN].decode("utf-8")
    record = __import__("json").loads(text)
    assert set(record["inputs"]) == {"chapters/data/trees.csv", "chapters/rows.py"}
    assert record["result"]["inline"] == ["30", "1260"]
    assert record["result"]["constants"]["BLOCKS"]["path"] == "chapters/rows.py"
    for machine in (str(books["author"]), str(Path.home()), "site-packages", ".venv", "/tmp/"):
        assert machine not in text, machine  # relative paths, nothing of this machine
    assert books["again"].returncode == 0, books["again"].stderr
    assert books["frozen again"] == books["frozen"]  # executed anew, not a byte moved
    assert b"<svg" in books["frozen"][PLOT]


def test_a_co_author_renders_from_frozen_results_without_the_package(books: dict) -> None:
    r = books["co render"]
    assert r.returncode == 0, r.stderr
    assert f"chapters/yield.qmd: frozen ({FROZEN}), no kernel started" in r.stderr, r.stderr
    assert "executed" not in r.stderr and "warning" not in r.stderr, r.stderr
    assert "The 30 trees give 1260 kg." in books["co page"]
    assert "30 trees counted in 2 blocks" in books["co page"]


def test_a_result_without_figures_serves_every_format(books: dict) -> None:
    """Frozen by an HTML render; the markdown render needs other figure formats, but the
    chapter drew none."""
    r = books["co md"]
    assert r.returncode == 0, r.stderr
    assert f"chapters/yield.qmd: frozen ({FROZEN}), no kernel started" in r.stderr, r.stderr
    md = (books["coauthor"] / "_book/chapters/yield.md").read_text(encoding="utf-8")
    assert "The 30 trees give 1260 kg." in " ".join(md.split())


def test_numbers_check_works_from_frozen_results_and_says_so(books: dict) -> None:
    assert books["co accept"].returncode == 0, books["co accept"].stderr
    r = books["co check"]
    assert r.returncode == 0, r.stdout + r.stderr
    assert "numbers.lock matches" in r.stdout
    assert f"chapters/yield.qmd: frozen ({FROZEN})" in r.stderr, r.stderr


def test_rendering_the_file_itself_executes_it_as_quarto_does(books: dict) -> None:
    r = books["co explicit"]  # the co-author lacks pomology: executing it fails, located
    assert r.returncode == 1, r.stderr
    assert "chapters/yield.qmd:7: ModuleNotFoundError in cell 'yield': No module named " \
           "'pomology'" in r.stderr, r.stderr


def test_freeze_true_keeps_serving_after_a_prose_edit(books: dict) -> None:
    r = books["co prose"]
    assert r.returncode == 0, r.stderr
    assert f"chapters/yield.qmd: frozen ({FROZEN})" in r.stderr, r.stderr


def test_a_frozen_result_whose_data_changed_is_named_stale(books: dict) -> None:
    for r in (books["co stale"], books["co stale check"]):
        assert "chapters/yield.qmd:1: warning: its frozen result is stale: " \
               f"chapters/data/trees.csv changed since {FROZEN} was written; render " \
               "chapters/yield.qmd to execute it again" in r.stderr, r.stderr
    assert books["co stale"].returncode == 0
    assert "The 30 trees give 1260 kg." in books["co stale page"]  # frozen, and said so


def test_render_strict_refuses_a_stale_frozen_result(books: dict) -> None:
    r = books["co strict"]
    assert r.returncode == 1, r.stderr
    assert "chapters/yield.qmd:1: error: its frozen result is stale: chapters/data/trees.csv " \
           "changed since" in r.stderr, r.stderr
    assert "render failed: 1 stale frozen result(s) (--strict); previous output left as it " \
           "was" in r.stderr
    assert "Traceback" not in r.stderr
    assert books["co strict page"] == books["co stale page"]  # untouched


def test_freeze_auto_stops_serving_a_chapter_whose_text_changed(books: dict) -> None:
    """Quarto executes it again; the execution cache serves the same code without a kernel."""
    r = books["auto"]
    assert r.returncode == 0, r.stderr
    assert "chapters/yield.qmd: frozen" not in r.stderr, r.stderr
    before, after = books["auto frozen"]
    assert before != after  # the new text's hash
    hashes = [__import__("json").loads(t)["hash"] for t in (before, after)]
    assert hashes[0] != hashes[1]
