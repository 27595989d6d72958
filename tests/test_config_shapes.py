"""Every shape Quarto's schema allows for a key bookbuild reads renders, with Quarto's meaning:
`format: html`, `format: [html, pdf]`, `bibliography: a.bib`, `execute:` left empty, YAML dates...
(quarto-cli src/resources/schema/document-*.yml, project.yml, front-matter.ts)."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest

from tests.conftest import run_cli

BIB = "@book{knuth, title={The Art}, author={Knuth, Donald}, year=1968}\n"


def make_book(root: Path, config: str = "", front: str = "", body: str = "Text.",
              book: str = "") -> Path:
    """A one-chapter book with `config` added to `_quarto.yml`, `book` to its `book:` mapping
    (indented) and `front` to its chapter's front matter."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "_quarto.yml").write_text(
        "project:\n  type: book\nbook:\n  title: Shapes\n  chapters: [index.qmd]\n"
        + "".join(f"  {line}\n" for line in book.splitlines()) + config + "\n",
        encoding="utf-8")
    (root / "index.qmd").write_text(f"---\ntitle: Hello\n{front}\n---\n\n{body}\n",
                                    encoding="utf-8")
    (root / "a.bib").write_text(BIB, encoding="utf-8")
    (root / "x.css").write_text(".shape-css { color: red }\n", encoding="utf-8")
    (root / "y.css").write_text(".shape-y { color: blue }\n", encoding="utf-8")
    return root


def render(root: Path, *args: str):
    result = run_cli("render", *args, cwd=root)
    assert "internal error" not in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result


def page(root: Path) -> str:
    return (root / "_book" / "index.html").read_text(encoding="utf-8")


# --- format: every shape, in _quarto.yml and in the chapter ---------------------------------

FORMATS = ["format: html", "format: [html, pdf]", "format: {html: default}",
           "format: {html: null, pdf: {toc: true}}", "format: {html: true}", "format:",
           "format: {html: {toc: true}}"]


@pytest.mark.parametrize("shape", FORMATS)
def test_format_shapes_in_config(tmp_path, shape):
    root = make_book(tmp_path / "b", config=shape)
    result = render(root, "--to", "html")
    assert result.returncode == 0, result.stderr
    assert "Text." in page(root)


@pytest.mark.parametrize("shape", ["format: html", "format: [html, pdf]", "format: pdf",
                                   "format: {html: default}", "format:"])
def test_format_shapes_in_chapter(tmp_path, shape):
    root = make_book(tmp_path / "b", front=shape)
    result = render(root, "--to", "html")
    assert result.returncode == 0, result.stderr
    assert "Text." in page(root)


def test_format_list_in_config_names_the_formats_render_writes(tmp_path):
    """`format: [html]` selects HTML as `format: {html: default}` does (no PDF is written)."""
    root = make_book(tmp_path / "b", config="format: [html]")
    result = render(root)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (root / "_book").glob("*.pdf")) == []
    assert "Text." in page(root)


# --- values of one item or a list, null, YAML dates and keys --------------------------------

def test_format_level_bibliography_is_read(tmp_path):
    """`format: html: bibliography: a.bib` cites as a top-level `bibliography:` does."""
    root = make_book(tmp_path / "b", config="format:\n  html:\n    bibliography: a.bib",
                     body="As @knuth shows.")
    result = render(root, "--to", "html")
    assert result.returncode == 0, result.stderr
    assert "not found" not in result.stderr
    assert "Knuth" in page(root)


@pytest.mark.parametrize("config, front", [
    ("execute:", ""), ("bibliography:", ""), ("", "bibliography:"), ("", "filters:"),
    ("project:\n  type: book\n  output-dir: _book\n  resources:", ""),
    ("", "filters: []"), ("", "execute:"), ("", "crossref:"), ("crossref: false", ""),
])
def test_empty_values_mean_nothing_set(tmp_path, config, front):
    """A key left empty (YAML null) is as if it were absent, as in Quarto (pandoc read an
    empty `bibliography:` as a file named "")."""
    root = make_book(tmp_path / "b", config=config, front=front, body="Text, as @knuth says.")
    result = render(root, "--to", "html")
    assert result.returncode == 0, result.stderr
    assert "Text, as" in page(root)


@pytest.mark.parametrize("front", ["date: 2024-01-02", "date-modified: 2024-01-02",
                                   "2024: a year as a key", "true: a boolean key",
                                   "author: [Ann, {name: Bob, affiliation: Uni}]"])
def test_yaml_dates_and_keys_in_front_matter(tmp_path, front):
    root = make_book(tmp_path / "b", front=front)
    result = render(root, "--to", "html")
    assert result.returncode == 0, result.stderr


