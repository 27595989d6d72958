"""Property: any `_quarto.yml` and front matter built from the shapes Quarto's schema allows
(quarto-cli src/resources/schema/*.yml) renders, or fails with located lines and a code, never
with an internal error or a traceback. One strategy per key, from the schema's alternatives."""

from __future__ import annotations

import contextlib
import datetime
import io
import os
import re
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookbuild import cli

WORDS = st.sampled_from(["Alpha", "Beta notes", "Gamma", "Delta and more"])
BOOL = st.booleans()
NULL = st.none()


def maybe_list(item: st.SearchStrategy) -> st.SearchStrategy:
    """Quarto's `maybeArrayOf`: one item or a list of them."""
    return st.one_of(item, st.lists(item, min_size=0, max_size=3))


FORMAT_NAMES = st.sampled_from(["html", "pdf", "md", "gfm", "latex", "docx", "revealjs"])
PATHS_CSS = st.sampled_from(["x.css", "sub/y.css"])
THEME = st.one_of(st.sampled_from(["cosmo", "flatly", "custom.scss"]),
                  st.lists(st.sampled_from(["cosmo", "custom.scss"]), max_size=2),
                  st.fixed_dictionaries({}, optional={"light": maybe_list(st.just("flatly")),
                                                      "dark": maybe_list(st.just("darkly"))}))
DATE = st.one_of(st.sampled_from(["today", "now", "last-modified", "2024-01-02", "March 1, 2020"]),
                 st.dates(datetime.date(1990, 1, 1), datetime.date(2030, 1, 1)),
                 st.fixed_dictionaries({"value": st.just("2024-05-06")},
                                       optional={"format": st.just("iso")}))
AUTHOR = maybe_list(st.one_of(WORDS, st.fixed_dictionaries(
    {"name": WORDS}, optional={"affiliation": WORDS, "orcid": st.just("0000-0002-1825-0097")})))
EXECUTE = st.one_of(NULL, st.fixed_dictionaries({}, optional={
    "echo": st.one_of(BOOL, st.just("fenced")), "eval": BOOL, "warning": BOOL, "error": BOOL,
    "output": st.one_of(BOOL, st.just("asis")), "freeze": st.one_of(BOOL, st.just("auto")),
    "cache": BOOL}))
CROSSREF = st.one_of(NULL, st.just(False), st.fixed_dictionaries({}, optional={
    "fig-prefix": WORDS, "tbl-title": WORDS, "chapters": BOOL, "fig-labels": st.just("roman"),
    "ref-hyperlink": BOOL}))
FILTER = st.one_of(st.just("keep.lua"), st.just("quarto"),
                   st.fixed_dictionaries({"path": st.just("keep.lua")}, optional={
                       "at": st.sampled_from(["pre-ast", "post-ast", "pre-quarto",
                                              "post-quarto", "pre-render", "post-render"])}))
INCLUDE = maybe_list(st.one_of(st.just("head.html"), st.fixed_dictionaries({"text": WORDS})))
FOOTER = st.one_of(WORDS, st.fixed_dictionaries({}, optional={
    "left": WORDS, "center": st.lists(st.one_of(WORDS, st.fixed_dictionaries(
        {"text": WORDS, "href": st.just("https://example.org")})), max_size=2), "right": WORDS}))

# Document options: what may sit at the top level, under `format.<name>` and in front matter.
OPTIONS = {
    "toc": BOOL, "toc-depth": st.integers(1, 4), "toc-title": WORDS,
    "number-sections": BOOL, "number-depth": st.integers(1, 3),
    "lang": st.sampled_from(["en", "de", "fr-CA"]), "css": maybe_list(PATHS_CSS),
    "theme": THEME, "bibliography": st.one_of(NULL, maybe_list(st.just("a.bib"))),
    "execute": EXECUTE, "crossref": CROSSREF, "code-copy": st.one_of(BOOL, st.just("hover")),
    "highlight-style": st.sampled_from(["github", "pygments"]), "date": DATE,
    "author": AUTHOR, "fig-format": st.sampled_from(["png", "svg", "retina"]),
    "code-fold": st.one_of(BOOL, st.just("show")), "link-citations": BOOL,
    "filters": st.one_of(NULL, st.lists(FILTER, max_size=2)),
    "keep-md": BOOL, "citation-location": st.sampled_from(["document", "margin"]),
    "subtitle": WORDS, "abstract": WORDS, "description": WORDS, "keywords": maybe_list(WORDS),
    "papersize": st.just("a4"), "documentclass": st.just("scrreprt"), "smooth-scroll": BOOL,
}
OPTION_MAP = st.fixed_dictionaries({}, optional=OPTIONS)
FORMAT_ENTRY = st.one_of(NULL, st.just("default"), st.just(True), OPTION_MAP)
# HTML in a header include is for the pages only (in the PDF's preamble LaTeX stops on it).
HTML_ONLY = st.fixed_dictionaries({}, optional={"include-in-header": INCLUDE})


