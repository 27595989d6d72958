"""Drive pandoc (the pinned binary) with our Lua filters: HTML fragments and the LaTeX/PDF book."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bookbuild.publish.pandoc import pandoc_path
from bookbuild.publish.userfilters import UserFilters, pandoc_args
from bookbuild.system import processes
from bookbuild.system.shipped import FILTERS, LUA, TEMPLATES  # noqa: F401  (one place finds them)

# Conditional content first (what is not shown is not numbered); layout leaves float divs to
# crossref; crossref before callouts: it numbers callouts (and skips their title headings)
# while they are still divs; links last, over every link the others made.
FILTER_ORDER = ["conditional.lua", "inline-refs.lua", "layout.lua", "tables.lua", "tikz.lua",
                "crossref.lua",
                "callouts.lua", "links.lua"]
# After citeproc: on a page whose citations are listed on the references page (the metadata
# names it), links them there and drops the list citeproc made; otherwise does nothing.
AFTER_CITEPROC = LUA / "citations_elsewhere.lua"
MIN_PANDOC = (3, 1)
# Quarto reads \\( \\) as inline math too; keep its reading of the same sources.
MARKDOWN = "markdown+tex_math_single_backslash"
BODY_MARK = "<!-- bookbuild:body -->"
PANDOC_TIMEOUT = 600  # the whole PDF book runs LaTeX inside one pandoc call


class PandocError(Exception):
    """pandoc failed: the message carries the command, exit code and stderr."""


@dataclass
class Fragment:
    toc: str
    body: str
    warnings: list[str]


@lru_cache(maxsize=1)
def pandoc_version() -> tuple[int, ...]:
    exe = pandoc_path()
    out = processes.run([str(exe), "--version"], timeout=60).stdout
    m = re.match(r"pandoc(?:\.exe)? (\d+)\.(\d+)", out)
    if not m:
        raise PandocError(f"cannot read the version of {exe}: {out[:200]!r}")
    version = (int(m.group(1)), int(m.group(2)))
    if version < MIN_PANDOC:
        raise PandocError(f"{exe} is pandoc {version[0]}.{version[1]}; bookbuild needs "
                          f"{MIN_PANDOC[0]}.{MIN_PANDOC[1]} or newer (pip install -U pypandoc-binary)")
    return version


def filter_args(user: UserFilters | None = None, citeproc: bool = True) -> list[str]:
    """Ours in FILTER_ORDER, with the author's `filters:` before (or after, past `quarto`);
    citeproc unless the caller knows the document neither cites nor lists references."""
    missing = [f for f in FILTER_ORDER if not (FILTERS / f).is_file()]
    if missing:
        raise PandocError(f"Lua filters missing from {FILTERS}: {', '.join(missing)}")
    user = user or UserFilters()
    args = pandoc_args(user.before)
    for f in FILTER_ORDER:
        args += ["--lua-filter", str(FILTERS / f)]
    # citeproc after crossref, so @sec-/@fig-/@tbl- are no longer citations
    citeproc_args = ["--citeproc", "--lua-filter", str(AFTER_CITEPROC)] if citeproc else []
    return args + citeproc_args + pandoc_args(user.after)


def run(args: list[str], text: str, cwd: Path, what: str) -> subprocess.CompletedProcess:
    pandoc_version()
    cmd = [str(pandoc_path()), *args]
    try:
        r = processes.run(cmd, timeout=PANDOC_TIMEOUT, input=text, cwd=cwd)
    except processes.Timeout as exc:
        raise PandocError(f"pandoc on {what}: {exc}") from None
    if r.returncode != 0:
        shown = " ".join(cmd)
        raise PandocError(f"pandoc failed on {what} (exit {r.returncode})\n  command: {shown}\n"
                          + "\n".join("  " + line for line in r.stderr.strip().splitlines()))
    return r


def _warnings(stderr: str) -> list[str]:
    return [line.strip() for line in stderr.splitlines() if line.strip()]


class Literal(str):
    """A metadata value pandoc must keep verbatim (a path, an id): never read as Markdown."""


def _is_literal(value: object) -> bool:
    return isinstance(value, Literal) or (
        isinstance(value, list) and bool(value) and all(isinstance(v, Literal) for v in value))


def literal_args(meta: dict) -> list[str]:
    """`-M key=value` for the Literal values: pandoc reads those as plain strings, whereas any
    string in a metadata file is Markdown (a folder `_draft_` would lose its underscores)."""
    args = []
    for k, v in meta.items():
        if _is_literal(v):
            args += [arg for item in (v if isinstance(v, list) else [v]) for arg in ("-M", f"{k}={item}")]
    return args


def metadata_text(meta: dict) -> str:
    """The non-literal metadata as the JSON text of a metadata file (YAML is a superset)."""
    return json.dumps({k: v for k, v in meta.items() if not _is_literal(v)})


def write_metadata(meta: dict, folder: Path) -> list[str]:
    """Pandoc arguments carrying `meta` to the filters: Literal values on the command line,
    the rest in a JSON file read as Markdown, as Quarto reads metadata."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="meta-", suffix=".yaml", dir=folder)
    with open(fd, "w", encoding="utf-8") as f:
        f.write(metadata_text(meta))
    return ["--metadata-file", name, *literal_args(meta)]


