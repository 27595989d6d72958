"""Where a chapter's cells run: beside the chapter, as Quarto's default `project: execute-dir:
file`, or at the project root with `execute-dir: project`.

The fixture book (tests/fixtures/execdir) has a chapter in `chapters/` that reads
`data/crates.csv` (its own folder holds one, the root another), imports a module beside it and
tries the root's module, which the front page (at the root) imports. One module-scoped copy is
rendered with warm kernels, with plain kernels, and then switched to `execute-dir: project`.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_cli

HARVEST = "_book/chapters/harvest.html"


def words(path: Path) -> str:
    """The page's text with tags removed, whitespace collapsed and quotes made straight."""
    text = re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")).replace("’", "'")
    return " ".join(text.split())


def ok(*args: str, cwd: Path):
    r = run_cli(*args, cwd=cwd)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def set_config(root: Path, old: str, new: str) -> None:
    config = root / "_quarto.yml"
    text = config.read_text(encoding="utf-8")
    assert old in text
    config.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The book rendered three ways; each page's words kept, with the renders' stderr."""
    root = tmp_path_factory.mktemp("books") / "execdir"
    shutil.copytree(FIXTURES / "execdir", root)
    out: dict = {"root": root}
    warm = ok("render", "--to", "html", cwd=root)
    out["warm"] = (words(root / HARVEST), words(root / "_book/index.html"), warm.stderr)
    ok("numbers", "accept", cwd=root)
    data = root / "chapters" / "data" / "crates.csv"
    before = data.read_text(encoding="utf-8")
    data.write_text(before + "south,5\n", encoding="utf-8")
    out["drift"] = run_cli("numbers", "check", cwd=root)
    data.write_text(before, encoding="utf-8")
    set_config(root, "execute:\n", "bookbuild:\n  warm-kernels: false\n\nexecute:\n")
    plain = ok("render", "--to", "html", "--no-cache", cwd=root)
    out["plain"] = (words(root / HARVEST), words(root / "_book/index.html"), plain.stderr)
    set_config(root, "  type: book\n", "  type: book\n  execute-dir: project\n")
    project = ok("render", "--to", "html", cwd=root)
    out["project"] = (words(root / HARVEST), words(root / "_book/index.html"), project.stderr)
    return out


@pytest.mark.parametrize("kernels", ["warm", "plain"])
def test_a_chapter_runs_in_its_own_folder_by_default(book: dict, kernels: str) -> None:
    harvest, index, _ = book[kernels]
    assert "Cells here run in chapters and count 7 crates." in harvest  # chapters/data/crates.csv
    assert "The module beside this chapter is found" in harvest
    # Quarto's kernel has its own folder on sys.path, not the root's: the front page imported
    # the root's module (in a template of the root's, when warm), the chapter cannot
    assert "the root's module is missing" in harvest
    assert "The front page's cells run in execdir, weighing in kilograms." in index


def test_execute_dir_project_runs_every_chapter_at_the_root(book: dict) -> None:
    harvest, index, stderr = book["project"]
    # the cache key holds the folder: the chapter ran again, now at the root
    assert re.search(r"chapters/harvest\.qmd: executed", stderr), stderr
    assert "Cells here run in execdir and count 100 crates." in harvest  # the root's data/
    assert "The module beside this chapter is missing" in harvest
    assert "module is found" in harvest
    assert "run in execdir, weighing in kilograms." in index


def test_drift_names_the_data_file_read_relative_to_the_chapter(book: dict) -> None:
    r = book["drift"]
    assert r.returncode == 1, r.stdout + r.stderr
    assert "chapters/harvest.qmd:24 crates: 7 → 12  (moved by chapters/data/crates.csv)" \
        in r.stdout, r.stdout


def test_an_unknown_execute_dir_is_one_located_line(tmp_path: Path) -> None:
    root = tmp_path / "execdir"
    shutil.copytree(FIXTURES / "execdir", root)
    set_config(root, "  type: book\n", "  type: book\n  execute-dir: chapter\n")
    r = run_cli("check", cwd=root)
    assert r.returncode == 2, r.stdout + r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("_quarto.yml:3:"), r.stderr
    assert "execute-dir" in lines[0] and "Traceback" not in r.stderr


SHADE_BOOK = {
    "_quarto.yml": "project:\n  type: book\nbook:\n  title: Shade\n  chapters:\n"
                   "    - index.qmd\n    - chapters/own.qmd\nformat: html\n",
    "index.qmd": "# Front\n\n```{python}\nimport shade\n```\n\nShade here: `{python} shade.WHICH`.\n",
    "chapters/own.qmd": "# Own\n\n```{python}\nimport shade\n```\n\n"
                        "Shade beside: `{python} shade.WHICH`.\n",
    "chapters/shade.py": 'WHICH = "the chapter\'s own"\n',
    "elsewhere/shade.py": 'WHICH = "the one on PYTHONPATH"\n',
}


def test_a_module_beside_a_chapter_wins_over_one_a_warm_template_preloaded(tmp_path: Path) -> None:
    """`shade` is importable from any folder (PYTHONPATH), so the shared warm template imports
    it for the front page; the chapter beside its own `shade.py` must get that one, as a fresh
    kernel in its folder would, not the template's."""
    import os
    import subprocess

    from tests.conftest import bookbuild_exe

    root = tmp_path / "shade"
    for name, text in SHADE_BOOK.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(root / "elsewhere"))
    r = subprocess.run([bookbuild_exe(), "render", "--to", "html"], cwd=root, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "Shade here: the one on PYTHONPATH." in words(root / "_book/index.html")
    assert "Shade beside: the chapter's own." in words(root / "_book/chapters/own.html")


def test_a_root_module_missed_from_a_subfolder_says_how_to_run_at_the_root(tmp_path: Path) -> None:
    root = tmp_path / "execdir"
    shutil.copytree(FIXTURES / "execdir", root)
    chapter = root / "chapters" / "harvest.qmd"
    chapter.write_text(chapter.read_text().replace("import csv\n", "import csv\nimport ledger_units\n"))
    r = run_cli("render", "--to", "md", cwd=root)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "chapters/harvest.qmd:6: ModuleNotFoundError in cell 'harvest': No module named " \
           "'ledger_units'; 'ledger_units' is at the project root, and cells run in their " \
           "chapter's folder (chapters/) as in Quarto: set `execute-dir: project` under " \
           "`project:` in _quarto.yml, or install the module" in r.stderr, r.stderr


def test_a_root_relative_path_missed_from_a_subfolder_names_the_setting(tmp_path: Path) -> None:
    from bookbuild.execution.cwdhint import at_root

    (tmp_path / "_quarto.yml").write_text("project:\n  type: book\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "runs.csv").write_text("a\n")
    (tmp_path / "ch").mkdir()
    said = at_root("FileNotFoundError", "[Errno 2] No such file or directory: 'data/runs.csv'",
                   tmp_path / "ch")
    assert said.startswith("; 'data/runs.csv' is at the project root, and cells run in their "
                           "chapter's folder (ch/)") and "execute-dir: project" in said
    assert at_root("FileNotFoundError", "[Errno 2] No such file or directory: 'nope.csv'",
                   tmp_path / "ch") == ""
    assert at_root("FileNotFoundError", "[Errno 2] No such file or directory: 'data/runs.csv'",
                   tmp_path) == ""  # at the root already: nothing to advise
