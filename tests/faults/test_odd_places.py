"""Odd inputs and places, each one located line with the right advice (or simply working)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.conftest import bb, tree


def test_a_chapter_with_classic_mac_line_ends_renders(book: Path) -> None:
    chapter = book / "part" / "speed.qmd"
    chapter.write_bytes(chapter.read_bytes().replace(b"\n", b"\r"))  # CR alone, no LF
    assert bb("check", cwd=book).returncode == 0
    r = bb("render", "--to", "md", cwd=book)
    assert r.returncode == 0, r.stderr
    assert "The record is 10.44 metres per second." in (book / "_book/part/speed.md").read_text()


def test_a_file_where_the_cache_folder_goes_is_named_with_advice(book: Path) -> None:
    (book / ".bookbuild").write_text("not a folder\n")
    r = bb("render", "--to", "md", cwd=book)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert ".bookbuild" in last and "move or remove it" in last and "permissions" not in last


@pytest.mark.parametrize("flags", [[], ["--adopt-output"]])
def test_the_git_folder_is_never_an_output(book: Path, flags: list[str]) -> None:
    (book / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    before = tree(book / ".git")
    r = bb("render", "--to", "md", "--output-dir", ".git", *flags, cwd=book)
    assert r.returncode == 2 and "[OUT001]" in r.stderr and ".git folder" in r.stderr, r.stderr
    assert tree(book / ".git") == before


def test_terminal_sequences_in_a_cells_error_are_shown_escaped(book: Path) -> None:
    (book / "part" / "speed.qmd").write_text(
        '# Speed\n\n```{python}\nraise ValueError("bad \\x1b[2J\\x1b]0;pwned\\x07 end")\n```\n')
    r = bb("render", "--to", "md", cwd=book)
    assert r.returncode == 1
    assert "\x1b" not in r.stderr and "\x07" not in r.stderr
    assert "bad \\x1b[2J\\x1b]0;pwned\\x07 end" in r.stderr
