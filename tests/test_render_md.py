"""`bookbuild render --to md` in a real kernel: values, options, located errors, output safety, cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, copy_fixture


def _project(root: Path, chapters: dict[str, str], settings: str = "") -> Path:
    """A throwaway book project with the given chapters."""
    root.mkdir(parents=True, exist_ok=True)
    names = "\n".join(f"    - {name}" for name in chapters)
    (root / "_quarto.yml").write_text(
        f"project:\n  type: book\nbook:\n  title: T\n  chapters:\n{names}\n{settings}",
        encoding="utf-8")
    for name, text in chapters.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


CHAPTER = """# Chapter

```{python}
#| label: numbers
from helpers import base
class N:
    value = base * 2
```

The value is `{python} N.value` today.
"""


@pytest.fixture
def book(tmp_path: Path) -> Path:
    root = _project(tmp_path / "book", {"ch.qmd": CHAPTER})
    (root / "helpers.py").write_text("base = 21\n", encoding="utf-8")
    return root


def test_values_follow_the_one_formatting_rule(cli, workdir: Path) -> None:
    copy_fixture("values.qmd", workdir)
    r = cli("render", "values.qmd", "--to", "md", cwd=workdir)
    assert r.returncode == 0, r.stderr
    md = (workdir / "values.md").read_text(encoding="utf-8")
    assert "{python}" not in md
    assert r"String in math: $\frac{1}{2}$. Markdown: $a^2 + b^2$." in md
    assert "Number 295, float 0.25, expression 590." in md
    assert "Quantity 3.35 TB/s and 700 W; formatted 1,234.5." in md
    assert "Kernel transport: ipc." in md  # IPC sockets, no TCP port


def test_cell_options_echo_include_output_and_figures(cli, workdir: Path) -> None:
    copy_fixture("values.qmd", workdir)
    r = cli("render", "values.qmd", "--to", "md", cwd=workdir)
    assert r.returncode == 0, r.stderr
    md = (workdir / "values.md").read_text(encoding="utf-8")
    assert "``` {.python .cell-code}\nshown = 1 + 1\nprint(\"printed\", shown)\n```" in md
    assert "printed 2" in md
    assert "never in the output" not in md.replace('print("also never in the output")', "")
    assert "class V:" in md  # Quarto's default is echo: true
    # Quarto's default for markdown is a PNG at fig-dpi, which carries no display size
    assert ('![A straight line](values_files/fig-line-1.png)'
            '{#fig-line fig-alt="A line rising from left to right"}') in md
    png = (workdir / "values_files" / "fig-line-1.png").read_bytes()
    assert png.startswith(b"\x89PNG")


def test_project_echo_false_hides_code(cli, book: Path) -> None:
    config = book / "_quarto.yml"
    assert cli("render", "--to", "md", cwd=book).returncode == 0
    assert "class N:" in (book / "_book" / "ch.md").read_text()  # Quarto's default
    config.write_text(config.read_text() + "execute:\n  echo: false\n")
    assert cli("render", "--to", "md", cwd=book).returncode == 0
    md = (book / "_book" / "ch.md").read_text()
    assert "class N:" not in md and "The value is 42 today." in md


def test_a_chapter_saved_with_a_bom_and_crlf_keeps_its_front_matter(cli, book: Path) -> None:
    text = '---\ntitle: "Windows"\necho: false\n---\n\n' + CHAPTER
    (book / "ch.qmd").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    r = cli("render", "--to", "md", cwd=book)
    assert r.returncode == 0, r.stderr
    md = (book / "_book" / "ch.md").read_text(encoding="utf-8")
    assert md.startswith('---\ntitle: "Windows"\n') and "\r" not in md  # no BOM either
    assert "class N:" not in md and "The value is 42 today." in md


@pytest.mark.parametrize(("cell", "expected"), [
    ("#| label: boom\nclass A:\n    x = 1\n    y = x / 0\n",
     "ch.qmd:7: ZeroDivisionError in cell 'boom': division by zero"),
    ("#| label: guarded\nfrom mlsysim.fmt import check\nclass A:\n    check(1 > 2, 'one must exceed two')\n",
     "ch.qmd:7: guard failed in cell 'guarded': one must exceed two"),
    ("import os\nos._exit(3)\n", "ch.qmd:4: the kernel died while running cell #1"),
    ("import time\ntime.sleep(60)\n", "ch.qmd:4: cell #1 did not finish within 3 s"),
    ("import notamodule\n", "ch.qmd:4: ModuleNotFoundError in cell #1: No module named 'notamodule'"),
])
def test_cell_failures_are_located_and_exit_1(cli, tmp_path: Path, cell: str, expected: str) -> None:
    root = _project(tmp_path / "b", {"ch.qmd": f"# T\n\n```{{python}}\n{cell}```\n"},
                    settings="bookbuild:\n  timeout: 3\n")
    r = cli("render", "--to", "md", cwd=root)
    assert r.returncode == 1
    assert expected in r.stderr, r.stderr
    assert "bookbuild/kernel" not in r.stderr  # our import recorder is no frame to look at
    assert not (root / "_book").exists()


def test_inline_expression_error_names_line_and_column(cli, book: Path) -> None:
    text = (book / "ch.qmd").read_text().replace("today.", "and `{python} N.value / 0` fails.")
    (book / "ch.qmd").write_text(text)
    r = cli("render", "--to", "md", cwd=book)
    assert r.returncode == 1
    assert "ch.qmd:10:37: inline expression 'N.value / 0' raised ZeroDivisionError: division by zero" in r.stderr


def test_failed_render_leaves_previous_output_untouched(cli, book: Path) -> None:
    assert cli("render", "--to", "md", cwd=book).returncode == 0
    out = book / "_book" / "ch.md"
    before = out.read_bytes()
    assert b"The value is 42 today." in before
    (book / "helpers.py").write_text("base = 1 / 0\n")
    r = cli("render", "--to", "md", cwd=book)
    assert r.returncode == 1
    assert "ZeroDivisionError" in r.stderr
    assert out.read_bytes() == before
    assert sorted(p.name for p in book.iterdir() if p.name.startswith("._book")) == []


def test_static_errors_stop_render_before_any_kernel(cli, book: Path) -> None:
    text = (book / "ch.qmd").read_text().replace("N.value", "N.valeu")
    (book / "ch.qmd").write_text(text)
    r = cli("render", "--to", "md", cwd=book)
    assert r.returncode == 1
    assert "unresolved reference 'N.valeu' (did you mean 'value'?)" in r.stderr
    assert "executed" not in r.stderr and not (book / ".bookbuild").exists()


def test_cache_prose_edit_starts_no_kernel_code_and_module_edits_do(cli, book: Path) -> None:
    first = cli("render", "--to", "md", cwd=book)
    assert "executed 1 cells" in first.stderr

    chapter = book / "ch.qmd"
    chapter.write_text(chapter.read_text().replace("today.", "this week."))
    prose = cli("render", "--to", "md", cwd=book)
    assert "cached, no kernel started" in prose.stderr
    assert "The value is 42 this week." in (book / "_book" / "ch.md").read_text()

    (book / "helpers.py").write_text("base = 50\n")
    module = cli("render", "--to", "md", cwd=book)
    assert "executed 1 cells" in module.stderr
    assert "The value is 100 this week." in (book / "_book" / "ch.md").read_text()

    chapter.write_text(chapter.read_text().replace("base * 2", "base * 3"))
    code = cli("render", "--to", "md", cwd=book)
    assert "executed 1 cells" in code.stderr
    assert "The value is 150 this week." in (book / "_book" / "ch.md").read_text()

    forced = cli("render", "--to", "md", "--no-cache", cwd=book)
    assert "executed 1 cells" in forced.stderr


def test_editing_a_module_under_mlsysim_re_executes(cli, tmp_path: Path) -> None:
    """A project with its own copy of mlsysim: changing a constant there moves the number."""
    chapter = ("```{python}\nfrom mlsysim.core.constants import H100_MEM_BW, TB, second\n"
               "class M:\n    bw = H100_MEM_BW.m_as(TB / second)\n```\n\nBandwidth `{python} M.bw` TB/s.\n")
    root = _project(tmp_path / "b", {"ch.qmd": chapter})
    shutil.copytree(ROOT / "mlsysim", root / "mlsysim", ignore=shutil.ignore_patterns("__pycache__"))
    assert cli("render", "--to", "md", cwd=root).returncode == 0
    assert "Bandwidth 3.35 TB/s." in (root / "_book" / "ch.md").read_text()
    assert "cached" in cli("render", "--to", "md", cwd=root).stderr

    constants = root / "mlsysim" / "core" / "constants.py"
    constants.write_text(constants.read_text().replace('_c(3.35,  "TB/s"', '_c(3.9,   "TB/s"'))
    r = cli("render", "--to", "md", cwd=root)
    assert "executed 1 cells" in r.stderr, r.stderr
    assert "Bandwidth 3.9 TB/s." in (root / "_book" / "ch.md").read_text()


def test_files_read_by_cells_are_dependencies(cli, tmp_path: Path) -> None:
    chapter = ("```{python}\nclass D:\n    text = open('data.txt').read().strip()\n```\n\n"
               "Data says `{python} D.text`.\n")
    root = _project(tmp_path / "b", {"ch.qmd": chapter})
    (root / "data.txt").write_text("first\n")
    assert cli("render", "--to", "md", cwd=root).returncode == 0
    (root / "data.txt").write_text("second\n")
    r = cli("render", "--to", "md", cwd=root)
    assert "executed" in r.stderr
    assert "Data says second." in (root / "_book" / "ch.md").read_text()


def test_several_chapters_render_with_a_progress_line_each(cli, tmp_path: Path) -> None:
    chapters = {f"c{i}.qmd": f"```{{python}}\nclass C:\n    n = {i}\n```\n\nChapter `{{python}} C.n`.\n"
                for i in range(3)}
    root = _project(tmp_path / "b", chapters)
    r = cli("render", "--to", "md", cwd=root)
    assert r.returncode == 0, r.stderr
    for i in range(3):
        assert f"c{i}.qmd: executed 1 cells" in r.stderr
        assert f"Chapter {i}." in (root / "_book" / f"c{i}.md").read_text()


def test_output_dir_option(cli, book: Path, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere"
    assert cli("render", "--to", "md", "--output-dir", str(out), cwd=book).returncode == 0
    assert "The value is 42 today." in (out / "ch.md").read_text()


def test_upstream_appendix_renders_to_markdown(cli, upstream: Path, workdir: Path) -> None:
    r = cli("render", str(upstream), "--to", "md", "--output-dir", str(workdir / "out"), cwd=workdir)
    assert r.returncode == 0, r.stderr
    md = (workdir / "out" / "appendix_machine.md").read_text(encoding="utf-8")
    assert "{python}" not in md
    assert r"DRAM access costs ~581$\times$ more energy" in md
    assert "| H100 (FP16) | 295 ops/byte |" in md
    assert r"≈ 950$\times$." in md


ORDER = """# Order

