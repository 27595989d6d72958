"""Property tests: chapters made of random mixes of Markdown constructs never make `check` or
`render --to md` fail with a traceback; whatever is wrong comes back as located lines."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookbuild.analysis.refs import check_document
from bookbuild.source.qmd import parse
from bookbuild.system.errors import BookbuildError
from tests.faults.conftest import bb

PIECES = [
    "# Heading {#sec-a}\n", "Plain prose with `code` and *emphasis*.\n", "`{python} V.x`",
    "`{python} V.missing`", "`{python} 1 +`", "`{python}", "\\`{python} V.x\\`", "``{python} V.x``",
    "<!-- `{python} V.x` -->\n", "    `{python} V.x` indented\n", "```\n`{python} V.x`\n```\n",
    "```{python}\nclass V:\n    x = 2\n```\n", "```{python}\n#| echo: false\ny = (\n```\n",
    "```{python}\n#| label: [unclosed\nz = 1\n```\n", "::: {.callout-note}\nNote.\n:::\n",
    "| a | b |\n|---|---|\n| `{python} V.x` | 2 |\n", "$x = `{python} V.x`$", "\n\n", "---\n",
    "![alt](img.png){#fig-x}\n", "@sec-a and @fig-missing\n", "é ünïcode ∑ 😀\n", "```",
    "---\ntitle: [bad\n---\n", "{{< include _missing.qmd >}}\n", "\t\t`{python} V.x`\n",
]
chapters = st.lists(st.sampled_from(PIECES), min_size=1, max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=chapters)
def test_check_never_raises(text: str) -> None:
    try:
        result = check_document(parse(text, "chapter.qmd"))
    except BookbuildError:
        return  # a located error is a fine answer
    for d in result.diagnostics:
        assert d.path == "chapter.qmd" and d.line >= 1


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=chapters)
def test_render_md_never_shows_a_traceback(book: Path, text: str) -> None:
    (book / "part" / "speed.qmd").write_text(text, encoding="utf-8")
    r = bb("render", "--to", "md", cwd=book, timeout=120)
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode in (0, 1, 2)
    if r.returncode:
        assert r.stderr.strip(), "a failure must say why"