def literal_values(meta: dict) -> dict[str, list[str]]:
    """The Literal values by key, as `-M key=value` passes them (repeated for a list)."""
    return {k: [str(x) for x in (v if isinstance(v, list) else [v])]
            for k, v in meta.items() if _is_literal(v)}


# The HTML page's options, twice: as the command line takes them and as the warm worker's
# pandoc.WriterOptions (tests/test_pandoc_worker.py renders books both ways and compares).
HTML_ARGS = ["-t", "html5", "--mathml", "--toc", "--toc-depth=3", "--wrap=none", "--preserve-tabs",
             "--section-divs"]
HTML_WRITER = {"table_of_contents": True, "toc_depth": 3, "wrap_text": "none",
               "html_math_method": "mathml", "section_divs": True}


def toc_depth(meta: dict) -> int:
    """The page's `toc-depth` (the deepest heading level its contents list), Quarto's 3 unless
    the book, its HTML format or the chapter sets 1 to 6."""
    value = meta.get("toc-depth")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 6 else 3


def epub_book(markdown: str, meta: dict, cwd: Path, epub: Path, resource_path: str,
              css: Path, user: UserFilters | None = None) -> list[str]:
    """The whole book to EPUB 3 (a file per chapter, MathML, its contents in nav.xhtml);
    returns pandoc's warnings."""
    with tempfile.TemporaryDirectory(prefix="bookbuild-pandoc-") as tmp:
        args = ["-f", MARKDOWN, "-t", "epub3", "--mathml", "--toc", "--toc-depth=2",
                "--split-level=1", "--top-level-division=chapter", "--section-divs",
                "--preserve-tabs", "--css", str(css), "--resource-path", resource_path,
                *write_metadata(meta, Path(tmp)), *filter_args(user),
                "--lua-filter", str(LUA / "epub_ids.lua"), "-o", str(epub)]
        r = run(args, markdown, cwd, "the EPUB book")
    return _warnings(r.stderr)


def html_fragment(markdown: str, meta: dict, cwd: Path, what: str,
                  user: UserFilters | None = None, citeproc: bool = True) -> Fragment:
    """One chapter to an HTML body plus its table of contents."""
    user = user or UserFilters()
    output, warnings = _by_worker(markdown, meta, cwd, what, user, citeproc)
    if output is None:
        output, warnings = _by_command_line(markdown, meta, cwd, what, user, citeproc)
    toc, _, body = output.partition(BODY_MARK)
    return Fragment(toc.strip(), body.strip(), warnings)


