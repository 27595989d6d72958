"""Provenance through the book's own Python modules: imports, re-exports, helpers, registries,
constructor keywords, derived module values, down to the constants the kernel reported.

Fast (no kernel): a small package is written to a tmp folder and the constants' records are
given as the kernel's snapshot would give them. `make mutants` runs this file against every
mutant of bookbuild/analysis/trace.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bookbuild.analysis.trace import Trace, Tracer
from bookbuild.source.qmd import parse

SPECS = '''\
import math
from dataclasses import dataclass

PEAK = 100
BW = 20
DOUBLE = PEAK * 2
RATIO = PEAK / BW
LABEL = "fast"
_hidden = BW + 1


@dataclass
class Chip:
    speed: float
    width: float


CARD = Chip(speed=PEAK, width=BW)
PLAIN = Chip(PEAK, BW)


def scaled(BW, /, x=0, *DOUBLE, TYPED=1, **RATIO):
    EXTRA = 3
    return x * PEAK * EXTRA * TYPED + math.pi + len([n for n in DOUBLE]) + len(RATIO) + BW


class Catalog:
    class Gpu:
        flops = PEAK
        mem = BW
        both = flops + mem
        chip = Chip(speed=PEAK, width=BW)
        idle: float
        width = chip.width
        fast = chip.speed
    cheap = RATIO


try:
    EXTRA = BW * 3
except ImportError:
    EXTRA = 0
else:
    LATER = PEAK
finally:
    FINAL = BW
if BW:
    GUARDED = PEAK + 1
else:
    OTHER = BW
TYPED: float = BW / 2
'''

FILES = {
    "hw/__init__.py": "from .specs import *\nfrom .specs import PEAK as TOP\nimport hw.specs as sp\n"
                      "import math, os.path\nfrom .missing_mod import *\n",
    "hw/specs.py": SPECS,
    "hw/sub/__init__.py": "from ..specs import BW as WIDTH\nLOCAL = WIDTH * 2\n",
    "hw/sub/deep.py": "from hw.specs import RATIO\nimport hw.specs\nDEEP = RATIO + 1\n"
                      "DEEPER = hw.specs.BW * 2\n",
    "hw/registry.py": "from .specs import PEAK, BW\n\n\nclass Fleet:\n    size = 4\n\n\n"
                      "FLEET = Fleet()\n\n\nclass Doubling:\n    base = BW\n    base = base * 2\n\n\n"
                      "SCALE = PEAK * 2\n",
    "loop/a.py": "from loop.b import B\nA = B + 1\n",
    "loop/b.py": "from loop.a import A\nB = A + 1\n",
    "loop/__init__.py": "",
}


def record(name: str, file: str = "hw/specs.py", declared: bool = True) -> dict:
    return {"file": file, "name": name, "declared": declared, "value": "1"}


DETAILS = {
    "PEAK": record("PEAK"), "BW": record("BW"), "DOUBLE": record("DOUBLE", declared=False),
    "FLEET_SIZE": record("FLEET.size", "hw/registry.py"),
    "FLEET_COUNT": record("FLEET.count", "hw/registry.py"),
}


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("book")
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def tracer(root: Path, cells: str, details: dict | None = None) -> Tracer:
    from bookbuild.numbers import provenance

    doc = parse("```{python}\n" + cells + "```\n", str(root / "ch.qmd"))
    return provenance.tracer(doc, root, DETAILS if details is None else details)


def trace(root: Path, cells: str, expr: str, details: dict | None = None) -> Trace:
    return tracer(root, cells, details).trace(expr)


def test_a_module_constant_is_reached_through_each_kind_of_import(root: Path) -> None:
    cells = ("import hw\nimport hw.specs as spec\nfrom hw import TOP, BW as WIDTH\n"
             "from hw.specs import *\nimport hw.sub\n")
    t = tracer(root, cells)
    for expr, found in [("hw.PEAK", {"PEAK"}), ("spec.BW", {"BW"}), ("TOP", {"PEAK"}),
                        ("WIDTH", {"BW"}), ("PEAK * BW", {"PEAK", "BW"}),
                        ("hw.sp.PEAK", {"PEAK"})]:
        assert t.trace(expr).constants == found, expr


def test_derived_module_values_show_their_formula_and_where_it_is(root: Path) -> None:
    t = trace(root, "import hw\n", "hw.RATIO")
    assert t.steps == [(0, "hw.specs.RATIO", "PEAK / BW  (hw/specs.py:7)"),
                       (1, "PEAK", "constant"), (1, "BW", "constant")]
    assert (t.constants, t.untraced) == ({"PEAK", "BW"}, set())


def test_a_constant_without_a_declared_source_is_followed_to_what_it_is_made_of(root) -> None:
    t = trace(root, "from hw import DOUBLE\nx = DOUBLE\n", "x")
    assert t.steps == [(0, "x", "DOUBLE"), (1, "DOUBLE", "constant"),
                       (2, "hw.specs.DOUBLE", "PEAK * 2  (hw/specs.py:6)"), (3, "PEAK", "constant")]
    declared = dict(DETAILS, DOUBLE=record("DOUBLE"))
    t = trace(root, "from hw import DOUBLE\nx = DOUBLE\n", "x", declared)
    assert t.steps == [(0, "x", "DOUBLE"), (1, "DOUBLE", "constant")]  # its source is the end


def test_helper_functions_lead_to_what_their_body_reads(root: Path) -> None:
    t = trace(root, "from hw.specs import scaled\nv = scaled(2)\n", "v")
    # Its parameters and locals shadow module names (BW, DOUBLE, TYPED, RATIO, EXTRA): only
    # the free name PEAK is the module's.
    assert (t.constants, t.untraced) == ({"PEAK"}, set())
    # A library's function is code, not the book's data.
    t = trace(root, "import math\nv = math.sqrt(2)\n", "v")
    assert (t.constants, t.untraced) == (set(), set())


def test_constructor_keywords_pick_the_one_field_asked_for(root: Path) -> None:
    t = trace(root, "from hw.specs import CARD, PLAIN\n", "CARD.speed")
    assert t.steps == [(0, "hw.specs.CARD.speed", "PEAK  (hw/specs.py:18)"),
                       (1, "PEAK", "constant")]
    assert trace(root, "from hw.specs import CARD\n", "CARD.width").constants == {"BW"}
    assert trace(root, "from hw.specs import CARD\n", "CARD").constants == {"PEAK", "BW"}
    # Through a package that re-exports it, the field is still the one asked for.
    assert trace(root, "import hw\n", "hw.CARD.speed").constants == {"PEAK"}
    # Positional arguments cannot be told apart: the whole call is followed.
    assert trace(root, "from hw.specs import PLAIN\n", "PLAIN.speed").constants == {"PEAK", "BW"}


def test_nested_classes_in_a_module_are_walked_attribute_by_attribute(root: Path) -> None:
    cells = "from hw.specs import Catalog\nimport hw.specs as s\n"
    t = tracer(root, cells)
    assert t.trace("Catalog.Gpu.flops").constants == {"PEAK"}
    assert t.trace("Catalog.Gpu.both").constants == {"PEAK", "BW"}
    assert t.trace("s.Catalog.Gpu.chip.width").constants == {"BW"}
    assert t.trace("Catalog.cheap").constants == {"PEAK", "BW"}  # a module name, from a class
    # An attribute of a sibling attribute: the sibling's constructor keyword, not a module name.
    for expr, found in [("Catalog.Gpu.width", {"BW"}), ("Catalog.Gpu.fast", {"PEAK"})]:
        assert (t.trace(expr).constants, t.trace(expr).untraced) == (found, set()), expr
    steps = t.trace("Catalog.Gpu.both").steps
    assert [(d, key) for d, key, _ in steps] == [
        (0, "hw.specs.Catalog.Gpu.both"), (1, "hw.specs.Catalog.Gpu.flops"), (2, "PEAK"),
        (1, "hw.specs.Catalog.Gpu.mem"), (2, "BW")]
    assert [text for _, _, text in steps] == [
        "flops + mem  (hw/specs.py:31)", "PEAK  (hw/specs.py:29)", "constant",
        "BW  (hw/specs.py:30)", "constant"]
    for expr in ("Catalog", "Catalog.Gpu", "Catalog.nothing", "Catalog.Gpu.idle"):
        assert (t.trace(expr).constants, t.trace(expr).untraced) == (set(), set()), expr


def test_a_nested_class_step_is_named_as_written(root: Path) -> None:
    t = trace(root, "from hw.specs import Catalog\n", "Catalog.Gpu.both")
    assert t.steps[0][1] == "hw.specs.Catalog.Gpu.both"


def test_bindings_inside_try_and_if_at_module_level_are_found(root: Path) -> None:
    t = tracer(root, "import hw.specs as s\n")
    for name, found in [("EXTRA", {"BW"}), ("LATER", {"PEAK"}), ("FINAL", {"BW"}),
                        ("GUARDED", {"PEAK"}), ("OTHER", {"BW"}), ("TYPED", {"BW"})]:
        assert t.trace(f"s.{name}").constants == found, name


def test_submodules_and_relative_imports_are_followed(root: Path) -> None:
    t = tracer(root, "import hw.sub\nimport hw.sub.deep as d\nfrom hw.sub import LOCAL\n")
    assert t.trace("LOCAL").steps == [(0, "hw.sub.LOCAL", "WIDTH * 2  (hw/sub/__init__.py:2)"),
                                      (1, "BW", "constant")]
    assert t.trace("d.DEEP").constants == {"PEAK", "BW"}
    assert t.trace("hw.sub.deep.DEEP").constants == {"PEAK", "BW"}
    assert t.trace("d.DEEPER").constants == {"BW"}  # `import hw.specs` binds `hw` there
    # A relative import in a plain module is relative to its package (hw), not to itself.
    assert trace(root, "import hw.registry as r\n", "r.SCALE").constants == {"PEAK"}


def test_a_submodule_imported_by_its_package_init_is_followed(root: Path) -> None:
    (root / "pkg2").mkdir()
    (root / "pkg2/__init__.py").write_text("from . import part\n")
    (root / "pkg2/part.py").write_text("from hw.specs import BW\nUSED = BW * 2\n")
    t = trace(root, "import pkg2\n", "pkg2.part.USED")
    assert t.constants == {"BW"}


def test_a_registry_object_brings_every_constant_it_holds(root: Path) -> None:
    t = trace(root, "from hw.registry import FLEET\n", "FLEET")
    assert t.steps == [(0, "FLEET_COUNT", "constant"), (0, "FLEET_SIZE", "constant")]
    assert trace(root, "from hw.registry import FLEET\n", "FLEET.size").constants == {"FLEET_SIZE"}
    # `FLEET.sizes` is not below `FLEET.size`: only dotted names below the object count.
    t = trace(root, "from hw.registry import FLEET\n", "FLEET.size.real")
    assert t.constants == {"FLEET_SIZE"}


def test_names_a_module_does_not_bind_are_untraced_with_its_file(root: Path) -> None:
    t = trace(root, "import hw\n", "hw.nothing_here + hw.__name__ + hw.len")
    assert t.untraced == {"hw.nothing_here"}
    assert (1, "hw.nothing_here", "(not found in hw/__init__.py: not traced)") not in t.steps
    assert (0, "hw.nothing_here", "(not found in hw/__init__.py: not traced)") in t.steps


def test_dunder_attributes_of_a_module_are_python_not_data(root: Path) -> None:
    t = trace(root, "import hw\n", "hw.__doc__.upper + hw.nothing.__class__ + hw.nothing.sum")
    assert t.untraced == {"hw.nothing.__class__", "hw.nothing.sum"}
    t = trace(root, "class Bw:\n    x = 1\n", "Bw.__name__")  # the class as a namespace
    assert (t.constants, t.untraced) == (set(), set())


def test_a_parameter_shadows_a_chapter_name_even_through_an_attribute(root: Path) -> None:
    t = trace(root, "from hw import BW\nx = BW\ndef f(x):\n    return x.real\nv = f(1)\n", "v")
    assert (t.constants, t.untraced) == (set(), set())


def test_private_names_are_not_re_exported_by_a_star_import(root: Path) -> None:
    t = trace(root, "import hw\n", "hw._hidden")
    assert t.untraced == {"hw._hidden"}
    t = trace(root, "import hw.specs as s\n", "s._hidden")
    assert (t.constants, t.untraced) == ({"BW"}, set())


def test_an_import_cycle_between_modules_ends(root: Path) -> None:
    t = trace(root, "from loop.a import A\n", "A")
    assert (t.constants, t.untraced, t.steps) == (set(), set(), [])  # no constant: no steps


def test_modules_outside_the_book_are_libraries(root: Path, tmp_path: Path) -> None:
    # A module found beside the chapter but outside the project root, or inside a virtual
    # environment in the book's folder, is a library: code, not the book's data.
    venv = root / "venv"
    (venv / "lib").mkdir(parents=True, exist_ok=True)
    (venv / "pyvenv.cfg").write_text("home = /usr\n")
    (venv / "lib/vlib.py").write_text("V = 1\n")
    details = dict(DETAILS, V=record("V", "venv/lib/vlib.py"))
    from bookbuild.analysis.names import ModuleNames

    doc = parse("```{python}\nimport vlib\n```\n", str(root / "ch.qmd"))
    t = Tracer(doc, ModuleNames([venv / "lib", root]), details, root)
    assert t.trace("vlib.V").constants == set()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "olib.py").write_text("O = 1\n")
    t = Tracer(doc, ModuleNames([outside, root]), dict(DETAILS, O=record("O", "olib.py")), root)
    assert t.trace("olib.O").constants == set()


def test_tracers_of_one_build_share_what_they_learnt_about_modules(root: Path) -> None:
    shared: dict = {}
    from bookbuild.analysis.names import ModuleNames

    doc = parse("```{python}\nimport hw\n```\n", str(root / "ch.qmd"))
    a = Tracer(doc, ModuleNames([root]), DETAILS, root, shared)
    first = a.trace("hw.RATIO + hw.RATIO")
    b = Tracer(doc, ModuleNames([root]), DETAILS, root, shared)
    assert first.steps[:3] == [(0, "hw.specs.RATIO", "PEAK / BW  (hw/specs.py:7)"),
                               (1, "PEAK", "constant"), (1, "BW", "constant")]
    assert b.trace("hw.RATIO").steps == first.steps[:3]
    assert set(shared) >= {"scopes", "memo"}


CHAPTER = """\
from hw import PEAK, BW
import hw
import broken
def helper(n):
    return n * PEAK
