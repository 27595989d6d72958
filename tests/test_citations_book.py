"""Citations in a book whose bibliography is its references page (Quarto's references.qmd).

Each cited work links to its own entry on that page, as citeproc links them on a single page;
the citing chapter shows no list of its own.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.quarto_helpers import render

BIB = """\
@article{halley1686, author = {Halley, Edmond}, title = {An Historical Account of the Trade Winds},
  journal = {Philosophical Transactions}, year = {1686}}
@book{hadley1735, author = {Hadley, George}, title = {Concerning the Cause of the General
  Trade-Winds}, publisher = {Royal Society}, year = {1735}}
"""


def test_each_cited_work_links_to_its_entry_on_the_references_page(tmp_path: Path) -> None:
    root = tmp_path / "winds"
    root.mkdir()
    (root / "_quarto.yml").write_text(
        "project:\n  type: book\nbook:\n  title: Winds\n  chapters:\n    - index.qmd\n"
        "    - references.qmd\nbibliography: winds.bib\nformat:\n  html: default\n")
    (root / "winds.bib").write_text(BIB)
    (root / "index.qmd").write_text(
        "# Trade winds\n\nThe winds converge [see @halley1686, p. 153; also @hadley1735]. "
        "@hadley1735 added the rotation.\n")
    (root / "references.qmd").write_text("# References {.unnumbered}\n\n::: {#refs}\n:::\n")
    r = render(root, "--to", "html")
    assert r.returncode == 0, r.stderr
    index = (root / "_book" / "index.html").read_text(encoding="utf-8")
    assert ('(see <a href="references.html#ref-halley1686">Halley 1686, 153</a>; also '
            '<a href="references.html#ref-hadley1735">Hadley 1735</a>)') in index, index
    assert 'Hadley (<a href="references.html#ref-hadley1735">1735</a>)</span> added' in index
    assert "csl-entry" not in index and 'id="refs"' not in index  # the list is elsewhere
    assert not re.search(r"<h\d[^>]*>References", index)
    refs = (root / "_book" / "references.html").read_text(encoding="utf-8")
    for key in ("halley1686", "hadley1735"):
        assert f'id="ref-{key}"' in refs
