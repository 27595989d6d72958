"""Provenance: which constants each number comes from, as causes, tooltips and `numbers why` show it.

Fast (no kernel; the constants' details come from mlsysim in this process, as the kernel's
snapshot would): `make mutants` runs this file against every mutant of bookbuild/analysis/trace.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bookbuild.analysis.trace import Tracer
from bookbuild.model import Chapter, ExecutionResult
from bookbuild.numbers import provenance
from bookbuild.numbers.lock import Entry
from bookbuild.source.qmd import parse
from tests.conftest import ROOT

CELLS = """\
```{python}
#| label: calc
from mlsysim.core.constants import *
from mlsysim.core.measured import H100_MEASURED_HBM_BW as HBM_MEASURED
import math
import os.path
from mlsysim.fmt import fmt


def helper(x):
    return x

total = H100_MEM_BW
total += PCIE_GEN5_BW


class Bw:
    x = NVLINK_H100_BW
    x += total
    achieved = HBM_MEASURED / H100_MEM_BW
    text = fmt(achieved * 100, precision=0)
    pair = (H100_MEM_BW, A100_MEM_BW)
    first, second = pair
    hbm, pcie = H100_MEM_BW, PCIE_GEN5_BW
    both = [hbm, pcie]
    helped = helper(H100_MEM_BW)
    ratio2 = achieved.magnitude

    class Inner:
        y = A100_MEM_BW


for i in range(3):
    looped = i

Bw.later = A100_FLOPS_FP16_TENSOR
ratio = Bw.achieved.magnitude
free = math.pi * undefined_here
```
"""


@pytest.fixture(scope="module")
def details() -> dict[str, dict]:
    """The constants as a chapter kernel's snapshot reports them (value, source, defining file)."""
    import os

    import mlsysim.core.constants  # noqa: F401  (loaded, as a chapter's cells load them)
    import mlsysim.core.measured  # noqa: F401
    from bookbuild.kernel.constants import snapshot

    here = os.getcwd()
    os.chdir(ROOT)
    try:
        return snapshot(())
    finally:
        os.chdir(here)


@pytest.fixture(scope="module")
def tracer(details) -> Tracer:
    doc = parse(CELLS, str(ROOT / "ch.qmd"))
    return provenance.tracer(doc, ROOT, details)


def constants(tracer: Tracer, expr: str) -> set[str]:
    return tracer.trace(expr).constants


def test_augmented_assignment_keeps_the_earlier_constants(tracer: Tracer) -> None:
    assert constants(tracer, "total") == {"H100_MEM_BW", "PCIE_GEN5_BW"}
    assert constants(tracer, "Bw.x") == {"NVLINK_H100_BW", "H100_MEM_BW", "PCIE_GEN5_BW"}


def test_measured_constants_are_causes_like_datasheet_ones(tracer: Tracer) -> None:
    assert constants(tracer, "Bw.text") == {"H100_MEASURED_HBM_BW", "H100_MEM_BW"}


def test_unpacking_follows_each_element(tracer: Tracer) -> None:
    assert constants(tracer, "Bw.hbm") == {"H100_MEM_BW"}
    assert constants(tracer, "Bw.pcie") == {"PCIE_GEN5_BW"}
    assert constants(tracer, "Bw.first") == {"H100_MEM_BW", "A100_MEM_BW"}  # not split: kept whole
    assert constants(tracer, "Bw.both") == {"H100_MEM_BW", "PCIE_GEN5_BW"}


def test_nested_classes_and_attributes_set_later_are_followed(tracer: Tracer) -> None:
    assert constants(tracer, "Bw.Inner.y") == {"A100_MEM_BW"}
    assert constants(tracer, "Bw.later") == {"A100_FLOPS_FP16_TENSOR"}
    assert constants(tracer, "ratio") == {"H100_MEASURED_HBM_BW", "H100_MEM_BW"}


