"""`numbers diff` between git revisions, `numbers whatif` with overridden constants, and
`numbers check --strict`, on a small book with a constants module and a CSV, and on ours."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent

CONSTS = '''import pint
ureg = pint.UnitRegistry()
BW = ureg.Quantity(2.0, "TB/s")
SIZE = ureg.Quantity(80, "GB")
GPUS = 8
HALF_BW = BW / 2  # derived in the defining module: an override must come before this line
'''
# `from consts import BW` binds the name in another module: an override must reach it too.
DERIVED = '''from consts import BW, GPUS, SIZE
FILL_MS = (SIZE / BW).m_as("ms")
TOTAL_TBS = GPUS * BW.m_as("TB/s")
'''
CSV = "orchard,tonnes\nAshby,12.5\nBrill,9.75\n"
CHAPTER = '''# Memory

```{python}
#| label: fill
from derived import FILL_MS, TOTAL_TBS
from consts import BW, HALF_BW

class Fill:
    ms = f"{FILL_MS:.1f}"
    bw = f"{BW.m_as('TB/s'):.2f}"
    half, total = f"{HALF_BW.m_as('TB/s'):.2f}", f"{TOTAL_TBS:.0f}"
    if FILL_MS < 30:
        raise ValueError("fill time must stay above 30 ms")
```

Filling memory takes `{python} Fill.ms` ms at `{python} Fill.bw` TB/s.
Half is `{python} Fill.half` TB/s; all GPUs move `{python} Fill.total` TB/s.

```{python}
#| label: tbl-harvest
import pandas as pd
pd.read_csv("data/harvest.csv", index_col="orchard")
```
'''
OTHER = "# Other\n\n```{python}\nx = 3\n```\n\nThree is `{python} x`.\n"


def errors(r: subprocess.CompletedProcess) -> list[str]:
    """stderr without the progress lines (`[1/2] ch.qmd: cached ...`)."""
    return [line for line in r.stderr.splitlines() if not line.startswith("[")]


def entries(book: Path) -> dict[str, bytes]:
    """The execution cache's entries and their bytes."""
    return {p.name: p.read_bytes() for p in (book / ".bookbuild" / "cache").glob("*.json")}


def git(root: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin"}
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True,
                          env=env).stdout


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """The small book, committed with its accepted lock."""
    root = tmp_path / "book"
    (root / "data").mkdir(parents=True)
    (root / "_quarto.yml").write_text("project:\n  type: book\nbook:\n  title: T\n  chapters:\n"
                                      "    - ch.qmd\n    - other.qmd\n")
    (root / "ch.qmd").write_text(CHAPTER)
    (root / "other.qmd").write_text(OTHER)
    (root / "consts.py").write_text(CONSTS)
    (root / "derived.py").write_text(DERIVED)
    (root / "data" / "harvest.csv").write_text(CSV)
    (root / ".gitignore").write_text(".bookbuild/\n_book/\n__pycache__/\n")
    r = run_cli("numbers", "accept", cwd=root)
    assert r.returncode == 0, r.stderr
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "first")
    return root


def second_commit(book: Path) -> None:
    """A constant and a CSV row edited, committed."""
    (book / "consts.py").write_text(CONSTS.replace("2.0", "1.6"))
    (book / "data" / "harvest.csv").write_text(CSV.replace("9.75", "11.5"))
    git(book, "commit", "-qam", "second")


def test_diff_between_two_commits_names_each_moved_number_and_its_cause(book: Path) -> None:
    second_commit(book)
    head = git(book, "rev-parse", "HEAD")
    r = run_cli("numbers", "diff", "HEAD~1", "HEAD", cwd=book)
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout
    rows = {line.split()[1]: line for line in out.splitlines() if line.startswith("  ch.qmd")}
    assert "40.0 → 50.0" in rows["Fill.ms"] and "+25.0%" in rows["Fill.ms"]
    assert rows["Fill.ms"].rstrip().endswith("BW, FILL_MS")  # derived.py's constant moved too
    assert "2.00 → 1.60" in rows["Fill.bw"] and "-20.0%" in rows["Fill.bw"]
    table = [line for line in out.splitlines() if "[tbl-harvest]" in line]
    assert len(table) == 1 and "row 'Brill', column 'tonnes'" in table[0]
    assert "9.75 → 11.5" in table[0] and table[0].rstrip().endswith("data/harvest.csv")
    assert "other.qmd" not in out  # nothing moved there
    assert "constant BW: 2.0 TB/s → 1.6 TB/s" in out
    # the checkout is as it was: same commit, no change, no worktree left
    assert git(book, "rev-parse", "HEAD") == head
    assert git(book, "status", "--porcelain") == ""
    assert len(git(book, "worktree", "list").splitlines()) == 1


