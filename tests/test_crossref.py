"""The book-wide cross-reference index (bookbuild/analysis/crossref.py): numbers, titles, duplicates."""

from __future__ import annotations

from pathlib import Path

from bookbuild.analysis import crossref
from bookbuild.source.qmd import parse, parse_file
from tests.conftest import FIXTURES, run_cli

BOOK = FIXTURES / "crossref" / "book"
CHAPTERS = [("preface.qmd", False), ("kinds.qmd", False), ("floats.qmd", False), ("extra.qmd", True)]


def book_index(settings: dict | None = None) -> crossref.BookIndex:
    return crossref.build_index([(parse_file(BOOK / name), appendix) for name, appendix in CHAPTERS],
                                settings)


def numbers(index: crossref.BookIndex) -> dict[str, str]:
    return {label.id: label.number for label in index.labels.values()}


def test_every_kind_is_numbered_per_chapter() -> None:
    index = book_index()
    assert numbers(index) == {
        "sec-energy": "1.1", "eq-mass-energy": "1.1", "eq-force": "1.2", "sec-code": "1.2",
        "lst-greet": "1.1", "tip-shortcut": "1.1", "wrn-units": "1.1", "sec-sub": "1.2.1",
        "sec-floats": "2", "fig-swatch": "2.1", "fig-panel": "2.2", "fig-left": "2.2 (a)",
        "fig-right": "2.2 (b)", "fig-captioned": "2.3", "fig-linked": "2.4", "tbl-div": "2.1",
        "tbl-from-image": "2.2", "tbl-panel": "2.3", "tbl-first": "2.3 (a)",
        "tbl-second": "2.3 (b)", "sec-floats-refs": "2.1",
        "sec-extra": "A", "eq-pythagoras": "A.1", "fig-appendix": "A.a",  # its own fig-labels
    }
    assert index.unresolved({}) == []
    assert index.duplicates == []


def test_a_chapter_titled_in_its_front_matter_is_numbered_and_titled() -> None:
    index = book_index()
    chapter = index.chapters[1]
    assert (chapter.title, chapter.number, chapter.chapter_numbers) == ("Every Kind of Label", "1", ["1"])
    doc = parse_file(BOOK / "kinds.qmd")
    md = crossref.with_title(doc, doc.text)
    assert "\n# Every Kind of Label\n" in md
    assert "Numbered from the front matter" in md.split("# Every Kind of Label", 1)[1]
    # a chapter with its own `# Heading` keeps it, and gets no second title
    preface = parse("---\ntitle: Preface\n---\n\n# Preface {.unnumbered}\n", "p.qmd")
    assert crossref.with_title(preface, preface.text) == preface.text


def test_crossref_options_change_the_numbers() -> None:
    settings = {"crossref": {"fig-labels": "roman", "tbl-labels": "alpha A", "subref-labels": "roman i",
                             "chapters": False}}
    got = numbers(book_index(settings))
    assert got["fig-swatch"] == "i" and got["fig-panel"] == "ii" and got["fig-right"] == "ii (ii)"
    assert got["tbl-div"] == "A" and got["tbl-first"] == "C (i)"
    assert got["eq-force"] == "2" and got["sec-sub"] == "1.2.1"  # sections keep their chapter
    assert got["fig-appendix"] == "a"  # the chapter's fig-labels, the book's `chapters: false`


def test_number_depth_and_number_sections() -> None:
    assert "sec-sub" not in book_index({"number-depth": 2}).labels  # a level-3 heading
    doc = parse("---\nnumber-sections: false\n---\n\n# Loose {#sec-loose}\n\n## Part {#sec-part}\n\n"
                "![A](a.png){#fig-a}\n", "loose.qmd")
    index = crossref.build_index([(doc, False)])
    assert index.chapters[0].chapter_numbers == [""]
    assert numbers(index) == {"fig-a": "1"}


