"""Quarto's execution options, rich outputs and includes, rendered for real (kernel, pandoc,
LaTeX) from tests/fixtures/exec/book, and read the way a reader sees them: the HTML page, the
PDF's text (pdftotext) and the markdown."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_cli

BOOK = FIXTURES / "exec" / "book"


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    pytest.importorskip("pandas")  # the data-frame table (a test-only dependency)
    root = tmp_path_factory.mktemp("exec") / "book"
    shutil.copytree(BOOK, root)
    r = run_cli("render", cwd=root)
    assert r.returncode == 0, r.stderr
    r = run_cli("render", "--to", "md", "--output-dir", "_md", cwd=root)
    assert r.returncode == 0, r.stderr
    return root


def page(book: Path, name: str) -> str:
    html = (book / "_book" / f"{name}.html").read_text(encoding="utf-8")
    return html[html.index("<main"):html.index("</main>")]


def text(html: str) -> str:
    """What a reader sees: the page without tags."""
    import html as h

    return h.unescape(re.sub(r"<[^>]+>", "", html))


@pytest.fixture(scope="module")
def pdf(book: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    out = subprocess.run(["pdftotext", "-layout", str(book / "_book" / "book.pdf"), "-"],
                         capture_output=True, text=True, timeout=60)
    return out.stdout


def md(book: Path, name: str) -> str:
    return (book / "_md" / f"{name}.md").read_text(encoding="utf-8")


def test_eval_false_shows_the_code_and_never_runs_it(book: Path, pdf: str) -> None:
    seen = text(page(book, "options"))
    assert 'print("eval" + "-false-ran")' in seen
    assert "eval-false-ran" not in seen.replace('"eval" + "-false-ran"', "")
    assert 'print("eval" + "-false-ran")' in pdf and "this cell must not run" in pdf
    assert 'print("eval" + "-false-ran")' in md(book, "options")


def test_chapter_echo_false_overrides_the_projects_echo_true(book: Path, pdf: str) -> None:
    seen = text(page(book, "options"))
    assert "quiet-code-output" in seen and '"quiet-" + "code-output"' not in seen
    assert "quiet-code-output" in pdf and '"quiet-" + "code-output"' not in pdf
    # included.qmd has no front matter: the project's `echo: true` shows its code
    assert 'value = "value-from-" + "include"' in text(page(book, "included"))


def test_code_fold_and_summary_in_html_only(book: Path, pdf: str) -> None:
    html = page(book, "options")
    closed = re.search(r'<details class="code-fold"><summary>Chapter summary</summary>(.*?)</details>',
                       html, re.S)
    assert closed and "folded_value" in text(closed.group(1))  # front matter beats _quarto.yml
    assert re.search(r'<details class="code-fold" open><summary>Cell summary</summary>', html)
    assert "folded-result" in text(html)
    assert 'folded_value = "folded-" + "result"' in pdf and "<details" not in pdf
    assert "<details" not in md(book, "options")


def test_echo_fenced_shows_the_cell_with_its_fence(book: Path, pdf: str) -> None:
    seen = text(page(book, "options"))
    assert '```{python}\n#| label: fenced\nprint("fenced-" + "echo")\n```' in seen
    assert "fenced-echo" in seen
    assert "```{python}" in pdf and "#| label: fenced" in pdf


def test_warning_and_message_false_hide_stderr(book: Path, pdf: str) -> None:
    for seen in (text(page(book, "options")), pdf, md(book, "options")):
        assert "UserWarning: shown-warning" in seen
        assert "hidden-warning" not in seen.replace('"hidden-" + "warning"', "")
        assert "after-warning" in seen
        assert "hidden-message" not in seen


def test_output_false_and_include_false(book: Path, pdf: str) -> None:
    for seen in (text(page(book, "options")), pdf, md(book, "options")):
        assert "silent-output" not in seen
        assert "included-false-output" not in seen and "class Hidden" not in seen
        assert "The hidden cell still ran: from-a-hidden-cell." in seen


def test_output_asis_is_markdown(book: Path, pdf: str) -> None:
    assert "Some <strong>asis-bold</strong> text." in page(book, "options")
    assert "Some asis-bold text." in pdf
    assert "Some **asis-bold** text." in md(book, "options")


def test_error_true_shows_the_exception_and_the_build_succeeds(book: Path, pdf: str) -> None:
    html = page(book, "options")
    block = re.search(r'<div class="cell-output cell-output-error">(.*?)</div>', html, re.S)
    assert block and "ZeroDivisionError: division by zero" in text(block.group(1))
    assert "\x1b[" not in html  # no terminal colour codes
    assert "ZeroDivisionError: division by zero" in pdf


def test_code_classes_line_numbers_and_overflow(book: Path) -> None:
    html = page(book, "options")
    cell = re.search(r'<div class="cell my-cell">\s*<div class="sourceCode[^>]*><pre class="([^"]+)"',
                     html)
    assert cell, html
    assert "code-overflow-wrap" in cell.group(1) and "numberLines" in cell.group(1)


def test_listing_caption_and_label(book: Path, pdf: str) -> None:
    html = page(book, "options")
    assert 'id="lst-demo"' in html and "Listing\xa01.1: A listing caption" in text(html)
    assert "A listing caption" in pdf and 'listing = "listing-" + "code"' in pdf


def test_subfigures_captions_alt_layout_and_size(book: Path, pdf: str) -> None:
    html = page(book, "options")
    start = html.index('<div id="fig-panels" class="quarto-float')
    body = html[start:html.index("Two panels side by side", start) + 40]
    assert body.count("<img") == 2
    assert 'alt="A rising line"' in body and 'alt="A falling line"' in body
    assert 'id="fig-panels-1"' in body and 'id="fig-panels-2"' in body  # Quarto's sub-figure ids
    assert "(a) Left panel" in body and "(b) Right panel" in body
    assert "Figure\xa01.1: Two panels side by side" in body
    assert 'style="flex-basis: 50.0%;"' in body  # layout-ncol: 2
    assert "quarto-figure-center" in html
    assert "(a) Left panel" in pdf and "Figure 1.1: Two panels side by side" in pdf
    # fig-width: 4 and fig-height: 2 from the front matter reach matplotlib (tight bbox trims);
    # Quarto's default for pages is a retina PNG: twice fig-dpi (96), shown at half its size
    img = re.search(r'<img src="options_files/(fig-panels-1\.png)" class="figure-img" '
                    r'width="(\d+)" height="(\d+)"', body)  # a height: no img-fluid (Quarto)
    assert img, body
    width, height = int(img.group(2)), int(img.group(3))
    assert 200 < width <= 4 * 96 and 100 < height <= 2 * 96
    png = (book / "_book" / "options_files" / img.group(1)).read_bytes()
    pixels = struct.unpack(">II", png[16:24])  # the PNG header's width and height
    assert pixels[0] in (2 * width, 2 * width + 1) and pixels[1] in (2 * height, 2 * height + 1)


def test_an_uncaptioned_output_image_sits_in_a_figure_as_quarto_writes_it(book: Path) -> None:
    html = page(book, "rich")
    image = html.index('<img src="rich_files/pixel-1.png"')
    block = html[html.rindex('<div class="cell-output-display">', 0, image):image + 200]
    # a PNG without a display size: img-fluid too (fig-responsive), as in Quarto's own tests
    assert re.fullmatch(r'<div class="cell-output-display">\s*<div>\s*<figure class="figure">\s*'
                        r'<p><img src="rich_files/pixel-1\.png" class="img-fluid figure-img"[^>]*>'
                        r'</p>\s*</figure>\s*</div>[\s\S]*', block), block


def test_figures_are_made_only_in_the_formats_requested(book: Path) -> None:
    assert sorted(p.suffix for p in (book / "_md" / "options_files").iterdir()) == [".png", ".png"]
    entries = [p.read_text() for p in (book / ".bookbuild" / "cache").glob("*.json")]
    md_only = [e for e in entries if "fig-panels" not in e and "image/png" in e]
    both = [e for e in entries if "application/pdf" in e]
    assert both, "the html+pdf render made PDF figures"
    # the md render's entry for options.qmd has PNG figures and no PDF ones
    assert any("image/png" in e and "application/pdf" not in e for e in entries), md_only


def test_html_output_is_kept_as_quarto_keeps_it_and_formats_pick_their_mime_type(
        book: Path, pdf: str) -> None:
    # (the code-tools listing shows the chapter's source as escaped text: leave it out here)
    html = re.sub(r'<details class="code-tools">.*?</details>', "", page(book, "rich"), flags=re.S)
    # Quarto passes a cell's HTML through untouched: a map or widget needs its script
    assert ('<p class="html-only">html-<b>only</b>-repr</p>'
            '<script>document.title = "script-ran"</script>') in html
    assert "<em>both-html</em>" in html and "both-markdown" not in html
    assert "latex-plain" in text(html)  # no text/latex in pages
    assert re.search(r'<img src="rich_files/pixel-1.png"', html)
    assert "latex-repr" in pdf and "latex-plain" not in pdf
    assert "both-markdown" in pdf and "both-html" not in pdf
    assert "*both-markdown*" in md(book, "rich")


def test_data_frame_becomes_a_captioned_numbered_table(book: Path, pdf: str) -> None:
    html = page(book, "rich")
    table = re.search(r'<div id="tbl-frame" class="quarto-float.*?</table>', html, re.S)
    assert table, html
    assert "Table\u00a02.1: A small data frame" in table.group(0)
    assert "<td>alpha-gpu</td>" in table.group(0) and "<td>459</td>" in table.group(0)
    assert 'See <a href="#tbl-frame" class="quarto-xref xref">Table\u00a02.1</a>' in html
    assert "Table 2.1: A small data frame" in pdf and "alpha-gpu" in pdf


def test_includes_bring_cells_and_values(book: Path, pdf: str) -> None:
    for seen in (text(page(book, "included")), pdf, md(book, "included")):
        assert "Inside the include: value-from-include." in seen
        assert "Back in the chapter: value-from-include and nested-value." in seen
        assert "From the project root: nested-value." in seen
        assert "{{< include _not_expanded.qmd >}}" in seen  # inside a code block: left alone


def test_code_tools_offer_the_chapter_source_in_html_only(book: Path, pdf: str) -> None:
    html = page(book, "rich")
    tools = re.search(r'<details class="code-tools"><summary>Source</summary>(.*?)</details>',
                      html, re.S)
    assert tools and "class HtmlOnly:" in text(tools.group(1))
    assert "code-tools: true" in text(tools.group(1))  # the .qmd as written
    assert 'class="code-tools"' not in page(book, "options")
    assert "code-tools: true" not in pdf


def test_markdown_table_output_takes_its_caption(book: Path, pdf: str) -> None:
    html = page(book, "rich")
    table = re.search(r'<div id="tbl-md" class="quarto-float.*?</table>', html, re.S)
    assert table and "Table\u00a02.2: A markdown table" in table.group(0)
    assert "<td>md-cell</td>" in table.group(0)
    assert "Table 2.2: A markdown table" in pdf


def test_an_error_below_blank_lines_at_the_top_of_a_cell_is_located_at_its_own_line(
        workdir: Path) -> None:
    """IPython drops a cell's leading blank lines before counting lines; the error must still
    name the `.qmd` line that failed, not a blank one above it."""
    (workdir / "doc.qmd").write_text("---\ntitle: Blank lead\n---\n\n```{python}\n\n\n"
                                     "# a comment\nundefined_name + 1\n```\n")
    r = run_cli("render", "doc.qmd", cwd=workdir)
    assert r.returncode == 1
    assert "doc.qmd:9: NameError in cell #1: name 'undefined_name' is not defined" in r.stderr
    assert "9 | undefined_name + 1" in r.stderr


def test_a_cell_of_another_language_is_shown_as_a_code_block_and_not_run(workdir: Path) -> None:
    """```{bash} in a Python document: Quarto shows it as code and runs nothing (pandoc alone
    reads `{bash}` as no attributes and makes one line of inline code of it)."""
    (workdir / "doc.qmd").write_text("---\ntitle: Shell\n---\n\nIn a terminal:\n\n```{bash}\n"
                                     "#| eval: false\ntouch made-by-bash\npip install cowsay\n```\n")
    r = run_cli("render", "doc.qmd", "--to", "html", cwd=workdir)
    assert r.returncode == 0, r.stderr
    page = (workdir / "doc.html").read_text(encoding="utf-8")
    block = re.search(r'<pre class="sourceCode bash[^"]*"><code[^>]*>(.*?)</code></pre>', page, re.S)
    assert block and "pip</span> install cowsay" in block.group(1)
    assert "<p><code>" not in page
    assert not (workdir / "made-by-bash").exists()
