"""The output folder: unsafe folders refused, stale pages dropped, author files kept, swaps whole.

Fast (no pandoc, no kernel): `make mutants` runs this file against every mutant of
bookbuild/system/output.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bookbuild.system import atomic, output
from bookbuild.system.errors import UsageError


def tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def render(out: Path, files: dict[str, str], fmt: str = "html", whole_book: bool = True,
           formats: tuple[str, ...] = ("html",), root: Path | None = None) -> None:
    """What a build does: stage, write this format's files, say so, swap."""
    with output.staged(out, root, formats=list(formats), whole_book=whole_book) as stage:
        for rel, text in files.items():
            (stage.path / rel).parent.mkdir(parents=True, exist_ok=True)
            (stage.path / rel).write_text(text)
        stage.wrote(fmt)


def manifest(out: Path) -> dict:
    return json.loads((out / output.MANIFEST).read_text())["files"]


# --- unsafe folders ---------------------------------------------------------------------
def refusal(out: Path, root: Path | None = None, chapters: list[Path] = ()) -> str:
    with pytest.raises(UsageError) as err:
        output.check_safe(out, root, list(chapters), root / "_quarto.yml" if root else None)
    [d] = err.value.diagnostics
    assert d.code == "OUT001" and "--output-dir _book" in d.hint
    where = f"{root / '_quarto.yml'}: " if root else "bookbuild: "
    assert str(err.value).startswith(where + "refusing output folder")  # no line to point at
    return d.message


def test_the_project_folder_and_its_parents_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "book"
    root.mkdir()
    assert "is the project folder or lies above it" in refusal(root, root)
    assert "is the project folder or lies above it" in refusal(tmp_path, root)
    output.check_safe(root / "_book", root, [], None)  # a folder of its own is fine


def test_the_file_system_root_and_home_are_refused() -> None:
    assert "file system root or your home folder" in refusal(Path("/"))
    assert "file system root or your home folder" in refusal(Path.home())


@pytest.mark.parametrize("marker", ["_quarto.yml", ".git", "pyproject.toml"])
def test_a_folder_holding_a_project_is_refused(tmp_path: Path, marker: str) -> None:
    (tmp_path / "other" / marker).mkdir(parents=True)
    assert refusal(tmp_path / "other").endswith(f"it contains {marker}")


def test_a_folder_holding_a_chapter_is_refused(tmp_path: Path) -> None:
    chapter = tmp_path / "out" / "deep" / "ch.qmd"
    chapter.parent.mkdir(parents=True)
    chapter.write_text("# x\n")
    elsewhere = tmp_path / "ch2.qmd"
    assert refusal(tmp_path / "out", chapters=[elsewhere, chapter]).endswith("the chapter ch.qmd")
    output.check_safe(tmp_path / "out2", None, [chapter], None)


def test_a_file_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    config = tmp_path / "_quarto.yml"
    config.write_text("project: {}\n")
    assert refusal(config).endswith("it is a file, not a folder")
    assert refusal(config / "sub").endswith(f"{config} is a file, not a folder")
    with pytest.raises(UsageError):
        render(config, {"index.html": "new"})
    assert config.read_text() == "project: {}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_quarto.yml"]


