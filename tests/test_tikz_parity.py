"""Python and Lua name a TikZ figure's SVG identically, so bookbuild's parallel compile is reused.

bookbuild compiles figures before pandoc runs and `filters/tikz.lua` looks them up by name; if the
two hashes ever differ, every figure is compiled twice (or a stale one is shown). The filter runs
here through the pinned pandoc with a cache folder that already holds the SVG under the name
Python computed: the link it writes shows the name it computed itself.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from bookbuild.publish import tikz
from bookbuild.publish.pandoc import pandoc_path
from bookbuild.source.qmd import parse
from tests.conftest import ROOT

FILTER = ROOT / "filters" / "tikz.lua"
PICTURE = "\\begin{tikzpicture}\\draw (0,0) -- (1,1);\\end{tikzpicture}"
FIGURES = {
    "plain": PICTURE,
    "several lines and indentation": "\\begin{tikzpicture}\n  \\draw (0,0)\n\t-- (1,1);\n"
                                     "\\end{tikzpicture}",
    "trailing blanks": PICTURE + "   \n\n  \t",
    "unicode text": "\\begin{tikzpicture}\\node {Größe – 3×};\\end{tikzpicture}",
    "percent and braces": "\\begin{tikzpicture}\\node {50\\% {x}}; % note\n\\end{tikzpicture}",
}
PREAMBLES = {
    "none": "",
    "the book's": (ROOT / "filters" / "tikz-preamble.tex").read_text(encoding="utf-8"),
    "no final newline": "\\usetikzlibrary{arrows.meta}",
}


def lua_name(tmp_path: Path, code: str, preamble: str, engine: str | None) -> str:
    """The SVG name the filter links to for one ```{.tikz} block."""
    pre = tmp_path / "preamble.tex"
    pre.write_bytes(preamble.encode("utf-8"))
    qmd = f"```{{.tikz}}\n{code}\n```\n"
    # Where Python says the figure is, an SVG already waits: the filter must not compile.
    expected = tikz.svg_name(pre.read_text(encoding="utf-8"), parse(qmd).fences[0].body)
    (tmp_path / "figs").mkdir(exist_ok=True)
    (tmp_path / "figs" / expected).write_text("<svg/>")
    # --preserve-tabs as bookbuild's own pandoc runs (render.py): pandoc would otherwise turn
    # tabs into spaces before the filter sees the block, and the names would differ.
    args = [str(pandoc_path()), "-f", "markdown", "-t", "html", "--preserve-tabs",
            "--lua-filter", str(FILTER), "-M", f"tikz-preamble={pre}", "-M", "tikz-cache=figs"]
    if engine is not None:
        args += ["-M", f"tikz-engine={engine}"]
    r = subprocess.run(args, input=qmd, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    [name] = re.findall(r'src="figs/(tikz-[0-9a-f]{40}\.svg)"', r.stdout)
    return name


@pytest.mark.parametrize("case", sorted(FIGURES))
def test_each_figure_gets_the_same_name_in_python_and_lua(tmp_path: Path, case: str) -> None:
    code = FIGURES[case]
    expected = tikz.svg_name(PREAMBLES["the book's"], parse(f"```{{.tikz}}\n{code}\n```\n").fences[0].body)
    assert lua_name(tmp_path, code, PREAMBLES["the book's"], tikz.engine_id()) == expected


@pytest.mark.parametrize("case", sorted(PREAMBLES))
def test_each_preamble_gives_the_same_name(tmp_path: Path, case: str) -> None:
    code = FIGURES["plain"]
    assert lua_name(tmp_path, code, PREAMBLES[case], tikz.engine_id()) == \
        tikz.svg_name(PREAMBLES[case], code)


def test_the_filter_computes_the_same_engine_identity_on_its_own(tmp_path: Path) -> None:
    """Under a plain `quarto render` nobody passes tikz-engine: the filter asks latex and dvisvgm."""
    code = FIGURES["plain"]
    assert lua_name(tmp_path, code, "", None) == tikz.svg_name("", code)


def test_a_changed_preamble_engine_or_figure_changes_the_name() -> None:
    base = tikz.svg_name("a", "x")
    assert len({base, tikz.svg_name("b", "x"), tikz.svg_name("a", "y")}) == 3
    assert tikz.svg_name("a", "x\n  ") == base  # trailing blanks are not part of the figure
