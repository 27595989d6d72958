"""`bookbuild check`: every problem class, located exactly, all reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bookbuild.analysis.refs import check_document
from bookbuild.source.qmd import parse
from tests.conftest import copy_fixture

BROKEN_EXPECTED = [
    "broken.qmd:2:15: inline reference in the YAML front matter is never evaluated; compute the text in a cell instead [REF005]",
    "broken.qmd:5:22: 'Numbers' is used before its definition (line 10) [REF002]",
    "broken.qmd:9:22: inline reference in cell option 'fig-cap' is never evaluated; compute the text in a cell instead [REF005]",
    "broken.qmd:15:38: unresolved reference 'Numbers.dram_vs_compte' (did you mean 'dram_vs_compute'?) [REF001]",
    "broken.qmd:16:25: unresolved reference 'Nmbers' (did you mean 'Numbers'?) [REF001]",
    "broken.qmd:16:54: unresolved reference 'undefined_thing' [REF001]",
    "broken.qmd:17:19: syntax error in inline expression 'Numbers.ridge +': invalid syntax [REF003]",
    "broken.qmd:18:8: empty inline expression [REF003]",
    "broken.qmd:20:30: inline reference in a div attribute (such as fig-cap) is never evaluated; compute the text in a cell instead [REF005]",
    "broken.qmd:24:1: cannot find module 'no_such_module_here' to read the names of 'from no_such_module_here import *' [REF006]",
    "broken.qmd:27:10: unclosed inline code: `{python} ... has no closing backtick [REF004]",
]


def test_every_problem_is_reported_at_once_with_its_position(cli, workdir: Path) -> None:
    copy_fixture("broken.qmd", workdir)
    r = cli("check", "broken.qmd", cwd=workdir)
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert lines[:-1] == BROKEN_EXPECTED
    assert lines[-1] == "11 errors in 1 file (6 inline references checked)"


def test_a_clean_chapter_exits_zero(cli, workdir: Path) -> None:
    copy_fixture("good.qmd", workdir)
    r = cli("check", "good.qmd", cwd=workdir)
    assert r.stdout.strip() == "ok: 14 inline references resolve in 1 file"
    assert r.returncode == 0


def test_missing_file_is_a_clear_error(cli, workdir: Path) -> None:
    r = cli("check", "nowhere.qmd", cwd=workdir)
    assert r.returncode == 2
    assert "no such file: nowhere.qmd" in r.stderr


@pytest.mark.parametrize("command", ["check", "render"])
def test_a_file_that_is_no_chapter_is_refused(cli, workdir: Path, command: str) -> None:
    # `render _quarto.yml` made a page of the config
    (workdir / "_quarto.yml").write_text("project:\n  type: book\n")
    r = cli(command, "_quarto.yml", cwd=workdir)
    assert r.returncode == 2
    assert "bookbuild: _quarto.yml is not a .qmd chapter" in r.stderr
    assert not (workdir / "_book").exists()


def test_check_runs_nothing(workdir: Path) -> None:
    """A cell that would write a file if executed leaves no trace after check."""
    marker = workdir / "ran.txt"
    text = f"```{{python}}\nopen({str(marker)!r}, 'w').write('x')\nv = 1\n```\n\n`{{python}} v`\n"
    result = check_document(parse(text, str(workdir / "x.qmd")))
    assert result.diagnostics == []
    assert not marker.exists()


def _messages(text: str) -> list[str]:
    doc = parse(text, "t.qmd")
    return [f"{d.line}:{d.col} {d.code} {d.message}" for d in check_document(doc).diagnostics]


def test_unknown_class_attribute_points_at_the_attribute() -> None:
    text = "```{python}\nclass K:\n    alpha = 1\n```\n\nx `{python} K.alpah + 1` y\n"
    assert _messages(text) == ["6:15 REF001 unresolved reference 'K.alpah' (did you mean 'alpha'?)"]


def test_attribute_of_a_class_with_unknown_bases_is_not_guessed() -> None:
    text = "```{python}\nimport enum\nclass K(enum.Enum):\n    A = 1\n```\n\n`{python} K.anything`\n"
    assert _messages(text) == []


def test_attributes_of_values_are_not_guessed() -> None:
    text = "```{python}\nx = 'abc'\n```\n\n`{python} x.upper()`\n"
    assert _messages(text) == []


def test_names_in_functions_do_not_leak_into_the_module() -> None:
    text = "```{python}\ndef f():\n    inner = 1\n    return inner\n```\n\n`{python} inner`\n"
    assert _messages(text) == ["7:11 REF001 unresolved reference 'inner'"]


def test_global_statement_binds_at_module_level() -> None:
    text = "```{python}\ndef f():\n    global g\n    g = 1\nf()\n```\n\n`{python} g`\n"
    assert _messages(text) == []


def test_syntax_error_in_a_cell_is_located() -> None:
    text = "intro\n\n```{python}\nx = 1\ny = (\n```\n"
    assert _messages(text)[0].startswith("5:5 QMD001 syntax error in cell #1")


def test_star_import_follows_nested_star_imports_and_all() -> None:
    """mlsysim.core.constants re-exports the unit aliases through `from .units import *`."""
    text = ("```{python}\nfrom mlsysim.core.constants import *\n```\n\n"
            "`{python} TB` `{python} BILLION` `{python} Q_` `{python} H100_MEM_BW` `{python} _c`\n")
    msgs = _messages(text)
    assert len(msgs) == 1 and "unresolved reference '_c'" in msgs[0]


def test_upstream_appendix_checks_clean(cli, upstream: Path, workdir: Path) -> None:
    r = cli("check", str(upstream), cwd=workdir)
    assert r.returncode == 0, r.stdout + r.stderr
    first, *rest = r.stdout.strip().splitlines()
    assert first == "ok: 142 inline references resolve in 1 file"
    # alone, as `quarto render` of it says too, its references to the other chapters of its
    # book resolve nowhere: warnings, which do not fail the check
    assert rest and all(": warning: unresolved cross-reference '" in line and
                        "(not in this document)" in line for line in rest)


def test_upstream_typo_is_caught_with_a_suggestion(cli, upstream: Path, workdir: Path) -> None:
    broken = workdir / "machine.qmd"
    broken.write_text(upstream.read_text(encoding="utf-8").replace(
        "NumbersToKnow.ridge_h100`", "NumbersToKnow.ridge_h10`", 1), encoding="utf-8")
    r = cli("check", "machine.qmd", cwd=workdir)
    assert r.returncode == 1
    assert ": unresolved reference 'NumbersToKnow.ridge_h10' (did you mean 'ridge_h100'?) [REF001]" in r.stdout


def test_an_unresolved_cross_reference_is_a_warning_as_in_render(cli, tmp_path: Path) -> None:
    root = tmp_path / "b"
    root.mkdir()
    (root / "_quarto.yml").write_text("project:\n  type: book\nbook:\n  title: T\n  chapters:\n"
                                      "    - a.qmd\n    - b.qmd\n")
    (root / "a.qmd").write_text("# A {#sec-a}\n\nSee @sec-b and @tbl-nowhere.\n")
    (root / "b.qmd").write_text("# B {#sec-b}\n\nBack to @sec-a.\n")
    r = cli("check", cwd=root)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines()[-1] == (
        "a.qmd:3: warning: unresolved cross-reference 'tbl-nowhere' (not in this book; map it "
        "under bookbuild.external-refs in _quarto.yml)")
    assert "sec-b" not in r.stdout  # a label in another chapter resolves
    r = cli("check", "b.qmd", cwd=root)
    assert "warning" not in r.stdout  # only the files checked are reported on


def test_a_cell_indented_as_a_whole_is_read_as_ipython_runs_it(cli, workdir: Path) -> None:
    """IPython takes the first line's indent off every line (so Quarto runs such a cell); the
    check must read it the same way, and see what it assigns."""
    (workdir / "doc.qmd").write_text("---\ntitle: Indented\n---\n\n```{python}\n  x = 41\n"
                                     "  y = x + 1\n```\n\nThe answer is `{python} y`.\n")
    r = cli("check", "doc.qmd", cwd=workdir)
    assert r.returncode == 0, r.stdout + r.stderr
    (workdir / "doc.qmd").write_text("---\ntitle: Indented\n---\n\n```{python}\n  x = 41\n"
                                     "```\n\nThe answer is `{python} y`.\n")
    r = cli("check", "doc.qmd", cwd=workdir)
    assert r.returncode == 1 and "doc.qmd:9:25: unresolved reference 'y'" in r.stdout  # y is not
