"""No stale number, whoever reads the data (issues 26.2, 31.4, 31.5).

The fixture book (tests/fixtures/orchard/, "The Orchard Ledger") is ours: one chapter reads a
Parquet file with pyarrow's C++ reader, one a CSV with polars (Rust), one a text file through
`cat` in a subprocess. None of these reads passes through Python's `open`, so only the read
recorder preloaded into the kernels (bookbuild/kernel/readrec.c) sees them. An author edits
one data row and renders again: the page must show the new number, only that chapter may run
again, and `numbers check` must name the data file that moved the number.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, bookbuild_exe, restore, run_cli, snapshot
from tests.conftest import render_html as render

try:
    import polars  # noqa: F401  (the chapters' kernels import it)
    import pyarrow.parquet as pq
except ImportError as exc:  # a missing part is a failure that says how to get it, not a skip
    raise ImportError(f"{exc}: the native-reads tests need pyarrow and polars; run `make setup` "
                      "(pip install -e '.[dev]')") from None
CHAPTERS = ("harvest", "sales", "cellar")


def write_harvest(root: Path, crates: list[int]) -> None:
    import pyarrow as pa

    table = pa.table({"row": list(range(1, len(crates) + 1)), "crates": crates})
    pq.write_table(table, root / "data" / "harvest.parquet")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(where cases work, a pristine copy of the book rendered there with its numbers accepted)."""
    base = tmp_path_factory.mktemp("orchard")
    root = base / "book"
    shutil.copytree(FIXTURES / "orchard", root)
    write_harvest(root, [12, 30, 7])
    render(root)
    accepted = run_cli("numbers", "accept", cwd=root, timeout=120)
    assert accepted.returncode == 0, accepted.stderr
    return root, snapshot(root)


@pytest.fixture
def book(rendered: tuple[Path, Path]) -> Path:
    return restore(*rendered)


def text(root: Path, name: str) -> str:
    """What a reader sees on a page: its text with the tags out and spaces collapsed."""
    page = (root / "_book" / f"{name}.html").read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def replace(path: Path, old: str, new: str) -> None:
    body = path.read_text(encoding="utf-8")
    assert old in body
    path.write_text(body.replace(old, new), encoding="utf-8")


# chapter -> (its data file, the edit of one row, the sentence before, the sentence after)
EDITS = {
    "harvest": ("data/harvest.parquet", lambda root: write_harvest(root, [12, 31, 7]),
                "filled 49 crates", "filled 50 crates"),
    "sales": ("data/sales.csv",
              lambda root: replace(root / "data" / "sales.csv", "tuesday,35", "tuesday,36"),
              "sold 165 bottles", "sold 166 bottles"),
    "cellar": ("data/casks.txt",
               lambda root: replace(root / "data" / "casks.txt", "kingston-1\n",
                                    "kingston-1\nkingston-2\n"),
               "holds 3 casks", "holds 4 casks"),
}


def test_the_first_render_shows_every_number(rendered: tuple[Path, Path]) -> None:
    root = rendered[0]
    for chapter in CHAPTERS:
        assert EDITS[chapter][2] in text(root, chapter)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_editing_a_row_read_by_native_code_reexecutes_exactly_its_chapter(book: Path,
                                                                          chapter: str) -> None:
    data, edit, before, after = EDITS[chapter]
    assert before in text(book, chapter)
    edit(book)
    log = render(book)
    assert after in text(book, chapter), log
    assert re.search(rf"{chapter}\.qmd: executed", log), log
    for other in set(CHAPTERS) - {chapter}:
        assert f"{other}.qmd: cached, no kernel started" in log, log
    drift = run_cli("numbers", "check", cwd=book, timeout=120)
    assert drift.returncode == 1, drift.stdout + drift.stderr
    moved = [line for line in drift.stdout.splitlines() if line.startswith(f"drift: {chapter}.qmd:")]
    assert len(moved) == 1 and data in moved[0], drift.stdout  # the number, moved by the file
    assert f"drift: data file {data}:" in drift.stdout, drift.stdout


