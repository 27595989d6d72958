"""A constants module whose rows register themselves in a table that chapters read: editing a
row re-renders the number of every chapter reading that table, and only those chapters.

The fixture book (tests/fixtures/registry/, "Lights of Kestrel Sound"): `beacons.py` defines
`SOUTH_SPIT = light("South Spit", 12, 6)`, where `light` enters the row in `LIGHTS`;
lights.qmd reads only `LIGHTS`, never the row's name; depths.qmd reads only `DEPTHS`.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, restore, snapshot
from tests.conftest import render_html as render


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(where cases work, a pristine copy of the book rendered there, caches filled)."""
    base = tmp_path_factory.mktemp("registry")
    root = base / "book"
    shutil.copytree(FIXTURES / "registry", root)
    render(root)
    return root, snapshot(root)


@pytest.fixture
def book(rendered: tuple[Path, Path]) -> Path:
    return restore(*rendered)


def text(root: Path, page: str) -> str:
    html = (root / "_book" / f"{page}.html").read_text(encoding="utf-8")
    plain = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    return re.sub(r" ([.,;])", r"\1", plain)


def edit(path: Path, old: str, new: str) -> None:
    body = path.read_text(encoding="utf-8")
    assert old in body
    path.write_text(body.replace(old, new), encoding="utf-8")


def test_the_first_render_reads_the_tables(book: Path) -> None:
    assert "The sound shows 3 lights. The longest carries 18 nautical miles; " \
           "South Spit carries 12." in text(book, "lights")
    assert "The channel holds 9.5 m at chart datum." in text(book, "depths")


def test_editing_a_registered_row_moves_the_number_read_from_the_table(book: Path) -> None:
    edit(book / "beacons.py", 'light("South Spit", 12, 6)', 'light("South Spit", 14, 6)')
    err = render(book)
    assert "South Spit carries 14." in text(book, "lights")
    assert re.search(r"lights\.qmd: executed", err), err
    assert "depths.qmd: cached, no kernel started" in err, err  # DEPTHS holds no light


def test_a_new_registered_row_is_counted(book: Path) -> None:
    edit(book / "beacons.py", 'OLD_PIER = light("Old Pier", 5, 3)',
         'OLD_PIER = light("Old Pier", 5, 3)\nGULL_ROCK = light("Gull Rock", 21, 15)')
    render(book)
    assert "The sound shows 4 lights. The longest carries 21 nautical miles" in text(book, "lights")


def test_editing_a_row_of_another_table_leaves_the_chapter_cached(book: Path) -> None:
    edit(book / "beacons.py", 'depth("channel", 9.5)', 'depth("channel", 10.5)')
    err = render(book)
    assert "The channel holds 10.5 m at chart datum." in text(book, "depths")
    assert "lights.qmd: cached, no kernel started" in err, err
    assert "South Spit carries 12." in text(book, "lights")


# --- the rule, without a kernel (results stored as an execution would store them) ---------------

def stored_hit(tmp_path: Path, modules: dict[str, str], cells: str, edit_to: dict[str, str]) -> bool:
    """Store a chapter's result depending on `modules`, apply `edit_to`, then look it up."""
    from bookbuild.execution import cache
    from bookbuild.model import ExecutionResult
    from bookbuild.source.qmd import parse

    for name, body in modules.items():
        (tmp_path / name).write_text(body)
    text = f"# T\n\n```{{python}}\n{cells}\n```\n\nValue `{{python}} K.v`.\n"
    doc = parse(text, str(tmp_path / "ch.qmd"))
    c, k = cache.Cache(tmp_path / ".bookbuild"), cache.key(doc, tmp_path)
    deps = [str(tmp_path / n) for n in modules]
    c.put(k, ExecutionResult([[]], ["1"], deps, {}), doc)
    for name, body in edit_to.items():
        (tmp_path / name).write_text(body)
    return c.get(k, parse(text, str(tmp_path / "ch.qmd"))) is not None


TABLE = ("class Table:\n    def __init__(self):\n        self.rows = []\n\n"
         "    def __call__(self, v):\n        self.rows.append(v)\n        return v\n\n"
         "t = Table()\nA = t(1)\nB = t(2)\n")


def test_a_callable_instance_that_records_rows_is_followed_through_its_class(tmp_path: Path) -> None:
    cells = "from tab import t\nclass K:\n    v = sum(t.rows)"
    assert not stored_hit(tmp_path, {"tab.py": TABLE}, cells,
                          {"tab.py": TABLE.replace("t(2)", "t(3)")})


def test_rows_that_only_record_into_their_callee_stay_pruned_for_a_reader_of_one_row(
        tmp_path: Path) -> None:
    """mlsysim's shape: `_c(...)` appends to `_c` itself, which this chapter never reads."""
    cells = "from tab import A\nclass K:\n    v = A"
    assert stored_hit(tmp_path, {"tab.py": TABLE}, cells,
                      {"tab.py": TABLE.replace("t(2)", "t(3)")})
    assert not stored_hit(tmp_path, {"tab.py": TABLE}, cells,
                          {"tab.py": TABLE.replace("t(1)", "t(4)")})


def test_a_counter_row_depends_on_the_rows_before_it(tmp_path: Path) -> None:
    ids = ("COUNT = 0\n\n\ndef next_id():\n    global COUNT\n    COUNT += 1\n    return COUNT\n\n\n"
           "A = next_id()\nB = next_id()\n")
    cells = "from ids import B\nclass K:\n    v = B"
    assert not stored_hit(tmp_path, {"ids.py": ids}, cells,
                          {"ids.py": ids.replace("A = next_id()\n", "A = next_id()\nZ = next_id()\n")})


def test_a_register_function_imported_under_another_name_is_followed(tmp_path: Path) -> None:
    reg = "REG = {}\n\n\ndef register(name, v):\n    REG[name] = v\n    return v\n"
    rows = "from reg import register as r\n\nX = r('x', 1)\nY = r('y', 2)\n"
    cells = "from reg import REG\nimport rows\nclass K:\n    v = REG['y']"
    modules = {"reg.py": reg, "rows.py": rows}
    assert not stored_hit(tmp_path, modules, cells, {"rows.py": rows.replace("2)", "5)")})


def test_a_loop_variable_named_like_a_table_does_not_read_it(tmp_path: Path) -> None:
    cells = "from tab import A\nfor t in [1]:\n    print(t)\nclass K:\n    v = A"
    assert stored_hit(tmp_path, {"tab.py": TABLE}, cells, {"tab.py": TABLE.replace("t(2)", "t(7)")})