def _with_html(pair: tuple[dict, dict]) -> dict:
    formats, extra = pair
    if isinstance(formats.get("html"), dict):
        formats["html"] = {**formats["html"], **extra}
    return formats


FORMAT = st.one_of(FORMAT_NAMES, st.lists(FORMAT_NAMES, min_size=1, max_size=3, unique=True),
                   st.tuples(st.dictionaries(FORMAT_NAMES, FORMAT_ENTRY, max_size=3),
                             HTML_ONLY).map(_with_html), NULL)
BOOK_EXTRA = {"author": AUTHOR, "date": DATE, "subtitle": WORDS, "favicon": st.just("icon.png"),
              "page-footer": FOOTER, "repo-url": st.just("https://github.com/o/r"),
              "repo-actions": maybe_list(st.sampled_from(["edit", "source", "issue"])),
              "site-url": st.just("https://example.org"), "search": BOOL,
              "output-file": st.just("shapes-book")}


@st.composite
def config(draw) -> dict:
    """A `_quarto.yml`: a book with our two chapters, and document options at the top level."""
    book = {"title": draw(WORDS), "chapters": ["index.qmd", "two.qmd"]}
    book.update(draw(st.fixed_dictionaries({}, optional=BOOK_EXTRA)))
    out: dict = {"project": draw(st.one_of(st.just({"type": "book"}), st.fixed_dictionaries(
        {"type": st.just("book")}, optional={"output-dir": st.one_of(NULL, st.just("_book")),
                                             "resources": st.one_of(NULL, maybe_list(
                                                 st.just("data.txt")))}))),
                 "book": book}
    out.update(draw(st.fixed_dictionaries({}, optional={
        **OPTIONS, "format": FORMAT, "title": WORDS,
        "website": st.fixed_dictionaries({}, optional={"favicon": st.just("icon.png"),
                                                       "page-footer": FOOTER,
                                                       "navbar": st.just({"left": []})})})))
    return out


FRONT = st.fixed_dictionaries({}, optional={**OPTIONS, "title": WORDS, "format": FORMAT})

FILES = {"a.bib": "@book{knuth, title={The Art}, author={Knuth, Donald}, year=1968}\n",
         "x.css": ".x { color: red }\n", "sub/y.css": ".y { color: blue }\n",
         "keep.lua": "-- a filter that changes nothing\n", "head.html": "<meta name='x' content='y'>\n",
         "icon.png": "not really a png\n", "data.txt": "data\n"}
BODY = ("Text citing @knuth and @sec-index.\n\n## Section {{#sec-{stem}}}\n\n"
        "{extra}\n")  # no cell: a kernel per example would cost seconds
# bookbuild's own located line: `file:line[:col]: message [CODE]` (or a warning, note, help line)
LOCATED = re.compile(r"^\S+:\d+(:\d+)?: .*\[[A-Z]+\d+\]$")
CODE = re.compile(r"\[[A-Z]{2,}\d{3}\]$")


def write_book(root: Path, conf: dict, fronts: list[dict]) -> None:
    root.mkdir(parents=True)
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    (root / "_quarto.yml").write_text(yaml.safe_dump(conf, sort_keys=False), encoding="utf-8")
    for name, front in zip(["index.qmd", "two.qmd"], fronts, strict=True):
        head = yaml.safe_dump(front, sort_keys=False) if front else ""
        (root / name).write_text(f"---\n{head}---\n\n" + BODY.format(stem=name[:-4], extra=name), encoding="utf-8")


def render_in_process(root: Path, to: str) -> tuple[int, str]:
    """`bookbuild render --to <to>` in this process (no interpreter start-up per example)."""
    err = io.StringIO()
    before = Path.cwd()
    os.chdir(root)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = cli.main(["render", "--to", to])
    finally:
        os.chdir(before)
    return code, err.getvalue()


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(conf=config(), fronts=st.lists(FRONT, min_size=2, max_size=2),
       to=st.sampled_from(["html", "md", "html"]))
def test_any_valid_configuration_renders_or_says_where(conf, fronts, to):
    with tempfile.TemporaryDirectory(prefix="bookbuild-shapes-") as tmp:
        root = Path(tmp) / "book"
        write_book(root, conf, fronts)
        code, err = render_in_process(root, to)
        assert "internal error" not in err, err
        assert "Traceback" not in err, err
        if code != 0:
            problems = [line for line in err.splitlines() if CODE.search(line)]
            assert code in (1, 2) and problems and all(LOCATED.match(p) for p in problems), err
        else:
            out = root / str(conf["project"].get("output-dir") or "_book")
            made = {"md": "two.md", "html": "two.html"}.get(to) or (
                f"{conf['book'].get('output-file') or 'book'}.pdf")
            assert (out / made).is_file(), err
