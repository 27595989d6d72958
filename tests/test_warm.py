"""Warm chapter kernels (bookbuild.execution.warm): forked from one template per build, yet each chapter
sees a fresh process and namespace, and pages are identical to those of plain kernels."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT, bookbuild_exe
from tests.test_render_md import _project

PLAIN = "bookbuild:\n  warm-kernels: false\n"

# Chapter one pollutes everything it can reach; chapter two looks for the pollution.
POLLUTER = """# One

```{python}
import os, sys
import helpers
helpers.base = 999
sys.modules["leaked_module"] = helpers
leaked_global = 1
class One:
    pid = os.getpid()
    parent = os.getppid()
```

One sets base to `{python} helpers.base`.
"""

OBSERVER = """# Two

```{python}
import os, sys
import helpers
class Two:
    base = helpers.base
    leaked_module = "leaked_module" in sys.modules
    leaked_global = "leaked_global" in globals()
    parent = os.getppid()
```

Two sees base `{python} Two.base`, module leaked `{python} Two.leaked_module`,
global leaked `{python} Two.leaked_global`.
"""


def _book(root: Path, settings: str = "") -> Path:
    root = _project(root, {"one.qmd": POLLUTER, "two.qmd": OBSERVER}, settings)
    (root / "helpers.py").write_text("base = 21\n", encoding="utf-8")
    return root


def test_each_chapter_gets_a_fresh_process_and_namespace(cli, tmp_path: Path) -> None:
    root = _book(tmp_path / "b")
    r = cli("render", "--to", "md", cwd=root)
    assert r.returncode == 0, r.stderr
    two = (root / "_book" / "two.md").read_text()
    assert "Two sees base 21, module leaked False,\nglobal leaked False." in two
    assert "One sets base to 999." in (root / "_book" / "one.md").read_text()


def test_the_plain_switch_and_the_warm_path_give_identical_pages(cli, tmp_path: Path) -> None:
    pages = {}
    for name, settings in (("warm", ""), ("plain", PLAIN)):
        root = tmp_path / name
        shutil.copytree(FIXTURES / "book", root)
        shutil.copytree(ROOT / "mlsysim", root / "mlsysim",
                        ignore=shutil.ignore_patterns("__pycache__"))
        values = (FIXTURES / "values.qmd").read_text().replace("fig-line", "fig-values-line")
        (root / "chapters" / "values.qmd").write_text(values)  # labels are unique in a book
        config = root / "_quarto.yml"
        text = config.read_text().replace("    - chapters/one.qmd\n",
                                          "    - chapters/one.qmd\n    - chapters/values.qmd\n")
        config.write_text(text.replace("bookbuild:\n", PLAIN) if settings else text)
        r = cli("render", "--to", "html", cwd=root)
        assert r.returncode == 0, r.stderr
        pages[name] = {p.relative_to(root / "_book"): _stable(p.read_text()) for p in
                       sorted((root / "_book").rglob("*.html"))}
    assert len(pages["warm"]) >= 3
    assert pages["warm"] == pages["plain"]
    values = pages["warm"][Path("chapters/values.html")]
    assert "values_files/fig-values-line-1.png" in values  # the plot came through the inline backend


def _stable(html: str) -> str:
    """The page with each tag's attributes sorted: callouts.lua emits them in Lua's table order,
    which varies from run to run whatever the kernels do."""
    def tag(m: re.Match) -> str:
        return m.group(1) + " ".join(sorted(re.findall(r'[\w-]+="[^"]*"', m.group(2)))) + ">"

    return re.sub(r"(<div )([^>]*)>", tag, html)


def test_chapter_kernels_fork_from_one_template_unless_switched_off(cli, tmp_path: Path) -> None:
    probe = ("\n```{python}\nimport os\nclass Parent:\n    pid = os.getppid()\n"
             "    warm = 'bookbuild.execution.warm' in open(f'/proc/{pid}/cmdline').read()\n```\n\n"
             "Parent `{python} Parent.pid` warm `{python} Parent.warm`.\n")
    for settings, warm in (("", True), (PLAIN, False)):
        root = _book(tmp_path / str(warm), settings)
        _project(root, {"one.qmd": POLLUTER + probe, "two.qmd": OBSERVER + probe}, settings)
        assert cli("render", "--to", "md", cwd=root).returncode == 0
        parents = {line for page in ("one.md", "two.md")
                   for line in (root / "_book" / page).read_text().splitlines()
                   if line.startswith("Parent ")}
        assert len(parents) == 1, parents  # one template, or the bookbuild process itself
        assert parents.pop().endswith(f"warm {warm}.")


@pytest.mark.parametrize("code, expected", [
    ("x = 1\n1 / 0", "bad.qmd:8: ZeroDivisionError in cell 'boom'"),
    ("import broken", "bad.qmd:7: ValueError in cell 'boom': broken on purpose"),
])
def test_a_failing_cell_is_located_the_same_way(cli, tmp_path: Path, code: str,
                                                expected: str) -> None:
    bad = f"# Bad\n\ntext\n\n```{{python}}\n#| label: boom\n{code}\n```\n"
    errors = []
    for name, settings in (("warm", ""), ("plain", PLAIN)):
        root = _project(tmp_path / name, {"bad.qmd": bad}, settings)
        (root / "broken.py").write_text("raise ValueError('broken on purpose')\n")
        r = cli("render", "--to", "md", cwd=root)
        assert r.returncode == 1
        assert "Traceback" not in r.stderr
        errors.append(re.sub(r"\(\d+\.\d+ s\)", "(time)", r.stderr).replace(str(root), "ROOT"))
    assert expected in errors[0], errors[0]
    assert "bookbuild" not in errors[0]  # no frame of our import recorder
    assert errors[0] == errors[1]


def test_editing_a_preloaded_module_or_a_file_it_read_re_executes(cli, tmp_path: Path) -> None:
    """The template imported `helpers` (and it read data.txt) before the chapter started: the
    chapter must still depend on both, and a chapter that never imports it on neither."""
    uses = "```{python}\nimport helpers\nclass U:\n    v = helpers.base + helpers.extra\n```\n\n" \
           "Value `{python} U.v`.\n"
    other = "```{python}\nclass O:\n    v = 5\n```\n\nOther `{python} O.v`.\n"
    root = _project(tmp_path / "b", {"uses.qmd": uses, "other.qmd": other})
    (root / "helpers.py").write_text(
        "from pathlib import Path\nbase = 1\nextra = int(Path('data.txt').read_text())\n")
    (root / "data.txt").write_text("10\n")
    assert cli("render", "--to", "md", cwd=root).returncode == 0
    assert "Value 11." in (root / "_book" / "uses.md").read_text()

    (root / "data.txt").write_text("20\n")
    r = cli("render", "--to", "md", cwd=root)
    assert "Value 21." in (root / "_book" / "uses.md").read_text(), r.stderr
    assert "other.qmd: cached" in r.stderr, r.stderr

    (root / "helpers.py").write_text((root / "helpers.py").read_text().replace("base = 1", "base = 2"))
    r = cli("render", "--to", "md", cwd=root)
    assert "Value 22." in (root / "_book" / "uses.md").read_text(), r.stderr
    assert "other.qmd: cached" in r.stderr, r.stderr


def test_no_template_or_kernel_outlives_the_build(cli, tmp_path: Path) -> None:
    root = _book(tmp_path / "b")
    assert cli("render", "--to", "md", cwd=root).returncode == 0
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if cwd == str(root) and ("bookbuild.execution.warm" in cmdline or "ipykernel" in cmdline):
            left.append(cmdline)
    assert left == []


def test_a_template_is_reused_until_stale_and_grows_with_new_imports(tmp_path: Path) -> None:
    """Preview re-runs one chapter at a time: the build's template serves it while nothing it
    imported changed, and imports a chapter's new local import itself; an edited module
    replaces it."""
    from bookbuild.execution.warm.template import close_all, template_for

    (tmp_path / "helpers.py").write_text("base = 1\n")
    (tmp_path / "other.py").write_text("x = open('other.txt').read()\n")
    (tmp_path / "other.txt").write_text("one")
    env = dict(os.environ)
    try:
        first = template_for(tmp_path, env, ["import helpers", "import other"])
        assert first.ready() == {}
        assert template_for(tmp_path, env, ["import helpers"]) is first
        (tmp_path / "helpers.py").write_text("base = 22\n")
        second = template_for(tmp_path, env, ["import helpers"])
        assert second is not first and not first.alive()
        assert second.modules == ["helpers", "other"]
        assert second.ready() == {}
        assert template_for(tmp_path, env, ["import other"]) is second
        (tmp_path / "other.txt").write_text("two")  # read by the template while importing
        fourth = template_for(tmp_path, env, ["import other"])
        assert fourth is not second
        assert fourth.ready() == {}
        (tmp_path / "third.py").write_text("y = 1\n")
        third = template_for(tmp_path, env, ["import third"])
        assert third is fourth and third.modules == ["helpers", "other", "third"]
        assert third.ready() == {}
        (tmp_path / "third.py").write_text("y = 333\n")  # imported after the first forks
        assert third.stale()
        fifth = template_for(tmp_path, env, ["import third"])
        assert fifth is not third and fifth.modules == ["helpers", "other", "third"]
    finally:
        close_all()


def test_a_template_that_dies_falls_back_to_plain_kernels(cli, tmp_path: Path) -> None:
    """A package that ends the interpreter when imported takes the template down with it: the
    chapters still run, each in a plain kernel, and the error is the plain kernel's."""
    chapters = {"ok.qmd": "```{python}\nclass K:\n    v = 7\n```\n\nSeven `{python} K.v`.\n",
                "bad.qmd": "```{python}\n#| label: fatal\nimport fatal\n```\n"}
    root = _project(tmp_path / "b", chapters)
    (root / "fatal.py").write_text("import os\nos._exit(3)\n")
    r = cli("render", "--to", "md", cwd=root)
    assert r.returncode == 1
    assert "warning: warm kernels unavailable (the warm template exited with 3)" in r.stderr
    assert "bad.qmd:2: the kernel died while running cell 'fatal'" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


