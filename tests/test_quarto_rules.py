"""Quarto's rules live in one data file (filters/quarto-rules.json) that bookbuild's checks and its
Lua filters both read: a rule changed there changes the check and the rendered page together."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.quarto_helpers import Elements, text

PAGE = """# Rules

::: {.callout-danger}
Keep your hands off the rollers.
:::

::: {.content-visible when-format="html:js"}
::: {#fig-dot}
A dot.

The one dot.
:::
:::

See @fig-dot.
"""
NOTE = "'.callout-danger' is not a Quarto callout type"


def render(tmp: Path, name: str, source: Path | None) -> tuple[str, Elements]:
    """Render the one-page book with bookbuild imported from `source` (None: this checkout)."""
    root = tmp / name
    root.mkdir()
    (root / "_quarto.yml").write_text("project:\n  type: book\nbook:\n  title: Rules\n"
                                      "  chapters:\n    - index.qmd\n", encoding="utf-8")
    (root / "index.qmd").write_text(PAGE, encoding="utf-8")
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    if source is not None:
        env["PYTHONPATH"] = str(source)  # ahead of the editable install of this checkout
    r = subprocess.run([sys.executable, "-m", "bookbuild", "render", "--to", "html"], cwd=root,
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stderr, Elements((root / "_book" / "index.html").read_text(encoding="utf-8"))


def changed_rules(dest: Path) -> Path:
    """A copy of bookbuild whose data file adds a callout type and renames figures."""
    for name in ("bookbuild", "filters"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    data_file = dest / "filters" / "quarto-rules.json"
    rules = json.loads(data_file.read_text(encoding="utf-8"))
    rules["callout-types"]["danger"] = {"label": "Danger", "color": "#a00000"}
    rules["kinds"]["fig"] = "Abbildung"
    data_file.write_text(json.dumps(rules), encoding="utf-8")
    return dest


@pytest.fixture(scope="module")
def renders(tmp_path_factory) -> dict[str, tuple[str, Elements]]:
    tmp = tmp_path_factory.mktemp("rules")
    return {"shipped": render(tmp, "shipped", None),
            "changed": render(tmp, "changed", changed_rules(tmp / "src"))}


def test_the_shipped_rules_leave_an_unknown_callout_a_plain_div(renders) -> None:
    stderr, page = renders["shipped"]
    assert NOTE in stderr
    assert not page.find("div", "callout")
    assert "Figure 1" in text(page.find("a", "quarto-xref")[0]["text"])


def test_the_check_and_the_page_read_the_same_format_aliases(renders) -> None:
    # `html:js` names an HTML page: the filter shows the figure, so the check must know it
    stderr, page = renders["shipped"]
    assert "unresolved cross-reference" not in stderr
    assert text(page.find("a", "quarto-xref")[0]["text"]) == "Figure 1.1"


def test_a_callout_type_added_to_the_data_file_is_known_to_the_check_and_drawn(renders) -> None:
    stderr, page = renders["changed"]
    assert NOTE not in stderr  # the static check reads the data file
    boxes = page.find("div", "callout")  # and so does callouts.lua
    assert len(boxes) == 1 and "callout-danger" in boxes[0]["classes"]
    assert text(page.within(boxes[0], "div", "callout-title-container")[0]["text"]) == "Danger"


def test_a_kind_renamed_in_the_data_file_renames_its_references(renders) -> None:
    _, page = renders["changed"]
    assert "Abbildung 1" in text(page.find("a", "quarto-xref")[0]["text"])
