"""TikZ figures: compile every ```{.tikz} block to SVG before pandoc runs, in parallel.

Files are named exactly as `filters/tikz.lua` names them (sha1 of engine, preamble and code),
so the filter finds them and compiles nothing. A LaTeX error names the figure's label, its
`.qmd` line and the relevant lines of the LaTeX log.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bookbuild.source.qmd import Document
from bookbuild.system import processes

LATEX = os.environ.get("LATEX", "latex")
DVISVGM = os.environ.get("DVISVGM", "dvisvgm")
INSTALL_HINT = ("apt-get install texlive-latex-base texlive-latex-recommended texlive-latex-extra "
                "texlive-pictures texlive-fonts-recommended texlive-luatex dvisvgm  (or: make setup)")
FIG_OPEN = re.compile(r"^:{3,}[ \t]*\{[^}]*#(fig-[\w-]+)", re.M)


class TikzError(Exception):
    """A figure failed to compile, or the TeX tools are missing."""


@dataclass(frozen=True)
class Figure:
    source: str  # the .qmd
    line: int  # line of the opening fence
    label: str | None
    code: str

    def describe(self) -> str:
        return f"figure '{self.label}'" if self.label else "a TikZ figure"


@lru_cache(maxsize=1)
def engine_id() -> str:
    """Same text the Lua filter computes: first line of each tool's --version.

    Remembered per tool binary (path, size, mtime) in the user cache, so a warm build does not
    start two processes just to ask their versions.
    """
    found = [shutil.which(t) for t in (LATEX, DVISVGM)]
    missing = [t for t, f in zip((LATEX, DVISVGM), found, strict=True) if f is None]
    if missing:
        raise TikzError(f"{' and '.join(missing)} not found: TikZ figures need TeX Live and "
                        f"dvisvgm. Install them with:\n  {INSTALL_HINT}")
    stats = [os.stat(os.path.realpath(f)) for f in found]
    identity = "|".join(f"{f}:{st.st_size}:{st.st_mtime_ns}" for f, st in zip(found, stats, strict=True))
    memo = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bookbuild" / (
        "engine-" + hashlib.sha1(identity.encode()).hexdigest() + ".txt")
    try:
        return memo.read_text(encoding="utf-8")
    except OSError:
        pass
    first = [processes.run([t, "--version"], timeout=60).stdout.split("\n")[0]
             for t in (LATEX, DVISVGM)]
    text = "; ".join(first)
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        memo.write_text(text, encoding="utf-8")
    except OSError:
        pass
    return text


def _prefix(preamble: str) -> str:
    return "\\documentclass[tikz,border=2pt]{standalone}\n" + preamble + "\n\\begin{document}\n"


def document(preamble: str, code: str) -> str:
    """The standalone LaTeX file of one figure (identical to the Lua filter's)."""
    return _prefix(preamble) + code + "\n\\end{document}\n"


def svg_name(preamble: str, code: str) -> str:
    material = engine_id() + "\n" + preamble + "\n" + code.rstrip()
    return f"tikz-{hashlib.sha1(material.encode('utf-8')).hexdigest()}.svg"


def figures(doc: Document) -> list[Figure]:
    out = []
    for fence in doc.fences:
        if ".tikz" not in fence.info.split() and "{.tikz}" not in fence.info:
            continue
        before = doc.text[:fence.start]
        opened = list(FIG_OPEN.finditer(before))
        label = None
        if opened:
            between = before[opened[-1].end():]
            if not re.search(r"^:{3,}[ \t]*$", between, re.M):
                label = opened[-1].group(1)
        out.append(Figure(doc.path, fence.line, label, fence.body.rstrip()))
    return out


def _log_excerpt(log: str, figure: Figure, code_start: int) -> tuple[str, int]:
    """The error lines of a LaTeX log, and the `.qmd` line the error points at."""
    lines = log.splitlines()
    excerpt, qmd_line = [], figure.line
    for i, line in enumerate(lines):
        if line.startswith("!"):
            excerpt = lines[i:i + 4]
            for follow in lines[i:i + 12]:
                m = re.match(r"l\.(\d+)", follow)
                if m:
                    offset = int(m.group(1)) - code_start  # 0 on the code's first line
                    if offset >= 0:
                        qmd_line = figure.line + 1 + offset
                    if follow not in excerpt:
                        excerpt.append(follow)
                    break
            break
    return "\n".join(excerpt) or "\n".join(lines[-15:]), qmd_line


def compile_one(figure: Figure, preamble: str, target: Path, timeout: float = 120) -> None:
    from bookbuild.system.errors import display_path

    with tempfile.TemporaryDirectory(prefix="bookbuild-tikz-") as tmp:
        tex = Path(tmp) / "figure.tex"
        tex.write_text(document(preamble, figure.code), encoding="utf-8")
        try:
            r = processes.run([LATEX, "-interaction=nonstopmode", "-halt-on-error",
                               f"-output-directory={tmp}", str(tex)], timeout=timeout)
        except processes.Timeout:
            raise TikzError(f"{display_path(figure.source)}:{figure.line}: {figure.describe()} did "
                            f"not compile within {timeout:g} s (an endless loop in the TikZ code? "
                            "raise bookbuild.timeout in _quarto.yml if it needs longer)") from None
        if r.returncode != 0:
            log_path = Path(tmp) / "figure.log"
            log = log_path.read_text(errors="replace") if log_path.exists() else r.stdout
            excerpt, line = _log_excerpt(log, figure, _prefix(preamble).count("\n") + 1)
            raise TikzError(f"{display_path(figure.source)}:{line}: LaTeX error in {figure.describe()} "
                            f"({LATEX} exited {r.returncode}):\n"
                            + "\n".join("    " + x for x in excerpt.splitlines()))
        tmp_svg = Path(tmp) / "figure.svg"
        try:
            r = processes.run([DVISVGM, "--no-fonts", "--exact-bbox", "--verbosity=0", "-o",
                               str(tmp_svg), str(Path(tmp) / "figure.dvi")], timeout=timeout)
        except processes.Timeout:
            raise TikzError(f"{display_path(figure.source)}:{figure.line}: dvisvgm did not finish "
                            f"within {timeout:g} s for {figure.describe()}") from None
        if r.returncode != 0 or not tmp_svg.exists():
            raise TikzError(f"{display_path(figure.source)}:{figure.line}: dvisvgm failed for {figure.describe()} "
                            f"(exit {r.returncode}): {r.stderr.strip()}")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + f".{os.getpid()}.tmp")
        shutil.copyfile(tmp_svg, partial)
        os.replace(partial, target)  # atomic: an interrupted build never leaves half an SVG