FIGURE_PROBE = r"""
import io, sys
import matplotlib
from matplotlib.figure import Figure
matplotlib.rcParams["svg.hashsalt"] = "probe"  # else every process draws different ids
before = dict(matplotlib.rcParams)
if sys.argv[1] == "warm":
    from bookbuild.execution.warm.server import share_mathtext_parses, warm_figures
    share_mathtext_parses()
    warm_figures()
out = io.BytesIO()
# Several figures: later renderers reuse earlier parses; without hinting, vector and raster
# parses are asked for with the same arguments and must still not be mixed up.
for top, hinting, dpi in ((400.0, "auto", 100), (4000.0, "auto", 100), (400.0, "none", 72)):
    with matplotlib.rc_context({"text.hinting": hinting, "savefig.dpi": dpi}):
        fig = Figure(figsize=(3, 2), dpi=dpi)
        ax = fig.add_subplot()
        ax.loglog([0.5, 50.0], [2.0, top], label="probe")
        ax.set_xlabel("intensity")
        ax.set_title("$x^2$")
        ax.legend()
        fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
        fig.savefig(out, format="png", bbox_inches="tight", metadata={"Software": None})
assert dict(matplotlib.rcParams) == before, "rcParams changed"
assert "matplotlib.pyplot" not in sys.modules, "pyplot imported"
sys.stdout.buffer.write(out.getvalue())
"""


