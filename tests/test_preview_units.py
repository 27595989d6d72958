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
                 "filters/tikz.lua", "refs.bib", "numbers.lock"]:
        assert relevant(root / name, root, out), name
    for name in ["ch.qmd~", ".#ch.qmd", "ch.qmd.swp", "4913", "mlsysim/__pycache__/c.pyc",
                 "_book/index.html", ".venv/lib/x.py", ".git/index", "node_modules/x.js",
                 ".bookbuild/cache/k.json", "._book.lock"]:
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


def test_folders_that_hold_no_sources_are_not_watched(tmp_path: Path) -> None:
    from bookbuild.preview.watcher import skipped_dir

    venv = tmp_path / "myenv"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /usr\n")
    for name in (".venv", "node_modules", "__pycache__", ".hidden", "_book"):
        assert skipped_dir(tmp_path / name, None), name
    assert skipped_dir(venv, None)  # a virtual environment under any name
    assert skipped_dir(tmp_path / "site", tmp_path / "site")  # the output folder
    assert not skipped_dir(tmp_path / "site", tmp_path / "out")
    assert not skipped_dir(tmp_path / "chapters", None)


def test_a_skipped_folder_at_any_depth_hides_its_files(tmp_path: Path) -> None:
    assert not relevant(tmp_path / "data" / ".git" / "x.json", tmp_path, None)
    assert not relevant(tmp_path / "pkg" / "node_modules" / "m" / "x.js", tmp_path, None)
    assert relevant(tmp_path / "pkg" / "sub" / "x.py", tmp_path, None)


def test_includes_are_matched_by_name_and_a_removed_one_rebuilds_the_book(tmp_path: Path) -> None:
    (tmp_path / "_quarto.yml").write_text("project: {type: book}\n")
    (tmp_path / "chapters").mkdir()
    (tmp_path / "parts").mkdir()
    a, b = tmp_path / "chapters" / "a.qmd", tmp_path / "chapters" / "b.qmd"
    a.write_text("# A\n\n{{< include ../parts/_one.qmd >}}\n")
    b.write_text("# B\n\n{{< include parts/_two.qmd >}}\n")  # relative to the project root
    one, two = tmp_path / "parts" / "_one.qmd", tmp_path / "parts" / "_two.qmd"
    one.write_text("one\n")
    two.write_text("two\n")
    missing = tmp_path / "chapters" / "gone.qmd"  # listed, but deleted meanwhile
    chapters = [a, b, missing]
    assert plan({one}, chapters) == [a]
    assert plan({two}, chapters) == [b]
    assert plan({one, b}, chapters) == [a, b]
    one.unlink()
    assert plan({one}, chapters) is None  # a removed include: rebuild everything


def test_a_problem_printed_from_another_thread_keeps_its_own_line_in_the_overlay() -> None:
    # The static check prints from a thread while progress prints from the event loop, and
    # `print` writes text and newline in two calls: the overlay must still get the whole line.
    import io
    import threading

    from bookbuild.preview.builder import Tee

    terminal = io.StringIO()
    tee = Tee(terminal)
    progress_started = threading.Event()
    problem_written = threading.Event()

    def problem() -> None:
        progress_started.wait(5)
        tee.write("ch.qmd:3:5: unresolved reference 'x'")  # its newline comes later
        problem_written.set()
        tee.write("\n")

    worker = threading.Thread(target=problem)
    worker.start()
    tee.write("[1/2] ch.qmd: starting kernel")
    progress_started.set()
    problem_written.wait(5)
    tee.write("\n")
    worker.join(5)
    tee.write("half a line at the end")
    lines = tee.text().splitlines()
    assert "ch.qmd:3:5: unresolved reference 'x'" in lines
    assert "[1/2] ch.qmd: starting kernel" in lines
    assert lines[-1] == "half a line at the end"
    assert "starting kernelch.qmd" in terminal.getvalue()  # the terminal shows what came, as it came


def test_once_the_inputs_are_known_other_files_rebuild_nothing(tmp_path: Path) -> None:
    (tmp_path / "_quarto.yml").write_text("project: {type: book}\nbook:\n  cover-image: cover.jpg\n")
    a = tmp_path / "a.qmd"
    a.write_text("# A\n\n![A photo](photo.png)\n")
    data, log = tmp_path / "prices.dat", tmp_path / "preview.log"
    inputs = {a.resolve(), data.resolve()}
    assert plan({log}, [a]) is None  # nothing built yet: anything may matter
    assert plan({log}, [a], inputs) == []
    assert plan({log, a}, [a], inputs) == [a]
    assert plan({data}, [a], inputs) is None  # a kernel read it
    assert plan({tmp_path / "helpers.py"}, [a], inputs) is None  # a new module, say
    assert plan({tmp_path / "photo.png"}, [a], inputs) is None  # the chapter names it
    assert plan({tmp_path / "cover.jpg"}, [a], inputs) is None  # the config names it
