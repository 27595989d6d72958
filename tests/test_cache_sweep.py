"""The caches stay bounded: after a whole-book render, entries that render did not use go (least
recently used first) beyond a budget of what it used, and nothing bookbuild did not write is
ever removed from `.bookbuild/`.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from bookbuild import cachesweep
from bookbuild.pagecache import PageCache
from bookbuild.render import Fragment
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
        # what the last render used (about what the first wrote) and at most as much again;
        # without eviction each folder holds the first render's entries plus EDITS more
        # entries of this chapter
        assert sum(entries.values()) <= 2.2 * sum(first[name].values()), (name, first, last)


def test_the_last_render_keeps_what_the_book_uses(edited) -> None:
    root, _, _ = edited
    for _ in range(2):  # each no-op render uses (and keeps) what the one before kept
        r = run_cli("render", "--to", "html", cwd=root)
        assert r.returncode == 0, r.stderr
        assert r.stderr.count("cached, no kernel started") == 3, r.stderr
        assert "pandoc rendered 0 page(s), 3 from the page cache" in r.stderr


def test_files_bookbuild_did_not_write_survive(edited) -> None:
    root, _, _ = edited
    for rel in THEIRS:
        assert (root / ".bookbuild" / rel).read_text() == "the author's, not bookbuild's\n", rel


# --- the rule, on entries made here ---------------------------------------------------------


def entry(folder: Path, name: str, size: int, age_s: float) -> Path:
    path = folder / (name * 64)[:64]
    path = path.with_name(path.name + ".json")
    path.write_bytes(b"x" * size)
    t = time.time() - age_s
    os.utime(path, (t, t))
    return path


def test_entries_used_by_the_build_stay_and_the_least_recently_used_others_go(tmp_path: Path) -> None:
    started = cachesweep.build_started()
    used = [entry(tmp_path, c, 100, -5) for c in "ab"]  # touched during the build
    recent = entry(tmp_path, "c", 150, 60)
    older = entry(tmp_path, "d", 60, 120)
    oldest = entry(tmp_path, "e", 10, 180)  # would fit, but is older than one that did not
    temp_old = tmp_path / f".{'f' * 64}.json.x1.tmp"
    temp_new = tmp_path / f".{'0' * 64}.json.x2.tmp"  # another process writing it now
    for t in (temp_old, temp_new):
        t.write_text("partial")
    os.utime(temp_old, (YEAR_AGO, YEAR_AGO))
    freed = cachesweep.sweep_folder(tmp_path, started)
    assert all(p.exists() for p in [*used, recent, temp_new])
    assert not older.exists() and not oldest.exists() and not temp_old.exists()
    assert freed == 60 + 10 + len("partial")


def test_a_build_that_alone_exceeds_any_budget_keeps_all_it_used(tmp_path: Path) -> None:
    started = cachesweep.build_started()
    used = [entry(tmp_path, c, 10_000, -5) for c in "0123"]
    cachesweep.sweep_folder(tmp_path, started)
    assert all(p.exists() for p in used)


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
            cachesweep.sweep_folder(tmp_path / "pages", time.time_ns() + 10**12)  # all unused
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not errors
    assert {type(g) for g in got} <= {type(None), Fragment}
    assert all(g is None or g.body == "<p>body</p>" for g in got)
