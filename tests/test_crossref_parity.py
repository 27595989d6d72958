"""Parity: the Python index (bookbuild/crossref.py) and filters/crossref.lua number alike.

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

from bookbuild import crossref
from bookbuild.pandoc import pandoc_path
from bookbuild.qmd import parse_file
from bookbuild.render import FILTERS, write_metadata
from tests.conftest import FIXTURES

BOOK = FIXTURES / "crossref" / "book"
CHAPTERS = [("preface.qmd", False), ("kinds.qmd", False), ("floats.qmd", False), ("extra.qmd", True)]
OPTIONS = {
    "default": {},
    "quarto options": {"crossref": {"fig-labels": "roman", "tbl-labels": "alpha A",
                                    "eq-labels": "Roman", "subref-labels": "roman i",
                                    "chapters": False}},
    "number-depth 2": {"number-depth": 2},
}


def filter_references(markdown: str, meta: dict, to: str, tmp: Path) -> dict[str, str]:
    """The reference text crossref.lua gives each `[label]` link of the rendered chapter."""
    meta_args = write_metadata(meta, tmp)
    r = subprocess.run([str(pandoc_path()), "-f", "markdown", "-t", to, "--wrap=none",
                        *meta_args, "--lua-filter", str(FILTERS / "crossref.lua")],
                       input=markdown, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    if to == "html":
        links = re.findall(r'<a href="#([^"]+)" class="quarto-xref xref">([^<]*)</a>', r.stdout)
        return {label: html.unescape(text).replace("\xa0", " ") for label, text in links}
    links = re.findall(r"\\hyperref\[([^\]]+)\]\{([^}]*)\}", r.stdout)
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
