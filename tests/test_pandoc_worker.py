"""The warm pandoc worker writes every page byte for byte as pandoc's command line does.

The parity test renders real books with a probe around the page conversion: each page goes
through the worker and through the command line, and any difference in the HTML or in the
warnings is reported with the page's name.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from bookbuild.publish import pandoc_run as render
from bookbuild.publish import pandocworker
from bookbuild.publish.userfilters import UserFilters

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Runs in the book's folder: every page both ways, the differences into report.json.
PROBE = textwrap.dedent("""
    import json, sys
    sys.path.pop(0)
    from bookbuild import cli
    from bookbuild.publish import publisher as publish
    from bookbuild.publish import pandoc_run as render
    from bookbuild.publish.userfilters import UserFilters
    seen = []
    original = publish.html_fragment
    def both(markdown, meta, cwd, what, user=None, citeproc=True):
        user = user or UserFilters()
        worker = render._by_worker(markdown, meta, cwd, what, user, citeproc)
        line = render._by_command_line(markdown, meta, cwd, what, user, citeproc)
        seen.append({"page": what, "worker": worker[0] is not None,
                     "same_html": worker[0] == line[0], "same_warnings": worker[1] == line[1],
                     "warnings": line[1], "worker_warnings": worker[1]})
        return original(markdown, meta, cwd, what, user, citeproc)
    publish.html_fragment = both
    code = cli.main(["render", "--to", "html"])
    json.dump({"code": code, "pages": seen}, open(sys.argv[1], "w"))
""")

BOOKS = {
    "our book": ROOT,
    "showcase": FIXTURES / "quarto" / "showcase",
    "theorems": FIXTURES / "quarto" / "theorems",
    "margins": FIXTURES / "quarto" / "margins",
    "features": FIXTURES / "quarto" / "features",
    "tide tables": FIXTURES / "stale",
    "page cache": FIXTURES / "pagecache",
}
SKIP = shutil.ignore_patterns(".venv", ".git", "_book", ".bookbuild", "test-artifacts",
                              "__pycache__", "bench", "tests", "mutation", "docs")


@pytest.mark.parametrize("name", list(BOOKS))
def test_every_page_is_what_the_command_line_writes(name: str, tmp_path: Path) -> None:
    book = tmp_path / "book"
    shutil.copytree(BOOKS[name], book, ignore=SKIP)
    report = tmp_path / "report.json"
    r = subprocess.run([sys.executable, "-c", PROBE, str(report)], cwd=book, text=True,
                       capture_output=True, timeout=600)
    assert report.is_file(), r.stderr[-3000:]
    data = json.loads(report.read_text())
    assert data["code"] == 0, r.stderr[-3000:]
    assert data["pages"], "no page went through pandoc"
    for page in data["pages"]:
        assert page["worker"], f"{page['page']}: the worker declined the page"
        assert page["same_html"], f"{page['page']}: the worker's HTML differs"
        assert page["same_warnings"], (f"{page['page']}: warnings differ: {page['warnings']} "
                                       f"vs {page['worker_warnings']}")


def convert(markdown: str, folder: Path, user: UserFilters | None = None,
            citeproc: bool = False, meta: dict | None = None) -> tuple[str | None, list[str]]:
    return render._by_worker(markdown, meta or {}, folder, "page.qmd", user or UserFilters(),
                             citeproc)


def test_warnings_are_the_command_lines(tmp_path: Path) -> None:
    (tmp_path / "refs.bib").write_text("@book{real, title={Real}, author={A. Writer}, year=2001}\n")
    md = "Cites @real and @missing; math $\\frac{a}{$ breaks.\n"
    meta = {"bibliography": render.Literal(str(tmp_path / "refs.bib"))}
    worker = convert(md, tmp_path, citeproc=True, meta=meta)
    line = render._by_command_line(md, meta, tmp_path, "page.qmd", UserFilters(), True)
    assert any("citation missing not found" in w for w in worker[1]), worker[1]
    assert any("Could not convert TeX math" in w for w in worker[1]), worker[1]
    assert worker == line


def test_a_required_module_starts_fresh_on_every_page(tmp_path: Path) -> None:
    """Each page of the command line runs in a new process; a module's state must not leak."""
    (tmp_path / "counter.lua").write_text("local M = {n = 0}\nreturn M\n")
    (tmp_path / "count.lua").write_text(textwrap.dedent("""
        package.path = pandoc.path.directory(PANDOC_SCRIPT_FILE) .. '/?.lua;' .. package.path
        local counter = require 'counter'
        function Str(s)
          if s.text == 'COUNT' then
            counter.n = counter.n + 1
            return pandoc.Str('seen-' .. counter.n)
          end
        end
    """))
    user = UserFilters(before=[tmp_path / "count.lua"])
    first = convert("COUNT\n", tmp_path, user)[0]
    second = convert("COUNT\n", tmp_path, user)[0]
    assert "seen-1" in first and "seen-1" in second