def compile_batch(figs: list[Figure], preamble: str, targets: list[Path], timeout: float = 120) -> bool:
    """All figures in one LaTeX run (standalone puts each tikzpicture on its own page), then one
    dvisvgm call: TikZ loads once instead of once per figure. False if anything failed."""
    if any(f.code.count("\\begin{tikzpicture}") != 1 for f in figs):
        return False  # a page per figure holds only when each block is one picture
    with tempfile.TemporaryDirectory(prefix="bookbuild-tikz-") as tmp:
        tex = Path(tmp) / "batch.tex"
        tex.write_text(_prefix(preamble) + "\n".join(f.code for f in figs) + "\n\\end{document}\n",
                       encoding="utf-8")
        try:  # a timeout here falls back to one run per figure, which names the culprit
            r = processes.run([LATEX, "-interaction=nonstopmode", "-halt-on-error",
                               f"-output-directory={tmp}", str(tex)], timeout=timeout, text=False)
            if r.returncode != 0:
                return False
            r = processes.run([DVISVGM, "--no-fonts", "--exact-bbox", "--verbosity=0", "--page=1-",
                               "-o", str(Path(tmp) / "page-%p.svg"), str(Path(tmp) / "batch.dvi")],
                              timeout=timeout, text=False)
        except processes.Timeout:
            return False
        pages = sorted(Path(tmp).glob("page-*.svg"), key=lambda p: int(p.stem.split("-")[1]))
        if r.returncode != 0 or len(pages) != len(figs):
            return False
        for page, target in zip(pages, targets, strict=True):
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + f".{os.getpid()}.tmp")
            shutil.copyfile(page, partial)
            os.replace(partial, target)
    return True


def valid_svg(path: Path) -> bool:
    """A cached figure is used only if it is a whole SVG document (a truncated one is rebuilt)."""
    import xml.etree.ElementTree as ET

    try:
        return ET.parse(path).getroot().tag.endswith("svg")
    except (OSError, ET.ParseError):
        return False


def compile_all(figs: list[Figure], preamble: str, cache: Path, jobs: int,
                timeout: float = 120) -> tuple[dict, list[str]]:
    """Make sure every figure has its SVG in `cache`; return {figure: svg path} and errors.

    Missing figures compile in one batch; if that fails, one by one in parallel, which also
    tells which figure is broken and where.
    """
    paths = {f: cache / svg_name(preamble, f.code) for f in figs}
    todo = [f for f, p in paths.items() if not valid_svg(p)]
    if len(todo) > 1 and compile_batch(todo, preamble, [paths[f] for f in todo], timeout):
        return paths, []
    errors: list[str] = []

    def work(f: Figure) -> None:
        try:
            compile_one(f, preamble, paths[f], timeout)
        except TikzError as exc:
            errors.append(str(exc))

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(work, todo))
    return paths, sorted(errors)
