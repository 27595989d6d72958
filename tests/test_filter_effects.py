"""A user filter that acts outside the document runs on every render, as under Quarto (which has
no page cache): pages using it never come from the page cache, and the build says so once.

The fixture book (tests/fixtures/filterlog/): logged.qmd lists `log.lua`, which requires
`logkit/writer.lua`, which appends a line to render.log each time the page is rendered.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bookbuild.publish.userfilters import side_effects
from tests.conftest import FIXTURES, run_cli

NOTE = "logkit/writer.lua:5: writes files; pages using log.lua are not cached"


def test_a_filter_that_appends_to_a_file_runs_on_every_render(tmp_path: Path) -> None:
    root = tmp_path / "book"
    shutil.copytree(FIXTURES / "filterlog", root)
    for renders in (1, 2):
        r = run_cli("render", "--to", "html", cwd=root)
        assert r.returncode == 0, r.stderr
        assert (root / "render.log").read_text().splitlines() == ["rendered a page"] * renders
        assert r.stderr.count(NOTE) == 1, r.stderr
    # the page without the author's filter still comes from the page cache
    assert "html: index.qmd -> index.html (page cache" in r.stderr, r.stderr
    assert "pandoc rendered 1 page(s), 1 from the page cache" in r.stderr, r.stderr
    assert "Every render of this page adds a line" in (root / "_book" / "logged.html").read_text()


# --- what counts as an effect, read from the filter's source ----------------------------------


def effects_of(tmp_path: Path, lua: str) -> list[tuple[int, str]]:
    path = tmp_path / "f.lua"
    path.write_text(lua)
    return [(e.line, e.what) for e in side_effects([path])]


@pytest.mark.parametrize(("line", "what"), [
    ('local f = io.open("out.txt", "w")', "writes files"),
    ("local f = io.open(name, 'a+')", "writes files"),
    ('local f = io.open(name, "r+")', "writes files"),
    ("local f = io.open(name, mode)", "writes files"),  # a mode we cannot read: assume writes
    ('io.output("copy.txt")', "writes files"),
    ("os.execute('make figures')", "runs programs"),
    ("local p = io.popen('date')", "runs programs"),
    ('local out = pandoc.pipe("sed", {"s/a/b/"}, text)', "runs programs"),
    ("os.remove(old)", "changes files"),
    ("os.rename(a, b)", "changes files"),
    ('pandoc.system.make_directory("figs", true)', "changes files"),
    ("pandoc.mediabag.write('media')", "writes files"),
])
def test_each_kind_of_effect_is_found_on_its_line(tmp_path: Path, line: str, what: str) -> None:
    assert effects_of(tmp_path, f"-- a filter\nlocal x = 1\n{line}\n") == [(3, what)]


def test_reading_and_mere_mentions_are_not_effects(tmp_path: Path) -> None:
    lua = ('-- os.execute("rm -rf") would be one, in a comment it is not\n'
           '--[[ io.open("x", "w") ]]\n'
           'local help = "call os.remove yourself"\n'
           'local long = [[\nio.popen("ls")\n]]\n'
           'local f = io.open("data.csv")\n'
           'local g = io.open("data.bin", "rb")\n'
           "function Str(s) return s end\n")
    assert effects_of(tmp_path, lua) == []


def test_the_note_names_the_filter_and_line_and_a_program_filter_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "filters").mkdir()
    log = tmp_path / "filters" / "log.lua"
    log.write_text("-- log\n" * 11 + 'local f = io.open("log.txt", "a")\n')
    program = tmp_path / "filters" / "count.py"
    program.write_text("print('a JSON filter')\n")
    shown = [e.note(lambda p: Path(p).relative_to(tmp_path).as_posix())
             for e in side_effects([log, program])]
    assert shown == ["filters/log.lua:12: writes files; pages using it are not cached",
                     "filters/count.py:1: is a program bookbuild cannot read; pages using it "
                     "are not cached"]
