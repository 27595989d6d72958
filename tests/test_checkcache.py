"""The remembered static check: a clean chapter is not checked again while nothing it depends
on changed, and a change to a module it star-imports is still caught before anything runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_cli


@pytest.fixture
def book(tmp_path: Path) -> Path:
    root = tmp_path / "book"
    shutil.copytree(FIXTURES / "checkcache", root)
    return root


def render_md(root: Path):
    return run_cli("render", "--to", "md", cwd=root)


def entries(root: Path) -> list[Path]:
    return sorted((root / ".bookbuild" / "cache" / "check").glob("*.json"))


def test_a_removed_constant_is_reported_although_the_chapter_did_not_change(book: Path) -> None:
    first = render_md(book)
    assert first.returncode == 0, first.stderr
    assert "runner `12` km" not in first.stderr
    assert "runner 12 km" in (book / "_book" / "ch" / "speeds.md").read_text()
    assert len(entries(book)) == 1  # the clean verdict is remembered
    (book / "consts.py").write_text('"""Constants."""\n\nWALK = 5\nSPRINT = 12\n')
    r = render_md(book)
    assert r.returncode != 0
    assert "ch/speeds.qmd:11:" in r.stderr and "unresolved reference 'RUN'" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    # the last good output stays
    assert "runner 12 km" in (book / "_book" / "ch" / "speeds.md").read_text()


def test_a_chapter_with_a_problem_is_reported_on_every_run(book: Path) -> None:
    chapter = book / "ch" / "speeds.qmd"
    chapter.write_text(chapter.read_text().replace("`{python} RUN`", "`{python} RUNS`"))
    for _ in range(2):
        r = render_md(book)
        assert r.returncode != 0
        assert "unresolved reference 'RUNS'" in r.stderr, r.stderr
    assert entries(book) == []


def test_a_damaged_entry_is_a_miss_and_the_check_still_runs(book: Path) -> None:
    assert render_md(book).returncode == 0
    (entry,) = entries(book)
    entry.write_text(entry.read_text().replace('"refs": 2', '"refs": 7'))
    (book / "consts.py").write_text('"""Constants."""\n\nWALK = 5\n')
    r = render_md(book)
    assert r.returncode != 0 and "unresolved reference 'RUN'" in r.stderr, r.stderr


def test_an_edited_include_reaches_the_output_although_the_chapter_did_not_change(
        book: Path) -> None:
    chapter = book / "ch" / "speeds.qmd"
    chapter.write_text(chapter.read_text() + "\n{{< include _aside.qmd >}}\n")
    (book / "ch" / "_aside.qmd").write_text("An aside about shoes.\n")
    assert render_md(book).returncode == 0
    assert "An aside about shoes." in (book / "_book" / "ch" / "speeds.md").read_text()
    assert len(list((book / ".bookbuild" / "cache" / "parse").glob("*.pickle"))) == 1
    (book / "ch" / "_aside.qmd").write_text("An aside about socks.\n")
    assert render_md(book).returncode == 0
    out = (book / "_book" / "ch" / "speeds.md").read_text()
    assert "An aside about socks." in out and "shoes" not in out


def test_a_damaged_parse_entry_is_a_miss(book: Path) -> None:
    assert render_md(book).returncode == 0
    (entry,) = (book / ".bookbuild" / "cache" / "parse").glob("*.pickle")
    for damage in (entry.read_bytes()[:-7] + b"garbage", b""):
        entry.write_bytes(damage)
        r = render_md(book)
        assert r.returncode == 0, r.stderr
        assert "runner 12 km" in (book / "_book" / "ch" / "speeds.md").read_text()
        assert entry.read_bytes() != damage  # parsed afresh and stored again
