"""`check` runs nothing and always ends: includes that would hang or never end, and YAML that
expands past reason, are each one located line within seconds."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.faults.conftest import bb

BOMB = "---\nl0: &l0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 9)) + "---\n"


def chapter(book: Path, text: str) -> None:
    (book / "index.qmd").write_text(text)


def include_bomb(book: Path) -> None:
    # ten files, each including the next twelve times: 12^9 includes once written out
    for i in range(10):
        inner = "".join(f"{{{{< include b{i + 1}.qmd >}}}}\n\n" for _ in range(12)) if i < 9 else ""
        (book / f"b{i}.qmd").write_text(f"Level {i}.\n\n{inner}")
    chapter(book, "# Welcome\n\n{{< include b0.qmd >}}\n")


CASES = {
    "a pipe": (lambda b: (os.mkfifo(b / "pipe.qmd"),
                          chapter(b, "# Welcome\n\n{{< include pipe.qmd >}}\n")),
               "index.qmd:3:1: cannot include 'pipe.qmd': it is not a regular file"),
    "a folder": (lambda b: chapter(b, "# Welcome\n\n{{< include part >}}\n"),
                 "index.qmd:3:1: cannot include 'part': it is not a regular file"),
    "a cycle through a linked folder": (
        lambda b: ((b / "part" / "up").symlink_to(".."),
                   chapter(b, "# Welcome\n\n{{< include part/up/index.qmd >}}\n")),
        "index.qmd:3:1: include cycle: index.qmd -> index.qmd"),
    "an include bomb": (include_bomb, "includes exceed 2,000 files"),
    "an alias bomb in the front matter": (
        lambda b: chapter(b, BOMB + "# Welcome\n"),
        "index.qmd:1:1: the front matter holds more than 100,000 values once its aliases are expanded"),
    "an alias bomb in cell options": (
        lambda b: chapter(b, "# Welcome\n\n```{python}\n" + "".join(
            f"#| {line}\n" for line in BOMB.strip("-\n").splitlines()) + "x = 1\n```\n"),
        "index.qmd:4:1: the options of"),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("command", [("check",), ("render", "--to", "html")])
def test_each_is_one_located_line_within_seconds(book: Path, case: str, command) -> None:
    make, expected = CASES[case]
    make(book)
    started = time.monotonic()
    r = bb(*command, cwd=book, timeout=120)
    assert time.monotonic() - started < 60
    said = r.stdout + r.stderr  # check reports on stdout, render on stderr
    assert r.returncode == 1, said
    located = [line for line in said.splitlines() if line.startswith(("index.qmd:", "b"))]
    assert len(located) == 1 and expected in located[0], said
    assert "Traceback" not in said
    assert not (book / "_book").exists()
