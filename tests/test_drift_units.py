"""Drift reports: what moved, which constants moved it, chapters whose numbers all went away.

Fast (no kernel: chapters carry results as an execution would): `make mutants` runs this file
against every mutant of bookbuild/numbers/drift.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bookbuild.model import Chapter, ExecutionResult
from bookbuild.numbers import drift, lock
from bookbuild.numbers.lock import Entry, Lock
from bookbuild.source.qmd import parse

CELL = ("```{python}\nfrom mlsysim.core.constants import *\n\nclass R:\n    bw = H100_MEM_BW\n"
        "    ridge = H100_FLOPS_FP16_TENSOR / bw\n    other = 3\n```\n\n")


def _snapshot() -> dict[str, dict]:
    """The two constants as a chapter kernel's snapshot reports them (with their defining file)."""
    import os

    import mlsysim.core.constants  # noqa: F401
    from bookbuild.kernel.constants import snapshot
    from tests.conftest import ROOT

    here = os.getcwd()
    os.chdir(ROOT)
    try:
        full = snapshot(())
    finally:
        os.chdir(here)
    return {k: full[k] for k in ("H100_MEM_BW", "H100_FLOPS_FP16_TENSOR")}


DETAILS = _snapshot()


def chapter(root: Path, name: str, prose: str, texts: list[str], details=DETAILS) -> Chapter:
    path = root / name
    path.write_text(CELL + prose)
    doc = parse(path.read_text(), str(path))
    return Chapter(path, doc, ExecutionResult([], texts, [], details))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    # The book's own folder with its own copy of mlsysim: the trace follows project modules.
    import shutil

    from tests.conftest import ROOT

    (tmp_path / "_quarto.yml").write_text("project:\n  type: book\n")
    shutil.copytree(ROOT / "mlsysim", tmp_path / "mlsysim",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_current_lists_every_number_and_constant_and_chapters_without_numbers(root: Path) -> None:
    a = chapter(root, "a.qmd", "Ridge `{python} R.ridge`, again `{python} R.ridge`.\n", ["295", "295"])
    b = chapter(root, "b.qmd", "No numbers here.\n", [])
    now, details = drift.current(root, [a, b])
    assert now.constants == {"H100_MEM_BW": "3.35 TB/s", "H100_FLOPS_FP16_TENSOR": "989 TFLOP/s"}
    assert now.entries == [Entry("a.qmd", 10, "R.ridge", "295", 1), Entry("a.qmd", 10, "R.ridge", "295", 2)]
    assert now.empty_chapters == {"b.qmd"}
    assert details == DETAILS


def test_a_chapter_whose_numbers_were_all_removed_reports_each(root: Path) -> None:
    locked = Lock(dict((k, v["value"]) for k, v in DETAILS.items()),
                  [Entry("a.qmd", 11, "R.ridge", "295", 1), Entry("a.qmd", 12, "R.other", "3", 1)])
    lock.write(root / lock.LOCK, locked)
    a = chapter(root, "a.qmd", "All numbers gone.\n", [])
    _, now, found, causes = drift.drift_of(root, [a], whole_book=True)
    assert found
    assert drift.report(found, causes, "drift") == [
        "drift: a.qmd:11 removed reference R.ridge (was 295)",
        "drift: a.qmd:12 removed reference R.other (was 3)",
    ]
    assert drift.summary(found) == ("numbers: 0 moved, 0 new, 2 removed, 0 constant(s) changed "
                                    "(run `bookbuild numbers accept` to take them)")


def test_a_decreased_number_is_reported_with_the_constant_that_moved_it(root: Path) -> None:
    locked = Lock({"H100_MEM_BW": "3.35 TB/s", "H100_FLOPS_FP16_TENSOR": "989 TFLOP/s"},
                  [Entry("a.qmd", 11, "R.ridge", "295", 1), Entry("a.qmd", 11, "R.other", "3", 1)])
    lock.write(root / lock.LOCK, locked)
    details = {**DETAILS, "H100_MEM_BW": {**DETAILS["H100_MEM_BW"], "value": "3.9 TB/s"}}
    a = chapter(root, "a.qmd", "Ridge `{python} R.ridge`, `{python} R.other`.\n", ["254", "4"], details)
    _, _, found, causes = drift.drift_of(root, [a], whole_book=True)
    assert drift.report(found, causes, "drift") == [
        "drift: a.qmd:10 R.other: 3 → 4  (no changed constant explains it: code or inputs changed)",
        "drift: a.qmd:10 R.ridge: 295 → 254  (moved by H100_MEM_BW)",
        "drift: constant H100_MEM_BW: 3.35 TB/s → 3.9 TB/s",
        "    moved a.qmd:10 R.ridge",
    ]
    assert drift.summary(found).startswith("numbers: 2 moved, 0 new, 0 removed, 1 constant(s) changed")


def test_no_lock_yet_is_no_drift_and_a_clean_book_has_no_causes(root: Path) -> None:
    a = chapter(root, "a.qmd", "Ridge `{python} R.ridge`.\n", ["295"])
    locked, now, found, causes = drift.drift_of(root, [a], whole_book=True)
    assert (locked, found, causes) == (None, None, {})
    assert [e.expr for e in now.entries] == ["R.ridge"]
    lock.write(root / lock.LOCK, now)
    locked, _, found, causes = drift.drift_of(root, [a], whole_book=True)
    # (the files and packages are read only to write a lock or explain a drift)
    assert (locked.constants, locked.entries, locked.shown) == (now.constants, now.entries, now.shown)
    assert not found and causes == {}


def test_a_partial_render_compares_only_its_chapters_and_their_constants(root: Path) -> None:
    locked = Lock({"H100_MEM_BW": "3.35 TB/s", "H100_FLOPS_FP16_TENSOR": "989 TFLOP/s", "OTHER": "1"},
                  [Entry("a.qmd", 11, "R.ridge", "295", 1), Entry("b.qmd", 11, "R.ridge", "1", 1)],
                  {"c.qmd"})
    lock.write(root / lock.LOCK, locked)
    a = chapter(root, "a.qmd", "Ridge `{python} R.ridge`.\n", ["295"])
    _, _, found, _ = drift.drift_of(root, [a], whole_book=False)
    assert not found  # b.qmd, c.qmd and OTHER belong to chapters not rendered now
    _, _, found, _ = drift.drift_of(root, [a], whole_book=True)
    assert found.chapters_removed == ["b.qmd", "c.qmd"]
    assert found.constants == [("OTHER", "1", None)]
    assert ", 2 chapter(s) added or removed " in drift.summary(found)  # removals alone count


def test_report_names_new_removed_and_changed_constants_and_chapters() -> None:
    found = lock.Drift(
        added=[Entry("a.qmd", 3, "R.new", "7", 1)],
        constants=[("GONE", "1 s", None), ("NEW", None, "2 s"), ("K", "1 s", "2 s")],
        chapters_added=["n.qmd"], chapters_removed=["o.qmd"])
    assert drift.report(found, {}, "accepted") == [
        "accepted: chapter n.qmd is in the book but not in numbers.lock",
        "accepted: chapter o.qmd is in numbers.lock but no longer in the book",
        "accepted: a.qmd:3 new reference R.new = 7",
        "accepted: removed constant GONE (was 1 s)",
        "    moved no rendered number",
        "accepted: new constant NEW = 2 s",
        "    moved no rendered number",
        "accepted: constant K: 1 s → 2 s",
        "    moved no rendered number",
    ]
    assert drift.summary(found) == (
        "numbers: 0 moved, 1 new, 0 removed, 3 constant(s) changed, 2 chapter(s) added or removed "
        "(run `bookbuild numbers accept` to take them)")


def test_a_number_in_an_included_file_is_reported_where_it_is_written(root: Path, monkeypatch) -> None:
    from bookbuild.source.qmd import parse_file

    monkeypatch.chdir(root)
    (root / "_aside.qmd").write_text("An aside.\n\nIts ridge is `{python} R.ridge`.\n")
    path = root / "a.qmd"
    path.write_text(CELL + "Text.\n\n{{< include _aside.qmd >}}\n")
    doc = parse_file(path, root)
    include_line = (CELL + "Text.\n\n").count("\n") + 1
    now, _ = drift.current(root, [Chapter(path, doc, ExecutionResult([], ["254"], [], DETAILS))])
    assert [(e.chapter, e.line) for e in now.entries] == [("a.qmd", include_line)]  # as stored
    lock.write(root / lock.LOCK, Lock({k: d["value"] for k, d in DETAILS.items()},
                                      [Entry("a.qmd", include_line, "R.ridge", "295", 1)]))
    a = Chapter(path, doc, ExecutionResult([], ["254"], [], DETAILS))
    _, _, found, causes = drift.drift_of(root, [a], whole_book=True)
    assert drift.report(found, causes, "drift")[0].startswith(
        f"drift: _aside.qmd:3 (included from a.qmd:{include_line}) R.ridge: 295 → 254")


def test_why_explains_an_inline_expression_from_the_chapters_that_show_it(root: Path) -> None:
    from bookbuild.numbers.provenance import why

    a = chapter(root, "a.qmd", "Ridge `{python} R.ridge`.\n", ["295"])
    b = chapter(root, "b.qmd", "Other `{python} R.other`.\n", ["3"])
    values = {("a.qmd", "R.ridge"): "295", ("b.qmd", "R.other"): "3"}
    lines = why([b, a], root, DETAILS, values, "R.ridge")
    assert lines[0] == "a.qmd: R.ridge = 295"
    assert not any(line.startswith("b.qmd") for line in lines), lines


def test_a_changed_package_names_itself_for_the_numbers_its_chapter_shows() -> None:
    from bookbuild.numbers.shown import Shown

    def shown(value: str, version: str) -> Lock:
        return Lock({}, [], {"a.qmd"}, [Shown("a.qmd", 3, "fit", "r2: {}", value)], {},
                    {"scipy": version})

    old, now = shown("0.91", "1.13.0"), shown("0.92", "1.14.1")
    found = lock.compare(old, now)
    lock.changed_inputs(old, now, found)
    causes = {now.shown[0].key: {"package:scipy", "file:data/other.csv"}}
    assert drift.report(found, causes, "drift") == [
        "drift: a.qmd:3 [fit] r2: {}: 0.91 → 0.92  (moved by scipy)",
        "drift: package scipy: 1.13.0 → 1.14.1",
        "    moved a.qmd:3 [fit] r2: {}",
    ]
