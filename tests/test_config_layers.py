"""Quarto's configuration machinery as a user meets it: profiles (`--profile`, QUARTO_PROFILE,
`profile.default`, `profile.group`), `metadata-files`, folders' `_metadata.yml`, `{{< var >}}`
from `_variables.yml`, and `when-profile` blocks (quarto.org/docs/projects/profiles.html,
quarto-projects.html; variables in authoring/variables.html)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import bookbuild_exe

CONFIG = """\
project:
  type: book
book:
  title: Field Notes
  chapters:
    - index.qmd
metadata-files:
  - common.yml
profile:
  default: pocket
  group:
    - [pocket, atlas]
"""
ATLAS = """\
book:
  title: Field Notes, Atlas Edition
  chapters:
    - maps/regions.qmd
"""
INDEX = """\
---
title: Welcome from {{< var press.name >}}
---

Printed by {{< var press.name >}} in {{< var press.city >}}.

::: {.content-visible when-profile="atlas"}
The atlas edition carries fold-out maps.
:::

::: {.content-hidden when-profile="atlas"}
The pocket edition fits in a coat.
:::

Unknown: {{< var press.phone >}}.
"""
REGIONS = """\
---
metadata-files: [regions-extra.yml]
shade: from-front
---

Region shade {{< meta shade >}}; colour {{< meta colour >}}; series {{< meta series >}}.
"""


def make_project(root: Path) -> Path:
    """A small book: a pocket edition by default, an atlas edition as a profile that adds a
    chapter in a folder with its own `_metadata.yml`."""
    root.mkdir(parents=True, exist_ok=True)
    files = {
        "_quarto.yml": CONFIG,
        "_quarto-atlas.yml": ATLAS,
        "common.yml": "series: Naturalist Library\n",
        "_variables.yml": "press:\n  name: Heron Press\n  city: Leith\n",
        "_metadata.yml": "keywords: [field, notes]\n",
        "index.qmd": INDEX,
        "maps/_metadata.yml": "colour: ochre\nshade: from-folder\ntitle: Regions\n",
        "maps/regions.qmd": REGIONS,
        "maps/regions-extra.yml": "shade: from-metadata-file\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def run(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """The real `bookbuild`, with `env` added to the environment (QUARTO_PROFILE unset)."""
    environ = {k: v for k, v in os.environ.items() if k != "QUARTO_PROFILE"}
    environ |= {"NO_COLOR": "1", **env}
    result = subprocess.run([bookbuild_exe(), *args], cwd=root, capture_output=True, text=True,
                            timeout=300, env=environ)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    return result


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    """The book rendered twice: its default profile, and `--profile atlas`."""
    root = make_project(tmp_path_factory.mktemp("layers") / "book")
    for name, args in (("pocket", []), ("atlas", ["--profile", "atlas"])):
        result = run(root, "render", "--to", "html", "--output-dir", f"out-{name}", *args)
        assert result.returncode == 0, result.stderr
    return root


def page(root: Path, edition: str, name: str) -> str:
    return (root / f"out-{edition}" / name).read_text(encoding="utf-8")


def test_default_profile_shows_its_own_content(rendered):
    html = page(rendered, "pocket", "index.html")
    assert "The pocket edition fits in a coat." in html
    assert "fold-out maps" not in html
    assert not (rendered / "out-pocket" / "maps").exists()  # the chapter only the atlas lists


def test_profile_merges_its_file_over_the_base(rendered):
    html = page(rendered, "atlas", "index.html")
    assert "The atlas edition carries fold-out maps." in html
    assert "fits in a coat" not in html
    assert "Field Notes, Atlas Edition" in html  # a scalar: the profile's wins
    # a list: the profile's chapters join the base's, as Quarto concatenates lists
    assert (rendered / "out-atlas" / "maps" / "regions.html").is_file()


def test_variables_and_an_unknown_one_as_quarto_prints_it(rendered):
    html = page(rendered, "pocket", "index.html")
    assert "Printed by Heron Press in Leith." in html
    # a folder's _metadata.yml beside it leaves the front matter's expanded shortcodes alone
    assert "Welcome from Heron Press" in html and "{{&lt;" not in html
    assert "Unknown: ?var:press.phone." in html


def test_document_metadata_layers_in_quartos_order(rendered):
    html = page(rendered, "atlas", "maps/regions.html")
    # folder's _metadata.yml < front matter < the document's metadata-files; the project's
    # metadata-files reach every page
    assert "Region shade from-metadata-file; colour ochre; series Naturalist Library." in html
    assert "<title>Regions" in html  # a title given only by the folder's _metadata.yml


def test_check_sees_a_chapter_only_a_profile_lists(tmp_path):
    root = make_project(tmp_path / "b")
    (root / "maps" / "regions.qmd").unlink()
    assert run(root, "check").returncode == 0  # the default profile does not list it
    for result in (run(root, "check", "--profile", "atlas"),
                   run(root, "check", QUARTO_PROFILE="atlas")):
        assert result.returncode == 2
        assert "_quarto-atlas.yml:4: chapter maps/regions.qmd does not exist [CFG001]" in \
            result.stderr


def test_check_warns_of_an_unknown_var_at_its_line(tmp_path):
    root = make_project(tmp_path / "b")
    result = run(root, "check")
    assert result.returncode == 0, result.stderr
    assert "index.qmd:15: warning: var 'press.phone' is not defined in _variables.yml" in \
        result.stdout


def test_a_problem_in_a_metadata_file_is_located_there(tmp_path):
    root = make_project(tmp_path / "b")
    (root / "common.yml").write_text("series: x\nbookbuild:\n  timeout: soon\n", encoding="utf-8")
    result = run(root, "check")
    assert result.returncode == 2
    assert "common.yml:3: bookbuild.timeout: expected a whole number of at least 1, got 'soon'" \
        in result.stderr
    (root / "common.yml").unlink()
    result = run(root, "check")
    assert result.returncode == 2
    assert "_quarto.yml:8: metadata file common.yml does not exist [CFG001]" in result.stderr


def test_a_missing_document_metadata_file_is_located_in_the_document(tmp_path):
    root = make_project(tmp_path / "b")
    (root / "maps" / "regions-extra.yml").unlink()
    result = run(root, "check", "--profile", "atlas")
    assert result.returncode == 1
    assert "maps/regions.qmd:2: metadata file regions-extra.yml does not exist [CFG001]" in \
        result.stdout + result.stderr


def test_profile_group_and_default_choose_as_quarto_does(tmp_path):
    from bookbuild.source import project

    root = make_project(tmp_path / "b")
    assert project.load(root, environ={}).profiles == ("pocket",)  # profile.default
    assert project.load(root, environ={"QUARTO_PROFILE": "atlas"}).profiles == ("atlas",)
    # a profile outside the group: the group's first member joins it
    assert project.load(root, profile="draft, proof", environ={}).profiles == \
        ("draft", "proof", "pocket")


def test_merge_follows_quartos_rules():
    from bookbuild.source.merge import Mark, merge

    here, there = Mark(Path("a.yml"), 1), Mark(Path("b.yml"), 7)
    base = {"format": {"html": {"toc": True, "css": ["a.css"]}}, "title": "A",
            "website": {"sidebar": {"contents": "*.qmd"}}, "bibliography": "a.bib"}
    over = {"format": {"html": {"css": ["b.css", "a.css"], "number-sections": True}},
            "title": "B", "website": {"sidebar": {"contents": ["x.qmd"]}},
            "bibliography": ["b.bib"]}
    value, mark = merge(base, here, over, there)
    assert value == {"format": {"html": {"toc": True, "css": ["a.css", "b.css"],
                                         "number-sections": True}},
                     "title": "B", "website": {"sidebar": {"contents": ["x.qmd"]}},
                     "bibliography": ["a.bib", "b.bib"]}
    assert mark.at("title").file == Path("b.yml")
    assert mark.at("format", "html", "toc").file == Path("a.yml")


def test_cells_see_the_active_profile_and_never_reuse_another_profiles_result(tmp_path):
    root = tmp_path / "b"
    root.mkdir()
    (root / "_quarto.yml").write_text("project:\n  type: book\nbook:\n  title: T\n"
                                      "  chapters: [index.qmd]\nprofile:\n  default: pocket\n",
                                      encoding="utf-8")
    (root / "index.qmd").write_text(
        "---\ntitle: T\n---\n\n```{python}\nimport os\nedition = os.environ['QUARTO_PROFILE']\n"
        "```\n\nEdition `{python} edition`.\n", encoding="utf-8")
    for args, shown in (([], "pocket"), (["--profile", "atlas"], "atlas")):
        result = run(root, "render", "--to", "md", *args)
        assert result.returncode == 0, result.stderr
        assert f"Edition {shown}." in (root / "_book" / "index.md").read_text(encoding="utf-8")


def test_every_shape_of_the_profile_and_metadata_keys(tmp_path):
    from bookbuild.source import project

    root = make_project(tmp_path / "b")
    text = (root / "_quarto.yml").read_text(encoding="utf-8")
    text = text.replace("  default: pocket\n", "  default: [atlas, proof]\n").replace(
        "  group:\n    - [pocket, atlas]\n", "  group: [pocket, atlas]\n").replace(
        "metadata-files:\n  - common.yml\n", "metadata-file: common.yml\n")
    (root / "_quarto.yml").write_text(text, encoding="utf-8")
    (root / "_quarto.yml.local").write_text("book:\n  title: My Local Copy\n", encoding="utf-8")
    proj = project.load(root, environ={})
    assert proj.profiles == ("atlas", "proof")
    (root / "_quarto.yml.local").write_text("book:\n  title: My Local Copy\nprofile:\n"
                                            "  default: [atlas]\n", encoding="utf-8")
    proj = project.load(root, environ={})
    assert proj.profiles == ("atlas",)  # the machine's own default over the project's
    assert "profile" not in proj.config
    assert proj.config["series"] == "Naturalist Library"
    assert proj.config["book"]["title"] == "My Local Copy"  # .local over the profile's title
    assert proj.where("book", "title") == (root / "_quarto.yml.local", 2)
    assert proj.locate("maps/regions.qmd") == (root / "_quarto-atlas.yml", 4)
