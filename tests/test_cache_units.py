"""The execution cache: when a stored result may be reused, and when it must not be.

Fast (no kernel: results are stored as an execution would store them): `make mutants` runs this
file against every mutant of bookbuild/execution/cache.py. A stale number is the one failure the cache
must never cause, so most tests here edit something and expect a miss.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bookbuild.execution import cache
from bookbuild.model import ExecutionResult
from bookbuild.source.qmd import parse

CHAPTER = ("# T\n\n```{python}\n#| label: c\nfrom consts import *\nfrom helpers import double\n"
           "class K:\n    v = double(USED)\n```\n\nValue `{python} K.v`.\n")
CONSTS = "import math\n\nUSED = 2\nUNUSED = 3\nfrom extra import *\n"
HELPERS = "SCALE = 2\n\n\ndef double(x):\n    return x * SCALE\n\n\ndef other(x):\n    return x\n"


@pytest.fixture
def book(tmp_path: Path) -> Path:
    (tmp_path / "consts.py").write_text(CONSTS)
    (tmp_path / "helpers.py").write_text(HELPERS)
    (tmp_path / "extra.py").write_text("EXTRA = 1\n")
    (tmp_path / "data.csv").write_text("a,b\n")
    return tmp_path


def deps(book: Path) -> list[str]:
    return [str(book / n) for n in ("consts.py", "helpers.py", "extra.py", "data.csv")]


def stored(book: Path, text: str = CHAPTER) -> tuple[cache.Cache, str]:
    doc = parse(text, str(book / "ch.qmd"))
    c = cache.Cache(book / ".bookbuild")
    k = cache.key(doc, book)
    c.put(k, ExecutionResult([[{"output_type": "stream", "text": "hi"}]], ["4"], deps(book),
                             {"USED": {"value": "2"}}), doc)
    return c, k


def hit(book: Path, c: cache.Cache, k: str, text: str = CHAPTER) -> bool:
    return c.get(k, parse(text, str(book / "ch.qmd"))) is not None


def test_a_stored_result_is_returned_as_it_was(book: Path) -> None:
    c, k = stored(book)
    got = c.get(k, parse(CHAPTER, str(book / "ch.qmd")))
    assert got.inline == ["4"]
    assert got.outputs == [[{"output_type": "stream", "text": "hi"}]]
    assert got.dependencies == deps(book)


def test_the_key_follows_code_options_and_inline_expressions_not_prose(book: Path) -> None:
    def k(text: str) -> str:
        return cache.key(parse(text, "ch.qmd"), book)

    base = k(CHAPTER)
    assert k(CHAPTER.replace("Value", "The value")) == base
    assert k(CHAPTER.replace("# T", "# Title")) == base
    assert k(CHAPTER.replace("double(USED)", "double(USED) + 0")) != base
    assert k(CHAPTER.replace("#| label: c", "#| label: d")) != base
    assert k(CHAPTER.replace("K.v`", "K.v + 1`")) != base
    assert cache.key(parse(CHAPTER, "ch.qmd"), book / "elsewhere") != base


def test_editing_a_constant_the_chapter_uses_is_a_miss(book: Path) -> None:
    c, k = stored(book)
    (book / "consts.py").write_text(CONSTS.replace("USED = 2", "USED = 5"))
    assert not hit(book, c, k)


def test_editing_a_constant_nothing_reaches_is_a_hit(book: Path) -> None:
    c, k = stored(book)
    (book / "consts.py").write_text(CONSTS.replace("UNUSED = 3", "UNUSED = 30"))
    (book / "helpers.py").write_text(HELPERS.replace("return x\n", "return -x\n"))
    assert hit(book, c, k)


def test_editing_a_helper_is_a_miss(book: Path) -> None:
    c, k = stored(book)
    (book / "helpers.py").write_text(HELPERS.replace("x * SCALE", "x * SCALE + 1"))
    assert not hit(book, c, k)


def test_editing_what_a_helper_reads_is_a_miss(book: Path) -> None:
    c, k = stored(book)
    (book / "helpers.py").write_text(HELPERS.replace("SCALE = 2", "SCALE = 3"))
    assert not hit(book, c, k)


def test_what_reached_names_read_is_reached_through_every_module(book: Path) -> None:
    (book / "helpers.py").write_text(HELPERS.replace("SCALE = 2", "SCALE = BASE\nBASE = 2"))
    doc = parse(CHAPTER, str(book / "ch.qmd"))
    reach = cache.reachable_names(deps(book), doc)
    assert {"double", "SCALE", "BASE", "USED"} <= reach
    assert not {"other", "UNUSED"} & reach


def test_a_module_edited_in_one_session_is_read_again(book: Path) -> None:
    # Preview analyses the same chapter after every edit in one process: what it remembers of a
    # module must follow the module's file, never the first reading.
    doc = parse(CHAPTER, str(book / "ch.qmd"))
    assert "BASE" not in cache.reachable_names(deps(book), doc)
    (book / "helpers.py").write_text(HELPERS.replace("SCALE = 2", "SCALE = BASE + 0\nBASE = 2"))
    assert "BASE" in cache.reachable_names(deps(book), doc)
    edited = CHAPTER.replace("double(USED)", "double(USED) + other(UNUSED)")
    assert {"other", "UNUSED"} <= cache.reachable_names(deps(book), parse(edited, str(book / "ch.qmd")))


def test_statements_that_bind_nothing_always_count(book: Path) -> None:
    c, k = stored(book)
    (book / "consts.py").write_text(CONSTS.replace("import math", "import math, os"))
    assert not hit(book, c, k)
    c, k = stored(book)
    (book / "extra.py").write_text("EXTRA = 1\nprint('side effect')\n")
    assert not hit(book, c, k)


def test_a_data_file_or_a_removed_dependency_is_a_miss(book: Path) -> None:
    c, k = stored(book)
    (book / "data.csv").write_text("a,b\n1,2\n")
    assert not hit(book, c, k)
    c, k = stored(book)
    (book / "extra.py").unlink()
    assert not hit(book, c, k)


def test_dynamic_access_makes_the_whole_module_count(book: Path) -> None:
    dynamic = CHAPTER.replace("double(USED)", "double(getattr(__import__('consts'), 'USED'))")
    c, k = stored(book, dynamic)
    (book / "consts.py").write_text(CONSTS.replace("UNUSED = 3", "UNUSED = 30"))
    assert not hit(book, c, k, dynamic)
    c, k = stored(book)
    (book / "helpers.py").write_text(HELPERS + "\nX = globals()\n")
    assert hit(book, c, k)  # an unreached definition, even a dynamic one, changes nothing
    (book / "helpers.py").write_text(HELPERS.replace("return x * SCALE", "return vars()['x']"))
    assert not hit(book, c, k)


@pytest.mark.parametrize(("imports", "lookup"), [
    ("import importlib", "importlib.import_module(name).UNUSED"),  # a name made at run time
    ("", "__import__(name).UNUSED"),
    ("import sys", "sys.modules[name].UNUSED"),
    ("from importlib import import_module as load", "load(name).UNUSED"),
])
def test_a_helper_that_looks_a_module_up_by_name_reaches_all_of_it(book: Path, imports: str,
                                                                    lookup: str) -> None:
    # `UNUSED` is reached through a module no name in the code stands for: editing it must
    # re-execute the chapter (it was served stale from the cache)
    (book / "helpers.py").write_text(
        f"{imports}\n\n\ndef double(x, name='consts'):\n    return x * {lookup}\n")
    c, k = stored(book)
    (book / "consts.py").write_text(CONSTS.replace("UNUSED = 3", "UNUSED = 30"))
    assert not hit(book, c, k)


def test_a_module_used_as_a_value_makes_everything_reachable(book: Path) -> None:
    text = CHAPTER.replace("from helpers import double", "import consts as cs\nkeep = cs")
    c, k = stored(book, text)
    (book / "consts.py").write_text(CONSTS.replace("UNUSED = 3", "UNUSED = 30"))
    assert not hit(book, c, k, text)


def test_an_attribute_through_a_module_alias_reaches_only_that_name(book: Path) -> None:
    text = CHAPTER.replace("from helpers import double", "import consts as cs\nz = cs.UNUSED")
    c, k = stored(book, text)
    (book / "helpers.py").write_text(HELPERS.replace("return x\n", "return -x\n"))
    (book / "consts.py").write_text(CONSTS.replace("USED = 2", "USED = 7"))
    assert not hit(book, c, k, text)


def test_a_chapter_with_a_syntax_error_treats_every_name_as_used(book: Path) -> None:
    broken = CHAPTER.replace("class K:", "class K(:")
    assert cache.used_names(parse(broken, "ch.qmd")) == {cache.EVERYTHING}
    c, k = stored(book, broken)
    (book / "consts.py").write_text(CONSTS.replace("UNUSED = 3", "UNUSED = 30"))
    assert not hit(book, c, k, broken)


def test_an_edited_or_damaged_entry_is_a_miss(book: Path) -> None:
    c, k = stored(book)
    path = book / ".bookbuild" / "cache" / f"{k}.json"
    good = path.read_text()
    for n in range(8):  # edits whose digests fall on either side of the stored one
        raw = json.loads(good)
        raw["entry"]["inline"] = [str(990 + n)]
        path.write_text(json.dumps(raw))
        assert not hit(book, c, k)
    for damaged in ["{not json", json.dumps({"entry": {}}), json.dumps([1]), ""]:
        path.write_text(damaged)
        assert not hit(book, c, k)
    assert c.get("no-such-key") is None


def test_without_the_document_every_dependency_counts_whole(book: Path) -> None:
    c = cache.Cache(book / ".bookbuild")
    c.put("k", ExecutionResult([], ["4"], deps(book)))
    assert c.get("k") is not None
    (book / "consts.py").write_text(CONSTS.replace("UNUSED = 3", "UNUSED = 30"))
    assert c.get("k") is None
    c, k = stored(book)
    assert c.get(k) is None  # stored pruned, checked whole: when in doubt, re-execute


def test_file_hash_ignores_layout_and_comments_but_not_values(book: Path) -> None:
    p = book / "m.py"
    p.write_text("A = 1\nB = 2\n")
    used = {"A"}
    h = cache.file_hash(str(p), used)
    p.write_text("# moved down\n\nA = 1  # the same\n\n\nB = 2\n")
    assert cache.file_hash(str(p), used) == h
    p.write_text("A = 1\nB = 3\n")
    assert cache.file_hash(str(p), used) == h
    p.write_text("A = 4\nB = 3\n")
    assert cache.file_hash(str(p), used) != h
    assert cache.file_hash(str(book / "missing.py"), used) == cache.MISSING


def test_bound_by_names_what_a_module_statement_defines() -> None:
    import ast

    def names(src: str) -> set[str]:
        return cache.bound_by(ast.parse(src).body[0])

    assert names("A = B = 1") == {"A", "B"}
    assert names("A: int = 1") == {"A"}
    assert names("A: int") == set()
    assert names("def f(): pass") == {"f"}
    assert names("async def g(): pass") == {"g"}
    assert names("class C: pass") == {"C"}
    assert names("a.b = 1") == set()
    assert names("x, y = 1, 2") == set()
    assert names("import os") == set()


def test_a_module_that_python_cannot_parse_counts_whole(book: Path) -> None:
    p = book / "nul.py"
    p.write_bytes(b"A = 1\x00\nB = 2\n")
    import hashlib

    assert cache.file_hash(str(p), {"A"}) == hashlib.sha256(p.read_bytes()).hexdigest()
    q = book / "bad.py"
    q.write_text("A = (\n")
    assert cache.file_hash(str(q), {"A"}) == hashlib.sha256(q.read_bytes()).hexdigest()


@pytest.fixture
def fresh_versions():
    cache._versions.cache_clear()
    yield
    cache._versions.cache_clear()


def test_a_new_python_or_package_version_re_executes(book: Path, monkeypatch, fresh_versions) -> None:
    import sys

    from bookbuild.system import installed

    doc = parse(CHAPTER, "ch.qmd")
    base = cache.key(doc, book)
    real = installed.version_of

    def version(pkg: str) -> str:
        return {"pint": "99.0", "numpy": "absent"}.get(pkg) or real(pkg)

    monkeypatch.setattr(installed, "version_of", version)
    cache._versions.cache_clear()
    assert cache._versions()["pint"] == "99.0" and cache._versions()["numpy"] == "absent"
    assert cache.key(doc, book) != base
    monkeypatch.undo()
    cache._versions.cache_clear()
    assert cache.key(doc, book) == base
    rest = sys.version.split(" ", 1)[1]
    monkeypatch.setattr(sys, "version", "3.99.0 " + rest)
    cache._versions.cache_clear()
    assert cache._versions()["python"] == "3.99.0"
    assert cache.key(doc, book) != base


def test_definitions_that_run_code_as_they_are_defined_are_never_pruned() -> None:
    import ast

    def names(src: str) -> set[str]:
        return cache.bound_by(ast.parse(src).body[0])

    assert names("@register\ndef f(): pass") == set()
    assert names("class C(Base): pass") == set()
    assert names("class C(metaclass=M): pass") == set()
    assert names("A = table(1, 'm')") == {"A"}  # assumed to bind only A (a constants table)
    assert names("def f(x=register()): pass") == set()
    assert names("class C:\n    v = register(1)") == set()
    assert names("A = dict(a=1)") == {"A"}  # a pure builtin only makes its value


def test_a_listed_folder_and_an_absent_file_are_dependencies(book: Path) -> None:
    folder, absent = book / "logs", book / "notice.txt"
    folder.mkdir()
    (folder / "a.txt").write_text("x")
    doc = parse(CHAPTER, str(book / "ch.qmd"))
    c = cache.Cache(book / ".bookbuild")
    k = cache.key(doc, book)
    c.put(k, ExecutionResult([], [], [str(folder), str(absent)], {}), doc)
    assert hit(book, c, k)
    (folder / "a.txt").write_text("edited: a listing sees names only")
    assert hit(book, c, k)
    (folder / "b.txt").write_text("y")
    assert not hit(book, c, k)
    (folder / "b.txt").unlink()
    assert hit(book, c, k)
    absent.write_text("now here")
    assert not hit(book, c, k)


def test_a_cached_constant_is_located_at_its_line_now(book: Path) -> None:
    (book / "m.py").write_text("A = 1\n")
    snap = {"A": {"value": "1", "name": "A", "file": "m.py", "path": str(book / "m.py"),
                  "line": 1, "defined": "m.py:1"}}
    (book / "m.py").write_text("# a comment\n\nA = 1\n")
    assert cache.relocated(snap)["A"]["defined"] == "m.py:3"


def test_the_fast_path_never_serves_a_changed_dependency(tmp_path: Path) -> None:
    (tmp_path / "only.py").write_text("A = 1\n")
    text = "```{python}\nfrom only import A\nclass K:\n    v = A\n```\n\n`{python} K.v`\n"
    doc = parse(text, str(tmp_path / "ch.qmd"))
    c = cache.Cache(tmp_path / ".bookbuild")
    k = cache.key(doc, tmp_path)
    c.put(k, ExecutionResult([], ["1"], [str(tmp_path / "only.py")], {}), doc)
    (tmp_path / "only.py").write_text("A = 2\n")
    assert c.get(k, doc) is None


def test_an_unchanged_book_is_served_without_walking_its_modules(book: Path, monkeypatch) -> None:
    # The fast path: every dependency byte for byte as stored, so no AST walk is needed; an
    # entry found valid the slow way is stored again so the next lookup is fast too.
    c, k = stored(book)
    (book / "consts.py").write_text(CONSTS.replace("UNUSED = 3", "UNUSED = 30"))
    assert hit(book, c, k)  # the slow way: UNUSED is not reached

    def walk(*_args: object) -> set[str]:
        raise AssertionError("reachable_names called for an unchanged book")

    monkeypatch.setattr(cache, "reachable_names", walk)
    assert hit(book, c, k)


def test_only_constants_the_key_vouches_for_are_kept(book: Path) -> None:
    consts, data = str(book / "consts.py"), str(book / "data.csv")
    snap = {"USED": {"name": "USED", "path": consts}, "UNUSED": {"name": "UNUSED", "path": consts},
            "K.v": {"name": "K.v", "path": consts}, "ROW": {"name": "ROW", "path": data},
            "junk": "not a record"}
    kept = cache.fresh_constants(snap, deps(book), {"USED", "K"})
    assert set(kept) == {"USED", "K.v", "ROW"}  # ROW: its file is hashed whole
    assert set(cache.fresh_constants(snap, deps(book), None)) == {"USED", "UNUSED", "K.v", "ROW"}
    assert cache.fresh_constants(None, deps(book), None) == {}


def test_a_record_without_a_path_or_name_keeps_its_line(book: Path) -> None:
    snap = {"A": {"name": "A", "path": None, "line": 7}, "B": {"name": "", "path": str(book / "consts.py"),
                                                              "line": 9}}
    assert cache.relocated(snap) == {"A": {"name": "A", "path": None, "line": 7},
                                     "B": {"name": "", "path": str(book / "consts.py"), "line": 9}}


def test_an_entry_whose_checksum_is_any_other_value_is_a_miss(book: Path) -> None:
    c, k = stored(book)
    path = book / ".bookbuild" / "cache" / f"{k}.json"
    raw = json.loads(path.read_text())
    for forged in ("0" * 64, "f" * 64):
        path.write_text(json.dumps({**raw, "sha256": forged}))
        assert not hit(book, c, k), forged


def test_the_fast_path_returns_the_constants_it_stored(book: Path) -> None:
    doc = parse(CHAPTER, str(book / "ch.qmd"))
    c, k = cache.Cache(book / ".bookbuild"), cache.key(doc, book)
    record = {"name": "USED", "path": str(book / "consts.py"), "value": "2"}
    c.put(k, ExecutionResult([], ["4"], deps(book), {"USED": dict(record)}), doc)
    assert c.get(k, doc).constants["USED"]["value"] == "2"


def test_a_keyword_only_default_that_calls_is_a_root() -> None:
    import ast

    assert cache.bound_by(ast.parse("def f(*, a=register()):\n    return a\n").body[0]) == set()
    assert cache.bound_by(ast.parse("def f(*, a, b=1):\n    return a\n").body[0]) == {"f"}


def test_installed_versions_come_from_the_dist_info_folders_and_agree_with_importlib() -> None:
    # the execution cache's key names these versions: reading them must be right and cheap
    from importlib.metadata import version

    from bookbuild.system import installed

    for package in ("pint", "ipykernel", "jupyter_client", "markdown-it-py"):
        assert installed._dist_info()[installed._normal(package)] == version(package)
        assert installed.version_of(package) == version(package)
    assert installed.version_of("no-such-package-here") == "absent"


def test_a_file_changed_in_the_last_two_seconds_is_read_afresh(tmp_path: Path) -> None:
    # On a file system with coarse timestamps a same-size edit within one tick keeps the stamp:
    # only files older than that are memoised on it (every cache of file contents shares this).
    import os
    import time

    from bookbuild.system.stamps import memo_stamp

    f = tmp_path / "m.py"
    f.write_text("X = 1\n")
    assert memo_stamp(f.stat()) is None
    old = time.time_ns() - 5_000_000_000
    os.utime(f, ns=(old, old))
    assert memo_stamp(f.stat()) is not None
