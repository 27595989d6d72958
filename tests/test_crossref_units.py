"""Cross-reference numbering in small cases: label schemes, counters, depth, appendices, lines.

Fast (no pandoc): `make mutants` runs this file with tests/test_crossref.py against every mutant
of the numbering in bookbuild/analysis/crossref.py.
"""

from __future__ import annotations

import pytest

from bookbuild.analysis import crossref
from bookbuild.source.qmd import parse


def numbers(*chapters: tuple[str, bool], settings: dict | None = None) -> dict[str, str]:
    docs = [(parse(text, f"c{i}.qmd"), appendix) for i, (text, appendix) in enumerate(chapters)]
    index = crossref.build_index(docs, settings)
    return {label.id: label.number for label in index.labels.values()}


@pytest.mark.parametrize(("n", "letters"), [(1, "A"), (2, "B"), (26, "Z"), (27, "AA"), (28, "AB"),
                                            (52, "AZ"), (53, "BA"), (702, "ZZ"), (703, "AAA")])
def test_appendix_letters_go_on_past_z(n: int, letters: str) -> None:
    assert crossref._letters(n) == letters


@pytest.mark.parametrize(("n", "scheme", "label"), [
    (1, "arabic", "1"), (12, "arabic", "12"), (3, "unknown", "3"),
    (1, "roman", "i"), (4, "roman", "iv"), (9, "roman", "ix"), (14, "roman", "xiv"),
    (40, "roman", "xl"), (90, "roman", "xc"), (400, "roman", "cd"), (1994, "roman", "mcmxciv"),
    (2024, "Roman", "MMXXIV"), (3, "alpha", "c"), (3, "alpha a", "c"), (2, "alpha x", "y"),
    (1, "ALPHA", "A"), (2, "alpha A", "B"), (2, " roman ", "ii"),
])
def test_label_schemes_follow_quarto(n: int, scheme: str, label: str) -> None:
    assert crossref.label_for(n, scheme) == label


def test_options_are_read_with_quartos_defaults() -> None:
    default = crossref.Options.read({})
    assert (default.labels, default.subref, default.chapters, default.depth, default.numbered) == (
        {}, "alpha a", True, None, True)
    o = crossref.Options.read({"crossref": {"fig-labels": "roman", "foo-labels": "x",
                                            "subref-labels": "roman i", "chapters": False},
                               "number-depth": 2, "number-sections": False})
    assert (o.labels, o.subref, o.chapters, o.depth, o.numbered) == (
        {"fig": "roman"}, "roman i", False, 2, False)
    assert crossref.Options.read({"crossref": "not a mapping", "number-depth": "2"}).depth is None
    assert crossref.Options.read({"crossref": {"chapters": None}}).chapters


def test_front_matter_overrides_the_book_key_by_key() -> None:
    book = {"crossref": {"fig-labels": "roman", "tbl-labels": "alpha a"}, "number-depth": 3,
            "number-sections": True}
    front = {"crossref": {"fig-labels": "arabic"}, "number-depth": 1, "title": "x"}
    assert crossref._merged(book, front) == {
        "crossref": {"fig-labels": "arabic", "tbl-labels": "alpha a"}, "number-depth": 1,
        "number-sections": True}
    assert book["crossref"] == {"fig-labels": "roman", "tbl-labels": "alpha a"}  # not changed
    assert crossref._merged(book, {"number-sections": False})["number-sections"] is False
    assert crossref._merged({}, {"crossref": {"a": 1}}) == {"crossref": {"a": 1}}


def test_chapters_and_appendices_number_on_across_the_book() -> None:
    got = numbers(("# One {#sec-one}\n", False), ("# Two {#sec-two}\n", False),
                  ("# Extra {#sec-x}\n", True), ("# More {#sec-y}\n", True),
                  ("# Not counted {#sec-u .unnumbered}\n", False), ("# Three {#sec-three}\n", False))
    assert got == {"sec-one": "1", "sec-two": "2", "sec-x": "A", "sec-y": "B", "sec-three": "3"}


def test_sections_number_by_level_and_restart_below_a_new_parent() -> None:
    text = ("# C {#sec-c}\n\n## A {#sec-a}\n\n### A1 {#sec-a1}\n\n### A2 {#sec-a2}\n\n"
            "## B {#sec-b}\n\n### B1 {#sec-b1}\n\n#### B1a {#sec-b1a}\n\n## D {#sec-d .unnumbered}\n\n"
            "## E {- #sec-e}\n\n## F {#sec-f}\n")
    assert numbers((text, False)) == {"sec-c": "1", "sec-a": "1.1", "sec-a1": "1.1.1",
                                      "sec-a2": "1.1.2", "sec-b": "1.2", "sec-b1": "1.2.1",
                                      "sec-b1a": "1.2.1.1", "sec-f": "1.3"}
    assert numbers((text, False), settings={"number-depth": 3})["sec-b1"] == "1.2.1"
    assert "sec-b1a" not in numbers((text, False), settings={"number-depth": 3})


