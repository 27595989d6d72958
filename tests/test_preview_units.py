"""Preview's pure decisions: which URL paths are served, which edits matter, what they rebuild.

Fast (no server, no build): `make mutants` runs this file against every mutant of the preview's
path guard (bookbuild/preview/server.py) and watcher (bookbuild/preview/watcher.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bookbuild.preview.server import inside
from bookbuild.preview.watcher import plan, relevant


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A preview folder with a page, a sub folder, and secrets beside it."""
    root = tmp_path / "preview"
    (root / "sub").mkdir(parents=True)
    (root / "index.html").write_text("page")
    (root / "sub" / "a.html").write_text("a")
    (tmp_path / "secret.txt").write_text("secret")
    (tmp_path / "preview-other").mkdir()
    return root


def test_files_inside_the_folder_are_served(site: Path) -> None:
    assert inside(site, "/index.html") == site.resolve() / "index.html"
    assert inside(site, "/sub/./a.html") == site.resolve() / "sub" / "a.html"
    assert inside(site, "//sub//a.html") == site.resolve() / "sub" / "a.html"
    assert inside(site, "/") == site.resolve()
    assert inside(site, "") == site.resolve()
    assert inside(site, "/missing.html") == site.resolve() / "missing.html"  # a 404 page, inside


@pytest.mark.parametrize("path", ["/../secret.txt", "/sub/../../secret.txt", "/..",
                                  "/sub/..", "/..\\secret.txt", "/index.html\x00.png",
                                  "/../preview-other/x"])
def test_paths_that_climb_out_or_smuggle_are_refused(site: Path, path: str) -> None:
    assert inside(site, path) is None


def test_a_symlink_out_of_the_folder_is_refused_and_one_inside_is_served(site: Path) -> None:
    os.symlink(site.parent / "secret.txt", site / "leak.txt")
    os.symlink(site.parent, site / "up")
    os.symlink(site / "sub" / "a.html", site / "alias.html")
    assert inside(site, "/leak.txt") is None
    assert inside(site, "/up/secret.txt") is None
    assert inside(site, "/alias.html") == site.resolve() / "sub" / "a.html"


def test_a_symlink_loop_or_an_overlong_name_is_refused_not_a_crash(site: Path) -> None:
    os.symlink(site / "loop", site / "loop")
    assert inside(site, "/loop") is None
    assert inside(site, "/" + "x" * 300) is None


def test_source_and_module_edits_matter_editor_droppings_do_not(tmp_path: Path) -> None:
    root, out = tmp_path, tmp_path / "_book"
    for name in ["ch.qmd", "_quarto.yml", "mlsysim/core/constants.py", "data/probe.json",
                 "filters/tikz.lua", "refs.bib"]:
        assert relevant(root / name, root, out), name
    for name in ["ch.qmd~", ".#ch.qmd", "ch.qmd.swp", "4913", "mlsysim/__pycache__/c.pyc",
                 "_book/index.html", ".venv/lib/x.py", ".git/index", "node_modules/x.js",
                 ".bookbuild/cache/k.json"]:
        assert not relevant(root / name, root, out), name
    assert relevant(root / "custom-out" / "x.html", root, None)
    assert not relevant(root / "custom-out" / "x.html", root, root / "custom-out")


def test_a_chapter_edit_rebuilds_that_chapter_and_a_module_edit_the_book(tmp_path: Path) -> None:
    (tmp_path / "_quarto.yml").write_text("project: {type: book}\n")
    a, b = tmp_path / "a.qmd", tmp_path / "b.qmd"
    a.write_text("# A\n\n{{< include _part.qmd >}}\n")
    b.write_text("# B\n")
    part = tmp_path / "_part.qmd"
    part.write_text("shared\n")
    module = tmp_path / "mlsysim" / "constants.py"
    module.parent.mkdir()
    module.write_text("X = 1\n")
    chapters = [a, b]
    assert plan({b}, chapters) == [b]
    assert plan({b, a}, chapters) == [a, b]  # in book order
    assert plan({part}, chapters) == [a]  # the chapter that includes it
    assert plan({module}, chapters) is None  # a .py edit rebuilds the book
    assert plan({b, module}, chapters) is None
    assert plan({tmp_path / "_quarto.yml"}, chapters) is None
