"""Includes and Markdown semantics as a user meets them: `bookbuild check` and
`render --to md` on small projects, asserting the located lines and the rendered text."""

from __future__ import annotations

from pathlib import Path

from tests.test_render_md import _project

CELL = "```{python}\n#| label: part\nclass Part:\n    value = 7\n```\n"


def test_markdown_code_comments_and_raw_blocks_are_not_evaluated(cli, tmp_path: Path) -> None:
    chapter = (
        "# Semantics\n\n"
        "```{python}\nclass X:\n    y = 5\n```\n\n"
        "Live `{python} X.y`.\n\n"
        "<!--\nA commented-out draft: `{python} Gone.value`\n-->\n\n"
        "Inline <!-- hidden `{python} Gone.inline` --> comment and `{python} X.y * 2`.\n\n"
        "    indented `{python} Gone.indented`\n\n"
        "```\nfenced `{python} Gone.fenced`\n```\n\n"
        "Double ``` `` `{python} Gone.ticks` `` ``` backticks.\n\n"
        "```{=html}\n<b>`{python} Gone.raw`</b>\n```\n"
    )
    root = _project(tmp_path / "b", {"ch.qmd": chapter})
    check = cli("check", cwd=root)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "ok: 2 inline references resolve" in check.stdout
    r = cli("render", "--to", "md", cwd=root)
    assert r.returncode == 0, r.stderr
    md = (root / "_book" / "ch.md").read_text()
    assert "Live 5." in md and "comment and 10." in md
    for gone in ("value", "inline", "indented", "fenced", "ticks", "raw"):
        assert f"`{{python}} Gone.{gone}`" in md  # left exactly as written


def test_includes_relative_absolute_quoted_and_nested(cli, tmp_path: Path) -> None:
    root = _project(tmp_path / "b", {
        "chapters/ch.qmd": "# Ch\n\n{{< include _cells.qmd >}}\n\nChapter sees `{python} Part.value`.\n\n"
                           "{{< include \"/shared parts/tail.qmd\" >}}\n"})
    (root / "chapters" / "_cells.qmd").write_text(CELL + "\nFrom the include: `{python} Part.value + 1`.\n"
                                                  "\n{{< include sub/_deeper.qmd >}}\n")
    (root / "chapters" / "sub").mkdir()
    (root / "chapters" / "sub" / "_deeper.qmd").write_text("Deeper: `{python} Part.value + 2`.\n")
    (root / "shared parts").mkdir()
    (root / "shared parts" / "tail.qmd").write_text("Tail: `{python} Part.value + 3`.\n")
    assert cli("check", cwd=root).returncode == 0
    r = cli("render", "--to", "md", cwd=root)
    assert r.returncode == 0, r.stderr
    md = (root / "_book" / "chapters" / "ch.md").read_text()
    for line in ("From the include: 8.", "Deeper: 9.", "Chapter sees 7.", "Tail: 10."):
        assert line in md
    assert "{{<" not in md


def test_a_broken_reference_in_an_include_names_the_included_file(cli, tmp_path: Path) -> None:
    root = _project(tmp_path / "b", {"ch.qmd": "# Ch\n\nIntro.\n\n{{< include _part.qmd >}}\n"})
    (root / "_part.qmd").write_text(CELL + "\nWrong: `{python} Part.valeu`.\n")
    r = cli("check", cwd=root)
    assert r.returncode == 1
    assert ("_part.qmd:7:23: unresolved reference 'Part.valeu' (did you mean 'value'?) "
            "(included from ch.qmd:5) [REF001]") in r.stdout


def test_include_cycles_and_missing_files_are_located(cli, tmp_path: Path) -> None:
    root = _project(tmp_path / "b", {"ch.qmd": "# Ch\n\n{{< include _a.qmd >}}\n\n{{< include _nope.qmd >}}\n"})
    (root / "_a.qmd").write_text("A\n\n{{< include _b.qmd >}}\n")
    (root / "_b.qmd").write_text("B\n{{< include _a.qmd >}}\n")
    r = cli("check", cwd=root)
    assert r.returncode == 1
    assert ("_b.qmd:2:1: include cycle: _a.qmd -> _b.qmd -> _a.qmd; remove one of the includes "
            "(included from _a.qmd:3, included from ch.qmd:3) [QMD005]") in r.stdout
    assert "ch.qmd:5:1: included file '_nope.qmd' not found" in r.stdout
    r = cli("render", "--to", "md", cwd=root)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert not (root / "_book").exists()


