"""A document outside any book renders as `quarto render doc.qmd` does: `doc.html` and
`doc_files/` beside it, numbered as a document, never over a file bookbuild did not write."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from tests.quarto_helpers import Elements, pdf_text, text


def _png() -> bytes:
    """A one-pixel grey PNG: a picture both the page and LaTeX take."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b""))


DOT = _png()

# Our own words: a short field note with two pictures, a table and one computed number.
NOTE = """---
title: "Hedgerow survey"
author: "R. Fieldworker"
date: 2026-04-12
---

## Method

![The east hedge](dot.png){#fig-east}

The east hedge is in @fig-east, the west one in @fig-west and the counts in @tbl-birds.

![The west hedge](dot.png){#fig-west}

| Hedge | Wrens |
|-------|-------|
| East  | 4     |
| West  | 7     |

: Wrens seen per hedge {#tbl-birds}

## Findings {#sec-findings}

```{python}
#| echo: false
class Count:
    wrens = 4 + 7
```

Both hedges held `{python} Count.wrens` wrens.
"""


@pytest.fixture
def note(workdir: Path) -> Path:
    """The field note alone in a folder outside any project."""
    (workdir / "dot.png").write_bytes(DOT)
    path = workdir / "survey.qmd"
    path.write_text(NOTE)
    return path


def _page(path: Path) -> Elements:
    return Elements(path.read_text(encoding="utf-8"))


def test_a_lone_document_is_numbered_as_a_document_beside_its_source(cli, note: Path) -> None:
    r = cli("render", "survey.qmd", cwd=note.parent)
    assert r.returncode == 0, r.stderr
    assert not (note.parent / "_book").exists()
    page = _page(note.parent / "survey.html")
    captions = [text(e["text"]) for e in page.find("figcaption")]
    assert captions == ["Figure 1: The east hedge", "Figure 2: The west hedge",
                        "Table 1: Wrens seen per hedge"]
    refs = [text(e["text"]) for e in page.find("a", "quarto-xref")]
    assert refs == ["Figure 1", "Figure 2", "Table 1"]
    # no book around it: no chapter list, no previous/next, the title block from the front matter
    assert not page.find("nav", "sidebar") and not page.find("nav", "page-nav")
    assert text(page.find("title")[0]["text"]) == "Hedgerow survey"
    block = page.find("header", "quarto-title-block")[0]
    assert "R. Fieldworker" in text(block["text"]) and "2026-04-12" in text(block["text"])
    # sections are not numbered unless the document asks
    assert not page.find("span", "header-section-number")
    assert "Both hedges held 11 wrens." in text(page.find("main")[0]["text"])
    stylesheet = [e["attrs"]["href"] for e in page.find("link") if e["attrs"].get("rel") == "stylesheet"]
    assert stylesheet and all((note.parent / href).is_file() for href in stylesheet)
    assert all(href.startswith("survey_files/") for href in stylesheet)


def test_number_sections_numbers_a_document_from_1(cli, workdir: Path) -> None:
    (workdir / "notes.qmd").write_text(
        "---\ntitle: Notes\nnumber-sections: true\n---\n\n# Soil {#sec-soil}\n\n## Clay {#sec-clay}\n\n"
        "See @sec-soil and @sec-clay.\n\n# Water\n")
    r = cli("render", "notes.qmd", cwd=workdir)
    assert r.returncode == 0, r.stderr
    page = _page(workdir / "notes.html")
    assert [text(e["text"]) for e in page.find("span", "header-section-number")] == ["1", "1.1", "2"]
    assert [text(e["text"]) for e in page.find("a", "quarto-xref")] == ["Section 1", "Section 1.1"]


def test_a_document_as_pdf_and_markdown_lands_beside_it(cli, note: Path) -> None:
    r = cli("render", "survey.qmd", "--to", "pdf", "--to", "md", cwd=note.parent)
    assert r.returncode == 0, r.stderr
    words = pdf_text(note.parent / "survey.pdf")
    assert "Hedgerow survey" in words and "R. Fieldworker" in words
    assert "Figure 1: The east hedge" in words and "Table 1: Wrens seen per hedge" in words
    assert "the west one in Figure 2 and the counts in Table 1" in words
    assert "Both hedges held 11 wrens." in (note.parent / "survey.md").read_text()
    assert not (note.parent / "_book").exists() and not (note.parent / "survey.html").exists()


def test_a_hand_written_page_beside_the_document_is_never_overwritten(cli, note: Path) -> None:
    mine = note.parent / "survey.html"
    mine.write_text("<p>my own page</p>\n")
    r = cli("render", "survey.qmd", cwd=note.parent)
    assert r.returncode == 2
    assert "refusing to write survey.html: bookbuild did not write it" in r.stderr
    assert "[OUT001]" in r.stderr and "help:" in r.stderr and "Traceback" not in r.stderr
    assert mine.read_text() == "<p>my own page</p>\n"
    assert sorted(p.name for p in note.parent.iterdir() if p.name != ".bookbuild") == [
        "dot.png", "survey.html", "survey.qmd"]
    # into a folder of its own it renders, and a second render replaces its own page
    out = note.parent / "out"
    assert cli("render", "survey.qmd", "--output-dir", "out", cwd=note.parent).returncode == 0
    assert cli("render", "survey.qmd", "--output-dir", "out", cwd=note.parent).returncode == 0
    assert (out / "survey.html").is_file() and (out / "survey_files").is_dir()