RACE_CHAPTER = '''# Tide gauge

```{python}
import os
import time

class Level:
    """Metres above datum, summed from a CSV; waits while the test holds the file open."""
    with open("data/level.csv", encoding="utf-8") as f:
        rows = f.read().split()[1:]
    metres = 0.0
    for row in rows:
        metres += float(row)
    if os.path.exists("hold"):  # the test edits the CSV now, after it was read
        open("reading", "w").close()
        for _ in range(1200):
            if not os.path.exists("hold"):
                break
            time.sleep(0.05)
```

The gauge reads `{python} Level.metres` metres.
'''


def test_a_file_saved_while_its_chapter_runs_does_not_cache_the_old_result(tmp_path: Path) -> None:
    root = tmp_path / "gauge"
    (root / "data").mkdir(parents=True)
    (root / "_quarto.yml").write_text("project:\n  type: book\nbook:\n  title: Gauge\n"
                                      "  chapters:\n    - level.qmd\nformat:\n  html: {}\n")
    (root / "level.qmd").write_text(RACE_CHAPTER)
    (root / "data" / "level.csv").write_text("metres\n1.5\n2.5\n")
    (root / "hold").touch()
    env = dict(os.environ, NO_COLOR="1")
    first = subprocess.Popen([bookbuild_exe(), "render", "--to", "html"], cwd=root, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (root / "reading").exists():
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.05)
    (root / "data" / "level.csv").write_text("metres\n1.5\n2.5\n6.0\n")  # saved mid-run
    (root / "hold").unlink()
    _, log = first.communicate(timeout=300)
    assert first.returncode == 0, log
    assert "level.qmd: executed" in log and "not cached: data/level.csv changed while it ran" \
        in log, log
    second = render(root)
    assert "reads 10.0 metres" in text(root, "level"), second
    assert "level.qmd: executed" in second


def test_reads_in_workers_and_package_data_are_inputs(tmp_path: Path) -> None:
    """A multiprocessing worker's read and a package's data file read by `pkgutil.get_data`
    (through the import system, which the audit hook leaves out) are inputs too."""
    root = tmp_path / "tally"
    (root / "counts").mkdir(parents=True)
    (root / "counts" / "__init__.py").write_text("")
    (root / "counts" / "birds.txt").write_text("wren\nrobin\n")
    (root / "fish.txt").write_text("pike\n")
    (root / "_quarto.yml").write_text("project:\n  type: book\nbook:\n  title: Tally\n"
                                      "  chapters:\n    - tally.qmd\nformat:\n  html: {}\n")
    (root / "tally.qmd").write_text('''# Tally

```{python}
import multiprocessing
import pkgutil

def count(path):
    with open(path, encoding="utf-8") as f:
        return len(f.read().split())

class Tally:
    """Birds from package data; fish counted in a worker process."""
    birds = len(pkgutil.get_data("counts", "birds.txt").split())
    with multiprocessing.get_context("fork").Pool(1) as pool:
        fish = pool.apply(count, ("fish.txt",))
```

`{python} Tally.birds` birds, `{python} Tally.fish` fish.
''')
    render(root)
    assert "2 birds, 1 fish" in text(root, "tally")
    (root / "counts" / "birds.txt").write_text("wren\nrobin\njay\n")
    render(root)
    assert "3 birds, 1 fish" in text(root, "tally")
    (root / "fish.txt").write_text("pike\nperch\n")
    render(root)
    assert "3 birds, 2 fish" in text(root, "tally")