def test_expressions_combine_their_names(tracer: Tracer) -> None:
    assert constants(tracer, "Bw.hbm / Bw.Inner.y + len([k for k in Bw.both])") == {
        "H100_MEM_BW", "A100_MEM_BW", "PCIE_GEN5_BW"}
    assert constants(tracer, "H100_MEM_BW.m_as('TB/s')") == {"H100_MEM_BW"}


def test_what_cannot_be_followed_is_untraced_never_guessed(tracer: Tracer) -> None:
    t = tracer.trace("looped + free + nowhere")
    assert t.untraced == {"i", "undefined_here", "nowhere"}
    assert (1, "undefined_here", "(not defined in this chapter: not traced)") in t.steps
    assert (0, "looped", "i") in t.steps
    assert (1, "i", "(bound by a loop or block: not traced)") in t.steps
    assert t.constants == set()
    assert tracer.trace("Bw.x +").untraced == {"Bw.x +"}


def test_code_units_and_the_class_itself_are_not_data(tracer: Tracer) -> None:
    t = tracer.trace("fmt(math.pi, 'TB/s') + str(Bw) + TB")
    assert (t.constants, t.untraced) == (set(), set())


def test_steps_show_the_chain_down_to_each_constant_once(tracer: Tracer) -> None:
    assert tracer.trace("Bw.x").steps == [
        (0, "Bw.x", "NVLINK_H100_BW + total"),
        (1, "NVLINK_H100_BW", "constant"),
        (1, "total", "H100_MEM_BW + PCIE_GEN5_BW"),
        (2, "H100_MEM_BW", "constant"),
        (2, "PCIE_GEN5_BW", "constant"),
    ]
    steps = tracer.trace("Bw.hbm + Bw.hbm + H100_MEM_BW").steps
    assert steps == [(0, "H100_MEM_BW", "constant"), (0, "Bw.hbm", "H100_MEM_BW")]


def test_a_name_rebound_later_is_traced_as_last_assigned(details) -> None:
    doc = parse("```{python}\nfrom mlsysim.core.constants import *\nv = H100_MEM_BW\n"
                "v = A100_MEM_BW\nclass K:\n    v = PCIE_GEN5_BW\n    w = v\n```\n", str(ROOT / "c.qmd"))
    t = provenance.tracer(doc, ROOT, details)
    assert t.trace("v").constants == {"A100_MEM_BW"}
    assert t.trace("K.w").constants == {"PCIE_GEN5_BW"}  # the class body sees its own v


def test_only_known_constants_count_and_a_broken_cell_is_skipped(details) -> None:
    doc = parse("```{python}\nx = (\n```\n\n```{python}\nfrom mlsysim.core.constants import "
                "H100_MEM_BW, TB, A100_MEM_BW as A\nfrom os import path\ny = H100_MEM_BW * TB + A + "
                "path.sep\n```\n", str(ROOT / "c.qmd"))
    t = provenance.tracer(doc, ROOT, {"H100_MEM_BW": details["H100_MEM_BW"]})
    result = t.trace("y")
    assert (result.constants, result.untraced) == ({"H100_MEM_BW"}, set())
    assert t.trace("x").untraced == {"x"}


# --- provenance: causes, tooltips, `numbers why` --------------------------------------------
def chapter(details: dict) -> Chapter:
    text = CELLS + "\nAchieved `{python} Bw.text` % and `{python} Bw.x`.\n"
    doc = parse(text, str(ROOT / "ch.qmd"))
    return Chapter(ROOT / "ch.qmd", doc, ExecutionResult([], ["90", "x"], [], details))


def test_causes_name_each_entrys_constants(details) -> None:
    ch = chapter(details)
    tracers = provenance.tracers_for([ch], ROOT, details)
    entries = [Entry("ch.qmd", 40, "Bw.text", "90", 1), Entry("ch.qmd", 40, "Bw.x", "x", 1),
               Entry("ch.qmd", 41, "Bw.text", "90", 2)]
    causes = provenance.causes_of(entries, tracers)
    assert causes == {("ch.qmd", "Bw.text", 1): {"H100_MEASURED_HBM_BW", "H100_MEM_BW"},
                      ("ch.qmd", "Bw.x", 1): {"NVLINK_H100_BW", "H100_MEM_BW", "PCIE_GEN5_BW"},
                      ("ch.qmd", "Bw.text", 2): {"H100_MEASURED_HBM_BW", "H100_MEM_BW"}}