def test_a_refused_folder_is_left_as_it_was(tmp_path: Path) -> None:
    (tmp_path / "_quarto.yml").write_text("project: {}\n")
    with pytest.raises(UsageError):
        render(tmp_path, {"index.html": "new"}, root=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_quarto.yml"]


# --- manifest and staging -------------------------------------------------------------------
@pytest.mark.parametrize("content", ["not json", "[]", '{"files": 3}', '{"other": {}}',
                                     '{"files": {"html": 5}}'])
def test_an_unreadable_manifest_owns_nothing(tmp_path: Path, content: str) -> None:
    (tmp_path / output.MANIFEST).write_text(content)
    assert output.read_manifest(tmp_path) == {}


def test_a_damaged_manifest_deletes_nothing_outside_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "_book"
    render(out, {"index.html": "1", "sub/page.html": "2"})
    (tmp_path / "elsewhere").mkdir()
    theirs = {tmp_path / "somefile.py": "py", tmp_path / "abs.txt": "abs",
              tmp_path / "elsewhere" / "x.html": "x"}
    for path, text in theirs.items():
        path.write_text(text)
    os.symlink(tmp_path / "elsewhere", out / "linked")  # a folder of the author's, linked in
    os.symlink(tmp_path / "abs.txt", out / "shared.txt")  # a file of the author's, linked in
    files = manifest(out)
    files["html"] += ["../somefile.py", "sub/../../somefile.py", str(tmp_path / "abs.txt"),
                      "linked/x.html", "shared.txt", "", "."]
    (out / output.MANIFEST).write_text(json.dumps({"files": files}))
    assert output.read_manifest(out)["html"] == [
        "index.html", "sub/page.html", "linked/x.html", "shared.txt"]
    render(out, {"index.html": "3"})
    assert {path: path.read_text() for path in theirs} == theirs
    assert (out / "linked").is_symlink() and (out / "shared.txt").is_symlink()
    assert tree(out)["index.html"] == "3" and "sub/page.html" not in tree(out)


def test_a_first_build_creates_the_folder_and_its_manifest(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "er" / "_book"
    render(out, {"index.html": "1", "a/b.html": "2"})
    assert tree(out) == {output.MANIFEST: (out / output.MANIFEST).read_text(),
                         "a/b.html": "2", "index.html": "1"}
    assert manifest(out) == {"html": ["a/b.html", "index.html"]}
    assert output.read_manifest(out) == {"html": ["a/b.html", "index.html"]}


def test_a_whole_book_render_drops_stale_pages_and_keeps_author_files(tmp_path: Path) -> None:
    out = tmp_path / "_book"
    render(out, {"index.html": "1", "old.html": "stale"})
    (out / "CNAME").write_text("example.org")  # the author's, not ours
    render(out, {"index.html": "2"})
    assert tree(out) == {output.MANIFEST: (out / output.MANIFEST).read_text(),
                         "CNAME": "example.org", "index.html": "2"}
    assert manifest(out) == {"html": ["index.html"]}


def test_a_partial_render_keeps_the_other_pages(tmp_path: Path) -> None:
    out = tmp_path / "_book"
    render(out, {"index.html": "1", "other.html": "kept"})
    render(out, {"index.html": "2"}, whole_book=False)
    assert tree(out)["other.html"] == "kept"
    assert manifest(out) == {"html": ["index.html", "other.html"]}


def test_a_folder_of_stale_files_goes_with_them_and_an_author_folder_stays(tmp_path: Path) -> None:
    out = tmp_path / "_book"
    render(out, {"index.html": "1", "old_files/a/fig.svg": "stale", "mixed/fig.svg": "stale"})
    (out / "mixed" / "notes.txt").write_text("mine")  # the author's file among ours
    (out / "empty").mkdir()  # the author's empty folder
    render(out, {"index.html": "2"})
    assert not (out / "old_files").exists()  # no empty folders left where the figures were
    assert tree(out)["mixed/notes.txt"] == "mine" and not (out / "mixed" / "fig.svg").exists()
    assert (out / "empty").is_dir()


def test_replaces_drops_a_formats_last_files_in_a_partial_build(tmp_path: Path) -> None:
    out = tmp_path / "_book"
    with output.staged(out, None, formats=["html"]) as stage:
        (stage.path / "index.html").write_text("1")
        stage.wrote("html")
        (stage.path / "idx").mkdir()
        (stage.path / "idx" / "old.pf").write_text("old")
        stage.wrote("search")
    with output.staged(out, None, formats=["html"], replaces=["search"]) as stage:
        (stage.path / "idx").mkdir()
        (stage.path / "idx" / "new.pf").write_text("new")
        stage.wrote("search")
    assert tree(out)["index.html"] == "1"  # a partial build keeps the other pages
    assert sorted(p.name for p in (out / "idx").iterdir()) == ["new.pf"]
    assert manifest(out)["search"] == ["idx/new.pf"]


def test_rendering_one_format_keeps_the_others(tmp_path: Path) -> None:
    out = tmp_path / "_book"
    render(out, {"book.pdf": "pdf1"}, fmt="pdf", formats=("pdf",))
    render(out, {"index.html": "1", "old.html": "x"}, fmt="html", formats=("html",))
    render(out, {"index.html": "2"}, fmt="html", formats=("html",))
    assert tree(out)["book.pdf"] == "pdf1"
    assert "old.html" not in tree(out)
    assert manifest(out) == {"html": ["index.html"], "pdf": ["book.pdf"]}


def test_wrote_attributes_only_files_changed_since_the_last_call(tmp_path: Path) -> None:
    (tmp_path / "before.txt").write_text("x")
    stage = output.Stage(tmp_path, {"pdf": ["book.pdf"]})
    (tmp_path / "a.html").write_text("a")
    (tmp_path / ".assets").mkdir()
    (tmp_path / ".assets" / "site.css").write_text("c")  # sorts before the manifest's name
    stage.wrote("html")
    (tmp_path / "book.pdf").write_text("p")
    (tmp_path / output.MANIFEST).write_text("{}")
    stage.wrote("pdf")
    stage.wrote("html")  # nothing new: html keeps what it had
    assert stage.owned == {"html": [".assets/site.css", "a.html"], "pdf": ["book.pdf"]}


def test_a_failed_build_leaves_the_old_output_and_no_staging(tmp_path: Path) -> None:
    out = tmp_path / "_book"
    render(out, {"index.html": "good"})
    before = tree(out)
    with pytest.raises(RuntimeError):
        with output.staged(out, formats=["html"], whole_book=True) as stage:
            (stage.path / "index.html").write_text("half")
            raise RuntimeError("pandoc failed")
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_book"]


@pytest.fixture
def live_pid():
    """A process of our own that is alive: the only kind a test may send a signal to (a mutant
    of `os.kill(pid, 0)` sends a real one)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc.pid
    assert proc.poll() is None, "asking whether a process is alive must not signal it"
    proc.kill()
    proc.wait(timeout=60)


def dead_pid() -> int:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, timeout=60)
    return int(gone.stdout)


def test_staging_left_by_a_killed_build_is_removed_and_a_live_one_kept(
        tmp_path: Path, live_pid: int) -> None:
    out = tmp_path / "_book"
    stale = tmp_path / f"._book{output._STAGING}{dead_pid()}"
    live = tmp_path / f"._book{output._STAGING}{live_pid}"
    odd = tmp_path / f"._book{output._STAGING}notapid"
    for d in (stale, live, odd):
        d.mkdir()
    render(out, {"index.html": "1"})
    assert not stale.exists()
    assert live.exists() and odd.exists()


def test_alive_tells_running_from_gone_processes(live_pid: int) -> None:
    assert atomic.alive(live_pid)
    assert not atomic.alive(dead_pid())


def test_without_an_atomic_exchange_the_swap_still_replaces_the_output(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "_book"
    render(out, {"index.html": "1"})
    monkeypatch.setattr(output, "_exchange", lambda a, b: False)
    render(out, {"index.html": "2"})
    assert tree(out)["index.html"] == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_book"]


def test_exchange_swaps_two_folders(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    assert output._exchange(a, b)
    assert ((a / "x").read_text(), (b / "x").read_text()) == ("b", "a")
    assert not output._exchange(a, tmp_path / "missing")


_KILLED_BUILD = """
import sys
from pathlib import Path
from bookbuild.system import atomic, output
out = Path(sys.argv[1])
with output.staged(out, formats=["html"], whole_book=True) as stage:
    (stage.path / "index.html").write_text("new")
    (stage.path / "new.html").write_text("new")
    stage.wrote("html")
"""


def test_a_build_killed_at_any_file_operation_leaves_a_complete_output(tmp_path: Path) -> None:
    out = tmp_path / "_book"
    render(out, {"index.html": "old", "old.html": "old"})
    old = tree(out)
    seen = []
    for at in range(1, 40):
        env = dict(os.environ, **{atomic.FAULT_ENV: str(at)})
        r = subprocess.run([sys.executable, "-c", _KILLED_BUILD, str(out)], env=env, timeout=60,
                           capture_output=True, text=True)
        now = tree(out)
        complete_new = (set(now) == {output.MANIFEST, "index.html", "new.html"}
                        and now["index.html"] == "new")
        assert now == old or complete_new, f"killed at file operation {at}: {sorted(now)}"
        seen.append(("old" if now == old else "new", r.returncode))
        if r.returncode == 0:
            break
        assert r.returncode == -9, r.stderr
    # Killed while staging: the old output; killed after the exchange: the new one.
    assert seen[0] == ("old", -9) and seen[-1] == ("new", 0)
    assert ("new", -9) in seen


def test_by_default_a_render_keeps_other_pages_and_a_vanished_file_is_no_error(tmp_path: Path) -> None:
    out = tmp_path / "_book"
    render(out, {"index.html": "1", "old.html": "x", "gone.html": "y"})
    with output.staged(out, formats=["html"]) as stage:  # not whole_book
        stage.wrote("html")
    assert "old.html" in tree(out)
    (out / "gone.html").unlink()  # removed by hand; the manifest still lists it
    render(out, {"index.html": "2"})
    assert sorted(tree(out)) == [output.MANIFEST, "index.html"]


def test_the_manifest_gets_the_mode_open_would_give_it(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        render(tmp_path / "_book", {"index.html": "1"})
    finally:
        os.umask(old)
    assert (tmp_path / "_book" / output.MANIFEST).stat().st_mode & 0o777 == 0o644


def test_symlinks_in_the_output_stay_symlinks(tmp_path: Path) -> None:
    out = tmp_path / "_book"
    render(out, {"index.html": "1"})
    (tmp_path / "shared.css").write_text("css")
    os.symlink(tmp_path / "shared.css", out / "shared.css")
    render(out, {"index.html": "2"})
    assert (out / "shared.css").is_symlink()


# --- links and files the build did not write --------------------------------------------------
def test_a_build_never_writes_or_deletes_through_a_link_in_the_output(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "_book"
    render(out, {"index.html": "1", "assets/book.css": "ours"})
    shutil.rmtree(out / "assets")
    (tmp_path / "mystyle").mkdir()
    (tmp_path / "mystyle" / "book.css").write_text("/* mine */")
    os.symlink("../mystyle", out / "assets")
    (tmp_path / "page.html").write_text("theirs")
    os.symlink(tmp_path / "page.html", out / "page.html")
    render(out, {"index.html": "2"})  # drops its stale assets/book.css: not through the link
    assert (out / "assets").is_symlink() and (out / "page.html").is_symlink()
    render(out, {"index.html": "3", "assets/book.css": "ours 3", "page.html": "ours"})
    assert (tmp_path / "mystyle" / "book.css").read_text() == "/* mine */"
    assert (tmp_path / "page.html").read_text() == "theirs"
    assert not (out / "assets").is_symlink() and not (out / "page.html").is_symlink()
    assert tree(out)["assets/book.css"] == "ours 3" and tree(out)["page.html"] == "ours"
    err = capsys.readouterr().err
    assert f"note: {out / 'assets'} was a symbolic link;" in err
    assert f"note: {out / 'page.html'} was a symbolic link;" in err


def test_a_folder_of_the_authors_where_the_build_writes_a_file_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "_book"
    render(out, {"index.html": "1"})
    (out / "notes").mkdir()
    (out / "notes" / "mine.txt").write_text("mine")
    before = tree(out)
    with pytest.raises(UsageError) as err:
        render(out, {"index.html": "2", "notes": "a page"})
    assert "bookbuild did not write notes/mine.txt" in str(err.value)
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_book"]


def test_files_added_or_changed_during_the_build_are_kept(tmp_path: Path) -> None:
    out = tmp_path / "_book"
    render(out, {"index.html": "1", "old.html": "stale", "older.html": "stale"})
    with output.staged(out, formats=["html"], whole_book=True) as stage:
        (out / "CNAME").write_text("example.org")  # the author's, while the build runs
        (out / "sub").mkdir()
        (out / "sub" / ".nojekyll").write_text("")
        (out / "old.html").write_text("edited by hand")  # no longer what bookbuild wrote
        (stage.path / "index.html").write_text("2")
        stage.wrote("html")
    assert tree(out) == {output.MANIFEST: (out / output.MANIFEST).read_text(), "CNAME": "example.org",
                         "index.html": "2", "old.html": "edited by hand", "sub/.nojekyll": ""}
    assert manifest(out) == {"html": ["index.html"]}


def test_a_second_build_of_the_folder_waits_for_the_first_and_keeps_its_files(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "_book"
    render(out, {"index.html": "1"})
    writing, finish = threading.Event(), threading.Event()

    def slow_html() -> None:
        with output.staged(out, formats=["html"], whole_book=True) as stage:
            writing.set()
            finish.wait(60)
            (stage.path / "index.html").write_text("2")
            stage.wrote("html")

    first = threading.Thread(target=slow_html)
    first.start()
    assert writing.wait(60)
    second = threading.Thread(target=render, args=(out, {"index.md": "md"}, "md", True, ("md",)))
    second.start()
    try:
        err, deadline = "", time.monotonic() + 60
        while ("waiting for another build" not in err and second.is_alive()
               and time.monotonic() < deadline):
            time.sleep(0.05)
            err += capsys.readouterr().err
        assert second.is_alive(), "the second build ran while the first was writing"
        assert f"bookbuild: waiting for another build of {out} to finish" in err
    finally:
        finish.set()
        first.join(60)
        second.join(60)
    assert tree(out)["index.html"] == "2" and tree(out)["index.md"] == "md"
    assert manifest(out) == {"html": ["index.html"], "md": ["index.md"]}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_book"]  # no lock file stays


@pytest.mark.parametrize("exchange", [True, False])
def test_files_written_between_the_copy_and_the_swap_are_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: bool) -> None:
    out = tmp_path / "_book"
    render(out, {"index.html": "1", "old.html": "stale", "older.html": "stale"})
    (out / "CNAME").write_text("old.example.org")
    (out / "page.html").write_text("the author's")  # where this build writes: its page wins
    carry = output._carry

    def carry_then_write(*args):
        replaced = carry(*args)
        (out / "CNAME").write_text("www.new.example.org")  # changed after it was copied
        (out / "late").mkdir()
        (out / "late" / "note.txt").write_text("late")
        (out / "old.html").write_text("edited by hand")  # a stale page, edited just now
        (out / "index.html").write_text("edited by hand")  # the build's own version wins
        (out / "page.html").write_text("the author's, edited")
        return replaced

    monkeypatch.setattr(output, "_carry", carry_then_write)
    if not exchange:
        monkeypatch.setattr(output, "_exchange", lambda a, b: False)
    render(out, {"index.html": "2", "page.html": "ours"})
    assert tree(out) == {output.MANIFEST: (out / output.MANIFEST).read_text(),
                         "CNAME": "www.new.example.org", "index.html": "2", "page.html": "ours",
                         "late/note.txt": "late", "old.html": "edited by hand"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_book"]