def test_a_filter_that_changes_the_shared_pandoc_module_changes_it_for_its_page_only(
        tmp_path: Path) -> None:
    """The command line gives each page a fresh Lua state: a field set on `pandoc` or `_G`, or
    a replaced `pandoc.utils.stringify`, must not reach the next page in the worker."""
    (tmp_path / "patch.lua").write_text(textwrap.dedent("""
        pandoc.bookbuild_pages = (pandoc.bookbuild_pages or 0) + 1
        rawset(_G, 'bookbuild_global', (rawget(_G, 'bookbuild_global') or 0) + 1)
        pandoc.utils.stringify = function() return 'patched' end
        function Str(s)
          if s.text == 'COUNT' then
            return pandoc.Str('pages-' .. pandoc.bookbuild_pages .. '-global-' .. bookbuild_global)
          end
        end
    """))
    (tmp_path / "plain.lua").write_text(textwrap.dedent("""
        function Str(s)
          if s.text == 'WORD' then return pandoc.Str('said-' .. pandoc.utils.stringify(s)) end
        end
    """))
    patched = UserFilters(before=[tmp_path / "patch.lua"])
    for _ in range(2):
        assert "pages-1-global-1" in convert("COUNT\n", tmp_path, patched)[0]
    # a page without the patching filter sees pandoc's own stringify again
    assert "said-WORD" in convert("WORD\n", tmp_path, UserFilters(before=[tmp_path / "plain.lua"]))[0]


def test_a_filter_that_changes_its_reader_options_changes_them_for_its_page_only(
        tmp_path: Path) -> None:
    """The worker builds a format's reader options once; each page must still get its own."""
    (tmp_path / "look.lua").write_text(textwrap.dedent("""
        function Pandoc(d)
          local r = PANDOC_READER_OPTIONS
          local seen = 'columns-' .. r.columns .. '-smart-' .. tostring(r.extensions:includes('smart'))
          r.columns = 7
          r.extensions = {}
          d.blocks:insert(pandoc.Para(pandoc.Str('seen:' .. seen)))
          return d
        end
    """))
    user = UserFilters(before=[tmp_path / "look.lua"])
    for _ in range(2):
        assert "seen:columns-80-smart-true" in convert("Text.\n", tmp_path, user)[0]


def test_a_filter_that_prints_leaves_the_page_intact(tmp_path: Path) -> None:
    (tmp_path / "chatty.lua").write_text("function Pandoc(d) print('hello from a filter') end\n")
    out, warnings = convert("# Title\n\nBody text.\n", tmp_path,
                            UserFilters(before=[tmp_path / "chatty.lua"]))
    assert out is not None and "<p>Body text.</p>" in out and "hello from" not in out
    assert "hello from a filter" in warnings


def test_a_failing_filter_gets_the_command_lines_error(tmp_path: Path) -> None:
    (tmp_path / "broken.lua").write_text("function Str(s) error('the filter broke here') end\n")
    with pytest.raises(render.PandocError) as err:
        render.html_fragment("Some words.\n", {}, tmp_path, "chapter.qmd",
                             UserFilters(before=[tmp_path / "broken.lua"]), citeproc=False)
    text = str(err.value)
    assert "pandoc failed on chapter.qmd" in text and "the filter broke here" in text
    assert "command:" in text  # the command line's report, which a reader can re-run
    # and the worker that declined the page still converts the next one
    assert "<p>Fine.</p>" in convert("Fine.\n", tmp_path)[0]


