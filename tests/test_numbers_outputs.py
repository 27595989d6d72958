"""The numbers cells show (prints, results, DataFrame tables) are locked too, and their drift
names what moved them: the data file with its sizes and hashes, or nothing that changed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import run_cli

CSV = "orchard,tonnes,area\nAshby,12.5,4\nBrill,9.75,3\nCorfe,20.25,6\n"

CHAPTER = """# Harvest

```{python}
#| label: load
import pandas as pd
crops = pd.read_csv("data/harvest.csv", index_col="orchard")
print(f"mean yield: {crops['tonnes'].mean():.2f} t per orchard")
```

```{python}
#| label: tbl-harvest
#| tbl-cap: Harvest by orchard
crops
```

```{python}
#| label: scratch
#| lock: false
print(crops["tonnes"].sum())
```

```{python}
#| label: quiet
#| output: false
print(crops["area"].sum())
```

```{python}
#| label: where
print(f"frame at {hex(id(crops))}, largest orchard {crops['area'].max()} ha")
```

The orchards are listed in @tbl-harvest.
"""


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """A book with no inline value: every number is a cell's output, read from a CSV."""
    root = tmp_path / "book"
    (root / "data").mkdir(parents=True)
    (root / "_quarto.yml").write_text("project:\n  type: book\nbook:\n  title: T\n  chapters:\n"
                                      "    - ch.qmd\n")
    (root / "ch.qmd").write_text(CHAPTER)
    (root / "data" / "harvest.csv").write_text(CSV)
    return root


def accept(book: Path) -> str:
    r = run_cli("numbers", "accept", cwd=book)
    assert r.returncode == 0, r.stdout + r.stderr
    return (book / "numbers.lock").read_text()


def drift_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("drift: ch.qmd")]


def test_accept_locks_the_shown_numbers_and_not_hidden_or_opted_out_cells(book: Path) -> None:
    lock = accept(book)
    assert '  - {line: 3, cell: "load", at: "mean yield: {} t per orchard", text: "14.17"}' in lock
    assert ("  - {line: 10, cell: \"tbl-harvest\", at: \"table 1 [row 'Ashby', column 'tonnes']\", "
            'text: "12.5"}') in lock
    assert ("  - {line: 10, cell: \"tbl-harvest\", at: \"table 1 [row 'Corfe', column 'area']\", "
            'text: "6"}') in lock
    assert "scratch" not in lock and "quiet" not in lock  # lock: false, output: false
    # the address is noise, the area a number
    assert '  - {line: 28, cell: "where", at: "frame at …, largest orchard {} ha", text: "6"}' in lock
    digest = re.search(r'"data/harvest.csv": \{size: (\d+), sha256: "([0-9a-f]{64})"\}', lock)
    assert digest and int(digest.group(1)) == len(CSV)
    assert re.search(r'^  pandas: "[\d.]+', lock, re.M)
    assert "zoneinfo" not in lock  # pandas reads the system's time zone: no input of the book
    r = run_cli("numbers", "check", cwd=book)
    assert r.returncode == 0, r.stdout
    assert "0 numbers in 1 chapter(s), 0 constants, 8 numbers shown by cells" in r.stdout


def test_an_edited_row_drifts_exactly_its_cells_and_names_the_csv(book: Path) -> None:
    accept(book)
    old_size = len(CSV)
    (book / "data" / "harvest.csv").write_text(CSV.replace("Ashby,12.5,4", "Ashby,15.5,4"))
    r = run_cli("numbers", "check", cwd=book)
    assert r.returncode == 1, r.stdout + r.stderr
    assert drift_lines(r.stdout) == [
        "drift: ch.qmd:3 [load] mean yield: {} t per orchard: 14.17 → 15.17  (moved by data/harvest.csv)",
        "drift: ch.qmd:10 [tbl-harvest] table 1 [row 'Ashby', column 'tonnes']: 12.5 → 15.5  "
        "(moved by data/harvest.csv)",
    ]
    m = re.search(r"^drift: data file data/harvest.csv: (\d+) bytes, sha256 ([0-9a-f]{12}) → "
                  r"(\d+) bytes, sha256 ([0-9a-f]{12})$", r.stdout, re.M)
    assert m, r.stdout
    assert int(m.group(1)) == old_size and int(m.group(3)) == old_size
    assert m.group(2) != m.group(4)
    assert "    moved ch.qmd:10 [tbl-harvest] table 1 [row 'Ashby', column 'tonnes']" in r.stdout
    assert "numbers: 2 moved, 0 new, 0 removed" in r.stdout


