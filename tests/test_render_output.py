"""What a render leaves in the output folder: no stale pages after a whole-book render, the other
pages after a partial one, and the author's own files always (real CLI, real pandoc, no kernel:
the chapters have no code)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import bookbuild_exe, run_cli


def write_book(root: Path, chapters: list[str]) -> None:
    listed = "".join(f"    - {c}\n" for c in chapters)
    (root / "_quarto.yml").write_text(f"project:\n  type: book\nbook:\n  title: T\n  chapters:\n{listed}")


@pytest.fixture
def book(tmp_path: Path) -> Path:
    root = tmp_path / "book"
    root.mkdir()
    for name, title in [("index", "Home"), ("a", "Alpha"), ("b", "Beta")]:
        (root / f"{name}.qmd").write_text(f"# {title}\n\nText of {title}.\n")
    write_book(root, ["index.qmd", "a.qmd", "b.qmd"])
    r = run_cli("render", "--to", "html", cwd=root, timeout=120)
    assert r.returncode == 0, r.stderr
    (root / "_book" / "CNAME").write_text("book.example.org\n")  # the author's, not bookbuild's
    return root


def pages(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "_book").glob("*.html"))


def test_a_whole_book_render_drops_the_pages_of_removed_chapters(book: Path) -> None:
    assert pages(book) == ["a.html", "b.html", "index.html"]
    write_book(book, ["index.qmd", "a.qmd"])
    r = run_cli("render", "--to", "html", cwd=book, timeout=120)
    assert r.returncode == 0, r.stderr
    assert pages(book) == ["a.html", "index.html"]
    assert (book / "_book" / "CNAME").read_text() == "book.example.org\n"
    assert "Beta" not in (book / "_book" / "index.html").read_text()  # nor in the navigation


def test_a_partial_render_keeps_the_other_pages(book: Path) -> None:
    (book / "a.qmd").write_text("# Alpha\n\nNew text of Alpha.\n")
    r = run_cli("render", "a.qmd", "--to", "html", cwd=book, timeout=120)
    assert r.returncode == 0, r.stderr
    assert pages(book) == ["a.html", "b.html", "index.html"]
    assert "New text of Alpha" in (book / "_book" / "a.html").read_text()
    assert (book / "_book" / "CNAME").exists()


@pytest.mark.parametrize("how", ["--output-dir", "output-dir:"])
def test_an_output_folder_that_is_a_file_is_refused_before_anything_runs(book: Path, how: str) -> None:
    config = (book / "_quarto.yml").read_text()
    if how == "--output-dir":
        r = run_cli("render", "--output-dir", "_quarto.yml", cwd=book, timeout=120)
        where = "bookbuild"
    else:
        (book / "_quarto.yml").write_text(config.replace("  type: book\n",
                                                         "  type: book\n  output-dir: a.qmd\n"))
        config = (book / "_quarto.yml").read_text()
        r = run_cli("render", cwd=book, timeout=120)
        where = "_quarto.yml"
    target = "_quarto.yml" if how == "--output-dir" else "a.qmd"
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(f"{where}: refusing output folder {book / target}: it is a file, "
                               "not a folder [OUT001]\n"), r.stderr
    assert (book / "_quarto.yml").read_text() == config
    assert (book / "a.qmd").read_text() == "# Alpha\n\nText of Alpha.\n"
    assert not [p for p in book.iterdir() if ".staging-" in p.name]


def test_two_renders_at_once_keep_each_others_output_and_the_authors_files(book: Path) -> None:
    # A filter that sleeps keeps the html render inside its staging while the others happen.
    (book / "slow.lua").write_text('function Pandoc(d) os.execute("sleep 3") return d end\n')
    (book / "_quarto.yml").write_text((book / "_quarto.yml").read_text() + "filters:\n  - slow.lua\n")
    env = dict(os.environ, NO_COLOR="1")
    html = subprocess.Popen([bookbuild_exe(), "render", "--to", "html", "--no-cache"], cwd=book,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not list(book.glob("._book.staging-*")) and time.monotonic() < deadline:
            time.sleep(0.05)
        (book / "_book" / "notes.txt").write_text("mine\n")  # written while html renders
        md = run_cli("render", "--to", "md", cwd=book, timeout=120)
    finally:
        _, err = html.communicate(timeout=120)
    assert html.returncode == 0 and md.returncode == 0, err + md.stderr
    assert "waiting for another build of _book to finish" in md.stderr
    assert sorted(p.name for p in (book / "_book").glob("*.md")) == ["a.md", "b.md", "index.md"]
    assert pages(book) == ["a.html", "b.html", "index.html"]
    assert (book / "_book" / "notes.txt").read_text() == "mine\n"
    assert (book / "_book" / "CNAME").read_text() == "book.example.org\n"
    owned = json.loads((book / "_book" / ".bookbuild-manifest.json").read_text())["files"]
    assert owned["md"] == ["a.md", "b.md", "index.md"]  # still bookbuild's, to drop when stale
