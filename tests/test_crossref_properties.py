"""Property: for random chapters mixing every numbered construct, the Python index and
crossref.lua agree on which labels exist and on every number (hypothesis)."""

from __future__ import annotations

import html
import json
import re
import subprocess

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookbuild.analysis import crossref
from bookbuild.publish.pandoc import pandoc_path
from bookbuild.publish.pandoc_run import FILTERS
from bookbuild.source.qmd import parse

TABLE = "| a |\n|---|\n| 1 |"


def block(kind: str, n: int, extra: int) -> tuple[str, list[str]]:
    """Markdown for one construct and the labels it defines."""
    if kind == "h":
        level = 1 + extra % 3
        unnumbered = " .unnumbered" if extra % 5 == 4 else ""
        return f"{'#' * level} Heading {n} {{#sec-h{n}{unnumbered}}}", [f"sec-h{n}"]
    if kind == "fig":
        return f"![Figure {n}](x.png){{#fig-f{n}}}", [f"fig-f{n}"]
    if kind == "tbl":
        return f"{TABLE}\n\n: Table {n} {{#tbl-t{n}}}", [f"tbl-t{n}"]
    if kind == "eq":  # the label forms Quarto reads: after the math, on its own line, with attributes
        math = f"$$\nx_{{{n}}} = {extra}\n$$" if extra % 3 == 1 else f"$$ x_{{{n}}} = {extra} $$"
        label = f'{{#eq-e{n} alt="Equation {n}"}}' if extra % 3 == 2 else f"{{#eq-e{n}}}"
        return f"{math} {label}", [f"eq-e{n}"]
    if kind == "lst":
        return f'```{{#lst-l{n} .python lst-cap="Code {n}"}}\nx = {n}\n```', [f"lst-l{n}"]
    if kind == "panel":
        subs = [f"fig-p{n}s{i}" for i in range(1 + extra % 3)]
        images = "\n\n".join(f"![Sub {i}](x.png){{#{s}}}" for i, s in enumerate(subs))
        return f"::: {{#fig-p{n} layout-ncol=2}}\n{images}\n\nPanel {n}\n:::", [f"fig-p{n}", *subs]
    if kind == "tbldiv":
        return f'::: {{#tbl-d{n} tbl-cap="Div table {n}"}}\n{TABLE}\n:::', [f"tbl-d{n}"]
    if kind == "callout":
        title = f"## Title {n}\n" if extra % 2 else ""
        return f"::: {{.callout-tip #tip-c{n}}}\n{title}Body {n}.\n:::", [f"tip-c{n}"]
    if kind == "boxed":
        return (f"::: {{.callout-warning #wrn-w{n}}}\n## Box {n}\n![Boxed](x.png){{#fig-b{n}}}\n\n"
                f"### Inside {n} {{#sec-i{n}}}\n:::"), [f"wrn-w{n}", f"fig-b{n}", f"sec-i{n}"]
    if kind == "titled":
        return f'::: {{.callout-note title="Given {n}"}}\n## Real {n} {{#sec-r{n}}}\n:::', [f"sec-r{n}"]
    if kind == "note":
        title = f"## Untitled note heading {n}\n" if extra % 2 else ""
        return f"::: {{.callout-note}}\n{title}Body {n}.\n:::", []
    return f"Plain paragraph {n} with $x$ and `code @fig-nothing`.", []


KINDS = ["h", "fig", "tbl", "eq", "lst", "panel", "tbldiv", "callout", "boxed", "titled", "note", "para"]
chapters = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 9)), min_size=1, max_size=14)


def lua_references(markdown: str, chapter_numbers: list) -> dict[str, str]:
    """Reference text per label, from crossref.lua given the index's chapter numbers."""
    doc = f"---\ncrossref-chapters: {json.dumps(chapter_numbers)}\n---\n\n{markdown}"
    r = subprocess.run([str(pandoc_path()), "-f", "markdown", "-t", "html", "--wrap=none",
                        "--lua-filter", str(FILTERS / "crossref.lua")],
                       input=doc, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    found = re.findall(r'<a href="#([^"]+)" class="quarto-xref xref">([^<]*)</a>', r.stdout)
    return {label: html.unescape(text).replace("\xa0", " ") for label, text in found}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chapters)
def test_index_and_filter_agree_on_random_chapters(parts: list[tuple[str, int]]) -> None:
    body, labels = [], []
    for n, (kind, extra) in enumerate(parts):
        md, defined = block(kind, n, extra)
        body.append(md)
        labels += defined
    text = "\n\n".join(body) + "\n\nAll: " + " ".join(f"@{x}" for x in labels) + "\n"
    index = crossref.build_index([(parse(text, "random.qmd"), False)])
    assert index.duplicates == []
    assert {x for x in labels if x.startswith("eq-")} <= set(index.labels)  # every label form read
    got = lua_references(text, index.chapters[0].filter_chapters())
    want = {k: f"{crossref.KINDS[v.kind]} {v.number}" for k, v in index.labels.items()}
    assert got == want  # the same labels, and the same number for each