def test_warming_matplotlib_in_the_template_changes_no_figure_and_no_state(tmp_path: Path) -> None:
    # preview's template draws one figure before forking kernels (fonts and mathtext load once);
    # a kernel's figures must come out byte for byte as from a process that never warmed up
    import subprocess
    import sys

    pytest.importorskip("matplotlib")
    env = dict(os.environ, MPLBACKEND="agg", MPLCONFIGDIR=str(tmp_path / "mpl"))
    runs = {how: subprocess.run([sys.executable, "-c", FIGURE_PROBE, how], capture_output=True,
                                timeout=120, env=env, cwd=tmp_path) for how in ("warm", "cold")}
    for how, r in runs.items():
        assert r.returncode == 0, f"{how}: {r.stderr.decode()}"
    assert runs["warm"].stdout.startswith(b"<?xml") and b"intensity" in runs["warm"].stdout
    assert runs["warm"].stdout == runs["cold"].stdout


SHARED_PROBE = r"""
import io, sys
import matplotlib  # as a book's package might: matplotlib, not yet its mathtext
from bookbuild.execution.warm.server import preload, _figures
_figures["wanted"] = True
preload([])
from matplotlib import mathtext
from matplotlib.figure import Figure
before = mathtext.MathTextParser._parse_cached.cache_info()
fig = Figure(figsize=(2, 2))  # a kernel's plot with the warm-up figure's axes
ax = fig.add_subplot()
ax.loglog([0.1, 10.0], [1.0, 100.0])
fig.savefig(io.BytesIO(), format="svg", bbox_inches="tight")
after = mathtext.MathTextParser._parse_cached.cache_info()
print(after.hits > before.hits, after.misses - before.misses)
"""


