"""The Lua filters on their own, through the pinned pandoc: usable without bookbuild (e.g. Quarto)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bookbuild.pandoc import pandoc_path
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
    assert '<span class="xref-label">Table 3.1:</span> Cap' in r.stdout
    assert '<a href="#tbl-a" class="xref">Table\xa03.1</a>' in r.stdout
    assert '<a href="#sec-part" class="xref">Section\xa03.1</a>' in r.stdout
    assert 'class="xref-unresolved"' in r.stdout and "?@fig-nope" in r.stdout


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
    from bookbuild import tikz
    from bookbuild.qmd import parse

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