def test_diff_formats_json_with_stable_keys_and_markdown(book: Path) -> None:
    second_commit(book)
    r = run_cli("numbers", "diff", "HEAD~1", "HEAD", "--format", "json", cwd=book)
    assert r.returncode == 1, r.stderr
    data = json.loads(r.stdout)
    assert set(data) == {"from", "to", "summary", "chapters", "inputs"}
    assert data["summary"] == {"moved": 5, "new": 0, "removed": 0, "inputs": 5}
    [chapter] = data["chapters"]
    assert chapter["chapter"] == "ch.qmd"
    ms = next(n for n in chapter["numbers"] if n["what"] == "Fill.ms")
    assert set(ms) == {"change", "chapter", "line", "where", "cell", "row", "column", "what",
                       "old", "new", "relative", "causes"}
    assert (ms["old"], ms["new"], ms["relative"], ms["causes"]) == ("40.0", "50.0", "+25.0%",
                                                                      ["BW", "FILL_MS"])
    cell = next(n for n in chapter["numbers"] if n["cell"] == "tbl-harvest")
    assert (cell["row"], cell["column"], cell["causes"]) == ("Brill", "tonnes", ["data/harvest.csv"])
    md = run_cli("numbers", "diff", "HEAD~1", "HEAD", "--format", "md", cwd=book).stdout
    assert "| where | what | old → new | change | cause |" in md
    [line] = [line for line in md.splitlines() if "`Fill.ms`" in line]
    assert line == "| `ch.qmd:16` | `Fill.ms` | 40.0 → 50.0 | +25.0% | BW, FILL_MS |"


def test_diff_default_compares_the_committed_lock_with_the_working_tree(book: Path) -> None:
    r = run_cli("numbers", "diff", cwd=book)
    assert r.returncode == 0 and "0 moved" in r.stdout, r.stdout + r.stderr
    (book / "data" / "harvest.csv").write_text(CSV.replace("12.5", "13"))
    r = run_cli("numbers", "diff", cwd=book)
    assert r.returncode == 1
    assert "12.5 → 13" in r.stdout and "working tree" in r.stdout


def test_a_bad_revision_or_no_repository_is_one_line(book: Path, tmp_path: Path) -> None:
    r = run_cli("numbers", "diff", "nope", cwd=book)
    assert (r.returncode, r.stderr) == (2, "bookbuild: unknown revision 'nope'\n")
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "_quarto.yml").write_text((book / "_quarto.yml").read_text())
    for name in ("ch.qmd", "other.qmd"):
        (bare / name).write_text("# x\n")
    r = run_cli("numbers", "diff", cwd=bare)
    assert r.returncode == 2 and len(errors(r)) == 1, r.stderr
    assert "is not in a git repository" in r.stderr


def test_whatif_moves_the_numbers_and_guards_and_writes_nothing(book: Path) -> None:
    lock = (book / "numbers.lock").read_bytes()
    cache = entries(book)
    assert cache
    r = run_cli("numbers", "whatif", "BW=3 TB/s", cwd=book)
    assert r.returncode == 1, r.stdout + r.stderr  # the chapter's guard fails: 26.7 ms
    assert "guard: ch.qmd:" in r.stdout and "fill time must stay above 30 ms" in r.stdout
    r = run_cli("numbers", "whatif", "BW=1600 GB/s", cwd=book)
    assert r.returncode == 0, r.stdout + r.stderr
    # derived.py bound BW with `from consts import BW`: its FILL_MS moved too
    assert "Fill.ms     40.0 → 50.0" in r.stdout and "Fill.bw     2.00 → 1.60" in r.stdout
    assert "Fill.half   1.00 → 0.80" in r.stdout  # consts.py derived it after BW
    assert "Fill.total  16 → 13" in r.stdout
    r = run_cli("numbers", "whatif", "GPUS=4", cwd=book)  # a plain number, bound by from-import
    assert r.returncode == 0 and "Fill.total  16 → 8" in r.stdout, r.stdout + r.stderr
    assert "1 chapter(s) use it (ch.qmd)" in r.stdout  # other.qmd did not re-execute
    assert (book / "numbers.lock").read_bytes() == lock
    assert entries(book) == cache  # the whatif results were not cached


