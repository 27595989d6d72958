"""Cross-reference numbering per output format, and headings inside asides, in small cases.

Fast (no pandoc): `make mutants` runs this file with the other crossref unit tests. Which
conditional content each format shows follows filters/conditional.lua (Quarto's
`.content-visible`/`.content-hidden`, quarto.org/docs/authoring/conditional.html); the
rendered books are in tests/test_quarto_formats.py and tests/test_quarto_aside_chapters.py.
"""

from __future__ import annotations

import pytest

from bookbuild.analysis import crossref
from bookbuild.source.qmd import parse

HTML, PDF = crossref.Output("html"), crossref.Output("pdf")


def docs(*texts: str) -> list:
    return [(parse(t, f"c{i}.qmd"), False) for i, t in enumerate(texts)]


def numbers(*texts: str, output: crossref.Output | None = None, settings: dict | None = None) -> dict:
    index = crossref.build_index(docs(*texts), settings, output)
    return {label.id: label.number for label in index.labels.values()}


@pytest.mark.parametrize(("classes", "attributes", "html", "pdf"), [
    ({"content-visible"}, {"when-format": "html"}, True, False),
    ({"content-visible"}, {"when-format": "html5"}, True, False),
    ({"content-visible"}, {"when-format": "latex"}, False, True),
    ({"content-visible"}, {"when-format": "docx, pdf"}, False, True),
    ({"content-visible"}, {"when-format": "revealjs"}, False, False),
    ({"content-visible"}, {"unless-format": "pdf"}, True, False),
    ({"content-visible"}, {}, True, True),
    ({"content-hidden"}, {}, False, False),
    ({"content-hidden"}, {"when-format": "pdf"}, True, False),
    ({"content-hidden"}, {"unless-format": "html"}, True, False),
    ({"content-visible"}, {"when-format": "html", "unless-format": "html"}, False, False),
    ({"note"}, {"when-format": "pdf"}, True, True),  # conditions mean nothing without the class
    ({"content-visible", "content-hidden"}, {"when-format": "html"}, False, True),
])
def test_each_format_shows_what_conditional_lua_keeps(classes, attributes, html, pdf) -> None:
    assert (HTML.shows(classes, attributes, {}), PDF.shows(classes, attributes, {})) == (html, pdf)


def test_metadata_conditions_follow_dotted_keys_and_quartos_truth() -> None:
    config = {"flags": {"print": True, "web": "yes", "off": "no"}, "plain": 3,
              "format": {"pdf": {"paper": True}}}
    out = crossref.Output("html", config)
    assert out.meta_true("flags.print", {}) and out.meta_true("flags.web", {})
    assert not out.meta_true("flags.off", {}) and not out.meta_true("flags.missing", {})
    assert not out.meta_true("plain.deeper", {}) and not out.meta_true("paper", {})
    assert crossref.Output("pdf", config).meta_true("paper", {})
    # a chapter's own front matter decides first, in both formats
    assert not out.meta_true("flags.print", {"flags": {"print": False}})
    assert out.meta_true("draft", {"draft": "true"})
    assert not crossref.Output("pdf", config).meta_true("paper", {"paper": False})
    # the PDF's chapter scope carries true/false values only; anything else is the book's
    assert not crossref.Output("pdf", config).meta_true("draft", {"draft": "true"})
    assert crossref.Output("pdf", config).meta_true("flags.print", {"flags": {"print": "no"}})
    assert crossref.Output("html", {}).shows({"content-visible"}, {"when-meta": "a, b"}, {"b": True})
    assert not crossref.Output("html", {}).shows({"content-visible"}, {"unless-meta": "a b"},
                                                 {"b": True})