def test_floats_and_equations_count_per_chapter_and_kind() -> None:
    one = ("# One\n\n![a](a.png){#fig-a}\n\n![b](b.png){#fig-b}\n\n| x |\n|---|\n| 1 |\n\n"
           ": T {#tbl-a}\n\n$$x$$ {#eq-a}\n\n$$y$$\n{#eq-b}\n")
    two = "# Two\n\n![c](c.png){#fig-c}\n\n$$z$$ {#eq-c}\n"
    assert numbers((one, False), (two, False)) == {
        "fig-a": "1.1", "fig-b": "1.2", "tbl-a": "1.1", "eq-a": "1.1", "eq-b": "1.2",
        "fig-c": "2.1", "eq-c": "2.1"}
    assert numbers((one, False), (two, False), settings={"crossref": {"chapters": False}}) == {
        "fig-a": "1", "fig-b": "2", "tbl-a": "1", "eq-a": "1", "eq-b": "2", "fig-c": "1", "eq-c": "1"}


def test_sub_figures_take_letters_inside_their_parent_only() -> None:
    text = ("# P\n\n::: {#fig-p}\n![l](l.png){#fig-l}\n\n![r](r.png){#fig-r}\n\nPanel\n:::\n\n"
            "![after](a.png){#fig-after}\n\n::: {#tbl-t}\n![img](i.png){#fig-inner}\n\nT\n:::\n")
    assert numbers((text, False)) == {"fig-p": "1.1", "fig-l": "1.1 (a)", "fig-r": "1.1 (b)",
                                      "fig-after": "1.2", "tbl-t": "1.1", "fig-inner": "1.3"}
    roman = numbers((text, False), settings={"crossref": {"subref-labels": "roman i"}})
    assert roman["fig-r"] == "1.1 (ii)"


def test_callouts_number_per_type_and_a_float_id_on_a_callout_is_not_a_float() -> None:
    text = ("# C\n\n::: {.callout-tip #tip-a}\nA\n:::\n\n::: {.callout-tip #tip-b}\nB\n:::\n\n"
            "::: {.callout-warning #wrn-a}\nW\n:::\n\n::: {.callout-note #fig-odd}\nN\n:::\n\n"
            "![x](x.png){#fig-x}\n")
    assert numbers((text, False)) == {"tip-a": "1.1", "tip-b": "1.2", "wrn-a": "1.1",
                                      "fig-x": "1.1"}


def test_a_callout_heading_after_other_text_is_a_section_and_a_first_one_its_title() -> None:
    text = ("# C\n\n::: {.callout-tip}\nFirst a line.\n\n## Heading {#sec-h}\n:::\n\n"
            "::: {.callout-tip}\n\n## Title {#sec-t}\nBody\n:::\n\n## After {#sec-after}\n")
    assert numbers((text, False)) == {"sec-h": "1.1", "sec-after": "1.2"}


def test_a_chapter_titled_in_front_matter_counts_its_headings_as_sections() -> None:
    got = numbers(("---\ntitle: Front\n---\n\n## Sub {#sec-s}\n", False), ("# Next {#sec-n}\n", False))
    assert got == {"sec-s": "1.1", "sec-n": "2"}


def test_labels_remember_their_kind_title_and_line() -> None:
    doc = parse("# T {#sec-t}\n\nText.\n\n## Sub Title {#sec-sub}\n\n![c](c.png){#fig-c}\n", "t.qmd")
    labels = crossref.build_index([(doc, False)]).labels
    assert (labels["sec-sub"].kind, labels["sec-sub"].title, labels["sec-sub"].line) == (
        "sec", "Sub Title", 5)
    assert (labels["fig-c"].kind, labels["fig-c"].line) == ("fig", 7)


def test_cells_number_their_figures_tables_and_listings() -> None:
    text = ("# C\n\n```{python}\n#| label: fig-plot\n#| fig-cap: P\nx = 1\n```\n\n"
            "```{python}\n#| label: tbl-data\n#| tbl-cap: D\ny = 1\n```\n\n"
            "```{python}\n#| label: tbl-nocap\nz = 1\n```\n\n"
            "```{python}\n#| label: fig-code\n#| lst-label: lst-code\n#| lst-cap: L\nw = 1\n```\n")
    assert numbers((text, False)) == {"fig-plot": "1.1", "tbl-data": "1.1", "lst-code": "1.1",
                                      "fig-code": "1.2"}


