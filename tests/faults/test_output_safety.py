"""bookbuild deletes only what it wrote, and the output folder is always complete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.faults.conftest import bb, tree


@pytest.mark.parametrize("where", [".", "part", ".."])
def test_an_output_folder_holding_the_sources_is_refused(book: Path, where: str) -> None:
    before = tree(book)
    r = bb("render", "--to", "md", "--output-dir", where, cwd=book)
    assert r.returncode == 2
    lines = [x for x in r.stderr.splitlines() if "OUT001" in x]
    assert len(lines) == 1 and "refusing output folder" in lines[0]
    assert "Traceback" not in r.stderr
    assert tree(book) == before  # .git, chapters and config untouched


def test_output_dir_in_the_config_is_checked_too(book: Path) -> None:
    config = book / "_quarto.yml"
    config.write_text(config.read_text().replace("type: book", "type: book\n  output-dir: part"))
    before = tree(book)
    r = bb("render", "--to", "md", cwd=book)
    assert r.returncode == 2 and "[OUT001]" in r.stderr
    assert tree(book) == before


def test_authors_files_in_the_output_folder_survive_rebuilds(book: Path) -> None:
    out = book / "_book"
    assert bb("render", "--to", "md", cwd=book).returncode == 0
    (out / "CNAME").write_text("book.example.org\n")
    (out / ".nojekyll").write_text("")
    assert bb("render", "--to", "md", cwd=book).returncode == 0
    assert (out / "part" / "speed.md").is_file()
    # Drop a chapter: its page goes (we wrote it), the author's files stay.
    config = book / "_quarto.yml"
    config.write_text(config.read_text().replace("    - part/speed.qmd\n", ""))
    r = bb("render", "--to", "md", cwd=book)
    assert r.returncode == 0, r.stderr
    assert not (out / "part" / "speed.md").exists()
    assert (out / "CNAME").read_text() == "book.example.org\n"
    assert (out / ".nojekyll").exists()


def test_rendering_one_format_keeps_the_others(book: Path) -> None:
    assert bb("render", "--to", "html", cwd=book).returncode == 0
    page = book / "_book" / "part" / "speed.html"
    assert "10.44" in page.read_text()
    r = bb("render", "--to", "md", cwd=book)
    assert r.returncode == 0, r.stderr
    assert page.is_file() and (book / "_book" / "part" / "speed.md").is_file()


def complete(out: Path) -> str:
    """'old' or 'new' when the output folder is a whole build; fails the test otherwise."""
    manifest = json.loads((out / ".bookbuild-manifest.json").read_text())
    for files in manifest["files"].values():
        for rel in files:
            assert (out / rel).is_file(), f"{rel} listed but missing"
    text = (out / "part" / "speed.md").read_text()
    assert "metres per second" in text
    return "new" if "sprint record" in text else "old"


def test_a_kill_at_any_file_operation_leaves_a_complete_output(book: Path) -> None:
    out = book / "_book"
    assert bb("render", "--to", "md", cwd=book).returncode == 0
    chapter = book / "part" / "speed.qmd"
    chapter.write_text(chapter.read_text().replace("The record", "The sprint record"))
    seen = []
    for n in range(1, 30):
        r = bb("render", "--to", "md", cwd=book, env={"BOOKBUILD_FAULT_AT": str(n)})
        seen.append(complete(out))
        if r.returncode == 0:
            break
        assert r.returncode == -9, r.stderr  # killed at operation n
    else:
        pytest.fail("the build never finished: the fault seam counts too many operations")
    assert seen[0] == "old" and seen[-1] == "new"
    assert len(seen) >= 4  # the seam really sat between several operations
    assert not list(book.glob("._book.staging-*"))  # a later build cleans up after killed ones


def test_numbers_accept_killed_mid_write_keeps_the_old_lock(book: Path) -> None:
    assert bb("numbers", "accept", cwd=book).returncode == 0
    lock = book / "numbers.lock"
    before = lock.read_bytes()
    chapter = book / "part" / "speed.qmd"
    chapter.write_text(chapter.read_text().replace("9.58", "9.63"))
    # Killed after the new lock is written and synced, just before it replaces the old one.
    r = bb("numbers", "accept", cwd=book, env={"BOOKBUILD_FAULT_AT": "written numbers.lock"})
    assert r.returncode == -9
    assert lock.read_bytes() == before
    r = bb("numbers", "accept", cwd=book)
    assert r.returncode == 0 and "9.63" not in before.decode() and "10.38" in lock.read_text()
    # the killed writer's temp file is gone too: no .numbers.lock.*.tmp stays beside the lock
    assert [p.name for p in book.iterdir() if p.name.endswith(".tmp")] == []


def test_a_folder_bookbuild_did_not_make_is_refused_unless_adopted(book: Path) -> None:
    site = book / "site"
    site.mkdir()
    (site / "notes.txt").write_text("mine\n")
    before = tree(book)
    r = bb("render", "--to", "md", "--output-dir", "site", cwd=book)
    assert r.returncode == 2, r.stderr
    assert "OUT001" in r.stderr and "bookbuild did not make it" in r.stderr
    assert "--adopt-output" in r.stderr and "Traceback" not in r.stderr
    assert tree(book) == before  # nothing written, nothing removed
    (book / "empty").mkdir()  # an empty folder holds nothing to lose
    assert bb("render", "--to", "md", "--output-dir", "empty", cwd=book).returncode == 0
    r = bb("render", "--to", "md", "--output-dir", "site", "--adopt-output", cwd=book)
    assert r.returncode == 0, r.stderr
    assert (site / "notes.txt").read_text() == "mine\n" and (site / "part" / "speed.md").is_file()
    # adopted once, it is ours from then on: no flag needed, the author's file still kept
    assert bb("render", "--to", "md", "--output-dir", "site", cwd=book).returncode == 0
    assert (site / "notes.txt").read_text() == "mine\n"


def test_the_output_folder_and_the_authors_files_keep_their_modes_and_owners(book: Path) -> None:
    import os
    import stat

    out = book / "_book"
    assert bb("render", "--to", "md", cwd=book).returncode == 0
    mine = out / "private.txt"
    mine.write_text("only me\n")
    os.chmod(out, 0o750)
    os.chmod(mine, 0o600)
    owner = (1234, 4321) if os.getuid() == 0 else (os.getuid(), os.getgid())
    if os.getuid() == 0:  # only root can give files away; as anyone else modes are the test
        os.chown(out, *owner)
        os.chown(mine, *owner)
    assert bb("render", "--to", "md", cwd=book).returncode == 0
    for path, mode in ((out, 0o750), (mine, 0o600)):
        st = path.stat()
        assert stat.S_IMODE(st.st_mode) == mode, (path, oct(st.st_mode))
        assert (st.st_uid, st.st_gid) == owner, path


# Our own words: a one-page note outside any project, its page and markdown beside it.
NOTE = "---\ntitle: Tide table\n---\n\n## Morning\n\nHigh water at {when}.\n"


def test_a_document_killed_at_any_file_operation_keeps_whole_files_beside_it(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    note = folder / "tides.qmd"
    note.write_text(NOTE.format(when="six"))
    args = ("render", "tides.qmd", "--to", "html", "--to", "md")
    assert bb(*args, cwd=folder).returncode == 0
    note.write_text(NOTE.format(when="seven"))
    seen = []
    for n in range(1, 30):
        r = bb(*args, cwd=folder, env={"BOOKBUILD_FAULT_AT": str(n)})
        page, md = (folder / "tides.html").read_text(), (folder / "tides.md").read_text()
        assert page.rstrip().endswith("</html>") and "High water at" in md  # never half-written
        seen.append(("seven" in page, "seven" in md))
        if r.returncode == 0:
            break
        assert r.returncode == -9, r.stderr
    else:
        pytest.fail("the render never finished")
    assert seen[0] == (False, False) and seen[-1] == (True, True) and len(seen) >= 4
    assert sorted(p.name for p in folder.iterdir()) == [
        ".bookbuild", ".bookbuild-manifest.json", "tides.html", "tides.md", "tides.qmd",
        "tides_files"]  # no staging folder or lock file left behind
