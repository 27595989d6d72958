"""Each format numbers what it shows: a section, a table or a chapter inside conditional content
(`.content-visible`/`.content-hidden` by `when-format`, `unless-format`, `when-meta`) takes a
number only in the formats that show it, and references from any chapter follow that format's
numbers, as Quarto keeps one cross-reference index per format (quarto-cli
src/project/types/book/book-crossrefs.ts, `bookCrossrefIndexes`).

The fixture book `tests/fixtures/quarto/formats/` holds an HTML-only section and table before
the section that the next chapter cites, a section hidden where `print-edition` is true (the
PDF's metadata) and one shown everywhere but HTML. The small cases are in
tests/test_crossref_formats_units.py.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.quarto_helpers import pdf_text, rendered_book


def shown(page: Path) -> str:
    """What a reader of the HTML page sees: the text, tags out, spaces collapsed."""
    body = re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8"))
    return re.sub(r"\s+", " ", html.unescape(body).replace("\xa0", " "))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, str]:
    dest = tmp_path_factory.mktemp("formats")
    r = rendered_book("formats", dest)
    return dest / "formats" / "_book", r.stderr


def test_the_html_pages_number_and_cite_what_html_shows(rendered) -> None:
    out, _ = rendered
    measuring = shown(out / "measuring.html")
    for heading in ("1.1 Reading the dials", "1.2 Trying it in the browser", "1.3 Latency budget",
                    "1.4 Live counters", "1.5 Wrapping up"):
        assert heading in measuring
    assert "Worksheet" not in measuring
    assert "Table 1.1: Slider positions" in measuring and "Table 1.2: Budget per stage" in measuring
    assert "Back to Section 1.3 and Table 1.2." in measuring
    citing = shown(out / "citing.html")
    assert "sit in Section 1.3, their table is Table 1.2, and the chapter ends with Section 1.5" in citing


def test_the_pdf_numbers_and_cites_what_the_pdf_shows(rendered) -> None:
    out, _ = rendered
    text = pdf_text(out / "book.pdf")
    for heading in ("1.1 Reading the dials", "1.2 Latency budget",
                    "1.3 Worksheet for the printed copy", "1.4 Wrapping up"):
        assert heading in text
    assert "browser" not in text and "Live counters" not in text
    assert "Table 1.1: Budget per stage" in text
    assert "Back to Section 1.2 and Table 1.1." in text
    assert ("sit in Section 1.2, their table is Table 1.1, and the chapter ends with Section 1.4"
            in text)


def test_a_reference_inside_content_one_format_hides_warns_about_nothing(rendered) -> None:
    _, stderr = rendered
    # @sec-browser sits inside the HTML-only block: the PDF neither shows it nor misses it
    assert "unresolved" not in stderr


def test_check_still_finds_a_label_defined_twice_across_formats(tmp_path: Path) -> None:
    one = tmp_path / "one.qmd"
    one.write_text("# One\n\n::: {.content-visible when-format=\"html\"}\n## Web {#sec-x}\n:::\n",
                   encoding="utf-8")
    two = tmp_path / "two.qmd"
    two.write_text("# Two\n\n## Paper {#sec-x}\n", encoding="utf-8")
    # chapters of one book (two documents outside a project may each define it)
    (tmp_path / "_quarto.yml").write_text(
        "project:\n  type: book\nbook:\n  chapters:\n    - one.qmd\n    - two.qmd\n", encoding="utf-8")
    r = run_cli("check", "one.qmd", "two.qmd", cwd=tmp_path, timeout=60)
    assert r.returncode == 1
    assert "two.qmd:3:11: label 'sec-x' is defined twice (first at one.qmd:4:9)" in r.stdout


def small_book(root: Path, **chapters: str) -> None:
    """A book of the given chapters (name without `.qmd`: text), in that order."""
    listing = "".join(f"    - {name}.qmd\n" for name in chapters)
    (root / "_quarto.yml").write_text(
        f"project:\n  type: book\nbook:\n  title: Small\n  chapters:\n{listing}", encoding="utf-8")
    for name, text in chapters.items():
        (root / f"{name}.qmd").write_text(text, encoding="utf-8")


def test_a_label_may_be_defined_once_for_the_web_and_once_for_print(tmp_path: Path) -> None:
    # Quarto keeps one index per format: each output sees exactly one definition
    small_book(tmp_path,
               one="# One\n\n::: {.content-visible when-format=\"html\"}\n## On screen {#sec-x}\n\n"
                   "Web words.\n:::\n",
               two="# Two\n\n::: {.content-visible when-format=\"pdf\"}\n## On paper {#sec-x}\n:::\n\n"
                   "See @sec-x.\n")
    r = run_cli("check", cwd=tmp_path, timeout=60)
    assert r.returncode == 0 and "XRF001" not in r.stdout, r.stdout
    r = run_cli("render", "--to", "html", cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    two = (tmp_path / "_book" / "two.html").read_text(encoding="utf-8")
    assert '<a href="one.html#sec-x" class="quarto-xref xref">Section\u00a01.1</a>' in two


def test_an_html_render_says_when_a_missing_label_is_only_in_print(tmp_path: Path) -> None:
    # the PDF's index is not built for an HTML render, unless a miss needs it to be explained
    small_book(tmp_path,
               one="# One\n\n::: {.content-visible when-format=\"pdf\"}\n## On paper {#sec-paper}\n"
                   ":::\n\nSee @sec-paper and @sec-nowhere.\n")
    r = run_cli("render", "--to", "html", cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    assert ("one.qmd:7: warning: unresolved cross-reference 'sec-paper' (in the html: defined only "
            "in content hidden there)") in r.stderr, r.stderr
    assert "unresolved cross-reference 'sec-nowhere' (not in this book" in r.stderr