def test_date_today_is_the_render_day_in_the_pdf_metadata(tmp_path):
    """`date: today` means the day of the render (Quarto), not the word 'today'."""
    from bookbuild.source import project, shapes

    root = make_book(tmp_path / "b", config="date: today")
    proj = project.load(root)
    assert proj.config["date"] == datetime.date.today().isoformat()
    assert shapes.normalize({"book": {"date": "now"}})["book"]["date"] == \
        datetime.date.today().isoformat()


def test_filters_as_one_string_in_the_chapter(tmp_path):
    """`filters: f.lua` (one filter, not a list) runs that filter."""
    root = make_book(tmp_path / "b", front="filters: upper.lua", body="shout")
    (root / "upper.lua").write_text(
        "function Str(s) return pandoc.Str(s.text:upper()) end\n", encoding="utf-8")
    result = render(root, "--to", "html")
    assert result.returncode == 0, result.stderr
    assert "SHOUT" in page(root)


@pytest.mark.parametrize("where", ["config", "front"])
def test_format_level_filters_run(tmp_path, where):
    """`format: html: filters: [f.lua]` runs the filter, as a top-level `filters:` does."""
    block = "format:\n  html:\n    filters: [upper.lua]"
    root = make_book(tmp_path / "b", body="shout",
                     **({"config": block} if where == "config" else {"front": block}))
    (root / "upper.lua").write_text(
        "function Str(s) return pandoc.Str(s.text:upper()) end\n", encoding="utf-8")
    result = render(root, "--to", "html")
    assert result.returncode == 0, result.stderr
    assert "SHOUT" in page(root)


def test_format_execute_options_apply(tmp_path):
    """`format: html: execute: {echo: false}` hides code as Quarto does (format over project)."""
    root = make_book(tmp_path / "b", config="execute: {echo: true}\nformat:\n  html:\n"
                     "    execute: {echo: false}",
                     body="```{python}\n#| eval: false\nsecret_code = 1\n```\n")
    result = render(root, "--to", "html")
    assert result.returncode == 0, result.stderr
    assert "secret_code" not in page(root)


@pytest.mark.parametrize("front, shown", [
    ("format:\n  html:\n    note: chapter-format\nnote: chapter-top", "chapter-format"),
    ("note: chapter-top\nformat:\n  html:\n    note: chapter-format", "chapter-format"),
    ("note: chapter-top", "chapter-top"),
    ("format: html", "project-format"),
])
def test_precedence_project_format_document(tmp_path, front, shown):
    """Quarto's order, later winning: project, project format, document, document format
    (whatever the order of the keys in the front matter)."""
    root = make_book(tmp_path / "b", config="note: project-top\nformat:\n  html:\n"
                     "    note: project-format", front=front, body="Value {{< meta note >}}.")
    result = render(root, "--to", "html")
    assert result.returncode == 0, result.stderr
    assert f"Value {shown}." in page(root)


@pytest.mark.parametrize("front", ["number-sections: false",
                                   "format:\n  html:\n    number-sections: false"])
def test_chapter_number_sections_at_either_level(tmp_path, front):
    """A chapter's `number-sections: false`, top level or under its format, unnumbers it."""
    root = make_book(tmp_path / "b", front=front, body="## Part {#sec-part}\n\nSee @sec-part.")
    result = render(root, "--to", "html")
    assert result.returncode == 0, result.stderr
    html = page(root)
    assert "header-section-number" not in html.split('id="content"')[1], html


@pytest.mark.parametrize("config, front, shown", [
    ("", "", True), ("toc: false", "", False), ("format:\n  html:\n    toc: false", "", False),
    ("toc: false", "toc: true", True), ("", "format:\n  html:\n    toc: false", False),
])
def test_toc_false_hides_the_page_contents(tmp_path, config, front, shown):
    root = make_book(tmp_path / "b", config=config, front=front, body="## Part\n\nText.")
    result = render(root, "--to", "html")
    assert result.returncode == 0, result.stderr
    assert ('class="page-toc"' in page(root)) is shown


# --- site options: honoured, or named in one note line ---------------------------------------

@pytest.mark.parametrize("where", ["config", "format", "front"])
@pytest.mark.parametrize("css", ["css: x.css", "css: [x.css, y.css]"])
def test_css_is_copied_and_linked(tmp_path, where, css):
    config = css if where == "config" else (
        "format:\n  html:\n    " + css if where == "format" else "")
    root = make_book(tmp_path / "b", config=config, front=css if where == "front" else "")
    result = render(root, "--to", "html")
    assert result.returncode == 0, result.stderr
    html = page(root)
    link = re.search(r'<link rel="stylesheet" href="([^"]*x\.css)"', html)
    assert link, html[:800]
    assert (root / "_book" / link.group(1)).read_text(encoding="utf-8").startswith(".shape-css")
    if "y.css" in css:
        assert 'y.css"' in html
    assert "not supported" not in result.stderr


