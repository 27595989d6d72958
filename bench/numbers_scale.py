"""The numbers lock at scale: a synthetic 100-chapter book (copies of our chapters).

Reports a cold `numbers accept` once (chapters execute in parallel), then paired rounds of a
no-op `numbers check` (everything cached; aim <= 0.5 s) against `bookbuild --version` (the
floor: interpreter and CLI start), and a check after one constant changes, where only the
chapters that use that constant may re-execute.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

from common import BOOKBUILD, ROOT, TIMEOUT, Run, absolute, paired, scratch


def run(cmd: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)
    return time.perf_counter() - t, r


LABEL = re.compile(r"([#@]|label:\s*)((?:sec|fig|tbl|eq|lst|tip|nte|wrn)-[\w-]*\w)")


def make_book(root: Path, chapters: int) -> None:
    shutil.copytree(ROOT / "mlsysim", root / "mlsysim", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "ch").mkdir()
    names = []
    for i in range(chapters):
        # Even chapters quote hardware constants; odd ones only derive number formats.
        source = "numbers.qmd" if i % 2 == 0 else "formats.qmd"
        name = f"ch/c{i:03d}.qmd"
        # Each copy gets its own labels: a book that defines a label twice does not build.
        text = LABEL.sub(lambda m, i=i: f"{m.group(1)}{m.group(2)}-c{i:03d}",
                         (ROOT / "appendix" / source).read_text())
        (root / name).write_text(text)
        names.append(name)
    listing = "\n".join(f"    - {n}" for n in names)
    (root / "_quarto.yml").write_text(f"project:\n  type: book\nbook:\n  title: Scale\n  chapters:\n{listing}\n")


def main(rounds: int = 5, chapters: int = 100) -> None:
    with scratch("bookbuild-bench-scale-") as work:
        make_book(work, chapters)
        cold, r = run([BOOKBUILD, "numbers", "accept"], work)
        assert r.returncode == 0, r.stderr
        print(f"numbers accept, {chapters} chapters, cold: {cold * 1000:.0f} ms "
              f"({r.stderr.count('executed')} chapters executed)")
        check = Run("numbers check", [BOOKBUILD, "numbers", "check"], cwd=work)
        paired(f"numbers check, no-op, {chapters} chapters", check,
               Run("bookbuild --version", [BOOKBUILD, "--version"]), rounds)
        absolute(f"numbers check, no-op, {chapters} chapters (absolute)", check, rounds, aim=0.5)
        constants = work / "mlsysim" / "core" / "constants.py"
        constants.write_text(constants.read_text().replace('_c(3.35,  "TB/s"', '_c(3.9,   "TB/s"'))
        changed, r = run([BOOKBUILD, "numbers", "check"], work)
        print(f"numbers check after H100_MEM_BW changed: {changed * 1000:.0f} ms, "
              f"{r.stderr.count('executed')} of {chapters} chapters re-executed (the "
              f"{(chapters + 1) // 2} that use it), exit {r.returncode}")


if __name__ == "__main__":
    main()
