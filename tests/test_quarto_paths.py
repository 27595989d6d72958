"""Paths handed to the filters survive folder names that look like Markdown."""

from __future__ import annotations

from pathlib import Path

from tests.quarto_helpers import Elements, book, render, text


def test_a_book_in_markdown_looking_folders_renders_references_and_citations(tmp_path: Path) -> None:
    # The project lives in `_draft_/*x*` and the temp folders (crossref index) in `_tmp_`:
    # read as Markdown these lose their underscores and asterisks.
    tmp = tmp_path / "_tmp_"
    tmp.mkdir()
    root = book("paths", tmp_path / "_draft_" / "*x*")
    r = render(root, "--to", "html", env={"TMPDIR": str(tmp)})
    assert r.returncode == 0, r.stderr
    two = Elements((root / "_book" / "two.html").read_text())
    links = [(e["attrs"].get("href"), text(e["text"])) for e in two.find("a")]
    assert ("one.html#sec-disks", "Section 1.1") in links
    one = (root / "_book" / "one.html").read_text()
    assert "(Writer 2019)" in text(Elements(one).find("p")[0]["text"])
    assert "Notes on Seek Times" in one
