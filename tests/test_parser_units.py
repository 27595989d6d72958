"""The .qmd parser: where each cell, fence and inline reference is, and every located problem.

Fast (no kernel): `make mutants` runs this file against every mutant of bookbuild/source/qmd.py.
"""

from __future__ import annotations

import pytest

from bookbuild.source.qmd import LineIndex, parse


def problems(text: str) -> list[str]:
    return [f"{d.line}:{d.col} {d.code}" for d in parse(text, "t.qmd").problems]


def refs(text: str) -> list[tuple]:
    return [(r.line, r.col, r.expr, r.expr_line, r.expr_col) for r in parse(text, "t.qmd").refs]


# --- front matter -----------------------------------------------------------------------------
def test_front_matter_is_read_and_prose_starts_after_it() -> None:
    text = "---\ntitle: T\nn: 3\n---\nBody `{python} x`\n"
    doc = parse(text)
    assert doc.front_matter == {"title": "T", "n": 3}
    assert text[doc.body_start:] == "Body `{python} x`\n"
    assert refs(text) == [(5, 6, "x", 5, 16)]


def test_front_matter_may_close_with_dots_and_be_empty() -> None:
    assert parse("---\na: 1\n...\ntext\n").front_matter == {"a": 1}
    doc = parse("---\n---\ntext\n")
    assert (doc.front_matter, doc.text[doc.body_start:]) == ({}, "text\n")


def test_no_front_matter_without_a_leading_rule_or_a_closing_one() -> None:
    assert parse("title: T\n---\n").front_matter == {}
    assert parse("--- \nnot closed\n").body_start == 0
    assert parse("---\n- a list\n---\n").front_matter == {}  # not a mapping: ignored


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["crlf", "bom-crlf"])
def test_a_chapter_saved_with_crlf_or_a_bom_reads_like_one_with_lf(tmp_path, bom: bytes) -> None:
    from bookbuild.source.qmd import parse_file

    lf = ('---\ntitle: "T"\necho: false\n---\n\n```{python}\n#| label: c\nx = 41\n```\n\n'
          "A `{python} x` and\n\n`{python} nope(`\n")
    (tmp_path / "t.qmd").write_bytes(bom + lf.replace("\n", "\r\n").encode())
    doc = parse_file(tmp_path / "t.qmd", tmp_path)
    assert doc.front_matter == {"title": "T", "echo": False}
    assert "\r" not in doc.text and not doc.text.startswith("\ufeff")  # nothing left for pandoc
    assert doc.text[doc.body_start:].startswith("\n```{python}")
    assert [(c.line, c.options, c.source) for c in doc.cells] == [(6, {"label": "c"},
                                                                   "#| label: c\nx = 41\n")]
    assert [(r.line, r.col, r.expr, r.expr_line, r.expr_col) for r in doc.refs] == [
        (11, 3, "x", 11, 13), (13, 1, "nope(", 13, 11)]
    assert doc.source_line(str(tmp_path / "t.qmd"), 13) == "`{python} nope(`"


def test_invalid_front_matter_yaml_is_qmd002_on_the_line_of_the_error() -> None:
    text = "---\ntitle: ok\nsubtitle: ok\nbad: [unclosed\n---\n# Heading\n"
    [d] = parse(text, "t.qmd").problems
    assert (d.code, d.line) == ("QMD002", 5)  # PyYAML sees the missing `]` where the block ends
    text = "---\ntitle: ok\na: b: c\nd: 1\n---\n"
    [d] = parse(text, "t.qmd").problems
    assert (d.code, d.line, d.col) == ("QMD002", 3, 5)
    assert d.message.startswith("invalid YAML front matter: ")


def test_invalid_cell_options_are_qmd002_on_their_line() -> None:
    text = "intro\n\n```{python}\n#| label: ok\n#| a: b: c\n#| d: 1\nx = 1\n```\n"
    [d] = parse(text, "t.qmd").problems
    assert (d.code, d.line, d.col) == ("QMD002", 5, 1)
    assert d.message.startswith("invalid cell options in cell #1: ")


