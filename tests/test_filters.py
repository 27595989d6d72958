"""The Lua filters on their own, through the pinned pandoc: usable without bookbuild (e.g. Quarto)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from bookbuild.publish.pandoc import pandoc_path
from tests.conftest import ROOT

FILTERS = ROOT / "filters"


def pandoc(text: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(pandoc_path()), "-f", "markdown", "--wrap=none", *args], input=text,
                          capture_output=True, text=True, cwd=cwd)


def test_inline_refs_fails_listing_every_unevaluated_reference() -> None:
    text = "A `{python} Numbers.ridge` and `{python} x + 1`.\n\nPlain `code` is fine.\n"
    r = pandoc(text, "-t", "html", "--lua-filter", str(FILTERS / "inline-refs.lua"))
    assert r.returncode != 0
    assert "2 inline reference(s) reached pandoc unevaluated" in r.stderr
    assert "1. `{python} Numbers.ridge`" in r.stderr
    assert "2. `{python} x + 1`" in r.stderr
    assert r.stdout == ""


def test_inline_refs_passes_a_document_without_leftovers() -> None:
    r = pandoc("Values 295 and `code`.\n", "-t", "html", "--lua-filter", str(FILTERS / "inline-refs.lua"))
    assert r.returncode == 0, r.stderr
    assert "<code>code</code>" in r.stdout


def test_crossref_numbers_and_links_within_a_document() -> None:
    text = ("# Intro {#sec-intro}\n\n## Part {#sec-part}\n\n| a |\n|---|\n| 1 |\n\n: Cap {#tbl-a}\n\n"
            "See @tbl-a, @sec-part and @fig-nope.\n")
    r = pandoc(text, "-t", "html", "--lua-filter", str(FILTERS / "crossref.lua"),
               "-M", "crossref-chapters=3")
    assert r.returncode == 0, r.stderr
    assert '<span class="header-section-number">3.1</span> Part' in r.stdout
    assert ('<figcaption class="quarto-float-caption-top quarto-float-caption quarto-float-tbl" '
            'id="tbl-a-caption">\nTable\xa03.1: Cap\n</figcaption>') in r.stdout
    assert '<a href="#tbl-a" class="quarto-xref xref">Table\xa03.1</a>' in r.stdout
    assert '<a href="#sec-part" class="quarto-xref xref">Section\xa03.1</a>' in r.stdout
    assert 'class="quarto-unresolved-ref xref-unresolved"' in r.stdout
    assert "<strong>?@fig-nope</strong>" in r.stdout


def test_crossref_options_prefixes_delimiter_and_plain_references() -> None:
    text = ("---\ncrossref:\n  fig-prefix: fig.\n  fig-title: Fig\n  title-delim: \"\u2014\"\n"
            "  ref-hyperlink: false\n  fig-labels: roman\n---\n\n![Cap](a.png){#fig-a}\n\n"
            "See @fig-a, @Fig-a and -@fig-a.\n")
    r = pandoc(text, "-t", "html", "--lua-filter", str(FILTERS / "crossref.lua"))
    assert r.returncode == 0, r.stderr
    assert "Fig\xa0i\u2014 Cap\n</figcaption>" in r.stdout
    assert "See fig.\xa0i, Fig.\xa0i and i." in r.stdout  # no links with ref-hyperlink: false


def test_crossref_alone_numbers_equations_callouts_and_subfigures_in_latex() -> None:
    text = ("# One\n\n$$ x = 1 $$ {#eq-x}\n\n::: {.callout-tip #tip-a}\n## Short\nBody.\n:::\n\n"
            "::: {#fig-p layout-ncol=2}\n![A](a.png){#fig-a}\n\n![B](b.png){#fig-b}\n\nBoth\n:::\n\n"
            "See @eq-x, @tip-a and @fig-b.\n")
    r = pandoc(text, "-t", "latex", "-s", "--lua-filter", str(FILTERS / "crossref.lua"),
               "-M", "crossref-chapters=2")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "\\[ x = 1  \\tag{2.1}\\label{eq-x}\\]" in out
    assert "\\captionsetup[sub]{labelformat=empty, labelsep=none}" in out  # brings its packages
    assert "\\caption{(b) B}\\label{fig-b}" in out and "\\caption{Figure~2.1: Both}\\label{fig-p}" in out
    assert "\\phantomsection\\label{tip-a}" in out
    assert "\\hyperref[eq-x]{Equation~2.1}, \\hyperref[tip-a]{Tip~2.1} and \\hyperref[fig-b]{Figure~2.1 (b)}" in out
    assert "Short" not in out.split("\\label{tip-a}")[1].split("Body")[0]  # the title left the body


def test_callouts_builtin_and_declared_types(tmp_path: Path) -> None:
    text = ('::: {.callout-note title="Heads up"}\nBody.\n:::\n\n'
            '::: {.callout-takeaways}\nMore.\n:::\n')
    meta = "callout-types:\n  takeaways: {label: Takeaways, color: '#6f42c1'}\n"
    meta_file = tmp_path / "m.yaml"
    meta_file.write_text(meta)
    r = pandoc(text, "-t", "html", "--lua-filter", str(FILTERS / "callouts.lua"),
               "--metadata-file", str(meta_file))
    assert r.returncode == 0, r.stderr
    assert 'class="callout callout-style-default callout-note callout-titled"' in r.stdout
    assert '<div class="callout-title-container flex-fill">Heads up</div>' in r.stdout
    assert '<div class="callout-title-container flex-fill">Takeaways</div>' in r.stdout
    assert "--callout-color: #6f42c1" in r.stdout
    latex = pandoc(text, "-t", "latex", "--lua-filter", str(FILTERS / "callouts.lua"),
                   "--metadata-file", str(meta_file))
    assert "\\begin{tcolorbox}" in latex.stdout and "title={Heads up}" in latex.stdout


def test_tikz_filter_compiles_on_its_own(tmp_path: Path) -> None:
    import shutil

    if shutil.which("latex") is None or shutil.which("dvisvgm") is None:
        pytest.fail("TeX Live and dvisvgm are required: run `make setup` "
                    "(apt-get install texlive-latex-extra texlive-pictures dvisvgm)")
    text = "```{.tikz}\n\\begin{tikzpicture}\\draw[BlueLine] (0,0) -- (1,1);\\end{tikzpicture}\n```\n"
    r = pandoc(text, "-t", "html", "--lua-filter", str(FILTERS / "tikz.lua"),
               "-M", f"tikz-preamble={FILTERS / 'tikz-preamble.tex'}", "-M", "tikz-cache=figs",
               cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    svgs = list((tmp_path / "figs").glob("tikz-*.svg"))
    assert len(svgs) == 1 and "<svg" in svgs[0].read_text()
    assert f'src="figs/{svgs[0].name}"' in r.stdout
    latex = pandoc(text, "-t", "latex", "--lua-filter", str(FILTERS / "tikz.lua"), cwd=tmp_path)
    assert "\\begin{tikzpicture}\\draw[BlueLine]" in latex.stdout


def test_tikz_filter_reports_a_latex_error(tmp_path: Path) -> None:
    text = "```{.tikz}\n\\begin{tikzpicture}\\undefinedmacro\\end{tikzpicture}\n```\n"
    r = pandoc(text, "-t", "html", "--lua-filter", str(FILTERS / "tikz.lua"), cwd=tmp_path)
    assert r.returncode != 0
    assert "tikz.lua: latex failed" in r.stderr and "Undefined control sequence" in r.stderr


def test_figures_compile_in_one_batch_and_a_broken_one_is_still_located(tmp_path: Path) -> None:
    from bookbuild.publish import tikz
    from bookbuild.source.qmd import parse

    good = "\\begin{tikzpicture}\\draw[BlueLine] (0,0) -- (1,1);\\end{tikzpicture}"
    other = "\\begin{tikzpicture}\\draw[RedLine] (0,0) circle (1);\\end{tikzpicture}"
    preamble = (FILTERS / "tikz-preamble.tex").read_text()
    doc = parse(f"::: {{#fig-a}}\n```{{.tikz}}\n{good}\n```\n:::\n\n```{{.tikz}}\n{other}\n```\n", "f.qmd")
    paths, errors = tikz.compile_all(tikz.figures(doc), preamble, tmp_path / "ok", jobs=2)
    assert errors == [] and all("<svg" in p.read_text() for p in paths.values())

    broken = other.replace("\\draw[RedLine]", "\\drw[RedLine]")
    doc = parse(f"::: {{#fig-a}}\n```{{.tikz}}\n{good}\n```\n:::\n\n```{{.tikz}}\n{broken}\n```\n", "f.qmd")
    paths, errors = tikz.compile_all(tikz.figures(doc), preamble, tmp_path / "bad", jobs=2)
    assert len(errors) == 1
    assert errors[0].startswith("f.qmd:8: LaTeX error in a TikZ figure")
    assert "Undefined control sequence" in errors[0]
    assert paths[tikz.figures(doc)[0]].exists()  # the good figure still compiled


LINKS = ("[intro](intro.qmd), [fit](parts/fits.qmd#sec-fit), [query](a.qmd?x=1#y), "
         "[site](https://example.org/page.qmd), [notes](notes.md), [data](table.qmd.csv)\n")


def test_links_to_sources_go_to_their_pages_in_html() -> None:
    r = pandoc(LINKS, "-t", "html", "--lua-filter", str(FILTERS / "links.lua"))
    assert r.returncode == 0, r.stderr
    for href in ("intro.html", "parts/fits.html#sec-fit", "a.html?x=1#y",
                 "https://example.org/page.qmd", "notes.md", "table.qmd.csv"):
        assert f'href="{href}"' in r.stdout, r.stdout


def test_links_to_a_place_in_a_source_stay_inside_the_pdf() -> None:
    r = pandoc(LINKS, "-t", "latex", "--lua-filter", str(FILTERS / "links.lua"))
    assert r.returncode == 0, r.stderr
    assert r"\hyperref[sec-fit]{fit}" in r.stdout, r.stdout
    assert r"\href{intro.qmd}{intro}" in r.stdout  # a whole file: no place to point at
    assert r"\url{https://example.org/page.qmd}" in r.stdout or \
        r"\href{https://example.org/page.qmd}{site}" in r.stdout


def test_conditional_format_aliases_html_js_and_pdf(tmp_path: Path) -> None:
    """`html:js` is a page that runs scripts (html, not epub); `pdf` and `latex` are one."""
    import zipfile

    text = ("::: {.content-visible when-format=\"html:js\"}\nScripted only.\n:::\n\n"
            "::: {.content-hidden unless-format=\"pdf\"}\nPrinted only.\n:::\n\n"
            "[Web words]{.content-visible when-format=\"html\"}\n")
    shown = {}
    for to in ("html", "epub", "latex"):
        out = tmp_path / f"out.{to}"
        r = pandoc(text, "-t", to, "-o", str(out), "--metadata", "title=T",
                   "--lua-filter", str(FILTERS / "conditional.lua"))
        assert r.returncode == 0, r.stderr
        if to == "epub":
            with zipfile.ZipFile(out) as z:
                shown[to] = " ".join(z.read(n).decode() for n in z.namelist()
                                     if n.endswith(".xhtml"))
        else:
            shown[to] = out.read_text()
    assert "Scripted only." in shown["html"] and "Web words" in shown["html"]
    assert "Printed only." not in shown["html"]
    assert "Scripted only." not in shown["epub"] and "Web words" in shown["epub"]
    assert "Printed only." in shown["latex"] and "Scripted only." not in shown["latex"]


def test_tbl_colwidths_values_and_document_default() -> None:
    """A list (the last repeats, a sum over 100 scaled), `false`/`auto` as Quarto reads them."""
    def cols(text: str, *meta: str) -> list[str]:
        r = pandoc(text, "-t", "html", *meta, "--lua-filter", str(FILTERS / "tables.lua"))
        assert r.returncode == 0, r.stderr
        assert "tbl-colwidths" not in r.stdout
        return re.findall(r'<col style="([^"]+)"', r.stdout)

    table = "| a | b | c |\n|---|---|---|\n| 1 | [l](https://e.org) | 3 |\n\n: T"
    assert cols(table + ' {tbl-colwidths="[50,100]"}') == [
        "width: 20%", "width: 40%", "width: 40%"]
    assert cols(table + ' {tbl-colwidths="20,30"}') == ["width: 20%", "width: 30%", "width: 30%"]
    long_table = "| a | b |\n|---|---|\n| " + "x " * 60 + "| y |\n\n: T"
    assert len(cols(long_table)) == 2  # pandoc's own relative widths for a long row
    assert cols(long_table, "-M", "tbl-colwidths=false") == []
    assert cols(long_table + ' {tbl-colwidths="auto"}') == cols(long_table)  # no link: pandoc's
    assert cols(table + ' {tbl-colwidths="auto"}', "-M", "tbl-colwidths=[10,10,80]") == []
    assert cols(table, "-M", "tbl-colwidths=[10,10,80]") == [
        "width: 10%", "width: 10%", "width: 80%"]  # the document's own default
