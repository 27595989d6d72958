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


def test_chapter_files_with_odd_names_get_links_that_resolve(book: Path) -> None:
    import re
    from urllib.parse import unquote, urlsplit

    config = book / "_quarto.yml"
    config.write_text(config.read_text().replace(
        "    - part/speed.qmd\n", '    - part/speed.qmd\n    - "notes #1 at 5%.qmd"\n    - café.qmd\n'))
    (book / "notes #1 at 5%.qmd").write_text("# Notes {#sec-notes}\n\nSee @sec-cafe.\n")
    (book / "café.qmd").write_text("# Café {#sec-cafe}\n\nSee @sec-notes.\n")
    r = bb("render", "--to", "html", cwd=book)
    assert r.returncode == 0, r.stderr
    out = book / "_book"
    for page in ("index.html", "café.html", "notes #1 at 5%.html"):
        html = (out / page).read_text(encoding="utf-8")
        hrefs = set(re.findall(r'href="([^"]+)"', html))
        assert any("caf%C3%A9.html" in h for h in hrefs), hrefs
        assert any("notes%20%231%20at%205%25.html" in h for h in hrefs), hrefs
        for href in hrefs:
            parts = urlsplit(href)
            if parts.scheme or not parts.path:
                continue
            target = (out / page).parent / unquote(parts.path)
            assert target.is_file(), (page, href)  # the link opens the page it names


def test_an_expression_too_deep_for_python_is_one_short_line(book: Path) -> None:
    chapter = book / "part" / "speed.qmd"
    chapter.write_text("# Speed\n\nThe sum is `{python} " + "+".join(["1"] * 100_000) + "`.\n")
    for command in (["check"], ["render", "--to", "md"]):
        r = bb(*command, cwd=book)
        said = (r.stdout + r.stderr).splitlines()
        assert r.returncode == 1 and not any("internal error" in x for x in said), said[-3:]
        line = [x for x in said if x.startswith("part/speed.qmd:3:")]
        assert len(line) == 1 and "nested too deeply for Python to read" in line[0]
        assert len(line[0]) < 300 and "(199,999 characters)" in line[0]


def test_a_header_file_that_is_not_utf8_is_located(book: Path) -> None:
    (book / "head.html").write_bytes(b'<meta name="x" content="caf\xe9">\n')
    config = book / "_quarto.yml"
    config.write_text(config.read_text().replace("  html: {}\n",
                                                 "  html:\n    include-in-header: head.html\n"))
    r = bb("render", "--to", "html", cwd=book)
    assert r.returncode == 0 and "internal error" not in r.stderr, r.stderr
    assert "_quarto.yml:10: warning: include-in-header file 'head.html' is not UTF-8" in r.stderr
    assert bb("numbers", "accept", cwd=book).returncode == 0
    r = bb("render", "--to", "html", "--strict", cwd=book)
    assert r.returncode == 1 and "_quarto.yml:10: error: include-in-header" in r.stderr


@pytest.mark.parametrize("make, why", [
    (lambda p: p.symlink_to("/dev/zero"), "is not a file"),
    (lambda p: p.mkdir(), "is not a file"),
    (lambda p: None, "does not exist"),
])
def test_a_bibliography_pandoc_cannot_read_is_one_located_line(book: Path, make, why: str) -> None:
    # /dev/zero made pandoc read forever; a folder or a missing file stopped it with a
    # Haskell backtrace and the whole command line, and check said ok
    make(book / "refs.bib")
    config = book / "_quarto.yml"
    config.write_text(config.read_text() + "bibliography: refs.bib\n")
    for command in (["check"], ["render", "--to", "html"]):
        r = bb(*command, cwd=book, timeout=60)
        said = r.stdout + r.stderr
        assert r.returncode == 2, said
        assert f"_quarto.yml:10: bibliography refs.bib {why} [CFG001]" in said
        assert "CallStack" not in said and "pandoc" not in said
    assert not (book / "_book").exists()


def test_a_cell_printing_hundreds_of_megabytes_does_not_stall_the_lock(book: Path) -> None:
    (book / "part" / "speed.qmd").write_text(
        "# Speed\n\n```{python}\nfor i in range(6):\n    print(' '.join(['7'] * 500_000))\n```\n")
    r = bb("render", "--to", "md", cwd=book, timeout=240)
    assert r.returncode == 0, r.stderr[-2000:]
    r = bb("numbers", "accept", cwd=book, timeout=240)
    assert r.returncode == 0, r.stderr[-2000:]


def test_check_and_numbers_check_work_on_a_read_only_checkout(book: Path) -> None:
    import shutil
    import subprocess

    from tests.conftest import bookbuild_exe

    assert bb("numbers", "accept", cwd=book).returncode == 0
    shutil.rmtree(book / ".bookbuild", ignore_errors=True)
    before = tree(book)
    if shutil.which("unshare") is None:
        pytest.fail("the read-only test needs unshare (apt-get install util-linux)")
    # The book mounted read-only in a mount namespace of its own, as a CI checkout may be.
    script = (f"mount --bind -o ro '{book}' '{book}' && cd '{book}' && "
              f"'{bookbuild_exe()}' check && '{bookbuild_exe()}' numbers check")
    r = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "numbers.lock matches" in r.stdout and "Read-only" not in r.stderr
    assert tree(book) == before and not (book / ".bookbuild").exists()


PREVIEW_BUILD = """
import sys
from pathlib import Path
from bookbuild.preview.builder import run_build
root = Path.cwd()
changed = sys.argv[1:] or None
result = run_build(root, root / ".bookbuild" / "preview", changed)
print("ok" if result.ok else result.message)
"""


def test_preview_drops_the_pages_of_removed_or_renamed_chapters(book: Path) -> None:
    import subprocess
    import sys

    def preview_build(*changed: str) -> None:
        r = subprocess.run([sys.executable, "-c", PREVIEW_BUILD, *changed], cwd=book,
                           capture_output=True, text=True, timeout=300)
        assert r.stdout.strip().endswith("ok"), r.stdout + r.stderr

    pages = book / ".bookbuild" / "preview"
    preview_build()
    assert (pages / "part" / "speed.html").is_file()
    (book / "part" / "speed.qmd").rename(book / "part" / "pace.qmd")  # renamed, as an author does
    config = book / "_quarto.yml"
    config.write_text(config.read_text().replace("part/speed.qmd", "part/pace.qmd"))
    preview_build(str(config))
    assert (pages / "part" / "pace.html").is_file()
    assert not (pages / "part" / "speed.html").exists()  # no page of a chapter no longer there


def test_a_mount_point_is_never_the_output_folder(book: Path) -> None:
    import shutil
    import subprocess

    from tests.conftest import bookbuild_exe

    if shutil.which("unshare") is None:
        pytest.fail("the mount test needs unshare (apt-get install util-linux)")
    (book / "site").mkdir()
    script = (f"mount -t tmpfs none '{book}/site' && cd '{book}' && "
              f"'{bookbuild_exe()}' render --to md --output-dir site --adopt-output")
    r = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "it is a mount point" in r.stderr and "[OUT001]" in r.stderr
