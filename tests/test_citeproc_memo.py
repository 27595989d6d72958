"""The pandoc worker's remembered citeproc (bookbuild/lua/citeproc_memo.lua) writes every page
as pandoc's command line does: first time and again, with the same warnings, for the page
shapes citeproc treats specially (footnotes, #refs divs, a closing heading, note and
superscript styles, positions reset by section) and after the bibliography changes.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bookbuild.publish import pandoc_run as render
from bookbuild.publish import pandocworker
from bookbuild.publish.userfilters import UserFilters

BIB = """\
@book{lamport, title={Specifying Systems}, author={Leslie Lamport}, year=2002,
      publisher={Addison-Wesley}}
@article{dean, title={The Tail at Scale}, author={Jeffrey Dean and Luiz Andr{\\'e} Barroso},
         journal={Communications of the ACM}, year=2013}
@misc{knuth, title={Notes on Things}, author={Donald Knuth}, year=1999}
"""


def style(klass: str, cite_layout: str) -> str:
    """A small CSL style of our own: `klass` is in-text or note."""
    return textwrap.dedent(f"""\
        <?xml version="1.0" encoding="utf-8"?>
        <style xmlns="http://purl.org/net/xbiblio/csl" class="{klass}" version="1.0">
          <info><title>Test style</title><id>test-style</id>
            <updated>2026-01-01T00:00:00+00:00</updated></info>
          <citation>
            {cite_layout}
          </citation>
          <bibliography>
            <layout><names variable="author"/><text variable="title" prefix=", "/></layout>
          </bibliography>
        </style>
        """)


NOTE_STYLE = style("note", '<layout suffix="." delimiter="; "><names variable="author"/>'
                           '<text variable="title" prefix=", "/></layout>')
SUPERSCRIPT_STYLE = style("in-text", '<layout vertical-align="sup" delimiter=","><text '
                                     'variable="citation-number"/></layout>')
POSITION_STYLE = style("in-text", '<layout prefix="(" suffix=")"><choose><if position='
                                  '"subsequent"><text value="again"/></if><else><names '
                                  'variable="author"/></else></choose></layout>')
DOT_STYLE = style("in-text", '<layout suffix="." delimiter="; "><names variable="author"/>'
                             '</layout>')

MIXED = """\
# Start

As @lamport argues [see @lamport, p. 3; @dean], and again [-@dean]. A key nobody
defined [@nobody].^[A footnote that cites @knuth and @lamport.] After the note @dean.

::: {#refs .extra}
Before the list, a word on @knuth.
:::

Closing words after the list.
"""

CASES = {
    "footnotes, a #refs div with its own text, a missing key": (MIXED, {}, None),
    "linked citations": (MIXED, {"link-citations": True}, None),
    "a closing heading takes the list": ("Text @lamport and @dean.\n\n# Works cited\n", {}, None),
    "reference-section-title": ("Text @lamport.\n\n# Last\n",
                                {"reference-section-title": "Bibliography"}, None),
    "suppress-bibliography": (MIXED, {"suppress-bibliography": True}, None),
    "nocite everything": ("Only @dean here.\n", {"nocite": "@*"}, None),
    "a note style": ("Text @lamport, more [@dean].^[Own note [@knuth].]\n", {}, NOTE_STYLE),
    "a superscript style": ("Text [@lamport] and more text [@dean], not [@nobody].\n", {},
                            SUPERSCRIPT_STYLE),
    "a citation ending in a full stop": ("Text [@lamport]. And [@dean].\n", {}, DOT_STYLE),
    "the page's own csl-quoted span": ("A [quoted]{.csl-quoted} word, @lamport.\n", {}, None),
    "positions reset by section": ("# One\n\n[@lamport], [@lamport].\n\n"
                                   "# Two {.reset-citation-positions}\n\n[@lamport].\n", {},
                                   POSITION_STYLE),
    "another language": ("Voir @lamport et @dean.\n", {"lang": "de-DE"}, None),
    "no citations": ("No citation at all.\n\n::: {#refs}\n:::\n", {}, None),
}


def both_ways(md: str, meta: dict, folder: Path) -> tuple[tuple, tuple]:
    assert pandocworker.enabled(), "the pandoc worker needs /dev/fd (Linux)"
    worker = render._by_worker(md, meta, folder, "page.qmd", UserFilters(), True)
    line = render._by_command_line(md, meta, folder, "page.qmd", UserFilters(), True)
    assert worker[0] is not None, "the worker declined the page"
    return worker, line


@pytest.mark.parametrize("case", list(CASES))
def test_citations_come_out_as_the_command_line_writes_them(case: str, tmp_path: Path) -> None:
    md, extra, csl = CASES[case]
    (tmp_path / "refs.bib").write_text(BIB, encoding="utf-8")
    meta = {"bibliography": render.Literal("refs.bib"), **extra}
    if csl:
        (tmp_path / "style.csl").write_text(csl, encoding="utf-8")
        meta["csl"] = render.Literal("style.csl")
    first, line = both_ways(md, meta, tmp_path)
    assert first == line
    again, _ = both_ways(md, meta, tmp_path)  # the worker's memo, if it kept the page's
    assert again == line


def test_the_missing_key_is_reported_every_time(tmp_path: Path) -> None:
    (tmp_path / "refs.bib").write_text(BIB, encoding="utf-8")
    meta = {"bibliography": render.Literal("refs.bib")}
    for prose in ("First wording", "Second wording"):  # a prose edit: same citations
        worker, line = both_ways(f"{prose}, @lamport and @nobody.\n", meta, tmp_path)
        assert worker == line
        assert any("citation nobody not found" in w for w in worker[1]), worker[1]
        assert "Lamport" in worker[0]


def test_an_edited_bibliography_is_read_again(tmp_path: Path) -> None:
    (tmp_path / "refs.bib").write_text(BIB, encoding="utf-8")
    meta = {"bibliography": render.Literal("refs.bib")}
    md = "Text @lamport.\n"
    before, _ = both_ways(md, meta, tmp_path)
    assert "Specifying Systems" in before[0]
    (tmp_path / "refs.bib").write_text(BIB.replace("Specifying Systems", "Specifying Anew"),
                                       encoding="utf-8")
    after, line = both_ways(md, meta, tmp_path)
    assert after == line
    assert "Specifying Anew" in after[0] and "Specifying Systems" not in after[0]
