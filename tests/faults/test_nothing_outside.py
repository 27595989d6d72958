"""Nothing is written outside the output folder: `resources:` entries and cell labels that would
lead there are one located line, and no file of the author's is touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.conftest import bb, tree


@pytest.mark.parametrize("entry", ["../notes.txt", "/etc/hostname", "part/../../notes.txt"])
def test_a_resource_outside_the_project_is_refused(book: Path, entry: str) -> None:
    notes = book.parent / "notes.txt"
    notes.write_text("the author's\n")
    config = book / "_quarto.yml"
    config.write_text(config.read_text().replace("  type: book\n",
                                                 f"  type: book\n  resources:\n    - \"{entry}\"\n"))
    before = tree(book.parent)
    r = bb("render", "--to", "html", cwd=book)
    assert r.returncode == 2, r.stderr
    line = [x for x in r.stderr.splitlines() if "CFG001" in x]
    assert len(line) == 1 and line[0].startswith("_quarto.yml:4:"), r.stderr
    assert f"resources entry {entry} lies outside the project" in line[0]
    assert tree(book.parent) == before and notes.read_text() == "the author's\n"


def test_a_label_that_is_a_path_is_refused(book: Path) -> None:
    chapter = book / "part" / "speed.qmd"
    chapter.write_text(chapter.read_text().replace(
        "```{python}\n", "```{python}\n#| label: fig-a/../../../../escape\n", 1))
    before = tree(book.parent)
    for command in (["check"], ["render", "--to", "html"]):
        r = bb(*command, cwd=book)
        said = r.stdout + r.stderr
        assert r.returncode == 1, said
        assert "part/speed.qmd:4:4: cell option 'label'" in said and "[QMD006]" in said, said
    assert tree(book.parent) == before