def rec(n):
    return rec(n - 1) + BW if n else 0
class K:
    def method(self):
        return BW
    x: float = PEAK
    x += BW
if PEAK:
    inside = BW
with open("f") as fh:
    used = fh
K.later = PEAK
K.later += BW
both = PEAK + hw.RATIO
br = broken.X
"""


def test_chapter_functions_blocks_and_annotations_are_followed(root: Path) -> None:
    (root / "broken.py").write_text("X = (\n")
    t = tracer(root, CHAPTER)
    for expr, found in [("helper(2)", {"PEAK"}), ("rec(3)", {"BW"}), ("K.method", {"BW"}),
                        ("K.x", {"PEAK", "BW"}), ("inside", {"BW"}), ("K.later", {"PEAK", "BW"})]:
        assert (t.trace(expr).constants, t.trace(expr).untraced) == (found, set()), expr
    assert t.trace("used").untraced == {"fh"}  # bound by `with`: not guessed
    assert t.trace("br").constants == set()  # a module that does not parse is not followed


def test_a_constant_reached_twice_is_one_step(root: Path) -> None:
    t = tracer(root, CHAPTER).trace("both")
    assert t.steps == [(0, "both", "PEAK + hw.RATIO"), (1, "PEAK", "constant"),
                       (1, "hw.specs.RATIO", "PEAK / BW  (hw/specs.py:7)"), (2, "BW", "constant")]


def test_site_packages_under_the_book_are_libraries(root: Path) -> None:
    from bookbuild.analysis.names import ModuleNames

    (root / "site-packages").mkdir(exist_ok=True)
    (root / "site-packages/slib.py").write_text("S = 1\n")
    doc = parse("```{python}\nimport slib\n```\n", str(root / "ch.qmd"))
    details = dict(DETAILS, S=record("S", "site-packages/slib.py"))
    t = Tracer(doc, ModuleNames([root / "site-packages", root]), details, root)
    assert t.trace("slib.S").constants == set()


def test_without_a_root_the_first_search_root_is_the_books(root: Path) -> None:
    from bookbuild.analysis.names import ModuleNames

    doc = parse("```{python}\nfrom hw import PEAK\n```\n", str(root / "ch.qmd"))
    t = Tracer(doc, ModuleNames([root, root / "hw" / "sub"]), DETAILS)
    assert t.trace("PEAK").constants == {"PEAK"}


def test_records_without_a_defining_file_or_name_are_skipped(root: Path) -> None:
    # A kernel may report a constant it could not place (no file, or no name): it is shown
    # where known, never matched to a module binding.
    details = dict(DETAILS, NOWHERE={"value": "1"}, NAMED={"name": "PEAK", "value": "2"},
                   FILED={"file": "hw/specs.py", "value": "3"})
    assert trace(root, "from hw import PEAK\n", "PEAK", details).constants == {"PEAK"}


def test_a_class_attribute_rebound_from_itself_ends(root: Path) -> None:
    # `base = base * 2` in a class body must not send the walk round the same attribute.
    t = trace(root, "from hw.registry import Doubling\n", "Doubling.base")
    assert t.constants <= {"BW"}


def test_a_name_rebound_from_its_own_value_keeps_its_constants(root: Path) -> None:
    cells = ("from hw.registry import Doubling\nfrom hw import BW\nx = BW\nx = x * 2\n"
             "class K:\n    y = BW\n    y = y * 2\n")
    t = tracer(root, cells)
    assert [t.trace(e).constants for e in ("x", "K.y", "Doubling.base")] == [{"BW"}] * 3


def test_the_next_build_reuses_what_it_learnt_while_modules_and_constants_hold(root: Path) -> None:
    """Preview's next prose edit: equal constants (a new dict) and untouched module files."""
    first = tracer(root, "from hw.specs import DOUBLE\n", dict(DETAILS))
    assert first.trace("DOUBLE").constants == {"DOUBLE", "PEAK"}
    second = tracer(root, "from hw.specs import DOUBLE\n", dict(DETAILS))
    assert second._scopes is first._scopes  # nothing re-read
    changed = dict(DETAILS, PEAK=dict(DETAILS["PEAK"], value="2"))
    assert tracer(root, "from hw.specs import DOUBLE\n", changed)._scopes is not first._scopes