def test_references_of_every_kind_and_capitalised_ones_resolve() -> None:
    doc = parse("# One {#sec-one}\n\n```{#lst-a .python lst-cap=\"Code\"}\nx = 1\n```\n\n"
                "::: {.callout-note #nte-a}\nNote.\n:::\n\nSee @Sec-one, @lst-a, @nte-a, -@sec-one, "
                "@imp-missing and @Lst-missing; `@fig-in-code` is code.\n", "refs.qmd")
    index = crossref.build_index([(doc, False)])
    assert numbers(index) == {"sec-one": "1", "lst-a": "1.1", "nte-a": "1.1"}
    missing = [(r.label, r.line) for r in index.unresolved({})]
    assert missing == [("imp-missing", 11), ("Lst-missing", 11)]


def test_a_label_defined_twice_is_a_located_error(tmp_path: Path) -> None:
    one = tmp_path / "one.qmd"
    one.write_text("# One {#sec-x}\n\n| a |\n|---|\n| 1 |\n\n: First {#tbl-x}\n", encoding="utf-8")
    two = tmp_path / "two.qmd"
    two.write_text("# Two\n\n## Again {#sec-x}\n\n| b |\n|---|\n| 2 |\n\n: Second {#tbl-x}\n",
                   encoding="utf-8")
    index = crossref.build_index([(parse_file(one), False), (parse_file(two), False)])
    shown = [m.replace(str(tmp_path) + "/", "") for m in index.duplicates]
    assert shown == [
        "two.qmd:3: label 'sec-x' is defined twice (first at one.qmd:1); rename one of them",
        "two.qmd:9: label 'tbl-x' is defined twice (first at one.qmd:7); rename one of them",
    ]


def test_a_callouts_headings_are_sections_but_a_first_one_standing_for_its_title() -> None:
    doc = parse("# C {#sec-c}\n\n::: {.callout-tip}\n## Title {#sec-title}\nBody.\n:::\n\n"
                "::: {.callout-tip title=\"Given\"}\n## Inside {#sec-inside}\n:::\n\n"
                "## Real section {#sec-real}\n", "c.qmd")
    assert numbers(crossref.build_index([(doc, False)])) == {"sec-c": "1", "sec-inside": "1.1",
                                                             "sec-real": "1.2"}


def test_a_cell_with_subcaptions_has_numbered_subfigures() -> None:
    cell = ('```{python}\n#| label: fig-pair\n#| fig-cap: Two plots\n#| fig-subcap:\n#|   - Left\n'
            '#|   - Right\nplot()\nplot()\n```\n')
    doc = parse(f"# One\n\n![Before](a.png){{#fig-before}}\n\n{cell}\n![After](b.png){{#fig-after}}\n",
                "cells.qmd")
    assert numbers(crossref.build_index([(doc, False)])) == {
        "fig-before": "1.1", "fig-pair": "1.2", "fig-pair-1": "1.2 (a)", "fig-pair-2": "1.2 (b)",
        "fig-after": "1.3"}


def test_check_reports_a_label_defined_twice_at_both_places_and_fails(tmp_path: Path) -> None:
    (tmp_path / "_quarto.yml").write_text(
        "project:\n  type: book\nbook:\n  title: Twice\n  chapters:\n    - one.qmd\n    - two.qmd\n")
    (tmp_path / "one.qmd").write_text("# One {#sec-x}\n\n![A swatch](a.png){#fig-a}\n")
    (tmp_path / "two.qmd").write_text(
        "# Two\n\nText.\n\n## Again {#sec-x}\n\n```{python}\n#| label: fig-a\n#| fig-cap: Again\n"
        "print(1)\n```\n")
    before = {p.name: p.read_text() for p in tmp_path.iterdir()}
    r = run_cli("check", cwd=tmp_path, timeout=60)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert "two.qmd:5:11: label 'sec-x' is defined twice (first at one.qmd:1:8) [XRF001]" in lines
    assert "two.qmd:8:1: label 'fig-a' is defined twice (first at one.qmd:3:20) [XRF001]" in lines
    assert lines[-1].startswith("2 errors in 2 files")
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == before  # check writes nothing
    # the same book without the repeat passes
    (tmp_path / "two.qmd").write_text("# Two\n\n## Once {#sec-y}\n")
    ok = run_cli("check", cwd=tmp_path, timeout=60)
    assert ok.returncode == 0 and "XRF001" not in ok.stdout, ok.stdout