def test_whatif_wrong_unit_or_unknown_name_is_one_line(book: Path) -> None:
    r = run_cli("numbers", "whatif", "BW=3.9 s", cwd=book)
    assert r.returncode == 2 and len(errors(r)) == 1, r.stderr
    assert errors(r)[0].startswith("consts.py:3: whatif BW: '3.9 s' is in s, the constant is in TB/s")
    assert r.stderr.rstrip().endswith("[WIF001]")
    r = run_cli("numbers", "whatif", "BWW=3 TB/s", cwd=book)
    assert r.returncode == 2 and len(errors(r)) == 1, r.stderr
    assert "no constant named 'BWW'" in r.stderr and "did you mean BW?" in r.stderr


def test_check_strict_fails_on_a_missing_lock(book: Path) -> None:
    (book / "numbers.lock").unlink()
    r = run_cli("numbers", "check", "--strict", cwd=book)
    assert r.returncode == 1
    assert r.stderr.startswith("numbers.lock:1: no numbers lock") and "[LCK002]" in r.stderr
    (book / "numbers.lock").write_text("constants:\n  BW: 2\n")
    r = run_cli("numbers", "check", "--strict", cwd=book)
    assert r.returncode == 1 and "[LCK001]" in r.stderr


def test_whatif_on_our_book_moves_the_ridge_points_only(tmp_path: Path) -> None:
    lock = (ROOT / "numbers.lock").read_bytes()
    r = run_cli("numbers", "whatif", "H100_MEM_BW=3.9 TB/s", cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    for ridge in ("appendix/models.qmd:96   Roofline.h100_ridge          295 → 254",
                  "appendix/measured.qmd:170  Sweep.ridge              295 → 254",
                  "index.qmd:37  PrefaceNumbers.ridge  295 → 254"):
        assert " ".join(ridge.split()) in " ".join(r.stdout.split())
    assert "appendix/formats.qmd" not in r.stdout  # it does not use the constant
    assert "constant H100_MEM_BW: 3.35 TB/s → 3.9 TB/s" in r.stdout
    assert (ROOT / "numbers.lock").read_bytes() == lock
    r = run_cli("numbers", "whatif", "H100_MEM_BW=3.9 s", cwd=ROOT)
    assert r.returncode == 2 and len(errors(r)) == 1, r.stderr
    assert errors(r)[0].startswith("mlsysim/core/constants.py:41: whatif H100_MEM_BW")


def test_ctrl_c_then_a_tampered_checkout_still_diffs_the_revisions_as_committed(book: Path) -> None:
    """The revisions' checkouts under .bookbuild/diff/ are kept between runs and updated in
    place; whatever a killed run or a cell left there, the next diff sees each revision's files."""
    import signal
    import time

    from tests.conftest import bookbuild_exe

    (book / "other.qmd").write_text(OTHER.replace("x = 3", "import time\ntime.sleep(60)\nx = 3"))
    git(book, "commit", "-qam", "slow")
    proc = subprocess.Popen([bookbuild_exe(), "numbers", "diff", "HEAD~1", "HEAD"], cwd=book,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    new = book / ".bookbuild" / "diff" / "new"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (new / "other.qmd").exists():
        time.sleep(0.2)  # the first revision is done once the second's checkout exists
    time.sleep(1)  # the slow chapter's kernel is running in the checkout
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert len(git(book, "worktree", "list").splitlines()) == 1  # nothing registered with git

    (book / "other.qmd").write_text(OTHER)
    git(book, "commit", "-qa", "--amend", "--allow-empty", "-m", "not slow after all")
    (new / "ch.qmd").write_text("---\ntitle: edited by hand\n---\n\n`{python} 1/0`\n")
    (new / "stray.qmd").write_text("A chapter no revision has.\n")
    r = run_cli("numbers", "diff", "HEAD~1", "HEAD", cwd=book)
    assert r.returncode == 0, r.stdout + r.stderr  # the amended commit moves no number
    assert (new / "ch.qmd").read_text() == (book / "ch.qmd").read_text()
    assert not (new / "stray.qmd").exists()
    assert git(book, "status", "--porcelain") == ""


def _step(step_id: str) -> str:
    """The shell script of one step of our CI recipe."""
    import yaml

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "numbers.yml").read_text())
    [step] = [s for s in workflow["jobs"]["numbers"]["steps"] if s.get("id") == step_id]
    return step["run"]


