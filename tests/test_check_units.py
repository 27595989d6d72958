"""The static check (refs.py, check.py): what resolves, what does not, and where it is reported.

Fast (no kernel, in process): `make mutants` runs this file against every mutant of
bookbuild/analysis/refs.py.
"""

from __future__ import annotations

import io
from pathlib import Path

from bookbuild.analysis import check
from bookbuild.analysis.refs import check_document
from bookbuild.source.qmd import parse


def cell(code: str) -> str:
    return f"```{{python}}\n{code}\n```\n\n"


def messages(text: str, path: str = "t.qmd", root: Path | None = None) -> list[str]:
    doc = parse(text, path)
    return [f"{d.line}:{d.col} {d.code} {d.message}"
            for d in check_document(doc, root).diagnostics]


def test_names_bound_by_cells_resolve_and_others_do_not() -> None:
    text = cell("import math as m\nx, (y, *z) = 1, (2, 3)\nfor i in range(3): pass\n"
                "with open(__file__) as fh: pass\ntry:\n    pass\nexcept Exception as err:\n"
                "    pass\nif (w := 5): pass\ndef f(): pass") + \
        "`{python} m.pi + x + y + z[0] + i + w + f() + len(fh.name) + str(err)` `{python} q`\n"
    assert messages(text) == ["14:82 REF001 unresolved reference 'q'"]


def test_class_attributes_resolve_and_typos_are_located_with_a_suggestion() -> None:
    text = cell("class K:\n    alpha = 1\n    class Inner:\n        beta = 2") + \
        "`{python} K.alpha` `{python} K.Inner.beta` `{python} K.Inner.betta` `{python} K.gamma`\n"
    assert messages(text) == [
        "8:62 REF001 unresolved reference 'K.Inner.betta' (did you mean 'beta'?)",
        "8:81 REF001 unresolved reference 'K.gamma'",
    ]


def test_a_subclass_has_its_bases_attributes() -> None:
    text = cell("class A:\n    x = 1\nclass B(A):\n    y = 2\nclass C(object):\n    z = 3") + \
        "`{python} B.x + B.y` `{python} C.z` `{python} C.nope`\n"
    assert messages(text) == ["10:49 REF001 unresolved reference 'C.nope'"]


def test_classes_with_unknown_bases_or_a_metaclass_are_not_guessed() -> None:
    text = cell("import enum\nclass A(enum.Enum):\n    x = 1\nclass B(A):\n    y = 2\n"
                "class M(metaclass=type):\n    z = 1\nclass Open:\n    pass\nclass D(Open):\n"
                "    pass") + "`{python} A.any` `{python} B.any` `{python} M.any` `{python} D.nope`\n"
    assert messages(text) == ["15:64 REF001 unresolved reference 'D.nope'"]


def test_an_attribute_set_after_the_class_resolves() -> None:
    text = cell("class K:\n    pass\nK.extra = 1\nother = 1\nother.attr = 2") + \
        "`{python} K.extra` `{python} K.missing`\n"
    assert messages(text) == ["9:32 REF001 unresolved reference 'K.missing'"]


def test_a_reference_sees_only_the_cells_above_it() -> None:
    text = "Early `{python} late`.\n\n" + cell("late = 1") + "Now `{python} late`.\n"
    assert messages(text) == ["1:17 REF002 'late' is used before its definition (line 4)"]


def test_builtins_and_names_bound_inside_the_expression_are_fine() -> None:
    text = ("`{python} len([v for v in range(3)])` `{python} (lambda a, *b, c=1, **d: a)(1)` "
            "`{python} (n := 2) + n` `{python} display`\n")
    assert messages(text) == []


def test_a_global_in_a_function_binds_but_function_locals_do_not() -> None:
    text = cell("def f():\n    global g\n    g = 1\n    h = 2") + "`{python} g` `{python} h`\n"
    assert messages(text) == ["8:24 REF001 unresolved reference 'h'"]


