"""`numbers diff` and `numbers whatif` on our book, each against what it replaces.

In clones of this repository (scratch folders): paired rounds of `numbers diff HEAD~1 HEAD`
with a warm cache (both revisions checked out in worktrees, every chapter cached) against a
no-op `render --to md`; and `numbers whatif H100_MEM_BW="3.9 TB/s"` against re-executing the
chapters that use the constant (`numbers check` after the constant is edited in the file).
"""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from pathlib import Path

from common import BOOKBUILD, ROOT, TIMEOUT, Run, paired, scratch

CONSTANT = Path("mlsysim") / "core" / "constants.py"


def clone(into: Path) -> Path:
    """A clone of this repository's HEAD with a second commit on top that moves no number
    (so HEAD~1 HEAD is the real diff of a prose edit)."""
    subprocess.run(["git", "clone", "-q", str(ROOT), str(into)], check=True, timeout=TIMEOUT)
    readme = into / "README.md"
    readme.write_text(readme.read_text() + "\n")
    # Cells at the clone's root import the clone's own mlsysim (its edits are seen), not the
    # copy installed in the venv, which cells beside their chapters would import.
    config = into / "_quarto.yml"
    config.write_text(config.read_text().replace("  type: book\n",
                                                 "  type: book\n  execute-dir: project\n", 1))
    subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qam", "prose"],
                   cwd=into, check=True, timeout=TIMEOUT)
    return into


def warm(cwd: Path, *args: str, codes: tuple[int, ...] = (0,)) -> None:
    r = subprocess.run([BOOKBUILD, *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode in codes, r.stderr


def main(rounds: int = 3) -> None:
    with scratch("bookbuild-bench-diff-") as work:
        book = clone(work / "book")
        out = work / "out"
        warm(book, "numbers", "diff", "HEAD~1", "HEAD", codes=(0, 1))
        warm(book, "render", "--to", "md", "--output-dir", str(out))
        paired("numbers diff HEAD~1 HEAD, warm cache",
               Run("numbers diff", [BOOKBUILD, "numbers", "diff", "HEAD~1", "HEAD"], cwd=book,
                   codes=(0, 1)),
               Run("render --to md, no-op",
                   [BOOKBUILD, "render", "--to", "md", "--output-dir", str(out)], cwd=book),
               rounds)
        edited = clone(work / "edited")
        warm(edited, "numbers", "check")
        values = itertools.count(1)

        def edit() -> None:  # a new value each time: the chapters that use it miss the cache
            path = edited / CONSTANT
            path.write_text(re.sub(r"^(H100_MEM_BW\s*= _c\()[\d.]+", rf"\g<1>3.{next(values) + 10}",
                                   path.read_text(), flags=re.M))

        paired("numbers whatif H100_MEM_BW, 5 of 6 chapters use it",
               Run("whatif", [BOOKBUILD, "numbers", "whatif", "H100_MEM_BW=3.9 TB/s"], cwd=book),
               Run("re-executing them (edit + numbers check)", [BOOKBUILD, "numbers", "check"],
                   cwd=edited, setup=edit, codes=(0, 1)),
               rounds)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
