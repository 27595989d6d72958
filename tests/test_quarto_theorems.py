"""Theorem kinds and proofs as Quarto documents them: numbered, titled, cited in HTML and PDF."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from bookbuild.publish.pandoc import pandoc_path
from tests.conftest import ROOT, run_cli
from tests.quarto_helpers import QUARTO, Elements, book, pdf_text, render, text

# label: (HTML classes beside `theorem`, what the reader sees as the title)
STATEMENTS = {
    "def-throughput": ({"definition"}, "Definition 1.1 (Throughput)"),
    "thm-little": (set(), "Theorem 1.1 (Little’s law)"),
    "lem-stable": ({"lemma"}, "Lemma 1.1 (Stability)"),
    "cor-empty": ({"corollary"}, "Corollary 1.1"),
    "prp-bound": ({"proposition"}, "Proposition 1.1"),
    "cnj-tail": ({"conjecture"}, "Conjecture 1.1"),
    "exm-bank": ({"example"}, "Example 1.1"),
    "exr-wait": ({"exercise"}, "Exercise 1.1"),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = book("theorems", tmp_path_factory.mktemp("theorems"))
    r = render(root, "--to", "html")
    assert r.returncode == 0, r.stderr
    return r, root / "_book"


def page(site, name: str) -> Elements:
    return Elements((site[1] / name).read_text(encoding="utf-8"))


def test_each_theorem_kind_has_quartos_classes_and_a_numbered_title(site) -> None:
    results = page(site, "results.html")
    for label, (classes, title) in STATEMENTS.items():
        div = next(e for e in results.find("div") if e["attrs"].get("id") == label)
        assert {"theorem", *classes} <= div["classes"], label
        shown = results.within(div, "span", "theorem-title")
        assert [text(s["text"]) for s in shown] == [title], label
        assert results.within(shown[0], "strong")  # bold, as Quarto's


def test_proofs_remarks_and_solutions_are_proofs_numbered_only_when_labelled(site) -> None:
    results = page(site, "results.html")
    proofs = results.find("div", "proof")
    titles = [text(results.within(p, "span", "proof-title")[0]["text"]) for p in proofs]
    assert titles == ["Proof.", "Solution 1.1.", "Remark 1.1.", "Remark."]
    assert [p["attrs"].get("id") for p in proofs] == [None, "sol-wait", "rem-units", None]
    assert {"solution", "proof"} <= proofs[1]["classes"] and {"remark", "proof"} <= proofs[3]["classes"]
    assert text(proofs[0]["text"]) == "Proof. Count the area under the occupancy curve in two ways."


def test_references_read_like_quartos_across_chapters(site) -> None:
    r, out = site
    html = (out / "uses.html").read_text(encoding="utf-8")
    assert '<a href="results.html#thm-little" class="quarto-xref xref">Theorem\xa01.1</a>' in html \
        or '<a href="results.html#thm-little" class="quarto-xref xref">Theorem&nbsp;1.1</a>' in html
    shown = text(re.sub(r"<[^>]+>", "", html))
    assert ("From the previous chapter: Theorem 1.1, Lemma 1.1, Corollary 1.1, Proposition 1.1, "
            "Conjecture 1.1, Definition 1.1, Example 1.1, Exercise 1.1, Solution 1.1 and Remark 1.1; "
            "here: Theorem 2.1.") in shown
    assert "Capitalised, Theorem 1.1 still reads the same." in shown
    # statements are not sections: the heading after them keeps its number
    assert "1.3 After the statements" in text(re.sub(r"<[^>]+>", "", (out / "results.html").read_text()))
    assert "uses.qmd:9: warning: unresolved cross-reference 'thm-missing'" in r.stderr


def test_check_knows_theorem_labels(tmp_path: Path) -> None:
    root = book("theorems", tmp_path)
    r = run_cli("check", cwd=root, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr  # references are not check's errors
    (root / "uses.qmd").write_text((root / "uses.qmd").read_text() + "\n::: {#thm-little}\nAgain.\n:::\n")
    r = run_cli("check", cwd=root, timeout=60)
    assert r.returncode == 1 and "uses.qmd:11:6: label 'thm-little' is defined twice" in r.stdout


def test_the_filter_writes_amsthm_environments_for_latex() -> None:
    r = subprocess.run([str(pandoc_path()), str(QUARTO / "theorems" / "results.qmd"), "-t", "latex",
                        "-s", "--wrap=none", "-M", "crossref-chapters=1", "--lua-filter",
                        str(ROOT / "filters" / "crossref.lua")], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    tex = r.stdout
    assert "\\usepackage{amsthm}" in tex and "\\newtheorem{lemma}{Lemma}" in tex
    assert "\\begin{lemma}[Stability]\\label{lem-stable}" in tex and "\\end{lemma}" in tex
    assert "\\begin{proof}" in tex and "\\begin{refsolution}\\label{sol-wait}" in tex
    assert "\\hyperref[thm-little]{Theorem~1.1}" in tex


def test_theorems_in_print(tmp_path: Path) -> None:
    root = book("theorems", tmp_path)
    r = render(root, "--to", "pdf", timeout=600)
    assert r.returncode == 0, r.stderr
    shown = pdf_text(root / "_book" / "book.pdf").replace("- ", "")
    for line in ("Definition 1.1 (Throughput). The throughput of a queue",
                 "Theorem 1.1 (Little’s law). In a stable queue",
                 "Proof. Count the area under the occupancy curve",
                 "Lemma 1.1 (Stability). A queue whose", "Corollary 1.1. An idle queue",
                 "Solution 1.1. Two minutes, by Theorem 1.1.", "Remark 1.1. Keep the units",
                 "Remark. An unnumbered remark", "Theorem 2.1. A second chapter",
                 "1.3 After the statements"):
        assert line in shown, line
    assert "From the previous chapter: Theorem 1.1, Lemma 1.1, Corollary 1.1" in shown