def test_a_page_that_never_ends_is_killed_at_its_time_limit(tmp_path: Path,
                                                           monkeypatch) -> None:
    (tmp_path / "spin.lua").write_text("function Pandoc(d) while true do end end\n")
    monkeypatch.setattr(render, "PANDOC_TIMEOUT", 3)
    started_workers: list[pandocworker.Worker] = []

    class Recorded(pandocworker.Worker):
        def __init__(self) -> None:
            super().__init__()
            started_workers.append(self)

    monkeypatch.setattr(pandocworker, "Worker", Recorded)
    monkeypatch.setattr(pandocworker, "POOL", pandocworker.Pool())  # no idle worker to reuse
    started = time.monotonic()
    with pytest.raises(render.PandocError, match="did not finish within 3 s"):
        convert("Words.\n", tmp_path, UserFilters(before=[tmp_path / "spin.lua"]))
    assert time.monotonic() - started < 30
    [worker] = started_workers
    assert worker.proc.poll() is not None, "the timed-out worker is still running"
    with pytest.raises(ProcessLookupError):  # and nothing of its process group either
        os.killpg(worker.proc.pid, 0)


def _worker_pids() -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if b"pandoc_worker.lua" in cmd and (proc / "stat").read_text().split()[2] != "Z":
                found.append(int(proc.name))
    return found


def test_a_render_leaves_no_worker_behind(tmp_path: Path) -> None:
    book = tmp_path / "book"
    shutil.copytree(FIXTURES / "pagecache", book)
    tag = f"bookbuild-test-{uuid.uuid4()}"
    env = dict(os.environ, BOOKBUILD_TEST_TAG=tag)
    exe = Path(sys.executable).with_name("bookbuild")
    r = subprocess.run([str(exe), "render", "--to", "html"], cwd=book, env=env, text=True,
                       capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "from the page cache" in r.stderr
    left = []
    for pid in _worker_pids():
        try:
            if tag.encode() in Path(f"/proc/{pid}/environ").read_bytes():
                left.append(pid)
        except OSError:
            continue
    assert left == [], f"pandoc workers left running after render: {left}"


def test_the_command_line_alone_when_switched_off(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(pandocworker.ENV_SWITCH, "0")
    assert convert("Words.\n", tmp_path) == (None, [])
    assert "<p>Words.</p>" in render.html_fragment("Words.\n", {}, tmp_path, "x.qmd").body


@pytest.mark.parametrize("meta, shown", [
    ({"who": "the book"}, "the chapter"),  # the chapter's own block beats the metadata file
    ({"who": render.Literal("the command")}, "the command"),  # -M beats both
    ({"who": [render.Literal("one"), render.Literal("two")]}, "onetwo"),  # -M repeated: a list
    ({"flag": render.Literal("true")}, "flag is true"),  # -M reads true as a boolean
])
def test_metadata_precedence_is_the_command_lines(tmp_path: Path, meta: dict, shown: str) -> None:
    (tmp_path / "show.lua").write_text(textwrap.dedent("""
        function Pandoc(d)
          local text = pandoc.utils.stringify(d.meta.who or '')
          if d.meta.flag == true then text = 'flag is true' end
          d.blocks:insert(pandoc.Para(pandoc.Str('shown:' .. text)))
          return d
        end
    """))
    md = "---\nwho: the chapter\n---\n\nText.\n"
    user = UserFilters(before=[tmp_path / "show.lua"])
    worker = convert(md, tmp_path, user, meta=meta)
    line = render._by_command_line(md, meta, tmp_path, "page.qmd", user, False)
    assert f"shown:{shown}" in line[0]
    assert worker == line


def test_what_a_filter_sees_is_the_command_lines(tmp_path: Path) -> None:
    """FORMAT, the reader's extensions and the writer's options, as a user filter reads them."""
    (tmp_path / "look.lua").write_text(textwrap.dedent("""
        function Pandoc(d)
          local w, r = PANDOC_WRITER_OPTIONS, PANDOC_READER_OPTIONS
          local seen = table.concat({FORMAT, tostring(w.table_of_contents), tostring(w.toc_depth),
            w.wrap_text, tostring(w.section_divs),
            tostring(r.extensions:includes('tex_math_single_backslash')),
            tostring(r.extensions:includes('smart')),
            table.concat(PANDOC_STATE.input_files, ','), tostring(PANDOC_STATE.output_file),
            table.concat(PANDOC_STATE.resource_path, ',')}, ' ')
          d.blocks:insert(pandoc.Para(pandoc.Str('seen:' .. seen)))
          return d
        end
    """))
    md = "Text.\n\n```\n\tindented with a tab\n```\n"
    user = UserFilters(before=[tmp_path / "look.lua"])
    worker = convert(md, tmp_path, user)
    line = render._by_command_line(md, {}, tmp_path, "page.qmd", user, False)
    assert "seen:html5 true 3 wrap-none true true true - nil ." in line[0], line[0]
    assert "\tindented with a tab" in line[0]  # --preserve-tabs
    assert worker == line