def test_formatting_noise_alone_does_not_drift(book: Path) -> None:
    accept(book)
    # The same values spelt otherwise: the chapter re-executes (the file changed), the frame's
    # address in the printed line is another, and the table reads the same.
    (book / "data" / "harvest.csv").write_text(CSV.replace("12.5,", "12.50,").replace("9.75", "9.750"))
    r = run_cli("numbers", "check", cwd=book)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "executed 5 cells" in r.stderr  # not from the cache: the address did change


def test_no_input_changed_is_said_when_nothing_read_moved(book: Path) -> None:
    lock = accept(book)
    (book / "numbers.lock").write_text(lock.replace('cell: "where", at: "frame at …, largest '
                                                    'orchard {} ha", text: "6"', 'cell: "where", '
                                                    'at: "frame at …, largest orchard {} ha", '
                                                    'text: "7"'))
    r = run_cli("numbers", "check", cwd=book)
    assert r.returncode == 1
    assert drift_lines(r.stdout) == [
        "drift: ch.qmd:28 [where] frame at …, largest orchard {} ha: 7 → 6  (no input changed: "
        "its code changed, or it is not deterministic)"]


def test_why_by_place_and_by_label_row_and_column(book: Path) -> None:
    accept(book)
    (book / "data" / "harvest.csv").write_text(CSV.replace("Ashby,12.5,4", "Ashby,15.5,4"))
    r = run_cli("numbers", "why", "ch.qmd:12", cwd=book)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "ch.qmd:10 cell 'tbl-harvest'"
    assert re.match(r"  reads data/harvest.csv: \d+ bytes, sha256 [0-9a-f]{12}  \(locked: \d+ "
                    r"bytes, sha256 [0-9a-f]{12}\)$", lines[1]), lines
    assert re.match(r"  imports pandas [\d.]+$", lines[2]), lines
    assert "  table 1 [row 'Ashby', column 'tonnes'] = 15.5  (locked: 12.5)" in lines
    assert "  table 1 [row 'Brill', column 'area'] = 3" in lines
    r = run_cli("numbers", "why", "tbl-harvest", "--row", "Brill", "--column", "area", cwd=book)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "  table 1 [row 'Brill', column 'area'] = 3"
    assert "Ashby" not in r.stdout
    r = run_cli("numbers", "why", "tbl-harvest", "--row", "Nowhere", cwd=book)
    assert r.returncode == 1
    assert "no number shown by a cell matches 'tbl-harvest' (row 'Nowhere')" in r.stderr


def test_a_lock_from_before_outputs_asks_for_accept_in_one_line(book: Path) -> None:
    lock = accept(book)
    (book / "numbers.lock").write_text(lock.split("\noutputs:\n")[0] + "\n")
    r = run_cli("numbers", "check", cwd=book)
    assert r.returncode == 1
    assert drift_lines(r.stdout) == []
    assert ("drift: numbers.lock predates locking cell outputs (8 numbers shown by cells): run "
            "`bookbuild numbers accept`") in r.stdout


def test_render_warns_of_a_moved_table_cell(book: Path) -> None:
    accept(book)
    (book / "data" / "harvest.csv").write_text(CSV.replace("Brill,9.75,3", "Brill,9.75,5"))
    r = run_cli("render", "--to", "html", cwd=book)
    assert r.returncode == 0, r.stderr
    assert ("warning: ch.qmd:10 [tbl-harvest] table 1 [row 'Brill', column 'area']: 3 → 5  "
            "(moved by data/harvest.csv)") in r.stderr


def test_opting_out_a_book_and_a_misspelt_lock_option(book: Path) -> None:
    (book / "_quarto.yml").write_text((book / "_quarto.yml").read_text()
                                      + "bookbuild:\n  lock-outputs: false\n")
    lock = accept(book)
    assert "tbl-harvest" not in lock and "outputs:\nfiles:" in lock
    (book / "ch.qmd").write_text(CHAPTER.replace("#| lock: false", "#| lock: flase"))
    r = run_cli("check", cwd=book)
    assert r.returncode == 1
    assert "ch.qmd:18:4: cell option 'lock' in cell 'scratch' must be true or false, not 'flase' [QMD006]" in r.stdout
