"""Cell syntax that Quarto and the Jupyter kernel accept and the static check must too: options
written `# |` (as code formatters write them), IPython's help and magics, and a star import
of one of Python's own C modules."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_cli

CONFIG = "project:\n  type: book\nbook:\n  title: Syntax\n  chapters:\n    - index.qmd\n"


def book(root: Path, chapter: str) -> Path:
    root.mkdir()
    (root / "_quarto.yml").write_text(CONFIG)
    (root / "index.qmd").write_text(chapter)
    return root


def test_options_written_with_a_space_after_the_hash_are_options(tmp_path: Path) -> None:
    root = book(tmp_path / "b", "# Options\n\n```{python}\n# | eval: false\nraise SystemExit('ran')\n"
                                "```\n\n```{python}\n#  |echo: false\nhidden = 41 + 1\n```\n\n"
                                "Shown: `{python} hidden`.\n")
    assert run_cli("check", cwd=root).returncode == 0
    r = run_cli("render", "--to", "md", cwd=root)
    assert r.returncode == 0, r.stderr  # the first cell did not run
    page = (root / "_book" / "index.md").read_text()
    assert "Shown: 42." in page and "hidden = 41" not in page  # echo: false was read
    assert "raise SystemExit" in page and "| eval" not in page  # shown, options stripped


def test_ipython_help_and_magics_are_no_syntax_errors(tmp_path: Path) -> None:
    root = book(tmp_path / "b", "# Magic\n\n```{python}\nround?\n??len\n%time total = 2 + 3\n"
                                "total = 2 + 3\n```\n\n```{python}\n%%bash\necho from a shell\n```\n\n"
                                "Total: `{python} total`.\n")
    r = run_cli("check", cwd=root)
    assert r.returncode == 0, r.stdout + r.stderr
    r = run_cli("render", "--to", "md", cwd=root)
    assert r.returncode == 0, r.stderr
    assert "Total: 5." in (root / "_book" / "index.md").read_text()


def test_a_star_import_of_a_builtin_module_binds_its_names(tmp_path: Path) -> None:
    root = book(tmp_path / "b", "# Star\n\n```{python}\nfrom math import *\nside = sqrt(16)\n```\n\n"
                                "Side `{python} side` and `{python} floor(pi)`; `{python} nope`.\n")
    r = run_cli("check", cwd=root)
    said = r.stdout + r.stderr
    assert r.returncode == 1 and "REF006" not in said, said
    assert "index.qmd:8:" in said and "'nope'" in said and "sqrt" not in said and "floor" not in said
