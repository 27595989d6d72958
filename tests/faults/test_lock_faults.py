"""numbers.lock problems are located and, under --strict, stop the build."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.conftest import bb


@pytest.fixture
def locked(book: Path) -> Path:
    assert bb("numbers", "accept", cwd=book).returncode == 0
    return book


def test_conflict_markers_are_located_and_fail_strict(locked: Path) -> None:
    lock = locked / "numbers.lock"
    lines = lock.read_text().splitlines()
    at = lines.index("chapters:") + 1
    lines[at:at] = ["<<<<<<< ours", "=======", ">>>>>>> theirs"]
    lock.write_text("\n".join(lines) + "\n")
    r = bb("numbers", "check", cwd=locked)
    assert r.returncode == 1
    assert f"numbers.lock:{at + 1}:1: merge conflict marker in the numbers lock [LCK001]" in r.stderr
    r = bb("render", "--to", "html", "--strict", cwd=locked)
    assert r.returncode == 1 and "numbers.lock is malformed (--strict)" in r.stderr
    assert not (locked / "_book").exists()  # nothing published
    r = bb("render", "--to", "html", cwd=locked)
    assert r.returncode == 0 and "warning: numbers.lock is malformed" in r.stderr


def test_a_duplicate_constant_is_located(locked: Path) -> None:
    lock = locked / "numbers.lock"
    text = lock.read_text().replace("constants:\n", 'constants:\n  X: "1 s"\n  X: "2 s"\n')
    lock.write_text(text)
    r = bb("numbers", "check", cwd=locked)
    assert r.returncode == 1 and "constant 'X' is listed twice (first at line 8)" in r.stderr


def test_strict_without_a_lock_fails(book: Path) -> None:
    r = bb("render", "--to", "html", "--strict", cwd=book)
    assert r.returncode == 1 and "no numbers.lock (--strict)" in r.stderr


def test_drift_under_strict_publishes_nothing(locked: Path) -> None:
    chapter = locked / "part" / "speed.qmd"
    chapter.write_text(chapter.read_text().replace("9.58", "9.63"))
    r = bb("render", "--to", "html", "--strict", cwd=locked)
    assert r.returncode == 1
    assert "part/speed.qmd:10 Speed.value: 10.44 → 10.38" in r.stderr
    assert not (locked / "_book").exists()


def test_a_decreasing_number_is_drift(locked: Path) -> None:
    chapter = locked / "part" / "speed.qmd"
    chapter.write_text(chapter.read_text().replace("9.58", "9.63"))  # 10.44 -> 10.38
    r = bb("numbers", "check", cwd=locked)
    assert r.returncode == 1 and "10.44 → 10.38" in r.stdout


def test_a_chapter_removed_from_the_book_is_drift(locked: Path) -> None:
    config = locked / "_quarto.yml"
    config.write_text(config.read_text().replace("    - part/speed.qmd\n", ""))
    r = bb("numbers", "check", cwd=locked)
    assert r.returncode == 1
    assert "chapter part/speed.qmd is in numbers.lock but no longer in the book" in r.stdout


def test_a_chapter_whose_references_were_all_removed_reports_them(locked: Path) -> None:
    chapter = locked / "part" / "speed.qmd"
    chapter.write_text(chapter.read_text().replace("`{python} Speed.value`", "fast"))
    r = bb("numbers", "check", cwd=locked)
    assert r.returncode == 1 and "removed reference Speed.value (was 10.44)" in r.stdout


def test_rendering_one_chapter_reports_only_on_that_chapter(locked: Path) -> None:
    other = locked / "part" / "speed.qmd"
    other.write_text(other.read_text().replace("9.58", "9.63"))  # drift in a chapter not rendered
    r = bb("render", "--to", "html", "index.qmd", cwd=locked)
    assert r.returncode == 0
    assert "speed.qmd" not in r.stderr and "drift" not in r.stderr


def test_a_folder_where_the_lock_goes_is_one_line_naming_the_lock(book: Path) -> None:
    (book / "numbers.lock").mkdir()
    r = bb("numbers", "accept", cwd=book)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    last = r.stderr.splitlines()[-1]
    assert last.startswith(f"bookbuild: {book / 'numbers.lock'}: Is a directory (a folder has"), last
    assert ".tmp" not in r.stderr and not any((book / "numbers.lock").iterdir())


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_strict_stops_every_format_alike(locked: Path, fmt: str) -> None:
    # `--strict` is one rule, whatever the format: a conflicted lock, drift and an unresolved
    # cross-reference each stop the build (md used to publish all three, exit 0).
    lock = locked / "numbers.lock"
    good = lock.read_text()
    lock.write_text(good.replace("chapters:\n", "chapters:\n<<<<<<< ours\n=======\n>>>>>>> theirs\n"))
    r = bb("render", "--to", fmt, "--strict", cwd=locked)
    assert r.returncode == 1 and "numbers.lock is malformed (--strict)" in r.stderr, r.stderr
    lock.write_text(good)
    chapter = locked / "part" / "speed.qmd"
    text = chapter.read_text()
    chapter.write_text(text.replace("9.58", "9.63"))
    r = bb("render", "--to", fmt, "--strict", cwd=locked)
    assert r.returncode == 1 and "numbers drifted from numbers.lock (--strict)" in r.stderr, r.stderr
    chapter.write_text(text + "\nSee @sec-nowhere.\n")
    r = bb("render", "--to", fmt, "--strict", cwd=locked)
    assert r.returncode == 1, r.stderr
    assert "part/speed.qmd:12: error: unresolved cross-reference 'sec-nowhere'" in r.stderr
    assert not (locked / "_book").exists()  # nothing published by any of them
    r = bb("render", "--to", fmt, cwd=locked)  # without --strict: a warning, and the book
    assert r.returncode == 0 and "part/speed.qmd:12: warning: unresolved cross-reference" in r.stderr


def test_accept_over_a_conflicted_lock_says_what_it_discards(locked: Path) -> None:
    lock = locked / "numbers.lock"
    good = lock.read_text()
    lines = good.splitlines()
    at = lines.index("chapters:") + 1
    lines[at:at] = ["<<<<<<< ours", "  part/speed.qmd:", "=======", ">>>>>>> theirs", "junk"]
    lock.write_text("\n".join(lines) + "\n")
    r = bb("numbers", "accept", cwd=locked)
    assert r.returncode == 0, r.stderr
    said = [x for x in r.stderr.splitlines() if x.startswith("note: numbers.lock was malformed")]
    assert len(said) == 1, r.stderr
    assert f"line {at + 1} (merge conflict marker" in said[0] and "discarded:" in said[0]
    assert lock.read_text() == good  # regenerated from the current numbers
    r = bb("numbers", "accept", cwd=locked)  # a sound lock: nothing to say
    assert "malformed" not in r.stderr
