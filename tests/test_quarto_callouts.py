"""Callouts as Quarto renders them: structure and reader-visible text in HTML, text in the PDF."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bookbuild.publish.pandoc import pandoc_path
from tests.conftest import ROOT
from tests.quarto_helpers import Elements, book, pdf_text, render, text


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = book("features", tmp_path_factory.mktemp("callouts"))
    r = render(root, "--to", "html", "callouts.qmd")
    assert r.returncode == 0, r.stderr
    return r, Elements((root / "_book" / "callouts.html").read_text())


@pytest.fixture(scope="module")
def page(rendered) -> Elements:
    return rendered[1]


def callouts(page: Elements) -> list[dict]:
    return page.find("div", "callout")


def title(page: Elements, callout: dict) -> str | None:
    found = page.within(callout, "div", "callout-title-container")
    return text(found[0]["text"]) if found else None


def body(page: Elements, callout: dict) -> str:
    return text(page.within(callout, "div", "callout-body-container")[0]["text"])


def test_each_callout_has_quartos_structure(page: Elements) -> None:
    boxes = callouts(page)
    assert len(boxes) == 9
    for box in boxes:
        assert any(c.startswith("callout-style-") for c in box["classes"])
        assert len(page.within(box, "div", "callout-body-container")) == 1
    note = boxes[0]
    assert {"callout-note", "callout-titled", "callout-style-default"} <= note["classes"]
    header = page.within(note, "div", "callout-header")[0]
    assert page.within(header, "div", "callout-icon-container")
    assert page.within(header, "div", "callout-title-container")


def test_titles_come_from_the_attribute_a_heading_or_the_type(page: Elements) -> None:
    boxes = callouts(page)
    assert title(page, boxes[0]) == "Note"
    assert title(page, boxes[1]) == "Tip from a heading"
    assert "Tip from a heading" not in body(page, boxes[1])  # moved, not copied
    assert not page.within(boxes[1], "h2")
    assert title(page, boxes[2]) == "Watch out"  # language: callout-warning-title
    assert title(page, boxes[3]) == "Read this first"
    assert page.within(boxes[3], "em")[0]["text"] == "this"


def test_collapse_is_a_details_element_without_script(page: Elements) -> None:
    boxes = callouts(page)
    folded = page.within(boxes[3], "details")
    assert len(folded) == 1 and "open" not in folded[0]["attrs"]
    assert text(page.within(folded[0], "summary")[0]["text"]) == "Read this first"
    assert "Folded away" in text(folded[0]["text"])
    opened = page.within(boxes[4], "details")
    assert len(opened) == 1 and "open" in opened[0]["attrs"]
    assert not page.scripts_besides_search()
    assert not page.within(boxes[0], "details")


def test_appearance_and_icon_options(page: Elements) -> None:
    boxes = callouts(page)
    simple, minimal, no_icon, plain = boxes[5], boxes[6], boxes[7], boxes[8]
    assert "callout-style-simple" in simple["classes"] and title(page, simple) == "Quiet note"
    assert "no-icon" not in simple["classes"]
    assert {"callout-style-simple", "no-icon"} <= minimal["classes"]
    assert title(page, minimal) is None and "callout-titled" not in minimal["classes"]
    assert body(page, minimal) == "A minimal box has neither title nor icon."
    assert "no-icon" in no_icon["classes"] and title(page, no_icon) == "No icon here"
    assert {"callout-style-simple", "no-icon"} <= plain["classes"] and title(page, plain) is None
    assert body(page, plain) == "An untyped callout."


def test_an_undeclared_type_is_a_plain_div_with_a_located_note(rendered) -> None:
    """Quarto knows five callout types; any other `.callout-x` is a plain div, no box."""
    r, page = rendered
    assert ("note: callouts.qmd:41: '.callout-mystery' is not a Quarto callout type (note, tip, "
            "warning, caution, important), so it is a plain div") in r.stderr
    assert "unknown callout type" not in r.stderr  # valid Quarto: no warning, --strict passes
    plain = page.find("div", "callout-mystery")
    assert len(plain) == 1 and "callout" not in plain[0]["classes"]
    assert text(plain[0]["text"]) == "A type nobody declared is a plain div, as Quarto leaves it."
    assert not page.within(plain[0], "div", "callout-title-container")


def test_callouts_filter_brings_tcolorbox_to_plain_pandoc(tmp_path: Path) -> None:
    src = tmp_path / "box.md"
    src.write_text('::: {.callout-tip title="Boxed advice"}\nKeep the box.\n:::\n\n'
                   "::: {.callout-note appearance=\"simple\"}\nA quiet one.\n:::\n")
    r = subprocess.run([str(pandoc_path()), str(src), "--lua-filter",
                        str(ROOT / "filters" / "callouts.lua"), "--pdf-engine=lualatex",
                        "-o", str(tmp_path / "box.pdf")], capture_output=True, text=True,
                       timeout=180, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    shown = pdf_text(tmp_path / "box.pdf")
    assert "Boxed advice" in shown and "Keep the box." in shown and "A quiet one." in shown


def test_a_callouts_attributes_come_out_in_one_order_every_run(tmp_path: Path) -> None:
    """Ours (colour, type) first, then the author's as written: the page is the same each run."""
    src = tmp_path / "attrs.md"
    src.write_text('::: {.callout-tip #tip-a title="T" data-zeta="1" data-alpha="2" lang="en" '
                   'data-mid="3" aria-label="box"}\nBody.\n:::\n')
    pages = set()
    for _ in range(4):  # Lua's table order changes between processes; a list's does not
        r = subprocess.run([str(pandoc_path()), str(src), "-t", "html5", "--wrap=none", "--lua-filter",
                            str(ROOT / "filters" / "callouts.lua")], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, r.stderr
        pages.add(r.stdout)
    assert len(pages) == 1
    opening = pages.pop().splitlines()[0]
    assert opening.endswith('style="--callout-color: #1a7f37" data-callout="tip" data-zeta="1" '
                            'data-alpha="2" lang="en" data-mid="3" aria-label="box">')