def test_a_module_edited_between_builds_is_traced_afresh(tmp_path: Path) -> None:
    (tmp_path / "hw").mkdir()
    (tmp_path / "hw" / "__init__.py").write_text("")
    (tmp_path / "hw" / "specs.py").write_text("PEAK = 100\nBW = 20\n")
    (tmp_path / "calc.py").write_text("from hw.specs import PEAK, BW\nVALUE = PEAK * 2\n")
    cells = "from calc import VALUE\n"
    assert tracer(tmp_path, cells, dict(DETAILS)).trace("VALUE").constants == {"PEAK"}
    # same constants, a formula changed: the tooltip must follow the new formula
    (tmp_path / "calc.py").write_text("from hw.specs import PEAK, BW\nVALUE = BW * 2 \n")
    assert tracer(tmp_path, cells, dict(DETAILS)).trace("VALUE").constants == {"BW"}
    # a module appearing where an import used to find nothing is found
    cells = "from extra import MORE\n"
    assert tracer(tmp_path, cells, dict(DETAILS)).trace("MORE").constants == set()
    (tmp_path / "extra.py").write_text("from hw.specs import BW\nMORE = BW + 1\n")
    assert tracer(tmp_path, cells, dict(DETAILS)).trace("MORE").constants == {"BW"}