def test_a_plot_reuses_the_warm_up_figures_tick_labels(tmp_path: Path) -> None:
    # Parsing a $10^{2}$ tick label takes pyparsing milliseconds; a kernel's plot with the
    # warm-up's axes must find every label parsed, even when the template's packages brought
    # in matplotlib without its mathtext module.
    pytest.importorskip("matplotlib")
    env = dict(os.environ, MPLBACKEND="agg", MPLCONFIGDIR=str(tmp_path / "mpl"))
    out = subprocess.run([sys.executable, "-c", SHARED_PROBE], capture_output=True, text=True,
                         timeout=120, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "0"], out.stdout


def test_importing_the_snapshot_module_leaves_the_kernel_function_callable() -> None:
    # The warm template imports bookbuild.kernel.constants before forking; a submodule's first
    # import binds its name on the package, which must not replace `__bookbuild__.constants()`.
    code = ("import bookbuild.kernel as k, bookbuild.kernel.constants, json; "
            "print(callable(k.constants), type(json.loads(k.constants())).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["True", "dict"], out.stderr


def _render_with_tmpdir(root: Path, scratch: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1", TMPDIR=str(scratch))
    return subprocess.run([bookbuild_exe(), "render", "--to", "md", "--no-cache"], cwd=root,
                          capture_output=True, text=True, timeout=300, env=env)


def test_a_render_leaves_no_template_kernel_or_folder_behind(tmp_path: Path) -> None:
    # The template is only signalled when the last chapter has run (pandoc need not wait for
    # it to exit); it must still be gone, with its folders, when the command returns.
    root = _book(tmp_path / "b")
    scratch = Path(tempfile.mkdtemp(prefix="bb-", dir="/tmp"))  # short: sockets fit in it
    try:
        r = _render_with_tmpdir(root, scratch)
        assert r.returncode == 0, r.stderr
        assert "One sets base to 999." in (root / "_book" / "one.md").read_text()
        left = [p.name for p in scratch.iterdir() if p.name.startswith("bookbuild-")]
        assert left == [], left
        alive = subprocess.run(["pgrep", "-f", str(scratch)], capture_output=True, text=True)
        assert alive.stdout == "", alive.stdout
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def test_a_tmpdir_too_long_for_unix_sockets_still_renders(tmp_path: Path) -> None:
    # A socket's path holds at most 107 bytes: under a deep TMPDIR the kernels' and the
    # template's sockets go to /tmp instead of failing with "File name too long".
    root = _book(tmp_path / "b")
    scratch = tmp_path / ("deep-" * 12) / "tmp"
    scratch.mkdir(parents=True)
    assert len(str(scratch)) > 100
    r = _render_with_tmpdir(root, scratch)
    assert r.returncode == 0, r.stderr
    assert "warm kernels unavailable" not in r.stderr
    assert "Two sees base 21" in (root / "_book" / "two.md").read_text()
