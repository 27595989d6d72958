"""Property test: chapters made of random mixes of Markdown constructs always parse, and only
references in prose are live (none from comments, code blocks, raw blocks or longer code spans)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bookbuild.source.qmd import parse

LIVE = "Prose `{python} Live.x` here."
DEAD = [
    "<!-- `{python} Dead.comment` -->",
    "<!--\nmulti `{python} Dead.block`\n\nstill comment\n-->",
    # After a list, an indented block continues the list item (CommonMark); a paragraph first
    # ends the list, so the indented block is code.
    "Before the code.\n\n    indented `{python} Dead.indented`",
    "```\nfenced `{python} Dead.fenced`\n```",
    "~~~~\ntilde `{python} Dead.tilde`\n~~~~",
    "```{=html}\n<i>`{python} Dead.raw`</i>\n```",
    "Double `` `{python} Dead.ticks` `` ticks.",
    "Text <!-- `{python} Dead.inline` --> more.",
]
NOISE = [
    "# Heading {#sec-x}",
    "- item\n- item two",
    "1. first\n\n    continued",
    "> quote",
    "::: {.callout-note}\nInside a callout.\n:::",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "```{python}\nclass Live:\n    x = 1\n```",
    "{{< include _missing.qmd >}}",
    "`unclosed",
    "$$\nx^2\n$$",
    "<div>\nraw html\n</div>",
    "Escaped \\`{python} not code\\`.",
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from([LIVE, *DEAD, *NOISE]), min_size=1, max_size=12))
def test_only_prose_references_are_live(blocks: list[str]) -> None:
    text = "\n\n".join(blocks) + "\n"
    doc = parse(text, "ch.qmd")
    assert all(r.expr == "Live.x" for r in doc.refs), [r.expr for r in doc.refs]
    assert len(doc.refs) == blocks.count(LIVE)
    lines = text.splitlines()
    for r in doc.refs:
        assert lines[r.line - 1][r.col - 1:].startswith("`{python} Live.x`")
    for p in doc.problems:
        assert p.line >= 1 and p.col >= 1
