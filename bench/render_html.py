"""HTML render benchmarks on the upstream appendix, paired with baselines from the same run.

- cold HTML render (kernel, three TikZ figures, pandoc; caches emptied) vs
  `jupyter nbconvert --execute --to html` of the same cells (aim <= 0.8x)
- re-render after a prose-only edit vs the bare pandoc binary converting the same file to
  HTML (aim <= 1.3x: no kernel and no LaTeX on that path)
"""

from __future__ import annotations

import shutil
from pathlib import Path

from common import BOOKBUILD, PY, Run, paired, prose_editor, upstream_copy
from engine import notebook_of, pandoc


def main(rounds: int = 5) -> None:
    with upstream_copy("bookbuild-bench-html-") as qmd:
        if qmd is None:
            return
        work = qmd.parent
        nb = notebook_of(qmd, work)
        jupyter = str(Path(PY).with_name("jupyter"))
        nbhtml = Run("nbconvert --execute --to html", [jupyter, "nbconvert", "--execute", "--to",
                     "html", "--output-dir", str(work / "nb"), str(nb)], cwd=work)
        render = [BOOKBUILD, "render", str(qmd), "--to", "html", "--output-dir", str(work / "out")]

        def empty_caches() -> None:
            shutil.rmtree(work / ".bookbuild", ignore_errors=True)

        paired("cold HTML render (3 TikZ figures)", Run("cold", render, work, empty_caches),
               nbhtml, rounds, 0.8)
        paired("HTML re-render after a prose edit", Run("edit", render, work, prose_editor(qmd)),
               Run("bare pandoc to HTML", [pandoc(), str(qmd), "-o", str(work / "bare.html")]),
               rounds, 1.3)


if __name__ == "__main__":
    main()