# --- fences and cells ---------------------------------------------------------------------------
def test_cells_keep_their_line_options_label_and_source() -> None:
    text = ("# T\n\n```{python}\n#| label: first\n#| echo: false\nx = 1\n```\n\n"
            "```{ python }\ny = 2\n```\n")
    doc = parse(text)
    a, b = doc.cells
    assert (a.index, a.line, a.first_line, a.label, a.options) == (
        0, 3, 4, "first", {"label": "first", "echo": False})
    assert a.source == "#| label: first\n#| echo: false\nx = 1\n"
    assert text[a.start:a.end] == "```{python}\n#| label: first\n#| echo: false\nx = 1\n```"
    assert (b.index, b.line, b.label, b.options, b.describe()) == (1, 9, None, {}, "cell #2")
    assert a.describe() == "cell 'first'"


def test_options_stop_at_the_first_code_line() -> None:
    doc = parse("```{python}\n#| a: 1\nx = 1\n#| b: 2\n```\n")
    assert doc.cells[0].options == {"a": 1}
    assert parse("```{python}\n#| just text\n```\n").cells[0].options == {}


def test_other_fences_are_not_cells_and_hide_their_backticks() -> None:
    text = ("````markdown\n```{python}\nx = 1\n```\n`{python} hidden`\n````\n\n"
            "~~~{.tikz}\n\\draw `{python} no`;\n~~~\n\nafter `{python} yes`\n")
    doc = parse(text)
    assert doc.cells == ()
    assert [(f.line, f.info) for f in doc.fences] == [(1, "markdown"), (8, "{.tikz}")]
    assert doc.fences[1].body == "\\draw `{python} no`;\n"
    assert refs(text) == [(12, 7, "yes", 12, 17)]


def test_an_indented_fence_strips_its_indent_from_the_body() -> None:
    doc = parse("- item\n\n   ```{python}\n   x = 1\n    y = 2\n   ```\n")
    assert doc.cells[0].source == "x = 1\n y = 2\n"


def test_a_longer_closing_fence_closes_and_a_shorter_one_does_not() -> None:
    doc = parse("````{python}\nx = 1\n```\ny = 2\n`````\n\n`{python} y`\n")
    assert doc.cells[0].source == "x = 1\n```\ny = 2\n"
    assert refs("````{python}\nx = 1\n```\ny = 2\n`````\n\n`{python} y`\n") == [(7, 1, "y", 7, 11)]


def test_an_unclosed_fence_is_qmd003_at_its_opening() -> None:
    assert problems("text\n\n  ```{python}\nx = 1\n") == ["3:3 QMD003"]
    assert parse("text\n\n```{python}\nx = 1\n").cells[0].source == "x = 1\n"


# --- inline references ------------------------------------------------------------------------
def test_inline_reference_positions_are_those_of_the_qmd() -> None:
    text = "a\nThe value `{python}  A.b ` and ``{python} C.d``.\n"
    assert refs(text) == [(2, 11, "A.b", 2, 22), (2, 32, "C.d", 2, 43)]
    r = parse(text).refs[0]
    assert text[r.start:r.end] == "`{python}  A.b `"


def test_a_reference_may_break_across_lines_within_a_paragraph() -> None:
    text = "x `{python}\nA.b` y\n"
    assert refs(text) == [(1, 3, "A.b", 2, 1)]


def test_an_escaped_backtick_does_not_open_an_inline_reference() -> None:
    text = "Write \\`{python} x\\` to quote one; `{python} y` is live.\n"
    assert [r.expr for r in parse(text).refs] == ["y"]
    assert problems(text) == []


def test_plain_code_spans_are_not_references() -> None:
    assert refs("`code` and `python x` and ``{r} y``\n") == []
    assert refs("a `` ` `` b `{python} z`\n") == [(1, 13, "z", 1, 23)]


def test_a_code_span_does_not_cross_a_blank_line() -> None:
    assert problems("`{python} x\n\nmore` text\n") == ["1:1 REF004"]
    assert problems("` {python} x\n\nmore\n") == ["1:1 REF004"]
    assert problems("`plain\n\n`\n") == []


def test_unclosed_inline_code_is_ref004_at_its_backtick() -> None:
    doc = parse("line\nsee `{python} A.b and more\n", "t.qmd")
    assert [(d.line, d.col, d.code) for d in doc.problems] == [(2, 5, "REF004")]
    assert doc.refs == ()


