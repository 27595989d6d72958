"""Engine benchmarks on the upstream appendix, each against a baseline from the same run.

- check vs the bare pandoc binary converting the same file to HTML (aim <= 0.3x)
- cold `render --to md` vs `jupyter nbconvert --execute` of the same cells (aim <= 0.6x)
- re-render after a prose-only edit vs the cold render (aim <= 0.2x)
"""

from __future__ import annotations

import sys
from pathlib import Path

from common import BOOKBUILD, PY, ROOT, prose_editor, report, time_command, upstream_copy

sys.path.insert(0, str(ROOT))


def pandoc() -> str:
    from bookbuild.pandoc import pandoc_path

    return str(pandoc_path())


def notebook_of(qmd: Path, dest: Path) -> Path:
    import nbformat

    from bookbuild.qmd import parse_file

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c.source) for c in parse_file(qmd).cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = dest / "cells.ipynb"
    nbformat.write(nb, path)
    return path


def main(runs: int = 5) -> None:
    with upstream_copy("bookbuild-bench-") as qmd:
        if qmd is None:
            return
        work = qmd.parent
        base = time_command([pandoc(), str(qmd), "-o", str(work / "p.html")], runs)
        ours = time_command([BOOKBUILD, "check", str(qmd)], runs)
        report("check", ours, base, "pandoc to HTML", 0.3)

        nb = notebook_of(qmd, work)
        jupyter = str(Path(PY).with_name("jupyter"))
        base = time_command([jupyter, "nbconvert", "--execute", "--to", "notebook", "--stdout",
                             str(nb)], runs, cwd=work)
        out = str(work / "out")
        cold = time_command([BOOKBUILD, "render", str(qmd), "--to", "md", "--no-cache",
                             "--output-dir", out], runs, cwd=work)
        report("cold render --to md", cold, base, "nbconvert --execute", 0.6)

        warm = time_command([BOOKBUILD, "render", str(qmd), "--to", "md", "--output-dir", out],
                            runs, cwd=work, setup=prose_editor(qmd))
        report("re-render after a prose edit", warm, cold, "cold render", 0.2)


if __name__ == "__main__":
    main()
