"""The caches stay bounded: after a whole-book render, entries that none of the last three
whole-book renders used go, and nothing bookbuild did not write is ever removed from
`.bookbuild/`.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from bookbuild.publish.pagecache import PageCache
from bookbuild.publish.pandoc_run import Fragment
from bookbuild.system import cachesweep
from tests.conftest import FIXTURES, run_cli

EDITS = 10
YEAR_AGO = time.time() - 365 * 24 * 3600
THEIRS = ("notes.md", "cache/README.txt", "cache/pages/keep-me.json", "cache/check/mine.pickle",
          "cache/parse/" + "a" * 64 + ".txt", "cache/" + "b" * 64 + ".json.bak")


def folders(root: Path) -> dict[str, dict[str, int]]:
    """The entries of each cache folder and their sizes, by folder."""
    cache = root / ".bookbuild" / "cache"
    return {name or "execution": {p.name: p.stat().st_size for p in (cache / name).glob("*")
                                  if cachesweep.ENTRY.fullmatch(p.name)}
            for name in cachesweep.FOLDERS}


def render(root: Path) -> None:
    r = run_cli("render", "--to", "html", cwd=root)
    assert r.returncode == 0, r.stderr


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    """A book rendered once, with files of the user's planted in `.bookbuild/`, then with one
    chapter's code and prose edited and the book rendered again EDITS times: (book, entries
    after the first render, entries after the last)."""
    root = tmp_path_factory.mktemp("sweep") / "book"
    shutil.copytree(FIXTURES / "registry", root)
    for rel in THEIRS:
        (root / ".bookbuild" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / ".bookbuild" / rel).write_text("the author's, not bookbuild's\n")
        os.utime(root / ".bookbuild" / rel, (YEAR_AGO, YEAR_AGO))  # oldest of all
    render(root)
    first = folders(root)
    chapter = root / "depths.qmd"
    original = chapter.read_text(encoding="utf-8")
    for i in range(EDITS):
        chapter.write_text(original.replace('DEPTHS["channel"]', f'DEPTHS["channel"] + {i}')
                           .replace("at chart datum.", f"at chart datum (edit {i})."),
                           encoding="utf-8")
        render(root)
    return root, first, folders(root)


def test_many_edits_of_one_chapter_keep_every_cache_bounded(edited) -> None:
    root, first, last = edited
    assert f"(edit {EDITS - 1})" in (root / "_book" / "depths.html").read_text(encoding="utf-8")
    for name, entries in last.items():
        # the book's entries and at most the two versions of depths.qmd before the last
        # (without eviction: one more for each of the EDITS renders)
        assert len(entries) <= len(first[name]) + cachesweep.KEEP_BUILDS - 1, (name, first, last)


def test_the_book_keeps_what_it_uses_across_output_formats(edited) -> None:
    root, _, _ = edited
    for _ in range(2):  # each no-op render uses (and keeps) what the one before kept
        r = run_cli("render", "--to", "html", cwd=root)
        assert r.returncode == 0, r.stderr
        assert r.stderr.count("cached, no kernel started") == 3, r.stderr
        assert "pandoc rendered 0 page(s), 3 from the page cache" in r.stderr
    md = run_cli("render", "--to", "md", cwd=root)  # a whole-book build of another format
    assert md.returncode == 0, md.stderr
    r = run_cli("render", "--to", "html", cwd=root)
    assert r.stderr.count("cached, no kernel started") == 3, r.stderr
    assert "pandoc rendered 0 page(s), 3 from the page cache" in r.stderr


def test_files_bookbuild_did_not_write_survive(edited) -> None:
    root, _, _ = edited
    for rel in THEIRS:
        assert (root / ".bookbuild" / rel).read_text() == "the author's, not bookbuild's\n", rel


# --- the rule, on entries made here ---------------------------------------------------------


def entry(folder: Path, name: str, age_s: float) -> Path:
    path = folder / f"{(name * 64)[:64]}.json"
    path.write_text("{}")
    t = time.time() - age_s
    os.utime(path, (t, t))
    return path


def test_entries_unused_since_the_third_last_whole_build_go(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (cache / "pages").mkdir(parents=True)
    old = entry(cache / "pages", "a", 600)  # used before any of the builds below
    between = entry(cache, "b", 250)  # used after the first of the last three builds began
    starts = [time.time_ns() - s * 10**9 for s in (400, 300, 200)]
    for started in starts[:2]:
        cachesweep.sweep(cache, started)
        assert old.exists() and between.exists()  # fewer than three builds known: all stay
    cachesweep.sweep(cache, starts[2])
    assert between.exists() and not old.exists()
    now = cachesweep.build_started()
    for _ in range(2):
        cachesweep.sweep(cache, now)
    assert not between.exists()  # the builds at -300 s and -200 s dropped out of the last three


def test_only_our_entries_and_our_stale_temp_files_are_swept(tmp_path: Path) -> None:
    ours = entry(tmp_path, "c", 60)
    temp_old = tmp_path / f".{'f' * 64}.json.x1.tmp"
    temp_new = tmp_path / f".{'0' * 64}.json.x2.tmp"  # another process writing it now
    theirs = [tmp_path / n for n in ("notes.json", "c" * 64 + ".json.orig", "x.tmp")]
    for t in (temp_old, temp_new, *theirs):
        t.write_text("partial")
        os.utime(t, (YEAR_AGO, YEAR_AGO))
    os.utime(temp_new, None)
    freed = cachesweep.sweep_folder(tmp_path, time.time_ns())
    assert not ours.exists() and not temp_old.exists()
    assert temp_new.exists() and all(p.exists() for p in theirs)
    assert freed == len("{}") + len("partial")


def test_an_entry_swept_while_a_reader_uses_it_is_a_miss(tmp_path: Path) -> None:
    pages = PageCache(tmp_path)
    frag = Fragment("<nav/>", "<p>body</p>", [])
    errors: list[BaseException] = []
    got: list[object] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                got.append(pages.get("c" * 64))
        except BaseException as exc:  # a crash in the reader is what this test looks for
            errors.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(200):
            pages.put("c" * 64, frag)
            cachesweep.sweep_folder(tmp_path / "pages", time.time_ns() + 10**12)  # all go
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not errors
    assert {type(g) for g in got} <= {type(None), Fragment}
    assert all(g is None or g.body == "<p>body</p>" for g in got)
