"""bookbuild on a book that is not ours: its own constants package, no sources protocol.

The fixture book (tests/fixtures/anybook) keeps plain module-level pint quantities with sources
in comments, a registry of nested classes holding dataclass instances, a helper module deriving
values, and a CSV read by a cell. The same drift test runs on our own book.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT, run_cli

ANYBOOK = FIXTURES / "anybook"
SKIP = shutil.ignore_patterns("_book", ".bookbuild", "__pycache__", "numbers.lock")


def copy_anybook(dest: Path) -> Path:
    root = dest / "anybook"
    shutil.copytree(ANYBOOK, root, ignore=SKIP)
    return root


def copy_our_book(dest: Path) -> Path:
    """Our own book with its own copy of mlsysim, so its constants can be edited."""
    root = dest / "ours"
    root.mkdir()
    for name in ("_quarto.yml", "index.qmd", "numbers.lock"):
        shutil.copy(ROOT / name, root / name)
    for name in ("appendix", "mlsysim", "filters"):
        shutil.copytree(ROOT / name, root / name, ignore=SKIP)
    # Beside their chapters (Quarto's default) the appendix's cells would import the installed
    # mlsysim, not this copy's: at the copy's root they find the copy first.
    config = root / "_quarto.yml"
    config.write_text(config.read_text().replace("  type: book\n", "  type: book\n"
                                                 "  execute-dir: project\n", 1))
    return root


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def ok(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    r = run_cli(*args, cwd=cwd, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


@pytest.fixture
def anybook(tmp_path: Path) -> Path:
    return copy_anybook(tmp_path)


# --- rendering ---------------------------------------------------------------------------
def test_renders_html_pdf_and_md_and_each_format_keeps_the_others(anybook: Path) -> None:
    ok("render", cwd=anybook)  # html and pdf, as _quarto.yml asks
    out = anybook / "_book"
    page = (out / "chapters" / "compute.html").read_text(encoding="utf-8")
    assert re.search(r"compute-bound at <span[^>]*>295</span>\s+FLOP per byte", page)
    # No sources protocol: the tooltip says where each constant is defined.
    assert ('title="Ridge.text ← MEM_BW = 3.35 TB/s (defined at labconst/physics.py:8); '
            'PEAK_FLOPS = 989 TFLOP/s (defined at labconst/physics.py:6)"') in page
    assert ('Hardware.Cloud.BIG.peak_flops = 312 TFLOP/s (defined at labconst/registry.py:17)'
            in page)
    text = subprocess.run(["pdftotext", "-layout", str(out / "bench-notes.pdf"), "-"],
                          capture_output=True, text=True, timeout=60, check=True).stdout
    assert "compute-bound at 295 FLOP per byte" in " ".join(text.split())
    assert "averaging 14.0 s" in " ".join(text.split())

    ok("render", "--to", "md", cwd=anybook)
    assert "a gigabyte takes 0.373 ms" in (out / "chapters" / "compute.md").read_text()
    assert (out / "chapters" / "compute.html").is_file()  # md kept the HTML...
    assert (out / "bench-notes.pdf").is_file()  # ...and the PDF
    ok("render", "--to", "html", cwd=anybook)
    assert (out / "bench-notes.pdf").is_file() and (out / "chapters" / "data.md").is_file()


# --- the numbers lock --------------------------------------------------------------------
def test_numbers_accept_check_and_why_without_a_sources_protocol(anybook: Path) -> None:
    r = ok("numbers", "accept", cwd=anybook)
    assert "wrote numbers.lock: 10 numbers in 3 chapter(s), 11 constants" in r.stdout
    lock = (anybook / "numbers.lock").read_text()
    for line in ('  MEM_BW: "3.35 TB/s"', '  WORKDAY_HOURS: "8"', '  EFFECTIVE_BW: "2.68 TB/s"',
                 '  Hardware.Cloud.BIG.peak_flops: "312 TFLOP/s"',
                 '  Hardware.Edge.BOARD_WATTS: "60"'):
        assert line + "\n" in lock
    assert "Q_" not in lock and "ureg" not in lock  # code is not a constant
    assert "numbers.lock matches" in ok("numbers", "check", cwd=anybook).stdout

    lines = ok("numbers", "why", "Copy.gigabyte_ms", cwd=anybook).stdout.splitlines()
    assert lines[0] == "chapters/compute.qmd: Copy.gigabyte_ms = 0.373"
    assert "    ← EFFECTIVE_BW = 2.68 TB/s (defined at helpers.py:7)" in lines
    assert "        ← MEM_BW = 3.35 TB/s (defined at labconst/physics.py:8)" in lines
    assert lines[-1] == "  constants: EFFECTIVE_BW, EFFICIENCY, MEM_BW"
    registry = ok("numbers", "why", "Fleet.watts", cwd=anybook).stdout
    assert "← Hardware.Edge.BOARD_WATTS = 60 (defined at labconst/registry.py:21)" in registry


@dataclass
class Change:
    """One edit of a constant and every inline value it must move."""

    file: str
    old: str
    new: str
    constant: str
    moved: set[str]


ANY_CHANGES = {
    "module-level quantity": Change("labconst/physics.py", 'Q_(3.35, "TB/s")', 'Q_(4.0, "TB/s")',
                                    "MEM_BW", {"Ridge.text", "Copy.bw", "Copy.gigabyte_ms",
                                               "Runs.moved"}),
    "module-level number": Change("labconst/physics.py", "WORKDAY_HOURS = 8", "WORKDAY_HOURS = 10",
                                  "WORKDAY_HOURS", {"Fleet.watts"}),
    "dataclass in nested classes": Change("labconst/registry.py", 'peak_flops=Q_(312, "TFLOP/s")',
                                          'peak_flops=Q_(400, "TFLOP/s")',
                                          "Hardware.Cloud.BIG.peak_flops",
                                          {"Fleet.big_ridge", "Fleet.small_ratio"}),
    "number in a nested class": Change("labconst/registry.py", "BOARD_WATTS = 60",
                                       "BOARD_WATTS = 75", "Hardware.Edge.BOARD_WATTS",
                                       {"Fleet.watts"}),
    "helper module's factor": Change("helpers.py", "EFFICIENCY = 0.8", "EFFICIENCY = 0.7",
                                     "EFFICIENCY", {"Copy.bw", "Copy.gigabyte_ms", "Runs.moved"}),
}
OUR_CHANGES = {
    "our datasheet constant": Change("mlsysim/core/constants.py", '_c(3.35,  "TB/s"',
                                     '_c(3.9,   "TB/s"', "H100_MEM_BW", set()),
}
MOVED = re.compile(r"^drift: (\S+):\d+ (\S+): .* → .*  \((.*)\)$")


def assert_drift_names(out: str, change: Change) -> set[str]:
    """Every moved number names the changed constant as its cause; returns the moved exprs."""
    moved = set()
    for line in out.splitlines():
        m = MOVED.match(line)
        if m:
            moved.add(m.group(2))
            assert m.group(3).startswith("moved by ") and change.constant in m.group(3).split(
                "moved by ", 1)[1].split(", "), line
    assert "no changed constant explains it" not in out
    assert f"drift: constant {change.constant}: " in out
    return moved


@pytest.mark.parametrize("kind", sorted(ANY_CHANGES))
def test_changing_each_kind_of_constant_names_it_as_the_cause(anybook: Path, kind: str) -> None:
    change = ANY_CHANGES[kind]
    ok("numbers", "accept", cwd=anybook)
    edit(anybook, change.file, change.old, change.new)
    r = run_cli("numbers", "check", cwd=anybook, timeout=600)
    assert r.returncode == 1, r.stdout + r.stderr
    assert assert_drift_names(r.stdout, change) == change.moved


def test_changing_our_constant_names_it_as_the_cause(tmp_path: Path) -> None:
    """The same test on our own book (sources declared through the protocol)."""
    book = copy_our_book(tmp_path)
    assert "numbers.lock matches" in ok("numbers", "check", cwd=book).stdout
    change = OUR_CHANGES["our datasheet constant"]
    edit(book, change.file, change.old, change.new)
    r = run_cli("numbers", "check", cwd=book, timeout=600)
    assert r.returncode == 1
    moved = assert_drift_names(r.stdout, change)
    assert {"Roofline.h100_ridge", "Ridge.h100"} & moved, r.stdout
    why = ok("numbers", "why", "Roofline.h100_ridge", cwd=book).stdout
    assert "← H100_MEM_BW = 3.9 TB/s (NVIDIA H100 Tensor Core GPU datasheet (SXM5)" in why


# --- cache dependencies ------------------------------------------------------------------
def test_changing_the_csv_re_executes_its_chapter(anybook: Path) -> None:
    ok("render", "--to", "md", cwd=anybook)
    again = ok("render", "--to", "md", cwd=anybook)
    assert "chapters/data.qmd: cached, no kernel started" in again.stderr
    with (anybook / "data" / "runs.csv").open("a") as f:
        f.write("d,18.0\n")
    r = ok("render", "--to", "md", cwd=anybook)
    assert re.search(r"chapters/data\.qmd: executed", r.stderr), r.stderr
    assert "chapters/compute.qmd: cached, no kernel started" in r.stderr
    assert "recorded 4 runs averaging 15.0 s" in " ".join(
        (anybook / "_book/chapters/data.md").read_text().split())


def test_a_constant_reached_only_through_the_helper_re_executes(anybook: Path) -> None:
    ok("render", "--to", "md", cwd=anybook)
    edit(anybook, "labconst/physics.py", 'Q_(3.35, "TB/s")', 'Q_(4.0, "TB/s")')
    r = ok("render", "--to", "md", cwd=anybook)
    assert re.search(r"chapters/data\.qmd: executed", r.stderr), r.stderr
    text = " ".join((anybook / "_book/chapters/data.md").read_text().split())
    assert "each streaming about 45 TB" in text


OUTSIDE = """# Outside