def test_sections_floats_and_chapters_inside_hidden_content_take_no_number() -> None:
    one = ("# One {#sec-one}\n\n## First {#sec-first}\n\n"
           "::: {.content-visible when-format=\"html\"}\n## Web {#sec-web}\n\n"
           "![Web](w.png){#fig-web}\n\n$$ x $$ {#eq-web}\n\n"
           "::: {.callout-tip #tip-web}\nA tip.\n:::\n\n::: {#thm-web}\nA theorem.\n:::\n:::\n\n"
           "## Both {#sec-both}\n\n![Both](b.png){#fig-both}\n\n$$ y $$ {#eq-both}\n\n"
           "::: {.callout-tip #tip-both}\nA tip.\n:::\n\n::: {#thm-both}\nA theorem.\n:::\n")
    extra = "::: content-hidden\n# Draft chapter {#sec-draft}\n:::\n"
    two = "# Two {#sec-two}\n\n## Inside {#sec-inside}\n"
    html = numbers(one, extra, two, output=HTML)
    pdf = numbers(one, extra, two, output=PDF)
    assert [html[k] for k in ("sec-web", "sec-both", "fig-both", "eq-both", "tip-both", "thm-both")] == [
        "1.2", "1.3", "1.2", "1.2", "1.2", "1.2"]
    assert [pdf[k] for k in ("sec-both", "fig-both", "eq-both", "tip-both", "thm-both")] == [
        "1.2", "1.1", "1.1", "1.1", "1.1"]
    assert not {"sec-web", "fig-web", "eq-web", "tip-web", "thm-web"} & set(pdf)
    assert "sec-draft" not in html and "sec-draft" not in pdf
    assert (html["sec-two"], pdf["sec-inside"]) == ("2", "2.1")
    everything = numbers(one, extra, two)  # no format given: every block counts, as before
    assert (everything["sec-both"], everything["sec-draft"], everything["sec-two"]) == ("1.3", "2", "3")


def test_hidden_content_ends_at_its_own_closing_fence() -> None:
    text = ("# One\n\n::::: {.content-visible when-format='pdf'}\n::: {.callout-note}\n## Title\n:::\n\n"
            "## Printed {#sec-printed}\n:::::\n\n::: {.content-visible when-format=html}\n## Web {#sec-web}\n"
            ":::\n\n## Shared {#sec-shared}\n\n::: {.content-hidden when-format=\"html\"}\n## Open to the end "
            "{#sec-open}\n\n## Still hidden {#sec-still}\n")
    assert numbers(text, output=HTML) == {"sec-web": "1.1", "sec-shared": "1.2"}
    assert numbers(text, output=PDF) == {"sec-printed": "1.1", "sec-shared": "1.2", "sec-open": "1.3",
                                         "sec-still": "1.4"}


def test_the_chapter_list_for_the_filters_follows_the_format() -> None:
    text = "# One\n\n::: {.content-visible unless-format=\"pdf\"}\n# Web appendix\n:::\n"
    html = crossref.build_index(docs(text, "# Two\n"), None, HTML)
    pdf = crossref.build_index(docs(text, "# Two\n"), None, PDF)
    # an HTML page numbers a second `#` after its own chapter (Quarto's number-offset), and the
    # next page is still chapter 2; the PDF does not show it
    assert [c.filter_chapters() for c in html.chapters] == [["1", "2"], ["2"]]
    assert [c.filter_chapters() for c in pdf.chapters] == [["1"], ["2"]]


