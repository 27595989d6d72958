"""The 50-chapter synthetic book against Jupyter Book 1.x on the same content, paired rounds.

Jupyter Book is installed only into the bench's own venv (`.bench/jb-venv`, with pint), never
into `.venv`; when it cannot be installed within `INSTALL_TIMEOUT` the comparison is skipped
and says so. The port: each chapter becomes a MyST markdown notebook whose cell is the same and
whose inline values use MyST-NB's `{eval}` role (execution mode `inline`, which `{eval}` needs).

- cold HTML build (caches and output removed; aim <= 0.25x), with peak memory (summed PSS)
- no-op build (aim <= 0.35x)
- build after a prose edit in one chapter (aim <= 0.35x)
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from book_scale import CHAPTER, make_book
from common import BOOKBUILD, ROOT, Run, paired, prose_editor, scratch

VENV = ROOT / ".bench" / "jb-venv"
JB = VENV / "bin" / "jb"
INSTALL_TIMEOUT = 900  # seconds


def ensure_jupyter_book() -> bool:
    """Jupyter Book 1.x in the bench's own venv; False (with a note) when it cannot be had."""
    if JB.exists():
        return True
    try:
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=120)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "jupyter-book>=1,<2", "pint"],
                       check=True, timeout=INSTALL_TIMEOUT)
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"skipped: Jupyter Book 1.x did not install into {VENV} ({exc})")
        return False
    return JB.exists()


def port_chapter(qmd_text: str) -> str:
    """Our synthetic chapter as a MyST markdown notebook: same cell, `{eval}` inline values."""
    body = re.sub(r"^---\n.*?\n---\n", "", qmd_text, flags=re.S)
    body = re.sub(r"```\{python\}\n(#\|[^\n]*\n)*", "```{code-cell} ipython3\n", body)
    body = re.sub(r"`\{python\} ([^`]+)`", r"{eval}`\1`", body)
    body = re.sub(r" \{#(sec|tbl)-[\w-]+\}", "", body)  # labels: Quarto syntax, not MyST
    body = body.replace("@sec-ch0", "chapter 0")
    header = ("---\njupytext:\n  text_representation:\n    format_name: myst\n"
              "kernelspec:\n  name: python3\n  display_name: Python 3\n---\n")
    return header + body


def make_jb_book(root: Path, chapters: int) -> Path:
    make_book(root / "_src", chapters)
    shutil.copytree(root / "_src" / "bookconst", root / "bookconst")
    names = []
    for i in range(chapters):
        name = f"c{i:03d}"
        (root / f"{name}.md").write_text(port_chapter(CHAPTER.format(i=i, j=i + 1)))
        names.append(name)
    shutil.rmtree(root / "_src")
    (root / "intro.md").write_text("# Scale\n\nA synthetic book.\n")
    (root / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n" +
                                   "".join(f"- file: {n}\n" for n in names))
    (root / "_config.yml").write_text(
        "title: Scale\nauthor: bench\nexecute:\n  execute_notebooks: inline\n  timeout: 120\n"
        "only_build_toc_files: true\n"
        # {eval} accepts bare names unless told otherwise; ours are `Class.attr`.
        "sphinx:\n  config:\n    nb_eval_name_regex: '^[a-zA-Z_][a-zA-Z0-9_.]*$'\n")
    return root


def main(rounds: int = 5, chapters: int = 50, cold: bool = True) -> None:
    if not ensure_jupyter_book():
        return
    with scratch("bookbuild-bench-jb-") as work:
        ours = make_book(work / "ours", chapters)
        theirs = make_jb_book(work / "jb", chapters)
        build = [str(JB), "build", "-q", str(theirs)]
        render = [BOOKBUILD, "render", "--to", "html"]

        def ours_empty() -> None:
            for d in (".bookbuild", "_book"):
                shutil.rmtree(ours / d, ignore_errors=True)

        def theirs_empty() -> None:
            shutil.rmtree(theirs / "_build", ignore_errors=True)

        if cold:
            paired(f"cold {chapters}-chapter HTML vs Jupyter Book 1.x",
                   Run("cold", render, cwd=ours, setup=ours_empty),
                   Run("jb build (cold)", build, cwd=theirs, setup=theirs_empty), rounds, 0.25,
                   memory=True)
        else:  # prime both: the comparisons below start from a built book
            Run("prime", render, cwd=ours).once()
            Run("prime", build, cwd=theirs).once()
        paired(f"no-op {chapters}-chapter HTML vs Jupyter Book 1.x",
               Run("no-op", render, cwd=ours), Run("jb build (no-op)", build, cwd=theirs),
               rounds, 0.35)
        paired(f"prose edit in one of {chapters} chapters vs Jupyter Book 1.x",
               Run("edit", render, cwd=ours, setup=prose_editor(
                   ours / "ch" / "c007.qmd", "More prose closes chapter 7")),
               Run("jb build (edit)", build, cwd=theirs, setup=prose_editor(
                   theirs / "c007.md", "More prose closes chapter 7")), rounds, 0.35)


if __name__ == "__main__":
    main()


def main_incremental(rounds: int = 5) -> None:
    """No-op and prose-edit builds only (the cold comparison takes most of the time)."""
    main(rounds, cold=False)

