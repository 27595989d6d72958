"""numbers.lock as data: the file a reviewer reads, the malformed lines it names, what drift is.

Fast (no kernel): `make mutants` runs this file against every mutant of bookbuild/numbers/lock.py.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bookbuild.numbers import lock
from bookbuild.numbers.lock import Entry, Lock, LockError
from bookbuild.numbers.shown import Shown
from bookbuild.source.qmd import parse

LOCK_TEXT = lock.HEADER + """
constants:
  A_BW: "3.35 TB/s"
  Z_FLOPS: "989 TFLOP/s"
chapters:
  a.qmd:
  - {line: 3, expr: "R.x", text: "1"}
  - {line: 7, expr: "R.x", text: "2"}
  - {line: 7, expr: "R.y \\"q\\"", text: "é"}
  empty.qmd:
outputs:
  a.qmd:
  - {line: 9, cell: "#2", at: "mean: {}", text: "2.5"}
  - {line: 9, cell: "#2", at: "table 1 [row 'b', column 'x']", text: "1000"}
files:
  "data/x.csv": {size: 12, sha256: "%s"}
packages:
  pandas: "3.1.2"
""" % ("ab" * 32)
SHOWN = [Shown("a.qmd", 9, "#2", "table 1 [row 'b', column 'x']", "1000"),
         Shown("a.qmd", 9, "#2", "mean: {}", "2.5")]
# A lock from before cell outputs were locked: no outputs, files or packages sections.
OLD_TEXT = LOCK_TEXT.split("\noutputs:\n")[0] + "\n"


def entry(chapter: str, line: int, expr: str, text: str, n: int = 1) -> Entry:
    return Entry(chapter, line, expr, text, n)


def test_parse_reads_constants_entries_and_chapters_without_numbers() -> None:
    parsed = lock.parse(LOCK_TEXT)
    assert parsed.constants == {"A_BW": "3.35 TB/s", "Z_FLOPS": "989 TFLOP/s"}
    assert parsed.entries == [entry("a.qmd", 3, "R.x", "1", 1), entry("a.qmd", 7, "R.x", "2", 2),
                              entry("a.qmd", 7, 'R.y "q"', "é", 1)]
    assert parsed.empty_chapters == {"empty.qmd"}
    assert parsed.chapters() == {"a.qmd", "empty.qmd"}


def test_dump_is_sorted_one_entry_a_line_and_reads_back_the_same() -> None:
    shuffled = Lock({"Z_FLOPS": "989 TFLOP/s", "A_BW": "3.35 TB/s"},
                    [entry("a.qmd", 7, 'R.y "q"', "é"), entry("a.qmd", 7, "R.x", "2", 2),
                     entry("a.qmd", 3, "R.x", "1")], {"empty.qmd"}, SHOWN,
                    {"data/x.csv": (12, "ab" * 32)}, {"pandas": "3.1.2"})
    assert lock.dump(shuffled) == LOCK_TEXT
    assert lock.dump(lock.parse(LOCK_TEXT)) == LOCK_TEXT


def test_write_replaces_the_file_and_load_reads_it(tmp_path: Path) -> None:
    path = tmp_path / lock.LOCK
    path.write_text("old\n")
    lock.write(path, lock.parse(LOCK_TEXT))
    assert path.read_text(encoding="utf-8") == LOCK_TEXT
    assert lock.load(path) == lock.parse(LOCK_TEXT)
    assert [p.name for p in tmp_path.iterdir()] == [lock.LOCK]  # no temp file left behind


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield
    os.umask(old)


def test_a_new_lock_gets_the_umask_mode_and_a_replaced_one_keeps_its_own(tmp_path: Path,
                                                                         umask_027) -> None:
    path = tmp_path / lock.LOCK
    lock.write(path, lock.parse(LOCK_TEXT))
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # as open(path, "w") makes it
    path.chmod(0o604)
    lock.write(path, lock.parse(LOCK_TEXT))
    assert stat.S_IMODE(path.stat().st_mode) == 0o604


def test_a_symlinked_lock_stays_a_link_and_the_file_it_points_to_is_replaced(
        tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "real.lock").write_text("old\n")
    path = tmp_path / lock.LOCK
    path.symlink_to("shared/real.lock")
    lock.write(path, lock.parse(LOCK_TEXT))
    assert path.is_symlink() and os.readlink(path) == "shared/real.lock"
    assert (shared / "real.lock").read_text(encoding="utf-8") == LOCK_TEXT
    assert sorted(p.name for p in shared.iterdir()) == ["real.lock"]  # no temp file left


def test_a_folder_where_the_lock_goes_is_an_error_naming_the_lock(tmp_path: Path) -> None:
    path = tmp_path / lock.LOCK
    path.mkdir()
    with pytest.raises(IsADirectoryError) as err:
        lock.write(path, lock.parse(LOCK_TEXT))
    assert err.value.filename == str(path)  # not the temp file's name
    assert [p.name for p in tmp_path.iterdir()] == [lock.LOCK] and not any(path.iterdir())


def test_a_missing_lock_is_none_and_an_unreadable_one_is_located(tmp_path: Path) -> None:
    assert lock.load(tmp_path / "nothing.lock") is None
    bad = tmp_path / "numbers.lock"
    bad.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(LockError) as err:
        lock.load(bad)
    assert str(err.value).startswith(f"{bad}: cannot read the numbers lock:")
    assert str(err.value).endswith("[LCK001]")


def test_comments_and_blank_lines_are_ignored() -> None:
    text = "# a note\n\nconstants:\n  # another\n   \n  K: \"1\"\nchapters:\n"
    assert lock.parse(text).constants == {"K": "1"}


def _problems(text: str) -> list[str]:
    with pytest.raises(LockError) as err:
        lock.parse(text, "numbers.lock")
    return [f"{d.line}: {d.message}" for d in err.value.diagnostics]


def test_every_malformed_line_is_reported_with_its_line_number() -> None:
    text = ('constants:\n  K: "1"\n  K: "2"\nchapters:\n  a.qmd:\n  - {line: 1, expr: "x", text: "1"}\n'
            '  a.qmd:\n  - {line: x, expr: "x"}\n')
    assert _problems(text) == [
        "3: constant 'K' is listed twice (first at line 2)",
        "7: chapter 'a.qmd' is listed twice (first at line 5)",
        "8: malformed line in the numbers lock: '- {line: x, expr: \"x\"}'",
    ]


@pytest.mark.parametrize("marker", ["<<<<<<< ours", "=======", ">>>>>>> theirs", "|||||||"])
def test_a_merge_conflict_marker_is_named_with_how_to_resolve_it(marker: str) -> None:
    with pytest.raises(LockError) as err:
        lock.parse(f"constants:\n{marker}\n", "numbers.lock")
    [d] = err.value.diagnostics
    assert (d.line, d.code, d.message) == (2, "LCK001", "merge conflict marker in the numbers lock")
    assert "bookbuild numbers accept" in d.hint


def test_lines_in_the_wrong_section_are_malformed() -> None:
    # An entry before any chapter, a chapter under constants, a line before any section.
    problems = _problems('chapters:\n  - {line: 1, expr: "x", text: "1"}\nconstants:\n  a.qmd:\n')
    assert [p.split(":")[0] for p in problems] == ["2", "4"]
    assert _problems('K: "1"\n') == ["1: malformed line in the numbers lock: 'K: \"1\"'"]


def test_a_section_header_resets_the_current_chapter() -> None:
    text = 'chapters:\n  a.qmd:\nconstants:\nchapters:\n  - {line: 1, expr: "x", text: "1"}\n'
    assert [p.split(":")[0] for p in _problems(text)] == ["5"]


def test_entries_of_counts_occurrences_of_the_same_expression() -> None:
    doc = parse("`{python} A.x` and `{python} A.y`\n\nagain `{python} A.x`\n", "c.qmd")
    got = lock.entries_of("c.qmd", doc.refs, ["1", "2", "3"])
    assert got == [entry("c.qmd", 1, "A.x", "1", 1), entry("c.qmd", 1, "A.y", "2", 1),
                   entry("c.qmd", 3, "A.x", "3", 2)]
    with pytest.raises(ValueError):
        lock.entries_of("c.qmd", doc.refs, ["1"])  # a text for every reference, or a bug


def _lock(*entries: Entry, constants: dict | None = None, empty: set | None = None) -> Lock:
    return Lock(dict(constants or {}), list(entries), set(empty or ()))


def test_a_number_that_decreases_is_drift() -> None:
    drift = lock.compare(_lock(entry("a.qmd", 5, "R.h100", "295")),
                         _lock(entry("a.qmd", 5, "R.h100", "254")))
    assert drift
    assert [(a.text, b.text) for a, b in drift.moved] == [("295", "254")]


def test_equal_locks_have_no_drift() -> None:
    same = _lock(entry("a.qmd", 5, "R.x", "1"), constants={"K": "1 s"}, empty={"b.qmd"})
    drift = lock.compare(same, _lock(entry("a.qmd", 5, "R.x", "1"), constants={"K": "1 s"},
                                     empty={"b.qmd"}))
    assert not drift


def test_a_number_moved_to_another_line_with_the_same_text_is_not_drift() -> None:
    assert not lock.compare(_lock(entry("a.qmd", 5, "R.x", "1")), _lock(entry("a.qmd", 9, "R.x", "1")))


def test_added_and_removed_references_are_drift_in_line_order() -> None:
    old = _lock(entry("a.qmd", 9, "R.b", "2"), entry("a.qmd", 2, "R.a", "1"))
    new = _lock(entry("a.qmd", 8, "R.d", "4"), entry("a.qmd", 3, "R.c", "3"))
    drift = lock.compare(old, new)
    assert [e.expr for e in drift.added] == ["R.c", "R.d"]
    assert [e.expr for e in drift.removed] == ["R.a", "R.b"]
    assert drift.moved == [] and drift


def test_moved_numbers_are_listed_by_chapter_then_line() -> None:
    old = _lock(entry("b.qmd", 1, "R.z", "1"), entry("a.qmd", 9, "R.y", "1"), entry("a.qmd", 2, "R.x", "1"))
    new = _lock(entry("b.qmd", 1, "R.z", "2"), entry("a.qmd", 9, "R.y", "2"), entry("a.qmd", 2, "R.x", "2"))
    assert [b.expr for _, b in lock.compare(old, new).moved] == ["R.x", "R.y", "R.z"]


def test_changed_new_and_removed_constants_are_drift() -> None:
    drift = lock.compare(_lock(constants={"A": "1 s", "B": "2 s"}),
                         _lock(constants={"B": "3 s", "C": "4 s"}))
    assert drift.constants == [("A", "1 s", None), ("B", "2 s", "3 s"), ("C", None, "4 s")]
    assert drift


def test_a_chapter_whose_references_were_all_removed_reports_them() -> None:
    old = _lock(entry("a.qmd", 3, "R.x", "1"), entry("a.qmd", 4, "R.y", "2"))
    new = _lock(empty={"a.qmd"})
    drift = lock.compare(old, new)
    assert [e.expr for e in drift.removed] == ["R.x", "R.y"]
    assert drift.chapters_added == [] and drift.chapters_removed == []


def test_chapters_added_to_or_removed_from_the_book_are_drift() -> None:
    drift = lock.compare(_lock(empty={"old.qmd", "kept.qmd"}), _lock(empty={"new.qmd", "kept.qmd"}))
    assert drift.chapters_added == ["new.qmd"]
    assert drift.chapters_removed == ["old.qmd"]
    assert drift
    assert lock.compare(_lock(empty={"old.qmd"}), _lock())  # removal alone is drift


def test_restrict_keeps_only_the_chapters_rendered() -> None:
    full = _lock(entry("a.qmd", 1, "R.x", "1"), entry("b.qmd", 1, "R.y", "2"),
                 constants={"K": "1"}, empty={"c.qmd", "d.qmd"})
    part = lock.restrict(full, {"a.qmd", "c.qmd"})
    assert part.entries == [entry("a.qmd", 1, "R.x", "1")]
    assert part.empty_chapters == {"c.qmd"}
    assert part.constants == {"K": "1"}
    part.constants["K"] = "changed"
    assert full.constants == {"K": "1"}  # a copy: the caller's lock is not touched


def test_each_conflict_marker_of_a_merge_is_reported() -> None:
    text = ('constants:\n<<<<<<< ours\n  K: "1"\n=======\n  K2: "2"\n>>>>>>> theirs\nchapters:\n')
    assert [p.split(":")[0] for p in _problems(text)] == ["2", "4", "6"]


def test_a_lock_problem_prints_as_file_line_column() -> None:
    with pytest.raises(LockError) as err:
        lock.parse('constants:\n  K: "1"\n  K: "2"\n', "numbers.lock")
    assert str(err.value) == "numbers.lock:3:1: constant 'K' is listed twice (first at line 2) [LCK001]"


def test_a_long_malformed_line_is_quoted_up_to_60_characters() -> None:
    [problem] = _problems("x" * 70 + "\n")
    assert problem == f"1: malformed line in the numbers lock: '{'x' * 60}'"


def test_lock_entries_cannot_be_changed_in_place() -> None:
    e = entry("a.qmd", 1, "R.x", "1")
    with pytest.raises(AttributeError):
        e.text = "2"  # type: ignore[misc]
    assert {e, entry("a.qmd", 1, "R.x", "1")} == {e}


def test_moved_numbers_follow_the_lines_of_the_chapter_as_it_is_now() -> None:
    # Prose inserted above R.x moved it below R.y: the report follows the current lines.
    old = _lock(entry("a.qmd", 2, "R.x", "1"), entry("a.qmd", 9, "R.y", "1"))
    new = _lock(entry("a.qmd", 20, "R.x", "2"), entry("a.qmd", 9, "R.y", "2"))
    assert [b.expr for _, b in lock.compare(old, new).moved] == ["R.y", "R.x"]


def test_added_or_removed_numbers_alone_are_drift() -> None:
    assert lock.compare(_lock(entry("a.qmd", 1, "R.x", "1")), _lock(empty={"a.qmd"}))
    assert lock.compare(_lock(empty={"a.qmd"}), _lock(entry("a.qmd", 1, "R.x", "1")))


def test_a_lock_from_before_outputs_reads_and_its_output_lines_are_strict() -> None:
    old = lock.parse(OLD_TEXT)
    assert (old.shown, old.files, old.packages) == (None, None, None)
    assert old.entries == lock.parse(LOCK_TEXT).entries
    drift = lock.compare(old, lock.parse(LOCK_TEXT))
    assert drift.outputs_unlocked == 2 and not drift.added and not drift.moved
    twice = LOCK_TEXT.replace('text: "2.5"}', 'text: "2.5"}\n  - {line: 9, cell: "#2", at: "mean: {}", '
                                             'text: "3"}')
    assert _problems(twice) == ["19: output number 'a.qmd [#2] mean: {}' is listed twice (first at line 18)"]
    [bad] = _problems(LOCK_TEXT.replace('sha256: "abab', 'sha256: "zz'))
    assert bad.startswith("21: malformed line in the numbers lock: '\"data/x.csv\": {size: 12")