def test_a_reference_the_pdf_cannot_resolve_is_reported_for_the_pdf() -> None:
    book = docs("# One\n\n::: {.content-visible when-format=\"html\"}\n## Web {#sec-web}\n\n"
                "See @sec-web and @sec-gone.\n:::\n\n::: content-hidden\n## Nowhere {#sec-never}\n:::\n",
                "# Two\n\nSee @sec-web, @sec-nowhere, @Sec-web and @sec-never.\n\nAgain @sec-web.\n")
    indexes = crossref.format_indexes(book, {}, {})
    found = [(r.source.name, r.line, r.label, why) for r, why in crossref.unresolved_in(indexes, {})]
    web = "in the pdf: defined only in content hidden there"
    assert found == [
        ("c0.qmd", 6, "sec-gone", crossref.UNKNOWN),  # the PDF does not show that line
        ("c1.qmd", 3, "Sec-web", web),
        ("c1.qmd", 3, "sec-never", crossref.UNKNOWN),  # hidden in every format: in none
        ("c1.qmd", 3, "sec-nowhere", crossref.UNKNOWN),
        ("c1.qmd", 3, "sec-web", web),
        ("c1.qmd", 5, "sec-web", web),
    ]
    # an HTML-only render (preview) is not told what the PDF would miss
    assert [(r.label, why) for r, why in crossref.unresolved_in(indexes, {}, ["html"])] == [
        ("sec-gone", crossref.UNKNOWN), ("sec-never", crossref.UNKNOWN),
        ("sec-nowhere", crossref.UNKNOWN)]
    assert crossref.unresolved_in(indexes, {"sec-nowhere": {"url": "u"}, "sec-never": {"url": "u"},
                                            "sec-gone": {"url": "u"}, "sec-web": {"url": "u"}}) == []
    both = crossref.format_indexes(docs("::: {.content-visible when-format=\"html\"}\n# A {#sec-a}\n:::\n",
                                        "::: {.content-visible when-format=\"pdf\"}\nSee @sec-a.\n:::\n"
                                        "::: content-hidden\nSee @sec-b.\n:::\n"), {}, {})
    assert [(r.label, why) for r, why in crossref.unresolved_in(both, {})] == [
        ("sec-a", "in the pdf: defined only in content hidden there")]


def test_metadata_conditions_read_the_chapter_then_the_format() -> None:
    config = {"draft": False, "format": {"pdf": {"draft": True}}}
    chapter = ("# One\n\n::: {.content-hidden when-meta=\"draft\"}\n## Final {#sec-final}\n:::\n\n"
               "## Next {#sec-next}\n")
    own = "---\ndraft: true\n---\n\n" + chapter
    for text, html_number, pdf_number in ((chapter, "1.2", "1.1"), (own, "1.1", "1.1")):
        indexes = crossref.format_indexes(docs(text), {}, config)
        assert indexes["html"].labels["sec-next"].number == html_number
        assert indexes["pdf"].labels["sec-next"].number == pdf_number


@pytest.mark.parametrize("aside", ["{.panel-tabset}", "{.column-margin}", "{.aside}",
                                   "{#thm-little}", "{#lem-x}", "{.proof}", "{.remark}", "{.solution}",
                                   "{#rem-x}", "{#sol-x}"])
def test_a_heading_inside_an_aside_is_no_section_and_opens_no_chapter(aside: str) -> None:
    body = f"::: {aside}\n# Its title\n\n## Inside {{#sec-inside}}\n:::\n\n## After {{#sec-after}}\n"
    got = numbers("---\ntitle: Queues\n---\n\n" + body, "# Next {#sec-next}\n")
    assert (got["sec-after"], got["sec-next"]) == ("1.1", "2") and "sec-inside" not in got
    doc = parse("---\ntitle: Queues\n---\n\n" + body, "q.qmd")
    assert crossref.title_heading(doc) == "# Queues\n\n"


@pytest.mark.parametrize("box", ["{.callout-note}", "{.callout-tip #fig-not-a-float}", "callout-warning"])
def test_a_callouts_first_heading_is_its_title_and_a_later_one_a_section(box: str) -> None:
    """As in Quarto: a callout with no `title` takes its first heading as title; the others are
    the chapter's sections, and a level-1 title opens no chapter."""
    body = f"::: {box}\n# Its title\n\n## Inside {{#sec-inside}}\n:::\n\n## After {{#sec-after}}\n"
    got = numbers("---\ntitle: Queues\n---\n\n" + body, "# Next {#sec-next}\n")
    assert (got["sec-inside"], got["sec-after"], got["sec-next"]) == ("1.1", "1.2", "2")
    titled = '::: {.callout-tip title="Practice"}\n## Question {#sec-q}\n:::\n\n## After {#sec-after}\n'
    got = numbers("# One\n\n" + titled)
    assert (got["sec-q"], got["sec-after"]) == ("1.1", "1.2")


