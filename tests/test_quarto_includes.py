"""include-in-header / include-before-body / include-after-body in HTML and PDF, and LaTeX
errors located in the `.qmd` or the header file the offending text came from."""

from __future__ import annotations

from pathlib import Path

from tests.quarto_helpers import Elements, book, pdf_text, render


def test_html_pages_carry_the_format_includes(tmp_path: Path) -> None:
    root = book("features", tmp_path)
    r = render(root, "--to", "html", "callouts.qmd")
    assert r.returncode == 0, r.stderr
    html = (root / "_book" / "callouts.html").read_text()
    page = Elements(html)
    head = html[:html.index("</head>")]
    assert '<meta name="book-flavour" content="features">' in head
    footer = page.find("footer", "book-colophon")
    assert footer and footer[0]["text"].strip() == "Set in the features fixture."
    assert html.index("book-colophon") > html.index('class="page-nav"')


def test_pdf_reads_a_header_file_from_the_top_level(tmp_path: Path) -> None:
    root = book("texbook", tmp_path)
    r = render(root, "--to", "pdf", timeout=300)
    assert r.returncode == 0, r.stderr
    assert "(contents of this chapter)" in pdf_text(root / "_book" / "macros.pdf")


def test_an_undefined_macro_names_the_qmd_line(tmp_path: Path) -> None:
    root = book("texbook", tmp_path)
    (root / "preamble" / "macros.tex").write_text("% nothing defined here\n")
    r = render(root, "--to", "pdf", timeout=300)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "intro.qmd:5: LaTeX error: Undefined control sequence: \\chapterminitoc" in r.stderr
    assert not (root / "_book" / "macros.pdf").exists()


def test_an_error_inside_the_header_names_the_header_file(tmp_path: Path) -> None:
    root = book("texbook", tmp_path)
    macros = root / "preamble" / "macros.tex"
    macros.write_text(macros.read_text() + "\\setlength{\\parindent}{\\nosuchlength}\n")
    r = render(root, "--to", "pdf", timeout=300)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "preamble/macros.tex:3: LaTeX error: Undefined control sequence" in r.stderr


def test_a_missing_include_file_is_a_located_warning(tmp_path: Path) -> None:
    root = book("features", tmp_path)
    (root / "html" / "after.html").unlink()
    r = render(root, "--to", "html", "callouts.qmd")
    assert r.returncode == 0, r.stderr
    assert ("_quarto.yml:17: warning: include-after-body file 'html/after.html' not found"
            in r.stderr)
