"""Parity: the Python index (bookbuild/analysis/crossref.py) and filters/crossref.lua number alike.

bookbuild numbers the whole book before pandoc runs, so that a chapter can name a label of
another; the Lua filter numbers each chapter again as it renders it. Each fixture chapter is
rendered here by the filter alone (no index given), with a reference to every label the chapter
defines appended, and the filter's reference text must be the index's, in HTML and in LaTeX.
"""

from __future__ import annotations

import html
import re
import subprocess
from pathlib import Path

import pytest

from bookbuild.analysis import crossref
from bookbuild.publish.pandoc import pandoc_path
from bookbuild.publish.pandoc_run import FILTER_ORDER, FILTERS, write_metadata
from bookbuild.source.qmd import parse, parse_file
from tests.conftest import FIXTURES

BOOK = FIXTURES / "crossref" / "book"
ASIDES = FIXTURES / "crossref" / "asides"
CHAPTERS = [("preface.qmd", False), ("kinds.qmd", False), ("floats.qmd", False), ("extra.qmd", True)]
OPTIONS = {
    "default": {},
    "quarto options": {"crossref": {"fig-labels": "roman", "tbl-labels": "alpha A",
                                    "eq-labels": "Roman", "subref-labels": "roman i",
                                    "chapters": False}},
    "number-depth 2": {"number-depth": 2},
}


def run_filters(markdown: str, meta: dict, to: str, tmp: Path, filters: list[str]) -> str:
    """`markdown` through pandoc and `filters` (from filters/), as `to`."""
    meta_args = write_metadata(meta, tmp)
    lua = [arg for f in filters for arg in ("--lua-filter", str(FILTERS / f))]
    r = subprocess.run([str(pandoc_path()), "-f", "markdown", "-t", to, "--wrap=none",
                        *meta_args, *lua], input=markdown, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def filter_references(markdown: str, meta: dict, to: str, tmp: Path,
                      filters: tuple[str, ...] = ("crossref.lua",)) -> dict[str, str]:
    """The reference text the filters give each `[label]` link of the rendered chapter."""
    out = run_filters(markdown, meta, to, tmp, list(filters))
    if to == "html":
        links = re.findall(r'<a href="#([^"]+)" class="quarto-xref xref">([^<]*)</a>', out)
        return {label: html.unescape(text).replace("\xa0", " ") for label, text in links}
    links = re.findall(r"\\hyperref\[([^\]]+)\]\{([^}]*)\}", out)
    return {label: text.replace("~", " ") for label, text in links}


@pytest.mark.parametrize("to", ["html", "latex"])
@pytest.mark.parametrize("name", list(OPTIONS))
def test_filter_and_index_give_every_label_the_same_number(name: str, to: str, tmp_path: Path) -> None:
    settings = OPTIONS[name]
    docs = [(parse_file(BOOK / f), appendix) for f, appendix in CHAPTERS]
    index = crossref.build_index(docs, settings)
    checked = 0
    for (doc, _), info in zip(docs, index.chapters, strict=True):
        mine = {k: v for k, v in index.labels.items() if v.source == info.source}
        refs = " ".join(f"@{label}" for label in mine)
        markdown = crossref.with_title(doc, doc.text) + f"\n\nAll: {refs}\n"
        meta = {**settings, "crossref-chapters": info.filter_chapters()}
        got = filter_references(markdown, meta, to, tmp_path)
        want = {k: f"{crossref.KINDS[v.kind]} {v.number}" for k, v in mine.items()}
        assert {k: got.get(k) for k in want} == want, f"{doc.path} ({name}, {to})"
        checked += len(want)
    assert checked >= 20 if name != "number-depth 2" else checked >= 19


@pytest.mark.parametrize("to", ["html", "latex"])
def test_headings_in_tabsets_margins_and_theorems_are_no_sections_but_a_callouts_are(to: str, tmp_path: Path) -> None:
    """The page (every filter, in the order bookbuild runs them) and the index number them alike:
    a callout's headings are sections (but for a first one that titles it), as in Quarto."""
    docs = [(parse_file(ASIDES / f), False) for f in ("opening.qmd", "asides.qmd")]
    index = crossref.build_index(docs, {})
    numbers = {k: v.number for k, v in index.labels.items()}
    assert numbers["sec-in-note"] == "2.1.1" and numbers["sec-in-tip"] == "2.2"
    assert numbers["sec-between"] == "2.3" and numbers["sec-after"] == "2.4"
    assert numbers["tip-labelled"] == "2.1" and numbers["fig-in-callout"] == "2.1"
    assert numbers["eq-inside-tip"] == "2.1" and numbers["lem-inside"] == "2.1"
    doc, info = docs[1][0], index.chapters[1]
    mine = {k: v for k, v in index.labels.items() if v.source == info.source}
    refs = " ".join(f"@{label}" for label in mine)
    meta = {"crossref-chapters": info.filter_chapters()}
    markdown = doc.text + f"\n\nAll: {refs}\n"
    got = filter_references(markdown, meta, to, tmp_path, tuple(FILTER_ORDER))
    assert got == {k: f"{crossref.KINDS[v.kind]} {v.number}" for k, v in mine.items()}
    page = run_filters(markdown, meta, to, tmp_path, list(FILTER_ORDER))
    # what a reader sees: the asides' headings carry no number, the chapter's sections do
    for heading in ("Installing the package", "A margin heading", "A heading inside a lemma"):
        assert heading in page and not re.search(r"2\.\d+(\.\d+)?\}?</span>\s*" + heading, page)
        assert not re.search(r"\{2\.\d[\d.]*\} " + heading, page)
    assert re.search(r"2\.4\}?(</span>)? After the asides", page)
    assert re.search(r"2\.1\.1\}?(</span>)? A heading in the body of a note", page)


def test_a_book_index_page_shows_a_bare_title_and_sections_from_zero(tmp_path: Path) -> None:
    """The index's HTML page as crossref.lua writes it from the index's chapter list."""
    doc = parse("---\ntitle: Welcome\n---\n\n## About {#sec-about}\n\n# Extra {#sec-extra}\n\n"
                "See @sec-about and @sec-extra.\n", "index.qmd")
    info = crossref.build_index([(doc, False)], None, crossref.Output("html")).chapters[0]
    markdown = crossref.with_title(doc, doc.text)
    page = run_filters(markdown, {"crossref-chapters": info.filter_chapters()}, "html", tmp_path,
                       ["crossref.lua"])
    shown = re.sub(r"<[^>]+>", "", page)
    assert re.search(r"^Welcome$", shown, re.M) and "0.1 About" in shown and "1 Extra" in shown
    assert "See Section 0.1 and" in html.unescape(shown).replace("\xa0", " ")