Before any cell: `{python} 6 * 7`.

```{python}
x = 1
```

First value `{python} x`.

```{python}
#| eval: false
x = 99
```

Still `{python} x`.

```{python}
x = 2
```

Second value `{python} x`.

```{python}
#| error: true
x = 3
raise ValueError("shown in the page")
```

After the error `{python} x`.
"""


def test_inline_values_are_what_the_names_hold_where_they_stand(cli, tmp_path: Path) -> None:
    # As Quarto evaluates them: a name bound again by a later cell shows its value at that
    # point of the chapter, not the last one (they all read 3 when evaluated after the cells)
    root = _project(tmp_path / "b", {"ch.qmd": ORDER})
    r = cli("render", "--to", "md", cwd=root)
    assert r.returncode == 0, r.stderr
    md = (root / "_book" / "ch.md").read_text()
    for line in ("Before any cell: 42.", "First value 1.", "Still 1.", "Second value 2.",
                 "After the error 3."):
        assert line in md, md


@pytest.mark.parametrize(("text", "expected"), [
    ("# T\n\nLoop `{python} next(i for i in iter(int, 1) if i)`.\n",
     "ch.qmd:3: the inline values here did not finish within 3 s"),
    ("# T\n\n```{python}\nx = 1\n```\n\nLoop `{python} next(i for i in iter(int, 1) if i)`.\n",
     "ch.qmd:4: cell #1 (or an inline value after it) did not finish within 3 s"),
])
def test_an_inline_value_that_never_ends_stops_at_the_time_limit(cli, tmp_path: Path, text: str,
                                                                 expected: str) -> None:
    root = _project(tmp_path / "b", {"ch.qmd": text}, settings="bookbuild:\n  timeout: 3\n")
    r = cli("render", "--to", "md", cwd=root)
    assert r.returncode == 1
    assert expected in r.stderr and "Traceback" not in r.stderr and "internal error" not in r.stderr