def test_an_unknown_callout_class_is_a_plain_div_unless_declared() -> None:
    body = "# One\n\n::: {.callout-practice}\n## Question {#sec-q}\n:::\n\n## After {#sec-after}\n"
    got = numbers(body)
    assert (got["sec-q"], got["sec-after"]) == ("1.1", "1.2")  # no title taken: a plain div
    declared = crossref.Output("html", {"bookbuild": {"callouts": {"practice": {}}}})
    got = numbers(body, output=declared)
    assert "sec-q" not in got and got["sec-after"] == "1.1"  # a declared type's title


def test_a_heading_inside_a_float_div_or_a_plain_div_is_a_section() -> None:
    for div in ("{#fig-box .column-margin}", "{.note}", "{#tbl-t}"):
        body = f"# One\n\n::: {div}\n## Inside {{#sec-inside}}\n:::\n\n## After {{#sec-after}}\n"
        got = numbers(body)
        assert (got["sec-inside"], got["sec-after"]) == ("1.1", "1.2"), div
    # the front matter's title is the chapter's title, whatever `#` headings the text has;
    # only a first `#` that repeats it is the title itself
    doc = parse("---\ntitle: Queues\n---\n\n::: {.note}\n# Real chapter\n:::\n", "q.qmd")
    assert crossref.title_heading(doc) == "# Queues\n\n"
    assert crossref.title_heading(parse("---\ntitle: Queues\n---\n\n# Real chapter\n", "q.qmd")) \
        == "# Queues\n\n"
    assert crossref.title_heading(parse("---\ntitle: Queues\n---\n\n# Queues {#sec-q}\n", "q.qmd")) == ""


def test_a_crossref_setting_that_is_no_mapping_falls_back_to_quartos_defaults() -> None:
    text = "# One\n\n![A](a.png){#fig-a}\n"
    for settings in ({"crossref": "roman"}, {"crossref": ["fig-labels", "roman"]}):
        index = crossref.build_index(docs(text), settings)
        assert index.labels["fig-a"].number == "1.1"
        assert index.chapters[0].crossref == {} and index.chapters[0].filter_chapters() == ["1"]
    own = "---\ncrossref: roman\n---\n\n" + text
    index = crossref.build_index(docs(own), {"crossref": {"fig-labels": "roman"}})
    assert index.labels["fig-a"].number == "1.i"
    assert index.chapters[0].filter_chapters() == [{"number": "1", "crossref": {"fig-labels": "roman"}}]


def test_a_hidden_div_leaves_out_its_own_fences_and_label() -> None:
    # the hidden div is itself a float; and one inside a callout must not close the callout
    text = ("# One\n\n::: {#fig-web .content-visible when-format=\"html\"}\n![Web](w.png)\n:::\n\n"
            "::: {.callout-note}\n## Note title\n\n::: {.content-visible when-format=\"html\"}\nWeb.\n:::\n\n"
            "## Still in the note {#sec-in-note}\n:::\n\n## After {#sec-after}\n\n![Both](b.png){#fig-both}\n")
    assert numbers(text, output=HTML) == {"fig-web": "1.1", "sec-in-note": "1.1", "sec-after": "1.2",
                                          "fig-both": "1.2"}
    assert numbers(text, output=PDF) == {"sec-in-note": "1.1", "sec-after": "1.2", "fig-both": "1.1"}


def test_references_after_hidden_ones_are_still_collected_in_text_order() -> None:
    book = docs("# One\n\n::: {.content-visible when-format=\"html\"}\nSee @sec-zz.\n:::\n\nSee @sec-yy.\n\n"
                "And @sec-aa.\n")
    indexes = crossref.format_indexes(book, {}, {})
    assert [(r.line, r.label) for r, _ in crossref.unresolved_in(indexes, {})] == [
        (4, "sec-zz"), (7, "sec-yy"), (9, "sec-aa")]
    assert [r.label for r in indexes["pdf"].references] == ["sec-yy", "sec-aa"]