def test_files_written_beside_the_modules_keep_what_was_learnt(tmp_path: Path) -> None:
    """A build writes its output (and an editor its swap files) in the book's folder: only a
    module file appearing where an import looks may make the next build read modules again."""
    (tmp_path / "hw").mkdir()
    (tmp_path / "hw" / "specs.py").write_text("PEAK = 100\n")
    (tmp_path / "calc.py").write_text("from hw.specs import PEAK\nVALUE = PEAK * 2\n")
    first = tracer(tmp_path, "from calc import VALUE\n", dict(DETAILS))
    assert first.trace("VALUE").constants == {"PEAK"}
    (tmp_path / "_book").mkdir()
    (tmp_path / "hw" / "notes.txt").write_text("draft")
    second = tracer(tmp_path, "from calc import VALUE\n", dict(DETAILS))
    assert second._scopes is first._scopes
    (tmp_path / "hw" / "specs.py").write_text("PEAK = 100\nBW = 2\n")
    assert tracer(tmp_path, "from calc import VALUE\n", dict(DETAILS))._scopes is not first._scopes


def test_a_chapters_tooltips_follow_its_cells_not_its_prose(tmp_path: Path) -> None:
    from bookbuild.model import Chapter, ExecutionResult
    from bookbuild.numbers import provenance

    (tmp_path / "calc.py").write_text("PEAK = 1\nBW = 2\n")
    details = {"PEAK": record("PEAK", "calc.py"), "BW": record("BW", "calc.py")}

    def notes(cells: str, prose: str) -> list[dict]:
        doc = parse(f"```{{python}}\n{cells}```\n\n{prose} `{{python}} V`.\n", str(tmp_path / "ch.qmd"))
        ch = Chapter(tmp_path / "ch.qmd", doc, ExecutionResult([], ["1"], [], details))
        return provenance.chapter_annotations(ch, tmp_path, details)

    first = notes("from calc import PEAK\nV = PEAK\n", "Peak is")
    assert first[0]["constants"] == "PEAK"
    assert notes("from calc import PEAK\nV = PEAK\n", "The peak is now") is first  # not re-traced
    assert notes("from calc import BW\nV = BW\n", "The peak is now")[0]["constants"] == "BW"


