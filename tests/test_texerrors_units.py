"""Where a LaTeX error of the PDF run is reported: the `.qmd` line whose text LaTeX stopped on,
or, when that text could be anywhere (a lone brace), the generated LaTeX's line, never a guess."""

from __future__ import annotations

from bookbuild.publish.texerrors import Source, locate

CHAPTERS = [Source("index.qmd", "# Preface {.unnumbered}\n\nWords.\n"),
            Source("tides.qmd", "# Tides\n\nThe \\gaugemark{} is here.\n")]


def test_an_undefined_macro_is_found_in_its_chapter() -> None:
    err = "! Undefined control sequence.\nl.88 The \\gaugemark\n"
    assert locate(err, CHAPTERS).startswith(
        "tides.qmd:3: LaTeX error: Undefined control sequence: The \\gaugemark")


def test_a_lone_brace_is_not_pinned_on_the_first_chapter_with_a_brace() -> None:
    err = "! LaTeX Error: Not in outer par mode.\n\nl.149 }\n"
    assert locate(err, CHAPTERS) == ("pdf: LaTeX error: LaTeX Error: Not in outer par mode at line "
                                     "149 of the generated LaTeX: }")


def test_no_latex_error_is_none() -> None:
    assert locate("[WARNING] Could not fetch resource x.png\n", CHAPTERS) is None
