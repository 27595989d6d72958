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
    (book / "ch" / "consts.py").write_text('"""Constants."""\n\nWALK = 5\nSPRINT = 12\n')
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
    (book / "ch" / "consts.py").write_text('"""Constants."""\n\nWALK = 5\n')
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


def add_chapter(root: Path, name: str, text: str) -> None:
    (root / name).write_text(text)
    config = root / "_quarto.yml"
    config.write_text(config.read_text() + f"    - {name}\n")


def test_a_label_repeated_in_another_chapter_names_the_remembered_chapter_exactly(
        book: Path) -> None:
    # speeds.qmd's verdict and labels come from the cache on the second run (neither it nor the
    # config changed): the repeat must still be found, the first place named by line and column.
    speeds = book / "ch" / "speeds.qmd"
    speeds.write_text(speeds.read_text() + "\n## Pace in detail {#sec-pace}\n\nMore prose.\n")
    add_chapter(book, "ch/again.qmd", "# Again\n\nIntro.\n")
    assert render_md(book).returncode == 0
    assert len(entries(book)) == 2
    (book / "ch" / "again.qmd").write_text("# Again\n\nIntro.\n\n## Pacing {#sec-pace}\n")
    r = render_md(book)
    assert r.returncode == 1, r.stderr
    assert ("ch/again.qmd:5:12: label 'sec-pace' is defined twice "
            "(first at ch/speeds.qmd:13:20)") in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_damaged_remembered_labels_are_a_miss(book: Path) -> None:
    speeds = book / "ch" / "speeds.qmd"
    speeds.write_text(speeds.read_text() + "\n## Pace in detail {#sec-pace}\n")
    add_chapter(book, "ch/again.qmd", "# Again\n")
    assert render_md(book).returncode == 0
    import json

    from bookbuild.system import store

    # a label entry of the wrong shape, its checksum made to match: read afresh, not trusted
    for entry in entries(book):
        raw = json.loads(entry.read_text())
        if raw["entry"]["labels"]:
            raw["entry"]["labels"] = [[None, "13", 20, ["html", "pdf"]]]
            raw["sha256"] = store.checksum(raw["entry"])
            entry.write_text(json.dumps(raw))
    (book / "ch" / "again.qmd").write_text("# Again {#sec-pace}\n")
    r = render_md(book)
    assert r.returncode == 1
    assert "(first at ch/speeds.qmd:13:20)" in r.stderr, r.stderr


def test_a_config_made_invalid_after_a_clean_build_is_still_refused(book: Path) -> None:
    for _ in range(2):  # the first build makes .bookbuild/cache, the second remembers the verdict
        assert render_md(book).returncode == 0
    config = book / "_quarto.yml"
    good = config.read_text()
    marks = list((book / ".bookbuild" / "cache" / "config").glob("*.ok"))
    assert len(marks) == 1  # the schema verdict for this text is remembered
    config.write_text(good + "bookbuild:\n  jobs: 0\n")
    for _ in range(2):
        r = render_md(book)
        assert r.returncode == 2
        assert "_quarto.yml:8: bookbuild.jobs: expected a number of at least 1, got 0" in r.stderr, r.stderr
    config.write_text(good)
    assert render_md(book).returncode == 0
    assert list((book / ".bookbuild" / "cache" / "config").glob("*.ok")) == marks


def test_check_in_a_book_never_built_leaves_no_cache_behind(book: Path) -> None:
    r = run_cli("check", cwd=book)
    assert r.returncode == 0 and "ok: 2 inline references resolve" in r.stdout, r.stdout
    assert not (book / ".bookbuild").exists()
