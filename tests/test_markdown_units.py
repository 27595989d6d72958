"""Substitution into markdown (markdown.py): where a value gets its tooltip span and where not.

Fast (no kernel: results are given as an execution would give them).
"""

from __future__ import annotations

from pathlib import Path

from bookbuild.model import ExecutionResult
from bookbuild.publish.substitute import substitute
from bookbuild.source.qmd import parse

NOTE = {"expr": "x", "constants": "X", "title": "x"}


def spanned(text: str, values: list[str], tmp_path: Path) -> str:
    doc = parse(text, str(tmp_path / "t.qmd"))
    notes = [{**NOTE, "index": i} for i in range(len(doc.refs))]
    return substitute(doc, ExecutionResult([], values), tmp_path, "t_files", provenance=notes)


def test_a_narrow_table_stays_narrow_so_pandoc_gives_it_no_column_widths(tmp_path: Path) -> None:
    # With plain values every line fits pandoc's 72 columns; the spans would not, and pandoc
    # would then set relative widths Quarto's page does not have. Prose keeps its span.
    text = ("| Link | Rate | Others |\n|------|-----:|------:|\n"
            "| a | `{python} r` | `{python} r * 2` `{python} r * 3` `{python} r * 4` |\n\n"
            "Prose `{python} r`.\n")
    md = spanned(text, ["1.5", "3.0", "4.5", "6.0", "1.5"], tmp_path)
    assert "| a | 1.5 | 3.0 4.5 6.0 |" in md
    assert md.count("{.num") == 1 and 'Prose [1.5]{.num data-ref="4"}' in md


def test_a_table_wide_anyway_keeps_its_spans(tmp_path: Path) -> None:
    wide = "x" * 70
    text = (f"| Name | Value |\n|---|---|\n| {wide} | `{{python}} r` |\n")
    md = spanned(text, ["1.5"], tmp_path)
    assert '[1.5]{.num data-ref="0"}' in md  # relative widths either way: the tooltip stays


def test_a_value_in_prose_between_pipes_is_no_table(tmp_path: Path) -> None:
    text = "Read a | b | c as `{python} r` here, a line long enough to pass seventy-two columns.\n"
    assert '[1.5]{.num data-ref="0"}' in spanned(text, ["1.5"], tmp_path)


def test_a_value_inside_a_link_an_image_or_attributes_gets_no_span(tmp_path: Path) -> None:
    # a span there would end up inside the URL or the attribute (%5B2024%5D%7B.num...)
    text = ("[the report](https://example.org/r/`{python} n`.html) and <https://example.org/`{python} n`>\n"
            "![Figure](pic`{python} n`.png){width=`{python} n`px} and prose `{python} n`.\n")
    md = spanned(text, ["2024"] * 5, tmp_path)
    assert "[the report](https://example.org/r/2024.html)" in md
    assert "<https://example.org/2024>" in md
    assert "![Figure](pic2024.png){width=2024px}" in md
    assert md.count("{.num") == 1 and 'prose [2024]{.num data-ref="4"}' in md


def test_front_matter_is_cut_where_the_parser_ends_it() -> None:
    # A horizontal rule further down is no front matter's end: it closes with `...` here.
    from bookbuild.publish.publisher import _strip_front_matter
    from bookbuild.publish.substitute import _code_tools

    md = "---\ntitle: T\n...\n\nKept.\n\n---\n\nAfter a rule.\n"
    assert _strip_front_matter(md) == "\nKept.\n\n---\n\nAfter a rule.\n"
    assert _strip_front_matter("----\n\nKept.\n\n---\nx\n") == "----\n\nKept.\n\n---\nx\n"
    doc = parse(md, "t.qmd")
    assert _code_tools(doc, md).startswith('---\ntitle: T\n...\n\n```{=html}\n<details')