@pytest.mark.parametrize("where", ["book", "website"])
def test_favicon_is_copied_and_linked(tmp_path, where):
    root = make_book(tmp_path / "b", **({"book": "favicon: icon.png"} if where == "book" else
                                        {"config": "website:\n  favicon: icon.png"}))
    (root / "icon.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    result = render(root, "--to", "html")
    assert result.returncode == 0, result.stderr
    assert '<link rel="icon" href="icon.png"' in page(root)
    assert (root / "_book" / "icon.png").is_file()


@pytest.mark.parametrize("footer", ['page-footer: "Made with *care*"',
                                    'page-footer:\n  left: "Made with *care*"\n  right: R'])
def test_page_footer_is_shown(tmp_path, footer):
    root = make_book(tmp_path / "b", book=footer)
    result = render(root, "--to", "html")
    assert result.returncode == 0, result.stderr
    footer_html = re.search(r'<footer class="page-footer">(.*?)</footer>', page(root), re.S)
    assert footer_html and "<em>care</em>" in footer_html.group(1)


@pytest.mark.parametrize("config, front, book, key", [
    ("theme: cosmo", "", "", "theme"),
    ("format:\n  html:\n    theme: [cosmo, custom.scss]", "", "", "theme"),
    ("format:\n  html:\n    toc-depth: 2\n    code-link: true", "", "", "code-link"),
    ("", "", "sharing: [twitter]\ncookie-consent: true", "sharing"),
    ("", "", "sharing: [twitter]\ncookie-consent: true", "cookie-consent"),
    ("", "theme: [cosmo, custom.scss]", "", "theme"),
    ("theme: cosmo", "theme: flatly", "", "theme"),
    ("", "crossref: false", "", "crossref: false"),
])
def test_unsupported_site_options_are_named_once(tmp_path, config, front, book, key):
    """Valid Quarto bookbuild does not do yet: exit 0 and one note line per key."""
    root = make_book(tmp_path / "b", config=config, front=front, book=book)
    result = render(root, "--to", "html")
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    named = [line for line in notes if f"'{key}'" in line]
    assert len(named) == 1, result.stderr
    assert "not supported by bookbuild yet; ignored" in named[0]
    assert len(notes) == len(set(notes)), notes


def test_options_bookbuild_does_are_not_named(tmp_path):
    # code-copy and highlight-style are honoured (a copy button, pandoc's colours): no note
    root = make_book(tmp_path / "b", config="format:\n  html:\n    code-copy: true\n"
                                            "    highlight-style: pygments")
    result = render(root, "--to", "html")
    assert result.returncode == 0, result.stderr
    assert "code-copy" not in result.stderr and "highlight-style" not in result.stderr


def test_formats_bookbuild_does_not_write_are_named(tmp_path):
    root = make_book(tmp_path / "b", config="format:\n  html: default\n  docx:\n    toc: true\n"
                     "  revealjs: default", front="format: [docx, html]")
    result = render(root, "--to", "html")
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert [n.split(": ", 2)[2] for n in notes] == [
        "the format 'docx' is not supported by bookbuild yet; ignored",
        "the format 'revealjs' is not supported by bookbuild yet; ignored"], notes
    assert notes[0].startswith("note: _quarto.yml:8: ")


def test_supported_options_give_no_note(tmp_path):
    root = make_book(tmp_path / "b", config="toc: true\nlang: de\nnumber-sections: true\n"
                     "bibliography: a.bib\nformat:\n  html:\n    css: x.css")
    result = render(root, "--to", "html")
    assert result.returncode == 0, result.stderr
    assert "note:" not in result.stderr, result.stderr
    assert '<html lang="de">' in page(root)


def test_pdf_prints_author_names_and_the_render_day(tmp_path):
    """`author:` as Quarto's mappings prints the names (pandoc printed "true" for a mapping),
    and `date: today` the day of the render, on the PDF's title page. The same book has
    `link-citations: true` without a bibliography, valid Quarto on which LaTeX stopped on an
    undefined \\citeproc (found by test_config_shapes_property). One PDF for both: LaTeX is slow."""
    import subprocess

    root = make_book(tmp_path / "b", book="author:\n  - name: Ann Author\n    affiliation: Uni\n"
                     "  - name: {given: Bo, family: Writer}\n  - Cy Plain\ndate: today\n"
                     "output-file: shapes", config="format:\n  pdf: default\nlink-citations: true",
                     body="As @knuth says.")
    result = render(root, "--to", "pdf")
    assert result.returncode == 0, result.stderr
    text = subprocess.run(["pdftotext", str(root / "_book" / "shapes.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    title_page = text.split("Contents")[0]
    assert "Ann Author" in title_page and "Bo Writer" in title_page and "Cy Plain" in title_page
    assert "true" not in title_page
    assert datetime.date.today().isoformat() in title_page
