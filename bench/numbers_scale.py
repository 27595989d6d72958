"""The numbers lock at scale: a synthetic 20-chapter book (copies of our chapters).

Reports cold `numbers accept` (chapters execute in parallel), a no-op `numbers check`
(everything cached; aim <= 1 s in total) and a check after one constant changes, where only the
chapters that use that constant may re-execute.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from common import BOOKBUILD, ROOT


def run(cmd: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - t, r


def make_book(root: Path, chapters: int = 20) -> None:
    shutil.copytree(ROOT / "mlsysim", root / "mlsysim", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "ch").mkdir()
    names = []
    for i in range(chapters):
        # Even chapters quote hardware constants; odd ones only derive number formats.
        source = "numbers.qmd" if i % 2 == 0 else "formats.qmd"
        name = f"ch/c{i:02d}.qmd"
        (root / name).write_text((ROOT / "appendix" / source).read_text())
        names.append(name)
    listing = "\n".join(f"    - {n}" for n in names)
    (root / "_quarto.yml").write_text(f"project:\n  type: book\nbook:\n  title: Scale\n  chapters:\n{listing}\n")


def main(runs: int = 5) -> None:
    work = Path(tempfile.mkdtemp(prefix="bookbuild-bench-scale-"))
    try:
        make_book(work)
        cold, r = run([BOOKBUILD, "numbers", "accept"], work)
        assert r.returncode == 0, r.stderr
        print(f"numbers accept, 20 chapters, cold: {cold * 1000:.0f} ms "
              f"({r.stderr.count('executed')} chapters executed)")
        noop = statistics.median(run([BOOKBUILD, "numbers", "check"], work)[0] for _ in range(runs))
        verdict = "met" if noop <= 1.0 else "MISSED"
        print(f"numbers check, no-op: {noop * 1000:.0f} ms (aim <= 1000 ms: {verdict}); "
              f"ratio to cold {noop / cold:.2f}x")
        constants = work / "mlsysim" / "core" / "constants.py"
        constants.write_text(constants.read_text().replace('_c(3.35,  "TB/s"', '_c(3.9,   "TB/s"'))
        changed, r = run([BOOKBUILD, "numbers", "check"], work)
        executed = r.stderr.count("executed")
        print(f"numbers check after H100_MEM_BW changed: {changed * 1000:.0f} ms, {executed} of 20 "
              f"chapters re-executed (the 10 that use it), exit {r.returncode}; ratio to cold "
              f"{changed / cold:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