def test_the_index_lists_every_chapter_in_order() -> None:
    docs = [(parse("# A\n", "a.qmd"), False), (parse("# B {.unnumbered}\n", "b.qmd"), False),
            (parse("no heading here\n", "c-d_e.qmd"), True)]
    index = crossref.build_index(docs)
    assert [(c.title, c.number) for c in index.chapters] == [("A", "1"), ("B", ""), ("C D E", "")]


def test_every_heading_level_is_numbered_by_default() -> None:
    text = "# C\n\n## S {#sec-s}\n\n### T\n\n#### U\n\n##### V\n\n###### Deep {#sec-deep}\n"
    assert numbers((text, False)) == {"sec-s": "1.1", "sec-deep": "1.1.1.1.1.1"}


def test_a_bare_callout_class_takes_its_heading_as_title() -> None:
    text = "# C\n\n::: callout-tip\n## Title {#sec-title}\nBody\n:::\n\n## Real {#sec-real}\n"
    assert numbers((text, False)) == {"sec-real": "1.1"}


def test_a_sub_figure_after_a_nested_div_still_belongs_to_its_parent() -> None:
    text = ("# C\n\n::: {#fig-outer}\n![a](a.png){#fig-a}\n\n::: {#tbl-inner}\n| x |\n|---|\n| 1 |\n"
            ":::\n\n![b](b.png){#fig-b}\n:::\n")
    assert numbers((text, False)) == {"fig-outer": "1.1", "fig-a": "1.1 (a)", "tbl-inner": "1.1",
                                      "fig-b": "1.1 (b)"}


def test_ref_commands_are_references_too() -> None:
    doc = parse("# One {#sec-one}\n\nSee \\ref{sec-one} and @sec-one.\n", "r.qmd")
    index = crossref.build_index([(doc, False)])
    assert sorted(r.label for r in index.references) == ["sec-one", "sec-one"]


def test_a_deep_heading_right_under_the_chapter_is_numbered() -> None:
    assert numbers(("# C\n\n###### Deep {#sec-deep}\n", False)) == {"sec-deep": "1.0.0.0.0.1"}


def index_of(*texts: str) -> crossref.BookIndex:
    return crossref.build_index([(parse(t, f"c{i}.qmd"), False) for i, t in enumerate(texts)])


def test_theorems_number_per_kind_and_a_callout_or_plain_div_is_no_theorem() -> None:
    text = ("# C\n\n::: {#thm-a}\nA.\n:::\n\n::: {#lem-b}\nB.\n:::\n\n::: {#thm-c}\nC.\n:::\n\n"
            "::: {#thm-d .callout-note}\nD.\n:::\n\n::: {.note}\nE.\n:::\n\n::: {#sec-x}\nF.\n:::\n")
    assert numbers((text, False)) == {"thm-a": "1.1", "lem-b": "1.1", "thm-c": "1.2"}


def test_a_cell_with_a_single_subcaption_is_one_figure() -> None:
    text = "# C\n\n```{python}\n#| label: fig-one\n#| fig-subcap: [\"only\"]\nx = 1\n```\n"
    assert numbers((text, False)) == {"fig-one": "1.1"}


def test_a_chapters_own_layout_options_reach_the_filters() -> None:
    index = index_of("---\nreference-location: margin\ncap-location: bottom\n"
                     "fig-cap-location: 3\n---\n# C\n")
    layout = {"reference-location": "margin", "cap-location": "bottom"}  # strings only
    assert index.chapters[0].layout == layout
    assert index.chapters[0].filter_chapters() == [{"number": "1", "layout": layout}]


def test_an_at_sign_inside_a_word_is_no_reference() -> None:
    index = index_of("# C\n\nWrite to user@fig-a.org, e.g. @fig-b or (@Fig-c) or x_@fig-d.\n")
    assert [r.label for r in index.references] == ["fig-b", "Fig-c"]


def test_an_equation_label_with_attributes_after_it_is_a_label() -> None:
    """Quarto reads `{#eq-x alt="..."}` (and classes) after the math as the equation's label."""
    text = ('# C\n\n$$ a = b $$ {#eq-alt alt="A sum"}\n\n$$\nc = d\n$$   {#eq-spaced}\n\n'
            "$$ e = f $$ {#eq-classed .big}\n")
    assert numbers((text, False)) == {"eq-alt": "1.1", "eq-spaced": "1.2", "eq-classed": "1.3"}


def test_a_callout_heading_after_a_cell_or_a_comment_is_no_title() -> None:
    """Only a heading that is the callout's first block titles it; a cell or an HTML comment
    before it is a block of its own, so the heading is a section (as crossref.lua sees it)."""
    text = ("# C\n\n::: {.callout-note}\n```{python}\nx = 1\n```\n\n## After a cell {#sec-a}\n:::\n\n"
            "::: {.callout-note}\n<!-- aside -->\n## After a comment {#sec-b}\n:::\n")
    assert numbers((text, False)) == {"sec-a": "1.1", "sec-b": "1.2"}