def test_references_that_never_render_are_ref005_where_they_are() -> None:
    text = ("---\ntitle: \"`{python} T.x`\"\n---\n\n```{python}\n#| fig-cap: \"`{python} T.y`\"\nx = 1\n"
            "```\n\n::: {#fig-a fig-cap=\"`{python} T.z`\"}\nbody `{python} T.w`\n:::\n")
    doc = parse(text, "t.qmd")
    assert [(d.line, d.col, d.code) for d in doc.problems] == [
        (2, 9, "REF005"), (6, 14, "REF005"), (10, 22, "REF005")]
    assert "cell option 'fig-cap'" in doc.problems[1].message
    assert "YAML front matter" in doc.problems[0].message
    assert "div attribute" in doc.problems[2].message
    assert [r.expr for r in doc.refs] == ["T.w"]


def test_line_index_maps_offsets_to_lines_and_columns() -> None:
    index = LineIndex("ab\ncd\n\ne")
    assert [index.position(i) for i in (0, 1, 2, 3, 6, 7)] == [
        (1, 1), (1, 2), (1, 3), (2, 1), (3, 1), (4, 1)]


def test_a_backslash_escapes_only_when_it_is_not_itself_escaped() -> None:
    assert refs("\\`{python} x` at the very start\n") == []
    assert [r[2] for r in refs("two \\\\`{python} y` backslashes\n")] == ["y"]
    assert refs("three \\\\\\`{python} z` backslashes\n") == []


def test_includes_bring_their_references_with_the_place_they_were_written(tmp_path) -> None:
    from bookbuild.source.qmd import parse_file

    (tmp_path / "_part.qmd").write_text("Part line one.\n\nValue `{python} P.x` here.\n")
    (tmp_path / "ch.qmd").write_text(
        "# Ch\n\n{{< include _part.qmd >}}\n\n```\n{{< include _part.qmd >}}\n```\n\n"
        "<!-- {{< include _part.qmd >}} -->\n\nAfter `{python} Q.y`.\n\n{{< include _missing.qmd >}}\n")
    doc = parse_file(tmp_path / "ch.qmd")
    part, ch = str(tmp_path / "_part.qmd"), str(tmp_path / "ch.qmd")
    assert [(r.path, r.line, r.col, r.expr, r.included_from) for r in doc.refs] == [
        (part, 3, 7, "P.x", ((ch, 3),)), (ch, 11, 7, "Q.y", ())]  # once: not in code, not in a comment
    [problem] = doc.problems
    assert (problem.line, problem.col, problem.code) == (13, 1, "QMD005")
    assert "included file '_missing.qmd' not found" in problem.message
    assert doc.sources == (ch, part)
    assert doc.source_line(part, 3) == "Value `{python} P.x` here."
    assert doc.source_line(ch, 1) == "# Ch"
    assert doc.source_line(ch, 0) is None and doc.source_line(ch, 99) is None


# --- what mutation testing found untested ---------------------------------------------------
def test_cells_after_an_indented_code_block_or_a_comment_are_still_found() -> None:
    text = ("para\n\n    indented code `{python} no`\n\n<!-- a comment `{python} no` -->\n\n"
            "```{python}\nx = 1\n```\n\n`{python} x`\n")
    doc = parse(text)
    assert [(c.line, c.source) for c in doc.cells] == [(7, "x = 1\n")]
    assert refs(text) == [(11, 1, "x", 11, 11)]


def test_a_closing_fence_longer_than_the_opening_one_is_no_problem() -> None:
    assert problems("````{python}\nx = 1\n``````\n\n~~~\ncode\n~~~~\n") == []
    doc = parse("````{python}\nx = 1\n``````\n")
    assert doc.text[doc.cells[0].start:doc.cells[0].end] == "````{python}\nx = 1\n``````"


def test_a_backslash_before_a_backtick_makes_it_literal_and_the_next_one_opens() -> None:
    assert refs("\\``{python} y`\n") == [(1, 3, "y", 1, 13)]
    # A backslash at the very end of the text is not one before the first backtick.
    assert refs("\\`{python} x` ends with \\") == []


def test_a_space_before_the_engine_is_allowed_and_positions_stay_exact() -> None:
    text = "a ` {python} x` b\n"
    [r] = parse(text).refs
    assert (r.expr, r.col, r.expr_col) == ("x", 3, 14)
    assert text[r.expr_col - 1] == "x"


def test_documents_are_immutable() -> None:
    # One parse per source is shared by every stage (check, execute, cache, preview): none
    # may change it under the others.
    import dataclasses

    doc = parse("---\nt: 1\n---\n`{python} x`\n\n```{python}\ny = 1\n```\n\n```\nz\n```\n",
                "t.qmd")
    for part in (doc, doc.refs[0], doc.cells[0], doc.fences[0]):
        with pytest.raises(dataclasses.FrozenInstanceError):
            part.path = "changed"  # type: ignore[misc]