```{{python}}
import sqlite3

import numpy as np

with sqlite3.connect({db!r}) as con:
    total = con.execute("select sum(n) from t").fetchone()[0]
weights = np.loadtxt({txt!r})


class Out:
    total = total
    weight = f"{{weights.sum():.1f}}"
```

The database holds `{{python}} Out.total`; the weights sum to `{{python}} Out.weight`.
"""


def test_files_read_outside_the_project_are_dependencies(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    db, txt = elsewhere / "lab.db", elsewhere / "weights.txt"
    with sqlite3_connect(db) as con:
        con.execute("create table t (n integer)")
        con.execute("insert into t values (5)")
    txt.write_text("1.5\n2.5\n")
    book = tmp_path / "book"
    book.mkdir()
    (book / "_quarto.yml").write_text("project:\n  type: book\nbook:\n  title: T\n  chapters:\n"
                                      "    - ch.qmd\n")
    (book / "ch.qmd").write_text(OUTSIDE.format(db=str(db), txt=str(txt)))
    ok("render", "--to", "md", cwd=book)
    assert "cached, no kernel started" in ok("render", "--to", "md", cwd=book).stderr
    with sqlite3_connect(db) as con:
        con.execute("insert into t values (7)")
    r = ok("render", "--to", "md", cwd=book)
    assert "executed" in r.stderr
    assert "The database holds 12;" in (book / "_book" / "ch.md").read_text()
    txt.write_text("1.5\n3.5\n")
    r = ok("render", "--to", "md", cwd=book)
    assert "executed" in r.stderr
    assert "the weights sum to 5.0." in (book / "_book" / "ch.md").read_text()


def sqlite3_connect(path: Path):
    import sqlite3

    return sqlite3.connect(path)


# --- partial renders ---------------------------------------------------------------------
def test_rendering_some_chapters_reports_drift_only_on_them(anybook: Path) -> None:
    ok("numbers", "accept", cwd=anybook)
    with (anybook / "data" / "runs.csv").open("a") as f:
        f.write("d,18.0\n")  # moves data.qmd's numbers only
    one = ok("render", "chapters/compute.qmd", "--to", "html", cwd=anybook)
    assert "data.qmd" not in one.stderr and "drift" not in one.stderr.lower(), one.stderr
    other = ok("render", "chapters/data.qmd", "--to", "html", cwd=anybook)
    assert "warning: chapters/data.qmd:" in other.stderr
    assert "compute.qmd" not in other.stderr


# --- the engine knows no book ------------------------------------------------------------
def test_the_engine_names_no_constants_package_of_ours() -> None:
    """bookbuild/ must work for any book: our mlsysim is one package among many."""
    hits = [f"{p.relative_to(ROOT)}:{n}" for p in sorted((ROOT / "bookbuild").rglob("*"))
            if p.is_file() and p.suffix in (".py", ".lua", ".tex", ".j2", ".html", ".css")
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
            if "mlsysim" in line]
    assert hits == []


def test_a_module_that_breaks_discovery_still_gets_a_lock(anybook: Path) -> None:
    """A `__sources__` that is not a mapping, a class whose attributes raise: never a crash,
    never a null snapshot; the module's numbers are discovered as if it had no protocol."""
    (anybook / "labconst" / "odd.py").write_text(
        '__sources__ = ["not", "a", "mapping"]\nODD_FACTOR = 3\n\n\n'
        "class Lazy:\n    @property\n    def boom(self):\n        raise RuntimeError('no')\n\n\n"
        "LAZY = Lazy()\n")
    edit(anybook, "chapters/data.qmd", "import csv\n", "import csv\n\nfrom labconst.odd import *\n")
    edit(anybook, "chapters/data.qmd", "    count = len(rows)\n",
         "    count = len(rows) * ODD_FACTOR // 3\n")
    r = ok("numbers", "accept", cwd=anybook)
    assert "12 constants" in r.stdout
    assert '  ODD_FACTOR: "3"\n' in (anybook / "numbers.lock").read_text()
    edit(anybook, "labconst/odd.py", "ODD_FACTOR = 3", "ODD_FACTOR = 6")
    r = run_cli("numbers", "check", cwd=anybook, timeout=600)
    assert "drift: chapters/data.qmd:22 Runs.count: 3 → 6  (moved by ODD_FACTOR)" in r.stdout