def test_tooltips_list_measured_constants_with_their_source(details) -> None:
    ch = chapter(details)
    notes = provenance.annotations(ch, provenance.tracer(ch.doc, ROOT, details), details)
    assert [n["index"] for n in notes] == [0, 1]
    assert notes[0]["constants"] == "H100_MEASURED_HBM_BW H100_MEM_BW"
    measured = details["H100_MEASURED_HBM_BW"]
    assert notes[0]["title"].startswith(
        f"Bw.text ← H100_MEASURED_HBM_BW = {measured['value']} ({measured['source']}, 2026); "
        "H100_MEM_BW = ")


def test_numbers_why_shows_the_chain_values_and_sources(details) -> None:
    ch = chapter(details)
    lines = provenance.why([ch], ROOT, details, {("ch.qmd", "Bw.text"): "90"}, "Bw.text")
    measured = details["H100_MEASURED_HBM_BW"]
    assert lines[0] == "ch.qmd: Bw.text = 90"
    assert lines[1] == "  Bw.text = fmt(achieved * 100, precision=0)"
    assert lines[2] == "    Bw.achieved = HBM_MEASURED / H100_MEM_BW"
    assert lines[3] == (f"      ← H100_MEASURED_HBM_BW = {measured['value']} "
                        f"({measured['source']}, 2026)")
    assert lines[4].startswith("      ← H100_MEM_BW = ")
    assert lines[-1] == "  constants: H100_MEASURED_HBM_BW, H100_MEM_BW"


def test_numbers_why_names_what_it_could_not_trace(details) -> None:
    ch = chapter(details)
    lines = provenance.why([ch], ROOT, details, {}, "free")
    assert lines[0] == "ch.qmd: free"
    assert "  untraced: undefined_here" in lines
    assert provenance.why([ch], ROOT, details, {}, "not_in_chapter") == []


def test_describe_falls_back_to_what_is_known() -> None:
    assert provenance.describe("K", {"K": {"value": "1 s", "source": "S", "year": 2020}}) == \
        "K = 1 s (S, 2020)"
    assert provenance.describe("K", {"K": {"value": "1 s", "defined": "c.py:3"}}) == "K = 1 s (defined at c.py:3)"
    assert provenance.describe("K", {}) == "K = ?"


def test_constants_of_merges_every_executed_chapter(details) -> None:
    a = chapter({"A": {"value": "1"}})
    b = chapter({"B": {"value": "2"}})
    none = Chapter(Path("x.qmd"), a.doc, None)
    assert provenance.constants_of([a, none, b]) == {"A": {"value": "1"}, "B": {"value": "2"}}


def test_functions_and_dotted_imports_are_code_not_data(tracer: Tracer) -> None:
    t = tracer.trace("Bw.helped + len(os.path.sep)")
    assert (t.constants, t.untraced) == ({"H100_MEM_BW"}, set())


def test_an_attribute_of_an_earlier_class_attribute_is_followed(tracer: Tracer) -> None:
    assert constants(tracer, "Bw.ratio2") == {"H100_MEASURED_HBM_BW", "H100_MEM_BW"}


def test_an_attribute_of_an_unknown_name_is_untraced_as_written(tracer: Tracer) -> None:
    assert tracer.trace("nowhere.attr").untraced == {"nowhere.attr"}


def test_augmenting_a_loop_variable_keeps_what_is_added(details) -> None:
    doc = parse("```{python}\nfrom mlsysim.core.constants import *\nfor j in range(2):\n    pass\n"
                "j += H100_MEM_BW\n```\n", str(ROOT / "c.qmd"))
    t = provenance.tracer(doc, ROOT, details)
    assert t.trace("j").constants == {"H100_MEM_BW"}
