"""HTML render benchmarks on the upstream appendix, against baselines from the same run.

- cold HTML render (kernel, three TikZ figures, pandoc; caches emptied) vs
  `jupyter nbconvert --execute --to html` of the same cells (aim <= 0.8x)
- re-render after a prose-only edit vs the bare pandoc binary converting the same file to
  HTML (aim <= 1.3x: no kernel and no LaTeX on that path)
"""

from __future__ import annotations

import shutil
from pathlib import Path

from common import BOOKBUILD, PY, prose_editor, report, time_command, upstream_copy
from engine import notebook_of, pandoc


def main(runs: int = 5) -> None:
    with upstream_copy("bookbuild-bench-html-") as qmd:
        if qmd is None:
            return
        work = qmd.parent
        nb = notebook_of(qmd, work)
        jupyter = str(Path(PY).with_name("jupyter"))
        base = time_command([jupyter, "nbconvert", "--execute", "--to", "html", "--output-dir",
                             str(work / "nb"), str(nb)], runs, cwd=work)
        render = [BOOKBUILD, "render", str(qmd), "--to", "html", "--output-dir", str(work / "out")]

        def empty_caches() -> None:
            shutil.rmtree(work / ".bookbuild", ignore_errors=True)

        cold = time_command(render, runs, cwd=work, setup=empty_caches)
        report("cold HTML render (3 TikZ figures)", cold, base, "nbconvert --execute --to html", 0.8)

        bare = time_command([pandoc(), str(qmd), "-o", str(work / "bare.html")], runs)
        warm = time_command(render, runs, cwd=work, setup=prose_editor(qmd))
        report("HTML re-render after a prose edit", warm, bare, "bare pandoc to HTML", 1.3)


if __name__ == "__main__":
    main()
