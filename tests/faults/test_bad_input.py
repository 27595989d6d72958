"""Bad input gets one located line and a non-zero exit, never a traceback or a silent wrong number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.faults.conftest import bb, tree

CONFIGS = {
    "bad YAML": ("project:\n  type: book\nbook: [unclosed\n", 4,
                 "invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 3)"),
    "a top-level list": ("- index.qmd\n", 1, "must be a mapping"),
    "a timeout that is no number": ("bookbuild:\n  timeout: abc\n", 2,
                                    "bookbuild.timeout: expected a whole number of at least 1"),
    "an unknown key of ours": ("bookbuild:\n  timout: 5\n", 1, "unknown key 'timout'"),
    "a chapter listed twice": ("book:\n  chapters:\n    - index.qmd\n    - index.qmd\n", 4,
                               "chapter index.qmd is listed twice"),
    "a missing chapter": ("book:\n  chapters:\n    - index.qmd\n    - nope.qmd\n", 4,
                          "chapter nope.qmd does not exist"),
    "a chapter that is no .qmd": ("book:\n  chapters:\n    - index.qmd\n    - notes.md\n", 4,
                                  "chapter notes.md is not a .qmd file and would be left out"),
    "a part page that is no .qmd": (
        'book:\n  chapters:\n    - index.qmd\n    - part: "Part 1. Basics"\n'
        "      chapters: [part/speed.qmd]\n    - part: intro.md\n      chapters: []\n", 6,
        "chapter intro.md is not a .qmd file"),
    # Wrong types where chapters are read: the schema's line, not an internal error.
    "a book that is a number": ("book: 5\n", 1, "book: expected a mapping or nothing, got 5"),
    "chapters that are a number": ("book:\n  chapters: 5\n", 2,
                                   "book.chapters: expected a list, got 5"),
    "appendices that are a number": ("book:\n  chapters: [index.qmd]\n  appendices: 3\n", 3,
                                     "book.appendices: expected a list, got 3"),
    "a part's chapters that are a number": (
        'book:\n  chapters:\n    - part: "P1"\n      chapters: 5\n', 4,
        "book.chapters.0.chapters: expected a list, got 5"),
    "a project that is a number": ("project: 5\n", 1, "project: expected a mapping or nothing, got 5"),
    "resources that are a number": ("project:\n  resources: 5\n", 2,
                                    "project.resources: expected a string or a list or nothing, got 5"),
}


@pytest.mark.parametrize("case", sorted(CONFIGS))
def test_a_broken_config_is_one_located_line(book: Path, case: str) -> None:
    text, line, message = CONFIGS[case]
    (book / "_quarto.yml").write_text(text)
    r = bb("check", cwd=book)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    located = [x for x in r.stderr.splitlines() if x.startswith("_quarto.yml:")]
    assert len(located) == 1, r.stderr
    assert located[0].startswith(f"_quarto.yml:{line}:") and message in located[0], located[0]


def test_a_non_utf8_config_names_its_line(book: Path) -> None:
    (book / "_quarto.yml").write_bytes(b"book:\n  title: Caf\xe9\n")
    r = bb("check", cwd=book)
    assert r.returncode == 2 and "_quarto.yml:2: not UTF-8 text (byte 0xe9)" in r.stderr


def test_a_syntax_error_in_a_local_module_is_located(book: Path) -> None:
    (book / "consts.py").write_text("SPEED = 3\nBROKEN = (\n")
    chapter = book / "part" / "speed.qmd"
    chapter.write_text(chapter.read_text().replace("class Speed:", "from consts import *\n\nclass Speed:"))
    r = bb("check", cwd=book)
    assert r.returncode == 1
    assert "consts.py:2:" in r.stderr and "syntax error in module" in r.stderr
    assert "Traceback" not in r.stderr


def test_an_invalid_port_is_a_usage_error(book: Path) -> None:
    r = bb("preview", "--port", "70000", "--no-browser", cwd=book, timeout=30)
    assert r.returncode == 2 and "port 70000 is outside 1-65535" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_cache_folder_that_cannot_be_created_is_one_line(book: Path) -> None:
    (book / ".bookbuild").write_text("not a folder\n")
    r = bb("render", "--to", "md", cwd=book)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert ".bookbuild" in r.stderr.splitlines()[-1]


def test_a_tampered_cache_entry_is_never_published(book: Path) -> None:
    assert bb("render", "--to", "md", cwd=book).returncode == 0
    entries = [p for p in (book / ".bookbuild" / "cache").glob("*.json") if len(p.stem) == 64]
    assert entries  # the execution cache's entries are named by their 64-hex-digit keys
    for entry in entries:
        data = json.loads(entry.read_text())
        data["entry"]["inline"] = ["99.99" for _ in data["entry"]["inline"]]
        entry.write_text(json.dumps(data))
    r = bb("render", "--to", "md", cwd=book)
    assert r.returncode == 0 and "executed 1 cells" in r.stderr
    text = (book / "_book" / "part" / "speed.md").read_text()
    assert "10.44 metres" in text and "99.99" not in text


def test_a_config_of_nested_aliases_is_refused_not_walked_for_ever(book: Path) -> None:
    # nine levels of nine aliases: 387 million values once written out ("billion laughs")
    levels = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        levels.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    (book / "_quarto.yml").write_text("project:\n  type: book\n" + "\n".join(levels) + "\n")
    r = bb("check", cwd=book, timeout=30)  # expanding it would take minutes and gigabytes
    assert r.returncode == 2
    assert "_quarto.yml: more than 1,000,000 values once its aliases are expanded" in r.stderr


@pytest.mark.parametrize("listing, message", [
    ("    - ./part/speed.qmd", "chapter ./part/speed.qmd is the same file as part/speed.qmd"),
    ("    - alias.qmd", "chapter alias.qmd is the same file as part/speed.qmd"),
    ("    - ../outside.qmd", "chapter ../outside.qmd lies outside the project folder"),
])
def test_one_page_per_chapter_one_chapter_per_page(book: Path, listing: str, message: str) -> None:
    # Two spellings or a link of one file would be rendered on top of each other; a chapter
    # outside the project has no place of its own in the output or the lock.
    (book / "alias.qmd").symlink_to(book / "part" / "speed.qmd")
    (book.parent / "outside.qmd").write_text("# Outside\n")
    config = book / "_quarto.yml"
    config.write_text(config.read_text().replace("    - part/speed.qmd\n",
                                                 f"    - part/speed.qmd\n{listing}\n"))
    before = tree(book)
    for command in (["check"], ["render", "--to", "md"]):
        r = bb(*command, cwd=book)
        assert r.returncode == 2, r.stderr
        line = [x for x in r.stderr.splitlines() if "CFG001" in x]
        assert len(line) == 1 and line[0].startswith("_quarto.yml:8:") and message in line[0], r.stderr
    assert tree(book) == before


def test_a_chapter_that_is_a_folder_is_named_as_one(book: Path) -> None:
    (book / "extra.qmd").mkdir()
    config = book / "_quarto.yml"
    config.write_text(config.read_text().replace("    - part/speed.qmd\n",
                                                 "    - part/speed.qmd\n    - extra.qmd\n"))
    r = bb("check", cwd=book)
    assert r.returncode == 2
    assert "_quarto.yml:8: chapter extra.qmd is a folder, not a chapter file [CFG001]" in r.stderr