def test_yaml_errors_without_a_position_name_the_problem(tmp_path) -> None:
    # PyYAML's reader errors (a control character) carry no problem mark and no `problem`.
    [d] = parse("---\na: 1\nb: \x07\n---\nx\n", "t.qmd").problems
    assert d.code == "QMD002"
    assert d.message == ("invalid YAML front matter: unacceptable character #x0007: control "
                         "characters are not allowed")
    assert (d.line, d.col) == (3, 4)  # the character's own place, from the reader's position
    [d] = parse("```{python}\n#| echo: false\n#| label: \x07\nx = 1\n```\n", "t.qmd").problems
    assert (d.code, d.line) == ("QMD002", 3)


def test_a_control_character_in_the_project_configuration_is_located(tmp_path) -> None:
    from bookbuild.source.project import load
    from bookbuild.system.errors import UsageError

    (tmp_path / "_quarto.yml").write_text("project:\n  type: book\nbook:\n  title: \"A\x07\"\n")
    with pytest.raises(UsageError) as err:
        load(tmp_path)
    assert "_quarto.yml:4" in str(err.value) and "unacceptable character" in str(err.value)


@pytest.mark.parametrize(("text", "live"), [
    ("p <!-- `{python} y` --> `{python} z`", ["z"]),
    ("p <!-- x -->`{python} y`", ["y"]),  # right after the comment closes
    ("p <!-- a --><!-- `{python} y` --> `{python} z`", ["z"]),  # two comments side by side
    ("p <!-- a --> b <!-- `{python} h` --> `{python} v`", ["v"]),
    ("p <!----> `{python} e`", ["e"]),  # an empty comment
    ("p <!---> `{python} x` --> `{python} w`", ["w"]),  # `<!--->` does not close (pandoc)
    ("a <!-- never closed `{python} a`", ["a"]),  # plain text, as in CommonMark
    ("`{python} s` <!-- `{python} h` -->", ["s"]),
    ("p <!-- `{python} h`\nstill the comment --> `{python} k`", ["k"]),
    ("p --><!-- `{python} h` --> `{python} v`", ["v"]),  # a stray `-->` before the comment
    ("p <!----> `{python} h` -->", ["h"]),  # the empty comment ends at once
    ("p <!-- a <!--> `{python} h` -->", ["h"]),  # the comment ends at the first `-->`
    ("p <!-- `a` -->`{python} y`", ["y"]),  # the first character after the comment counts
    ("p <!-- x `-->`{python} y`", ["y"]),  # a backtick just before `-->` is inside
])
def test_inline_comments_hide_the_references_inside_them(text: str, live: list[str]) -> None:
    assert [r.expr for r in parse(text).refs] == live
    assert problems(text) == []


@pytest.mark.parametrize(("data", "where"), [
    (b"ab\xff\n", "1:3"), (b"ok\nna\xefve\n", "2:3"), (b"\nab\xff", "2:3"), (b"\n\n\xff", "3:1"),
    (b"\xef\xbb\xbfab\xff\r\n", "1:3"),  # a BOM is no column
])
def test_bytes_that_are_not_utf8_are_qmd004_at_their_line_and_column(tmp_path, data, where) -> None:
    from bookbuild.source.qmd import parse_file

    (tmp_path / "t.qmd").write_bytes(data)
    [d] = parse_file(tmp_path / "t.qmd", tmp_path).problems
    assert (f"{d.line}:{d.col}", d.code) == (where, "QMD004")


def test_a_chapter_may_open_with_an_inline_reference() -> None:
    assert refs("`{python} x` first\n") == [(1, 1, "x", 1, 11)]
    assert problems("`{python} x` first\n") == []


def test_text_may_end_in_code_a_comment_or_a_backtick_without_a_final_newline() -> None:
    assert problems("para\n\n    code `{python} x`") == []
    assert problems("para\n\n<!-- c `{python} x` -->") == []
    assert problems("a `") == [] and refs("a ``") == []
    assert problems("```{python}\nx = 1") == ["1:1 QMD003"]


def test_a_fence_alone_or_empty_is_judged_by_its_own_lines() -> None:
    assert problems("text\n\n```\n") == ["3:1 QMD003"]  # an opening fence at the very end
    assert problems("```\n```\n\n~~~~\n~~~~\n") == []  # an empty block is closed