def test_star_imports_bind_the_modules_public_names(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "consts.py").write_text("A = 1\n_hidden = 2\nfrom .more import *\n")
    (tmp_path / "pkg" / "more.py").write_text("B = 3\n")
    (tmp_path / "pkg" / "listed.py").write_text("__all__ = ['C']\nC = 1\nD = 2\n")
    text = cell("from pkg.consts import *\nfrom pkg.listed import *") + \
        "`{python} A + B + C` `{python} _hidden` `{python} D`\n"
    assert messages(text, str(tmp_path / "ch.qmd"), tmp_path) == [
        "6:32 REF001 unresolved reference '_hidden'",
        "6:51 REF001 unresolved reference 'D'",
    ]


def test_a_star_import_of_a_missing_or_relative_module_is_ref006_wherever_it_is() -> None:
    text = "`{python} 1`\n\n" + cell("x = 1\nfrom .rel import *\nfrom no_such_mod_xyz import *")
    assert messages(text) == [
        "5:1 REF006 cannot find module 'rel' to read the names of 'from rel import *'",
        "6:1 REF006 cannot find module 'no_such_mod_xyz' to read the names of "
        "'from no_such_mod_xyz import *'",
    ]


def test_a_name_from_a_failed_star_import_is_still_checked() -> None:
    text = cell("from no_such_mod_xyz import *") + "`{python} anything`\n"
    assert [m.split(" ", 2)[1] for m in messages(text)] == ["REF006", "REF001"]


def test_syntax_errors_and_empty_expressions_are_ref003_at_the_expression() -> None:
    text = "a `{python} K.x +` b `{python}` c `{python}   (1 2)`\n"
    assert messages(text) == [
        "1:13 REF003 syntax error in inline expression 'K.x +': invalid syntax",
        "1:22 REF003 empty inline expression",
        "1:48 REF003 syntax error in inline expression '(1 2)': "
        "invalid syntax. Perhaps you forgot a comma?",
    ]


def test_a_syntax_error_in_a_cell_is_qmd001_on_its_line() -> None:
    assert messages("intro\n\n" + cell("#| label: calc\nx = 1\ny = (")) == [
        "6:5 QMD001 syntax error in cell 'calc': '(' was never closed"]


def test_problems_are_sorted_and_reported_once() -> None:
    text = "`{python} b` `{python} a`\n\n`{python} b`\n"
    assert messages(text) == ["1:11 REF001 unresolved reference 'b'",
                              "1:24 REF001 unresolved reference 'a'",
                              "3:11 REF001 unresolved reference 'b'"]