def test_without_a_compiler_the_book_renders_and_one_note_says_native_reads_are_untracked(
        tmp_path: Path) -> None:
    root = tmp_path / "book"
    shutil.copytree(FIXTURES / "orchard", root)
    write_harvest(root, [12, 30, 7])
    env = dict(os.environ, NO_COLOR="1", XDG_CACHE_HOME=str(tmp_path / "cache"),
               CC=str(tmp_path / "no-such-cc"))  # a fresh cache folder: the recorder is built
    done = subprocess.run([bookbuild_exe(), "render", "--to", "html"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stderr.splitlines() if "not tracked" in line]
    assert len(notes) == 1 and notes[0].startswith("note: files read by native code"), done.stderr
    assert "filled 49 crates" in text(root, "harvest")


def test_data_a_package_reads_with_native_code_as_the_warm_template_imports_it(
        tmp_path: Path) -> None:
    """The warm template imports the book's packages once for every kernel: a CSV such a
    package reads with polars at import is read there, before any chapter runs."""
    root = tmp_path / "ledger"
    (root / "stock").mkdir(parents=True)
    (root / "stock" / "__init__.py").write_text(
        "from pathlib import Path\n\nimport polars as pl\n\n"
        "JARS = int(pl.read_csv(Path(__file__).parent / 'jars.csv')['jars'].sum())\n")
    (root / "stock" / "jars.csv").write_text("shelf,jars\ntop,4\nbottom,5\n")
    (root / "_quarto.yml").write_text("project:\n  type: book\nbook:\n  title: Ledger\n"
                                      "  chapters:\n    - pantry.qmd\nformat:\n  html: {}\n")
    (root / "pantry.qmd").write_text("# Pantry\n\n```{python}\nimport stock\n```\n\n"
                                     "The pantry holds `{python} stock.JARS` jars.\n")
    render(root)
    assert "holds 9 jars" in text(root, "pantry")
    replace(root / "stock" / "jars.csv", "bottom,5", "bottom,6")
    render(root)
    assert "holds 10 jars" in text(root, "pantry")


def test_upgrading_an_installed_package_reexecutes_the_chapter_that_imports_it(
        tmp_path: Path) -> None:
    """A package in the venv is no input file (its files lie under the venv), but its version
    is: its METADATA is a dependency of the chapters that import it."""
    import sysconfig
    import uuid

    site = Path(sysconfig.get_paths()["purelib"])  # the venv the chapter kernels run in
    name = f"bookbuild_probe_{uuid.uuid4().hex[:8]}"

    def install(version: str, size: int) -> None:
        for old in site.glob(f"{name}*"):
            shutil.rmtree(old)
        (site / name).mkdir()
        (site / name / "__init__.py").write_text(f"SIZE = {size}\n")
        info = site / f"{name}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")

    root = tmp_path / "probe"
    root.mkdir()
    (root / "_quarto.yml").write_text("project:\n  type: book\nbook:\n  title: Probe\n"
                                      "  chapters:\n    - probe.qmd\nformat:\n  html: {}\n")
    (root / "probe.qmd").write_text(f"# Probe\n\n```{{python}}\nimport {name}\n```\n\n"
                                    f"The probe measures `{{python}} {name}.SIZE` units.\n")
    try:
        install("1.0", 1)
        render(root)
        assert "measures 1 units" in text(root, "probe")
        install("2.0", 2)
        render(root)
        assert "measures 2 units" in text(root, "probe")
    finally:
        for old in site.glob(f"{name}*"):
            shutil.rmtree(old)


def test_a_file_added_to_a_folder_native_code_globs_reexecutes_its_chapter(tmp_path: Path) -> None:
    """polars expands `data/*.csv` itself (Rust lists the folder): the folder's entries are an
    input, so a new CSV beside the others moves the number."""
    root = tmp_path / "hives"
    (root / "data").mkdir(parents=True)
    (root / "data" / "spring.csv").write_text("hive,kg\nA,3\n")
    (root / "data" / "summer.csv").write_text("hive,kg\nA,5\n")
    (root / "_quarto.yml").write_text("project:\n  type: book\nbook:\n  title: Hives\n"
                                      "  chapters:\n    - honey.qmd\nformat:\n  html: {}\n")
    (root / "honey.qmd").write_text(
        "# Honey\n\n```{python}\nimport polars as pl\n\nclass Honey:\n"
        "    kg = int(pl.read_csv('data/*.csv')['kg'].sum())\n```\n\n"
        "The hives gave `{python} Honey.kg` kg.\n")
    render(root)
    assert "gave 8 kg" in text(root, "honey")
    (root / "data" / "autumn.csv").write_text("hive,kg\nA,2\n")
    render(root)
    assert "gave 10 kg" in text(root, "honey")


def test_numbers_why_names_the_data_the_chapter_reads(book: Path) -> None:
    why = run_cli("numbers", "why", "Sales.bottles", cwd=book, timeout=120)
    assert why.returncode == 0, why.stderr
    assert "data the chapter reads: data/sales.csv" in why.stdout, why.stdout