def test_the_ci_recipe_posts_the_diff_and_fails_on_drift(book: Path) -> None:
    import os
    import sys

    second_commit(book)
    git(book, "update-ref", "refs/remotes/origin/main", "HEAD~1")  # the pull request's base
    env = dict(os.environ, BASE="main", PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin")
    diff = subprocess.run(["bash", "-e", "-c", _step("diff")], cwd=book, env=env,
                          capture_output=True, text=True)
    assert diff.returncode == 0, diff.stderr  # numbers moved: news for the comment, no failure
    comment = (book / "numbers-diff.md").read_text()
    assert comment.startswith("### numbers diff origin/main") and "| 40.0 → 50.0 | +25.0% |" in comment
    check = subprocess.run(["bash", "-e", "-c", _step("check")], cwd=book, env=env,
                           capture_output=True, text=True)
    assert check.returncode == 1 and "drift: ch.qmd:16 Fill.ms: 40.0 → 50.0" in check.stdout
    env["BASE"] = "nope"  # a base that does not exist fails the step
    diff = subprocess.run(["bash", "-e", "-c", _step("diff")], cwd=book, env=env,
                          capture_output=True, text=True)
    assert diff.returncode != 0 and "unknown revision 'origin/nope'" in diff.stderr


def test_a_diff_reuses_the_results_of_the_users_checkout(book: Path) -> None:
    """The fixture's `numbers accept` executed every chapter in the checkout: a first diff of
    revisions with the same inputs starts no kernel (their worktrees lie elsewhere)."""
    r = run_cli("numbers", "diff", "HEAD", "HEAD", cwd=book)
    assert r.returncode == 0, r.stdout + r.stderr
    progress = [line for line in r.stderr.splitlines() if line.startswith("[")]
    assert len(progress) == 4 and all("cached, no kernel started" in p for p in progress), progress


def test_whatif_unit_only_the_books_registry_knows_is_checked_in_the_kernel() -> None:
    """pint's default registry has no TFLOP: the kernel checks the units, and says it as one
    line at the constant's definition all the same."""
    r = run_cli("numbers", "whatif", "H100_FLOPS_FP16_TENSOR=1000 s", cwd=ROOT)
    assert r.returncode == 2 and len(errors(r)) == 1, r.stderr
    assert errors(r)[0].startswith("mlsysim/core/constants.py:52: whatif H100_FLOPS_FP16_TENSOR: "
                                   "'1000 s' is in s, the constant is in TFLOP/s")
    assert errors(r)[0].endswith("[WIF001]")


def test_diff_on_our_book_after_a_constant_edit(tmp_path: Path) -> None:
    """A clone of this repository with H100_MEM_BW edited in a second commit."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    constants = clone / "mlsysim" / "core" / "constants.py"
    constants.write_text(constants.read_text().replace('_c(3.35,  "TB/s"', '_c(3.9,   "TB/s"'))
    git(clone, "commit", "-qam", "H100 bandwidth")
    r = run_cli("numbers", "diff", "HEAD~1", "HEAD", "--format", "json", cwd=clone)
    assert r.returncode == 1, r.stderr
    data = json.loads(r.stdout)
    moved = {(n["where"], n["what"]): n for c in data["chapters"] for n in c["numbers"]}
    ridge = moved["appendix/models.qmd:96", "Roofline.h100_ridge"]
    assert (ridge["old"], ridge["new"], ridge["relative"], ridge["causes"]) == (
        "295", "254", "-13.9%", ["H100_MEM_BW"])
    assert {c["chapter"] for c in data["chapters"]} == {
        "index.qmd", "appendix/numbers.qmd", "appendix/models.qmd", "appendix/measured.qmd",
        "appendix/sources.qmd"}
    assert data["inputs"] == [{"kind": "constant", "name": "H100_MEM_BW", "old": "3.35 TB/s",
                               "new": "3.9 TB/s"}]