def test_cell_and_inline_errors_in_an_include_are_located_there(cli, tmp_path: Path) -> None:
    root = _project(tmp_path / "b", {"ch.qmd": "# Ch\n\n{{< include _part.qmd >}}\n"})
    (root / "_part.qmd").write_text("```{python}\n#| label: bad\nx = 1\ny = x / 0\n```\n")
    r = cli("render", "--to", "md", cwd=root)
    assert r.returncode == 1
    assert ("_part.qmd:4: ZeroDivisionError in cell 'bad': division by zero "
            "(included from ch.qmd:3)") in r.stderr
    assert "    4 | y = x / 0" in r.stderr
    (root / "_part.qmd").write_text(CELL + "\nSee `{python} Part.value / 0`.\n")
    r = cli("render", "--to", "md", cwd=root)
    assert r.returncode == 1
    assert ("_part.qmd:7:5: inline expression 'Part.value / 0' raised ZeroDivisionError: "
            "division by zero (included from ch.qmd:3)") in r.stderr


def test_included_files_invalidate_the_cache(cli, tmp_path: Path) -> None:
    root = _project(tmp_path / "b", {"ch.qmd": "# Ch\n\n{{< include _part.qmd >}}\n"})
    part = root / "_part.qmd"
    part.write_text(CELL + "\nValue `{python} Part.value`.\n")
    assert "executed 1 cells" in cli("render", "--to", "md", cwd=root).stderr
    part.write_text(CELL + "\nNow the value is `{python} Part.value`.\n")
    prose = cli("render", "--to", "md", cwd=root)
    assert "cached, no kernel started" in prose.stderr
    assert "Now the value is 7." in (root / "_book" / "ch.md").read_text()
    part.write_text(CELL.replace("7", "8") + "\nNow the value is `{python} Part.value`.\n")
    code = cli("render", "--to", "md", cwd=root)
    assert "executed 1 cells" in code.stderr
    assert "Now the value is 8." in (root / "_book" / "ch.md").read_text()


def test_a_latin1_byte_is_one_located_line(cli, tmp_path: Path) -> None:
    root = _project(tmp_path / "b", {"ch.qmd": "# Ch\n\nText.\n"})
    (root / "ch.qmd").write_bytes(b"# Ch\n\nCaf" + b"\xe9 au lait.\n")
    for args in (("check",), ("render", "--to", "md")):
        r = cli(*args, cwd=root)
        assert r.returncode == 1
        out = r.stdout + r.stderr
        assert "ch.qmd:3:4: byte 0xe9 is not UTF-8; save the file as UTF-8 [QMD004]" in out
        assert "Traceback" not in out


def test_eval_false_cells_define_nothing_for_check(cli, tmp_path: Path) -> None:
    chapter = ("# Ch\n\n```{python}\n#| eval: false\nclass Skipped:\n    value = 1\n```\n\n"
               "Value `{python} Skipped.value`.\n")
    root = _project(tmp_path / "b", {"ch.qmd": chapter})
    r = cli("check", cwd=root)
    assert r.returncode == 1
    assert "ch.qmd:9:17: unresolved reference 'Skipped'" in r.stdout
    # the same cell runs when the chapter's front matter says eval: true and the cell is silent
    (root / "ch.qmd").write_text(chapter.replace("#| eval: false\n", ""))
    assert cli("check", cwd=root).returncode == 0
    (root / "ch.qmd").write_text("---\nexecute:\n  eval: false\n---\n"
                                 + chapter.replace("#| eval: false\n", ""))
    assert cli("check", cwd=root).returncode == 1


def test_error_true_in_front_matter_keeps_the_build_going(cli, tmp_path: Path) -> None:
    chapter = "---\nexecute:\n  error: true\n---\n\n# Ch\n\n```{python}\nraise KeyError('kept')\n```\n\nAfter.\n"
    root = _project(tmp_path / "b", {"ch.qmd": chapter})
    r = cli("render", "--to", "md", cwd=root)
    assert r.returncode == 0, r.stderr
    md = (root / "_book" / "ch.md").read_text()
    assert "KeyError: 'kept'" in md and "After." in md


def test_display_phase_errors_name_the_real_exception(cli, tmp_path: Path) -> None:
    chapter = ("# Ch\n\n```{python}\nx = 1\n```\n\n```{python}\nclass Bad:\n"
               "    def _repr_html_(self):\n        raise ValueError('Display phase error!')\nBad()\n```\n")
    root = _project(tmp_path / "b", {"ch.qmd": chapter})
    r = cli("render", "--to", "md", cwd=root)
    assert r.returncode == 1
    assert "ch.qmd:10: ValueError in cell #2: Display phase error!" in r.stderr
    assert "NoneType" not in r.stderr