def test_the_next_build_reads_the_tooltips_it_stored_and_traces_nothing(tmp_path: Path,
                                                                         monkeypatch) -> None:
    """A no-op build (a new process, `_SHARED` empty) loads each unchanged chapter's tooltips
    from the cache file instead of tracing them; an edited module makes it trace afresh."""
    from bookbuild.model import Chapter, ExecutionResult
    from bookbuild.numbers import provenance

    (tmp_path / "hw").mkdir()
    (tmp_path / "hw" / "specs.py").write_text("PEAK = 100\nBW = 20\n")
    (tmp_path / "calc.py").write_text("from hw.specs import PEAK, BW\nVALUE = PEAK * 2\n")
    cache = tmp_path / ".bookbuild" / "cache" / "provenance.json"
    doc = parse("```{python}\nfrom calc import VALUE\n```\n\nIt is `{python} VALUE`.\n",
                str(tmp_path / "ch.qmd"))
    ch = Chapter(tmp_path / "ch.qmd", doc, ExecutionResult([], ["1"], [], dict(DETAILS)))

    def build() -> tuple[list[dict], int]:
        monkeypatch.setattr(provenance, "_SHARED", None)  # a new process
        traced = provenance.TRACED
        notes = provenance.chapter_annotations(ch, tmp_path, dict(DETAILS), cache)
        provenance.save_annotations(cache, tmp_path, dict(DETAILS))
        return notes, provenance.TRACED - traced

    first, traced = build()
    assert first[0]["constants"] == "PEAK" and traced == 1
    stored = cache.stat()
    again, traced = build()
    assert again == first and traced == 0  # read, not traced
    assert (cache.stat().st_mtime_ns, cache.stat().st_ino) == (stored.st_mtime_ns, stored.st_ino)
    # same cells and constants, a module's formula changed: the stored tooltip no longer holds
    (tmp_path / "calc.py").write_text("from hw.specs import PEAK, BW\nVALUE = BW * 2 \n")
    edited, traced = build()
    assert edited[0]["constants"] == "BW" and traced == 1
    cache.write_text(cache.read_text().replace("BW", "PEAK"))  # damaged: a miss, not a lie
    damaged, traced = build()
    assert damaged[0]["constants"] == "BW" and traced == 1
