"""The filters as a Quarto extension, and each filter on its own from plain pandoc."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from bookbuild.publish import extension
from bookbuild.publish.pandoc import pandoc_path
from tests.conftest import ROOT
from tests.quarto_helpers import book, pdf_text, render, text

INSTALLED = ROOT / "_extensions" / "bookbuild"


def test_the_committed_extension_is_what_make_extension_writes() -> None:
    wanted = {name: ("link", target) for name, target in extension.links().items()}
    wanted["_extension.yml"] = ("file", extension.manifest())
    present = {p.name: ("link", str(p.readlink())) if p.is_symlink() else ("file", p.read_text())
               for p in INSTALLED.iterdir()}
    stale = sorted(n for n in wanted.keys() | present.keys() if wanted.get(n) != present.get(n))
    assert not stale, f"_extensions/bookbuild is out of date ({', '.join(stale)}): run `make extension`"


def test_the_extension_filters_are_the_filters_themselves() -> None:
    # One copy of the Lua: every filter the manifest lists is the very file in filters/.
    listed = yaml.safe_load((INSTALLED / "_extension.yml").read_text())["contributes"]["filters"]
    assert listed
    for name in listed:
        assert (INSTALLED / name).resolve() == (ROOT / "filters" / name).resolve()


def pandoc_with_extension(folder: Path, src: Path, *args: str) -> subprocess.CompletedProcess:
    """pandoc with the filters the manifest lists, in its order, as Quarto would load them."""
    listed = yaml.safe_load((folder / "_extension.yml").read_text())["contributes"]["filters"]
    filters = [a for f in listed for a in ("--lua-filter", str(folder / f))]
    return subprocess.run([str(pandoc_path()), str(src), *filters, *args], capture_output=True,
                          text=True, timeout=300, cwd=src.parent)


DOC = """# Plain pandoc {#sec-plain}

::: {.callout-tip title="Standalone tip"}
The box brings tcolorbox itself.
:::

::: {.content-visible when-format="pdf"}
Printed only.
:::

::: {layout-ncol=2}
West cell.

East cell.
:::

```{.tikz}
\\begin{tikzpicture}\\draw[BlueLine] (0,0) -- (1,1) node[right]{diagonal};\\end{tikzpicture}
```
"""


def test_the_extension_alone_turns_a_document_into_a_pdf(tmp_path: Path) -> None:
    # As `quarto add` installs it: a copy of the folder in another project.
    folder = tmp_path / "_extensions" / "bookbuild"
    shutil.copytree(INSTALLED, folder)
    src = tmp_path / "doc.md"
    src.write_text(DOC)
    r = pandoc_with_extension(folder, src, "--pdf-engine=lualatex", "-o", str(tmp_path / "doc.pdf"))
    assert r.returncode == 0, r.stderr
    shown = pdf_text(tmp_path / "doc.pdf")
    for expected in ("Standalone tip", "The box brings tcolorbox itself.", "Printed only.",
                     "West cell.", "East cell.", "diagonal"):
        assert expected in shown


def test_inline_refs_on_a_raw_qmd_reports_references_not_cells(tmp_path: Path) -> None:
    src = tmp_path / "raw.qmd"
    src.write_text("Peak is `{python} Gpu.peak` today.\n\n```{python}\n#| label: gpu\n"
                   "class Gpu:\n    peak = 989\n```\n\n| a | b |\n|---|---|\n| x | `{python} Gpu.peak` |\n")
    for read_from in ("file", "stdin"):
        cmd = [str(pandoc_path()), "-f", "markdown", "-t", "html", "--lua-filter",
               str(ROOT / "filters" / "inline-refs.lua")]
        r = (subprocess.run([*cmd, str(src)], capture_output=True, text=True, timeout=60)
             if read_from == "file" else
             subprocess.run(cmd, input=src.read_text(), capture_output=True, text=True, timeout=60))
        assert r.returncode != 0
        assert "2 inline reference(s) reached pandoc unevaluated" in r.stderr, read_from
        assert "#| label" not in r.stderr


def test_a_book_lists_another_extension_and_ours_by_name(tmp_path: Path) -> None:
    root = book("paths", tmp_path)
    shout = root / "_extensions" / "acme" / "shout"
    shout.mkdir(parents=True)
    (shout / "_extension.yml").write_text("title: shout\ncontributes:\n  filters:\n    - shout.lua\n")
    (shout / "shout.lua").write_text("function Str(s) if s.text == 'disk' then "
                                     "return pandoc.Str('DISK') end end\n")
    config = root / "_quarto.yml"
    config.write_text(config.read_text() + "filters:\n  - bookbuild\n  - quarto\n  - shout\n")
    r = render(root, "--to", "html")
    assert r.returncode == 0, r.stderr
    assert "A DISK seeks in milliseconds" in text((root / "_book" / "one.html").read_text())
