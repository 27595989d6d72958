"""`{{< include >}}` in the .qmd parser: what is expanded, where each line came from, and the
located problems (missing files, cycles, bad bytes) a writer sees.

Fast (no kernel, no pandoc: small files in a tmp folder): `make mutants` runs this file
against every mutant of bookbuild/source/qmd.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bookbuild.source.qmd import parse, parse_file


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(text, encoding="utf-8")


@pytest.fixture
def book(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)  # messages show paths relative to the working directory
    return tmp_path


def located(doc) -> list[str]:
    return [d.format() for d in doc.problems]


def test_nested_includes_keep_each_reference_where_it_was_written(book: Path) -> None:
    write(book, {
        "sub/_inner.qmd": "Inner `{python} I.x` here.\n",
        "sub/_mid.qmd": "Mid one.\n\n{{< include _inner.qmd >}}\n\nMid `{python} M.y`.\n",
        "ch.qmd": "# Ch\n\n{{< include sub/_mid.qmd >}}\n\nEnd `{python} E.z`.\n",
    })
    doc = parse_file(book / "ch.qmd", book)
    ch, mid, inner = str(book / "ch.qmd"), str(book / "sub/_mid.qmd"), str(book / "sub/_inner.qmd")
    assert doc.text == ("# Ch\n\nMid one.\n\nInner `{python} I.x` here.\n\nMid `{python} M.y`.\n\n"
                        "End `{python} E.z`.\n")
    assert [(r.path, r.line, r.col, r.expr, r.expr_line, r.expr_col, r.included_from)
            for r in doc.refs] == [
        (inner, 1, 7, "I.x", 1, 17, ((mid, 3), (ch, 3))),  # innermost include first
        (mid, 5, 5, "M.y", 5, 15, ((ch, 3),)),
        (ch, 5, 5, "E.z", 5, 15, ()),
    ]
    assert doc.sources == (ch, mid, inner)  # the chapter, then each include as first met
    assert doc.problems == ()
    # Any offset of the expanded text maps back to its file, line, column and chain.
    assert doc.origin(doc.text.index("I.x")) == (inner, 1, 17, ((mid, 3), (ch, 3)))
    assert doc.origin(doc.text.index("Mid `")) == (mid, 5, 1, ((ch, 3),))
    assert doc.origin(doc.text.index("End")) == (ch, 5, 1, ())
    assert doc.source_line(inner, 1) == "Inner `{python} I.x` here."
    assert doc.source_line(str(book / "elsewhere.qmd"), 1) is None


def test_lines_after_an_include_keep_their_own_numbers(book: Path) -> None:
    write(book, {"_three.qmd": "one\ntwo\nthree\n",
                 "ch.qmd": "a\n{{< include _three.qmd >}}\nb `{python} B.b`\n\n"
                           "{{< include _three.qmd >}}\nc `{python} C.c`\n"})
    doc = parse_file(book / "ch.qmd", book)
    assert [(r.line, r.expr) for r in doc.refs] == [(3, "B.b"), (6, "C.c")]
    assert [(o.line, o.chain != ()) for o in doc.origins] == [
        (1, False), (1, True), (2, True), (3, True), (3, False), (4, False),
        (1, True), (2, True), (3, True), (6, False)]
    assert doc.sources == (str(book / "ch.qmd"), str(book / "_three.qmd"))  # listed once


def test_an_included_file_without_a_final_newline_still_ends_its_line(book: Path) -> None:
    write(book, {"_x.qmd": "last `{python} X.x`",
                 "ch.qmd": "{{< include _x.qmd >}}\nnext `{python} Y.y`\n"})
    doc = parse_file(book / "ch.qmd", book)
    assert doc.text == "last `{python} X.x`\nnext `{python} Y.y`\n"
    assert [(Path(r.path).name, r.line, r.col) for r in doc.refs] == [("_x.qmd", 1, 6),
                                                                      ("ch.qmd", 2, 6)]


def test_an_include_inside_a_line_is_spliced_into_it(book: Path) -> None:
    write(book, {"_v.qmd": "spliced `{python} V.v`\n", "_two.qmd": "first\nsecond\n",
                 "ch.qmd": "Lead {{< include _v.qmd >}} tail `{python} T.t`.\n"
                           "x {{< include _two.qmd >}} y\nz `{python} Z.z`\n"
                           "before {{< include _v.qmd >}}\n{{< include _two.qmd >}} after\n"})
    doc = parse_file(book / "ch.qmd", book)
    assert doc.text == ("Lead spliced `{python} V.v` tail `{python} T.t`.\n"
                        "x first\nsecond y\nz `{python} Z.z`\n"
                        "before spliced `{python} V.v`\nfirst\nsecond after\n")
    assert [(r.line, r.expr) for r in doc.refs] == [(1, "V.v"), (1, "T.t"), (3, "Z.z"), (4, "V.v")]
    two = str(book / "_two.qmd")
    assert doc.origins[2] == (two, 2, ((str(book / "ch.qmd"), 2),))  # "second y"


def test_shortcodes_in_code_comments_front_matter_or_escaped_are_left_as_written(book) -> None:
    write(book, {"_x.qmd": "EXPANDED\n"})
    kept = [
        "```\n{{< include _x.qmd >}}\n```\n",
        "~~~\n```\n{{< include _x.qmd >}}\n~~~\n",  # a ``` line does not close a ~~~ fence
        "````markdown\n```\n{{< include _x.qmd >}}\n````\n",  # nor a shorter run of backticks
        "  ```{.python}\n  {{< include _x.qmd >}}\n  ```\n",  # an indented fence
        "<!-- a comment\n{{< include _x.qmd >}}\n-->\n",
        "{{{< include _x.qmd >}}}\n",  # Quarto's escape for a literal shortcode
        "````\n ```\n{{< include _x.qmd >}}\n````\n",  # an indented shorter run closes nothing
        "```\n```python\n{{< include _x.qmd >}}\n```\n",  # a closing fence has no info string
        "```\n\n{{< include _x.qmd >}}\n```\n",  # a blank line inside code
        "<!-- a\nb -- c\n{{< include _x.qmd >}}\n-->\n",  # `--` alone does not close a comment
        "<!-- one line {{< include _x.qmd >}} -->\n",
        "<!-- a --> b <!-- {{< include _x.qmd >}} -->\n",
        "<!-- a\nb --> c <!-- d\n{{< include _x.qmd >}}\n-->\n",
    ]
    for body in kept:
        (book / "ch.qmd").write_text("text\n\n" + body)
        doc = parse_file(book / "ch.qmd", book)
        assert "EXPANDED" not in doc.text, body
        assert doc.sources == (str(book / "ch.qmd"),), body
    (book / "ch.qmd").write_text('---\ntitle: "{{< include _x.qmd >}}"\n---\nbody\n')
    assert "EXPANDED" not in parse_file(book / "ch.qmd", book).text


def test_shortcodes_after_a_closed_fence_or_comment_are_expanded(book: Path) -> None:
    write(book, {"_x.qmd": "EXPANDED\n"})
    expanded = [
        "```\ncode\n```\n{{< include _x.qmd >}}\n",
        "~~~~\n~~~\n~~~~~\n{{< include _x.qmd >}}\n",  # a longer closing fence closes
        "```\n```   \n{{< include _x.qmd >}}\n",  # trailing blanks after a closing fence
        "<!-- a comment -->\n{{< include _x.qmd >}}\n",
        "<!-- opened\nclosed -->\n{{< include _x.qmd >}}\n",
        "<!-- one --> {{< include _x.qmd >}}\n",
        "-- not a comment --\n{{< include _x.qmd >}}\n",
        "`code` {{< include _x.qmd >}}\n",  # a backtick that opens no fence
        "  ```\n  code\n  ```\n{{< include _x.qmd >}}\n",  # an indented fence closes too
        "<!-- opened\n-->\n{{< include _x.qmd >}}\n",
        "```\n<!-- in code, not a comment\n```\n{{< include _x.qmd >}}\n",
        "<!-- a\nb --> {{< include _x.qmd >}}\n",  # the comment closed before it on its line
        "<!-- a --> <!-- b --> {{< include _x.qmd >}}\n",
    ]
    for body in expanded:
        (book / "ch.qmd").write_text("text\n\n" + body)
        doc = parse_file(book / "ch.qmd", book)
        assert "EXPANDED" in doc.text, body
    (book / "ch.qmd").write_text("---\ntitle: T\n---\n{{< include _x.qmd >}}\n")
    assert parse_file(book / "ch.qmd", book).text == "---\ntitle: T\n---\nEXPANDED\n"


def test_a_fence_or_comment_left_open_in_a_file_hides_nothing_in_the_next(book: Path) -> None:
    # Each file is read on its own: the includer's state does not leak into the include.
    write(book, {"_x.qmd": "`{python} X.x`\n",
                 "ch.qmd": "<!--\n-->\n```\n```\n{{< include _x.qmd >}}\n"})
    assert [r.expr for r in parse_file(book / "ch.qmd", book).refs] == ["X.x"]


def test_include_paths_quoted_absolute_and_relative(book: Path) -> None:
    write(book, {"with space/_s.qmd": "SPACED\n", "_top.qmd": "TOP\n",
                 "parts/_p.qmd": "{{< include /_top.qmd >}}\n{{< include '../_top.qmd' >}}\n",
                 "ch.qmd": '{{< include "with space/_s.qmd" >}}\n{{<include parts/_p.qmd>}}\n'})
    doc = parse_file(book / "ch.qmd", book)
    assert doc.text == "SPACED\nTOP\nTOP\n"
    assert doc.problems == ()


def test_a_missing_include_is_qmd005_on_its_line_and_column(book: Path) -> None:
    write(book, {"_p.qmd": "ok\n\n  {{< include _gone.qmd >}}\n",
                 "ch.qmd": "# T\n\nsee {{< include _nope.qmd >}}\n{{< include _p.qmd >}}\n"
                           "after `{python} A.a`\n"})
    doc = parse_file(book / "ch.qmd", book)
    assert located(doc) == [
        f"_p.qmd:3:3: included file '_gone.qmd' not found (looked for {book}/_gone.qmd); fix "
        "the path (a leading / is the project root) (included from ch.qmd:4) [QMD005]",
        f"ch.qmd:3:5: included file '_nope.qmd' not found (looked for {book}/_nope.qmd); fix "
        "the path (a leading / is the project root) [QMD005]",
    ]
    # The shortcode's line is left blank: later lines keep their numbers.
    assert [(r.line, r.expr) for r in doc.refs] == [(5, "A.a")]
    assert doc.text.splitlines()[2] == "see "


def test_an_include_cycle_is_qmd005_naming_the_files(book: Path) -> None:
    write(book, {"_a.qmd": "{{< include _b.qmd >}}\n", "_b.qmd": "b text\n{{< include _a.qmd >}}\n",
                 "ch.qmd": "x\n\n{{< include _a.qmd >}}\nafter `{python} A.a`\n",
                 "self.qmd": "one\n{{< include self.qmd >}}\n"})
    doc = parse_file(book / "ch.qmd", book)
    assert located(doc) == [
        "_b.qmd:2:1: include cycle: _a.qmd -> _b.qmd -> _a.qmd; remove one of the includes "
        "(included from _a.qmd:1, included from ch.qmd:3) [QMD005]"]
    assert doc.text == "x\n\nb text\n\nafter `{python} A.a`\n"
    assert [(r.line, r.expr) for r in doc.refs] == [(4, "A.a")]
    doc = parse_file(book / "self.qmd", book)
    assert located(doc) == ["self.qmd:2:1: include cycle: self.qmd -> self.qmd; remove one of "
                            "the includes [QMD005]"]


def test_the_same_file_included_twice_side_by_side_is_not_a_cycle(book: Path) -> None:
    write(book, {"_x.qmd": "X\n", "_y.qmd": "{{< include _x.qmd >}}\n{{< include _x.qmd >}}\n",
                 "ch.qmd": "{{< include _y.qmd >}}\n{{< include _x.qmd >}}\n"})
    doc = parse_file(book / "ch.qmd", book)
    assert (doc.text, doc.problems) == ("X\nX\nX\n", ())


def test_problems_inside_an_include_are_located_there(book: Path) -> None:
    write(book, {"_open.qmd": "intro\n\n```{python}\nz = 1\n",
                 "_bad.qmd": b"ok\nbad \xff byte\n",
                 "_cell.qmd": "```{python}\n#| label: inc\nq = 2\n```\n",
                 "ch.qmd": "{{< include _cell.qmd >}}\n\n```{python}\ny = 1\n```\n\n"
                           "{{< include _bad.qmd >}}\n{{< include _open.qmd >}}\n"})
    doc = parse_file(book / "ch.qmd", book)
    assert located(doc) == [
        "_bad.qmd:2:5: byte 0xff is not UTF-8; save the file as UTF-8 (included from ch.qmd:7) "
        "[QMD004]",
        "_open.qmd:3:1: code fence ``` opened here is never closed (included from ch.qmd:8) "
        "[QMD003]"]
    cells = [(Path(c.path).name, c.line, c.index, c.label, c.included_from != ())
             for c in doc.cells]
    assert cells == [("_cell.qmd", 1, 0, "inc", True), ("ch.qmd", 3, 1, None, False),
                     ("_open.qmd", 3, 2, None, True)]
    assert doc.source_line(str(book / "_bad.qmd"), 2) == "bad \ufffd byte"


def test_a_chapter_that_is_not_utf8_is_qmd004_at_the_byte(book: Path) -> None:
    (book / "ch.qmd").write_bytes(b"# T\n\nna\xefve `{python} A.a`\n")
    doc = parse_file(book / "ch.qmd", book)
    assert located(doc) == ["ch.qmd:3:3: byte 0xef is not UTF-8; save the file as UTF-8 [QMD004]"]
    assert [r.expr for r in doc.refs] == ["A.a"]


def test_a_string_without_a_project_root_resolves_includes_beside_its_path(book: Path) -> None:
    write(book, {"_x.qmd": "X `{python} X.x`\n"})
    doc = parse("{{< include _x.qmd >}}\n", str(book / "ch.qmd"))
    assert [(Path(r.path).name, r.expr) for r in doc.refs] == [("_x.qmd", "X.x")]
    doc = parse("{{< include /_x.qmd >}}\n", str(book / "ch.qmd"))  # no root: a real path
    assert [d.code for d in doc.problems] == ["QMD005"]


def test_annotate_adds_the_include_chain_once(book: Path) -> None:
    from bookbuild.system.errors import Diagnostic

    write(book, {"_p.qmd": "a\nb\n", "ch.qmd": "x\n{{< include _p.qmd >}}\n"})
    doc = parse_file(book / "ch.qmd", book)
    p = str(book / "_p.qmd")
    d = doc.annotate(Diagnostic(p, 2, 1, "REF001", "unknown name"))
    assert d.message == "unknown name (included from ch.qmd:2)"
    assert doc.annotate(d) == d
    own = Diagnostic(str(book / "ch.qmd"), 1, 1, "REF001", "unknown name")
    assert doc.annotate(own) == own
    assert doc.chain_of(p, 99) == ((str(book / "ch.qmd"), 2),)  # a line not met: the file's chain
    assert doc.chain_of(str(book / "other.qmd"), 1) == ()


def test_a_shortcode_inside_a_one_line_comment_is_not_expanded(book: Path) -> None:
    # Commenting out an include of a file that is gone must not stop the build (a multi-line
    # comment already hides it; the one-line form reports QMD005).
    (book / "ch.qmd").write_text("text\n\n<!-- {{< include _gone.qmd >}} -->\n\nmore\n")
    doc = parse_file(book / "ch.qmd", book)
    assert (doc.problems, doc.text) == ((), "text\n\n<!-- {{< include _gone.qmd >}} -->\n\nmore\n")


def test_a_leading_slash_is_the_project_root_found_from_the_chapter(book: Path) -> None:
    write(book, {"_quarto.yml": "project:\n  type: book\n", "_top.qmd": "TOP\n",
                 "parts/ch.qmd": "{{< include /_top.qmd >}}\n"})
    assert parse_file(book / "parts/ch.qmd").text == "TOP\n"  # _quarto.yml's folder
    write(book, {"parts/_top.qmd": "PARTS\n"})
    assert parse_file(book / "parts/ch.qmd", book / "parts").text == "PARTS\n"  # as given


def test_a_file_included_twice_names_the_include_its_line_was_first_met_through(book) -> None:
    from bookbuild.system.errors import Diagnostic

    # The first include is spliced into a line: its first line counts as the chapter's own.
    write(book, {"_p.qmd": "one\ntwo\n",
                 "ch.qmd": "a\nx {{< include _p.qmd >}}\n{{< include _p.qmd >}}\n"})
    doc = parse_file(book / "ch.qmd", book)
    p = str(book / "_p.qmd")
    note = {line: doc.annotate(Diagnostic(p, line, 1, "REF001", "m")).message for line in (1, 2)}
    assert note == {1: "m (included from ch.qmd:3)", 2: "m (included from ch.qmd:2)"}


def test_the_last_line_of_the_chapter_may_come_from_an_include(book: Path) -> None:
    write(book, {"_x.qmd": "end `{python} X.x`\n", "ch.qmd": "a\n{{< include _x.qmd >}}\n"})
    [r] = parse_file(book / "ch.qmd", book).refs
    assert (Path(r.path).name, r.line, r.col, r.included_from) == (
        "_x.qmd", 1, 5, ((str(book / "ch.qmd"), 2),))