def _by_command_line(markdown: str, meta: dict, cwd: Path, what: str, user: UserFilters,
                     citeproc: bool) -> tuple[str, list[str]]:
    """The page from pandoc's command line: the reference the worker must match."""
    with tempfile.TemporaryDirectory(prefix="bookbuild-pandoc-") as tmp:
        depth = f"--toc-depth={toc_depth(meta)}"
        html_args = [depth if a.startswith("--toc-depth=") else a for a in HTML_ARGS]
        args = ["-f", MARKDOWN, *html_args, "--template", str(TEMPLATES / "fragment.html"),
                *write_metadata(meta, Path(tmp)), *filter_args(user, citeproc)]
        r = run(args, markdown, cwd, what)
    return r.stdout, _warnings(r.stderr)


def _by_worker(markdown: str, meta: dict, cwd: Path, what: str, user: UserFilters,
               citeproc: bool) -> tuple[str | None, list[str]]:
    """The page from a warm pandoc worker, or (None, []) when the command line must do it."""
    from bookbuild.publish import pandocworker

    if not pandocworker.enabled() or any(p.suffix != ".lua" for p in user.before + user.after):
        return None, []  # a JSON filter is a program pandoc's command line runs
    pandoc_version()
    steps = [str(p) for p in user.before] + [str(FILTERS / f) for f in FILTER_ORDER]
    steps += (["citeproc", str(AFTER_CITEPROC)] if citeproc else []) + [str(p) for p in user.after]
    req = pandocworker.Request(markdown, cwd, MARKDOWN, "html5", HTML_WRITER | {"toc_depth": toc_depth(meta)},
                               TEMPLATES / "fragment.html", metadata_text(meta),
                               literal_values(meta), steps)
    try:
        output, warnings = pandocworker.POOL.convert(req, PANDOC_TIMEOUT)
    except pandocworker.WorkerTimeout as exc:
        raise PandocError(f"pandoc on {what}: {exc}") from None
    except pandocworker.WorkerFailed:
        return None, []  # the command line says what is wrong, in its own words
    return output, _warnings("\n".join(warnings))


def latex_book(markdown: str, meta: dict, cwd: Path, pdf: Path, resource_path: str,
               user: UserFilters | None = None, division: str = "chapter") -> list[str]:
    """The whole book to PDF through LaTeX (lualatex); returns pandoc's warnings. `division`
    "section": a document (an article: level-1 headings are sections, contents with `toc`)."""
    import shutil

    if shutil.which("lualatex") is None:
        from bookbuild.publish.tikz import INSTALL_HINT

        raise PandocError(f"lualatex not found: the PDF needs TeX Live. Install it with:\n  {INSTALL_HINT}")
    # Through metadata, not --include-in-header: that would replace what the filters add.
    header = (TEMPLATES / "book-header.tex").read_text(encoding="utf-8")
    # ours first, then the author's include-in-header (\n: a block)
    meta = dict(meta, **{"header-includes": [f"```{{=latex}}\n{header}\n```\n",
                                             *meta.get("header-includes", [])]})
    with tempfile.TemporaryDirectory(prefix="bookbuild-pandoc-") as tmp:
        args = [*latex_args(meta, Path(tmp), division), "--pdf-engine=lualatex",
                "--resource-path", resource_path, *filter_args(user), "-o", str(pdf)]
        r = run(args, markdown, cwd, "the PDF book")
    return _warnings(r.stderr)


def latex_args(meta: dict, tmp: Path, division: str = "chapter") -> list[str]:
    """pandoc's arguments for the book's LaTeX, its metadata written into `tmp`. `toc-depth`
    goes as the option, not as metadata: only the option is shifted for chapters, so
    `toc-depth: 2` lists chapters and sections, as in Quarto."""
    toc = ["--toc"] if division == "chapter" or meta.get("toc") is True else []
    if "toc-depth" in meta:
        toc.append(f"--toc-depth={toc_depth(meta)}")
        meta = {k: v for k, v in meta.items() if k != "toc-depth"}
    return ["-f", MARKDOWN, "-t", "latex", "--standalone", *toc, "--preserve-tabs",
            f"--top-level-division={division}", *write_metadata(meta, tmp)]