def test_report_prints_each_problem_and_a_summary_with_the_exit_code(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.qmd", tmp_path / "bad.qmd"
    good.write_text(cell("x = 1") + "`{python} x` and `{python} x`\n")
    bad.write_text("`{python} nope` `{python} nada`\n")
    out = io.StringIO()
    assert check.report(check.check_files([good], tmp_path), out) == 0
    assert out.getvalue() == "ok: 2 inline references resolve in 1 file\n"
    out = io.StringIO()
    assert check.report(check.check_files([bad, good], tmp_path), out) == 1
    lines = out.getvalue().splitlines()
    assert lines[-1] == "2 errors in 2 files (4 inline references checked)"
    assert lines[0].endswith("bad.qmd:1:11: unresolved reference 'nope' [REF001]")
    out = io.StringIO()
    bad.write_text("`{python} nope`\n")
    assert check.report(check.check_files([bad], tmp_path), out) == 1
    assert out.getvalue().splitlines()[-1] == "1 error in 1 file (1 inline references checked)"


def test_static_check_stops_a_build_only_on_problems(tmp_path: Path, capsys) -> None:
    from bookbuild.analysis.checkcache import static_check

    good, bad = tmp_path / "good.qmd", tmp_path / "bad.qmd"
    good.write_text("`{python} 1`\n")
    bad.write_text("`{python} nope`\n")
    cache = tmp_path / "cache"
    assert static_check([good], tmp_path, "render", {}, cache) == []
    assert static_check([good, bad], tmp_path, "render", {}, cache) == [
        "render stopped: fix the problems above first"]
    assert "unresolved reference 'nope'" in capsys.readouterr().err


def test_the_builds_check_reports_a_repeated_label_even_for_chapters_checked_clean(
        tmp_path: Path, capsys) -> None:
    from bookbuild.analysis.checkcache import static_check

    one, two = tmp_path / "one.qmd", tmp_path / "two.qmd"
    one.write_text("# One {#sec-x}\n")
    two.write_text("# Two {#sec-y}\n")
    cache = tmp_path / "cache"
    assert static_check([one, two], tmp_path, "render", {}, cache) == []  # both remembered clean
    two.write_text("# Two {#sec-y}\n\n## Again {#sec-x}\n")
    assert static_check([one, two], tmp_path, "render", {}, cache) == [
        "render stopped: fix the problems above first"]
    assert "label 'sec-x' is defined twice (first at" in capsys.readouterr().err


def test_attributes_after_a_nested_class_are_known() -> None:
    text = cell("class K:\n    class Inner:\n        a = 1\n    after = 2") + \
        "`{python} K.after + K.Inner.a` `{python} K.nope`\n"
    assert [m.split(" ", 2)[2] for m in messages(text)] == ["unresolved reference 'K.nope'"]


def test_every_unresolved_name_in_one_expression_is_reported() -> None:
    assert [m.split(" ", 2)[2] for m in messages("`{python} nope1 + nope2.x`\n")] == [
        "unresolved reference 'nope1'", "unresolved reference 'nope2'"]


def test_names_after_a_chain_on_a_literal_are_still_checked() -> None:
    assert [m.split(" ", 2)[2] for m in messages('`{python} "-".join([nope])`\n')] == [
        "unresolved reference 'nope'"]


def test_a_missing_attribute_is_reported_once_not_for_each_one_after_it() -> None:
    text = cell("class K:\n    a = 1") + "`{python} K.nope.deeper.still`\n"
    assert [m.split(" ", 2)[2] for m in messages(text)] == ["unresolved reference 'K.nope'"]


def test_a_reference_between_two_cells_sees_the_first_and_not_the_second() -> None:
    text = cell("a = 1") + "`{python} a` and `{python} b`\n\n" + cell("b = 2")
    assert messages(text) == ["5:28 REF002 'b' is used before its definition (line 8)"]


def test_names_inside_a_builtin_call_are_checked() -> None:
    assert [m.split(" ", 2)[2] for m in messages("`{python} len(nope)`\n")] == [
        "unresolved reference 'nope'"]


def test_a_cell_that_never_runs_defines_nothing_but_later_cells_do() -> None:
    text = cell("#| eval: false\nskipped = 1") + cell("kept = 2") + "`{python} kept` `{python} skipped`\n"
    assert [m.split(" ", 2)[2] for m in messages(text)] == ["unresolved reference 'skipped'"]


def test_after_a_cell_that_cannot_be_read_only_its_error_is_reported() -> None:
    # the broken cell may define b and c: one syntax error, not a page of unresolved names;
    # a name used before a definition further down is still reported
    text = (cell("a = 1\nb = max(a\nc = 3") + "Values `{python} b` and `{python} c`, `{python} d`.\n\n"
            + cell("d = 4"))
    assert messages(text) == [
        "3:8 QMD001 syntax error in cell #1: '(' was never closed",
        "7:49 REF002 'd' is used before its definition (line 10)"]
    fixed = text.replace("max(a", "max(a)")
    assert messages(fixed + "And `{python} e`.\n") == [
        "7:49 REF002 'd' is used before its definition (line 10)",
        "13:15 REF001 unresolved reference 'e'"]