def test_a_fence_cut_short_by_its_blockquote_hides_only_its_own_lines() -> None:
    text = "> ```\n> code `{python} no`\n`{python} x` after\n"
    assert refs(text) == [(3, 1, "x", 3, 11)]
    assert problems(text) == ["1:1 QMD003"]


def test_raw_html_blocks_other_than_comments_keep_live_references() -> None:
    assert [r.expr for r in parse("<div class=\"a\">\n`{python} x`\n</div>\n").refs] == ["x"]


def test_yaml_problems_name_what_they_were_inside() -> None:
    [d] = parse("---\n{a: [1}\n---\n", "t.qmd").problems
    assert d.message == ("invalid YAML front matter: did not find expected ',' or ']' "
                         "(while parsing a flow sequence)")


def test_references_in_any_option_line_are_ref005_at_their_column() -> None:
    text = ("- item\n\n   ```{python}\n   #| label: a\n   #|fig-cap: \"`{python} T.y`\"\n"
            "   x = 1\n   #| fig-alt: \"`{python} T.z`\"\n   ```\n")
    doc = parse(text, "t.qmd")
    assert [(d.line, d.col, d.code) for d in doc.problems] == [(5, 16, "REF005")]
    assert "cell option 'fig-cap'" in doc.problems[0].message  # after code: a plain comment


def test_a_div_attribute_on_a_line_after_a_blank_first_line_is_ref005() -> None:
    text = "\n::: {#fig-a fig-cap=\"`{python} T.z`\"}\nx\n:::\n"
    assert problems(text) == ["2:22 REF005"]


def test_a_form_feed_or_line_separator_in_prose_does_not_unclose_a_fence() -> None:
    for sep in ("\x0c", "\u2028"):
        assert problems(f"a{sep}b\n\n```{{python}}\nx = 1\n```\n") == [], repr(sep)


def test_cell_option_errors_without_a_position_point_into_the_options() -> None:
    text = "intro\n\n```{python}\n#| a: 1\n#| b: 2\n#| c: \x07\nx = 1\n```\n"
    [d] = parse(text, "t.qmd").problems
    assert d.message == ("invalid cell options in cell #1: unacceptable character #x0007: "
                         "control characters are not allowed")
    # The first option line today; the character's own line (6) once that is fixed.
    assert (d.line, d.col) in {(4, 1), (6, 1)}


def test_an_html_comment_block_never_closed_runs_to_the_end() -> None:
    # CommonMark: a block that opens with `<!--` ends at `-->` or at the end of the document.
    assert refs("<!-- never closed\n\n`{python} x`\n") == []


# --- cell options of the wrong type -------------------------------------------------------------
@pytest.mark.parametrize(("line", "expected"), [
    ("eval: no way", "'eval' in cell 'c' must be true or false, not 'no way'"),
    ("echo: flase", "'echo' in cell 'c' must be true, false or fenced, not 'flase'"),
    ("output: hidden", "'output' in cell 'c' must be true, false or asis, not 'hidden'"),
    ("include: 0", "'include' in cell 'c' must be true or false, not 0"),
    ("warning: [1]", "'warning' in cell 'c' must be true or false, not [1]"),
    ("code-fold: open", "'code-fold' in cell 'c' must be true, false or show, not 'open'"),
    ("code-overflow: hide", "'code-overflow' in cell 'c' must be scroll or wrap, not 'hide'"),
])
def test_a_cell_option_of_the_wrong_type_is_located_at_its_line(line: str, expected: str) -> None:
    doc = parse(f"# T\n\n```{{python}}\n#| label: c\n#| {line}\nx = 1\n```\n", "t.qmd")
    assert [(d.line, d.col, d.code) for d in doc.problems] == [(5, 4, "QMD006")]
    assert expected in doc.problems[0].message


def test_cell_options_of_quartos_types_pass() -> None:
    text = ("```{python}\n#| eval: false\n#| echo: fenced\n#| output: asis\n#| include: true\n"
            "#| code-fold: show\n#| code-overflow: wrap\n#| code-summary: Show it\n"
            "#| my-own-option: anything\nx = 1\n```\n\n```{python}\n#| echo: no\nx = 2\n```\n")
    assert problems(text) == []  # `no` is YAML's false, as Quarto reads it
