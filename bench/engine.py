"""Engine benchmarks on the upstream appendix, each paired with a baseline from the same run.

- check vs the bare pandoc binary converting the same file to HTML (aim <= 0.3x)
- cold `render --to md` vs `jupyter nbconvert --execute` of the same cells (aim <= 0.4x)
- re-render after a prose-only edit vs the cold render (aim <= 0.2x)
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from common import BOOKBUILD, PY, ROOT, Run, paired, prose_editor, upstream_copy

sys.path.insert(0, str(ROOT))


def pandoc() -> str:
    from bookbuild.publish.pandoc import pandoc_path

    return str(pandoc_path())


def notebook_of(qmd: Path, dest: Path) -> Path:
    import nbformat

    from bookbuild.source.qmd import parse_file

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c.source) for c in parse_file(qmd).cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = dest / "cells.ipynb"
    nbformat.write(nb, path)
    return path


def nbconvert(nb: Path, work: Path) -> Run:
    jupyter = str(Path(PY).with_name("jupyter"))
    return Run("nbconvert --execute", [jupyter, "nbconvert", "--execute", "--to", "notebook",
                                       "--stdout", str(nb)], cwd=work)


def main(rounds: int = 5) -> None:
    with upstream_copy("bookbuild-bench-") as qmd:
        if qmd is None:
            return
        work = qmd.parent
        paired("check", Run("check", [BOOKBUILD, "check", str(qmd)]),
               Run("pandoc to HTML", [pandoc(), str(qmd), "-o", str(work / "p.html")]), rounds, 0.3)

        out = str(work / "out")
        render_md = [BOOKBUILD, "render", str(qmd), "--to", "md", "--output-dir", out]
        cold = Run("cold render", render_md + ["--no-cache"], cwd=work)
        paired("cold render --to md", cold, nbconvert(notebook_of(qmd, work), work), rounds, 0.4)

        def cold_setup() -> None:
            shutil.rmtree(work / ".bookbuild", ignore_errors=True)

        paired("re-render after a prose edit",
               Run("prose edit", render_md, cwd=work, setup=prose_editor(qmd)),
               Run("cold render", render_md, cwd=work, setup=cold_setup), rounds, 0.2)


if __name__ == "__main__":
    main()