WEB = '::: {.content-visible when-format="html"}\n## Web {#sec-x}\n:::\n'
PAPER = '::: {.content-visible when-format="pdf"}\n## Paper {#sec-x}\n:::\n'


def test_one_label_may_be_defined_once_for_each_format() -> None:
    # Quarto indexes each format apart: the web and the printed variant may share a label
    book = docs("# A\n\n" + WEB + "\n" + PAPER)
    assert crossref.duplicate_labels(book) == []
    assert crossref.build_index(book, None, HTML).duplicates == []
    assert crossref.build_index(book, None, PDF).duplicates == []
    assert numbers("# A\n\n" + WEB + "\n" + PAPER, output=PDF)["sec-x"] == "1.1"


def test_a_label_two_definitions_share_in_one_format_is_defined_twice() -> None:
    book = docs("# A\n\n" + WEB, '# B\n\n::: {.content-hidden when-format="pdf"}\n## Also {#sec-x}\n:::\n')
    [d] = crossref.duplicate_labels(book)
    assert (d.path, d.line, d.col, d.code) == ("c1.qmd", 4, 10, "XRF001")
    assert "label 'sec-x' is defined twice (first at c0.qmd:4:9)" in d.message
    assert len(crossref.build_index(book, None, HTML).duplicates) == 1
    assert crossref.build_index(book, None, PDF).duplicates == []


def test_a_definition_no_format_shows_repeats_nothing() -> None:
    book = docs("# A\n\n## Here {#sec-x}\n", "# B\n\n::: {.content-hidden}\n## Never {#sec-x}\n:::\n")
    assert crossref.duplicate_labels(book) == []


def test_metadata_conditions_on_a_repeated_label_read_the_books_config() -> None:
    book = docs("# A\n\n## Here {#sec-x}\n",
                '# B\n\n::: {.content-visible when-meta="draft"}\n## Draft {#sec-x}\n:::\n')
    assert crossref.duplicate_labels(book, config={}) == []
    [d] = crossref.duplicate_labels(book, config={"draft": True})
    assert d.path == "c1.qmd" and d.line == 4


def test_a_formats_own_number_depth_numbers_that_format_alone() -> None:
    """`format: pdf: number-depth: 2` in `_quarto.yml` cuts the PDF's numbers, not the pages'."""
    config = {"number-depth": 3, "format": {"pdf": {"number-depth": 2}, "html": {}}}
    text = "# One\n\n## Two {#sec-two}\n\n### Three {#sec-three}\n"
    indexes = crossref.format_indexes(docs(text), {"number-depth": 3}, config)
    assert {k: v.number for k, v in indexes["html"].labels.items()} == {"sec-two": "1.1",
                                                                       "sec-three": "1.1.1"}
    assert {k: v.number for k, v in indexes["pdf"].labels.items()} == {"sec-two": "1.1"}
    assert indexes["pdf"].chapters[0].filter_chapters() == [{"number": "1", "depth": 2}]


def test_a_book_index_page_titled_in_front_matter_numbers_its_sections_from_zero() -> None:
    """Quarto's index page has no chapter number of its own on the page (no number-offset):
    its title reads bare and its sections 0.1, 0.2, while the sidebar and the PDF call it
    chapter 1 and the next chapter is 2."""
    index = parse("---\ntitle: Welcome\n---\n\n## About {#sec-about}\n\n# Extra {#sec-extra}\n",
                  "index.qmd")
    book = [(index, False), (parse("# Next {#sec-next}\n", "next.qmd"), False)]
    html, pdf = (crossref.build_index(book, None, out) for out in (HTML, PDF))
    assert {k: v.number for k, v in html.labels.items()} == {
        "sec-about": "0.1", "sec-extra": "1", "sec-next": "2"}
    assert html.chapters[0].number == "1" and html.chapters[0].filter_chapters()[0] == {
        "number": "0", "bare": True}
    assert {k: v.number for k, v in pdf.labels.items()} == {
        "sec-about": "1.1", "sec-extra": "2", "sec-next": "3"}