def test_the_numbers_lock_of_a_document_lies_beside_it(cli, note: Path) -> None:
    r = cli("numbers", "accept", "survey.qmd", cwd=note.parent)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Count.wrens" in (note.parent / "numbers.lock").read_text()
    assert cli("numbers", "check", "survey.qmd", cwd=note.parent).returncode == 0
    r = cli("numbers", "why", "Count.wrens", "survey.qmd", cwd=note.parent)
    assert r.returncode == 0 and "Count.wrens" in r.stdout, r.stdout + r.stderr
    note.write_text(NOTE.replace("4 + 7", "4 + 8"))
    r = cli("numbers", "check", "survey.qmd", cwd=note.parent)
    assert r.returncode == 1 and "survey.qmd:" in r.stdout
    assert cli("check", "survey.qmd", cwd=note.parent).returncode == 0


def test_a_default_project_numbers_each_document_from_1(cli, workdir: Path) -> None:
    (workdir / "_quarto.yml").write_text("project:\n  type: default\n")
    (workdir / "dot.png").write_bytes(DOT)
    (workdir / "spring.qmd").write_text(
        "---\ntitle: Spring\n---\n\n![Buds](dot.png){#fig-buds}\n\nSee @fig-buds.\n")
    (workdir / "autumn").mkdir()
    (workdir / "autumn" / "dot.png").write_bytes(DOT)
    (workdir / "autumn" / "leaves.qmd").write_text(
        "---\ntitle: Autumn\n---\n\n![Leaves](dot.png){#fig-buds}\n\n![Fruit](dot.png){#fig-fruit}\n\n"
        "See @fig-buds and @fig-fruit.\n")  # a label of spring's too: each document has its own
    (workdir / "_draft.qmd").write_text("# Not rendered\n")
    r = cli("render", cwd=workdir)
    assert r.returncode == 0, r.stderr
    spring = _page(workdir / "spring.html")
    leaves = _page(workdir / "autumn" / "leaves.html")
    assert [text(e["text"]) for e in spring.find("figcaption")] == ["Figure 1: Buds"]
    assert [text(e["text"]) for e in leaves.find("figcaption")] == ["Figure 1: Leaves",
                                                                    "Figure 2: Fruit"]
    assert [e["attrs"]["href"] for e in leaves.find("a", "quarto-xref")] == ["#fig-buds", "#fig-fruit"]
    assert "unresolved" not in r.stderr
    assert cli("check", cwd=workdir).returncode == 0
    assert not (workdir / "_draft.html").exists() and not (workdir / "_book").exists()
    (workdir / "_quarto.yml").write_text("project:\n  type: default\n  output-dir: _site\n")
    assert cli("render", cwd=workdir).returncode == 0
    assert (workdir / "_site" / "autumn" / "leaves.html").is_file()


def test_rendered_elsewhere_a_document_s_folder_is_left_as_it_was(cli, note: Path,
                                                                   tmp_path: Path) -> None:
    before = sorted(p.name for p in note.parent.iterdir())
    r = cli("render", str(note), "--output-dir", str(tmp_path / "out"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out" / "survey.html").is_file()
    assert sorted(p.name for p in note.parent.iterdir()) == before  # no cache, no manifest


def test_pictures_in_a_folder_beside_the_document_are_shown_where_they_are(cli, workdir: Path,
                                                                        tmp_path: Path) -> None:
    """`quarto render doc.qmd` leaves `pics/` alone: the page points at it. Rendered elsewhere,
    the picture is copied beside the page."""
    (workdir / "pics").mkdir()
    (workdir / "pics" / "dot.png").write_bytes(DOT)
    (workdir / "walk.qmd").write_text("---\ntitle: Walk\n---\n\n![A stile](pics/dot.png)\n")
    r = cli("render", "walk.qmd", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert '<img src="pics/dot.png"' in (workdir / "walk.html").read_text(encoding="utf-8")
    assert (workdir / "pics" / "dot.png").read_bytes() == DOT
    assert "pics" not in (workdir / ".bookbuild-manifest.json").read_text()  # the author's
    r = cli("render", "walk.qmd", cwd=workdir)  # and again, over its own output
    assert r.returncode == 0, r.stderr
    r = cli("render", "walk.qmd", "--output-dir", str(tmp_path / "out"), cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out" / "pics" / "dot.png").read_bytes() == DOT


def test_a_website_is_no_longer_rendered_as_a_book(cli, workdir: Path) -> None:
    (workdir / "_quarto.yml").write_text("project:\n  type: website\n")
    (workdir / "index.qmd").write_text("# Welcome\n\nA page.\n")
    r = cli("render", "--to", "md", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert "not supported" not in r.stderr
    assert (workdir / "_site" / "index.md").is_file()
    assert not (workdir / "_book").exists()
