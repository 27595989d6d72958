"""`project.pre-render` and `project.post-render` as Quarto runs them
(quarto.org/docs/projects/scripts.html): at the project's root, `.py` with the project's Python,
other entries as commands, with QUARTO_PROJECT_* in the environment; a failure or a script past
the timeout is one line at the configuration line that names it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.test_config_layers import run

DUMP = """\
import json, os, sys
keys = [k for k in os.environ if k.startswith(("QUARTO_", "TIDE_"))]
with open(sys.argv[1], "w") as f:
    json.dump({k: os.environ[k] for k in keys} | {"cwd": os.getcwd(), "args": sys.argv[2:]}, f)
"""


def make_book(root: Path, project: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "_quarto.yml").write_text(
        "project:\n  type: book\n" + project + "book:\n  title: Scripts\n"
        "  chapters: [index.qmd, tides.qmd]\n", encoding="utf-8")
    (root / "index.qmd").write_text("---\ntitle: Home\n---\n\nHello.\n", encoding="utf-8")
    (root / "tides.qmd").write_text("---\ntitle: Tides\n---\n\nHigh water.\n", encoding="utf-8")
    (root / "dump.py").write_text(DUMP, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    root = make_book(tmp_path_factory.mktemp("scripts") / "b", (
        "  pre-render: dump.py _pre.json\n"
        "  post-render:\n"
        "    - sh tools/after.sh\n"
        "    - dump.py _post.json --tidy\n"))
    (root / "tools").mkdir()
    (root / "tools" / "after.sh").write_text('echo "after $QUARTO_PROJECT_RENDER_ALL" > _after.txt\n',
                                             encoding="utf-8")
    result = run(root, "render", "--to", "html", "--profile", "tideway")
    assert result.returncode == 0, result.stderr
    return root


def read(root: Path, name: str) -> dict:
    import json

    return json.loads((root / name).read_text(encoding="utf-8"))


def test_pre_render_sees_the_inputs_and_the_project(rendered):
    env = read(rendered, "_pre.json")
    assert env["cwd"] == str(rendered)
    assert env["QUARTO_PROJECT_ROOT"] == str(rendered)
    assert env["QUARTO_PROJECT_OUTPUT_DIR"] == str(rendered / "_book")
    assert env["QUARTO_PROJECT_RENDER_ALL"] == "1"
    assert env["QUARTO_PROJECT_INPUT_FILES"].split("\n") == ["index.qmd", "tides.qmd"]
    assert env["QUARTO_PROFILE"] == "tideway"
    assert "QUARTO_PROJECT_OUTPUT_FILES" not in env


def test_post_render_scripts_run_in_order_with_the_outputs(rendered):
    env = read(rendered, "_post.json")
    assert env["args"] == ["--tidy"]
    assert env["QUARTO_PROJECT_OUTPUT_FILES"].split("\n") == ["_book/index.html",
                                                              "_book/tides.html"]
    assert (rendered / "_after.txt").read_text(encoding="utf-8") == "after 1\n"


def test_one_chapter_is_not_a_render_of_everything(tmp_path):
    root = make_book(tmp_path / "b", "  pre-render: dump.py _pre.json\n")
    assert run(root, "render", "tides.qmd", "--to", "md").returncode == 0
    env = read(root, "_pre.json")
    assert "QUARTO_PROJECT_RENDER_ALL" not in env
    assert env["QUARTO_PROJECT_INPUT_FILES"] == "tides.qmd"


def test_a_failing_pre_render_script_stops_before_anything_is_written(tmp_path):
    root = make_book(tmp_path / "b", "  pre-render:\n    - dump.py _pre.json\n    - fetch.py\n")
    (root / "fetch.py").write_text("import sys\nsys.exit('tide tables unreachable')\n",
                                   encoding="utf-8")
    result = run(root, "render", "--to", "html")
    assert result.returncode == 1
    assert ("_quarto.yml:5: pre-render script 'fetch.py' failed with exit code 1: tide tables "
            "unreachable [CFG002]") in result.stderr
    assert (root / "_pre.json").is_file()  # the first script ran
    assert not (root / "_book").exists()


def test_a_missing_command_is_located(tmp_path):
    root = make_book(tmp_path / "b", "  post-render: no-such-tool --all\n")
    result = run(root, "render", "--to", "md")
    assert result.returncode == 1
    assert ("_quarto.yml:3: post-render script 'no-such-tool --all': command 'no-such-tool' "
            "not found [CFG002]") in result.stderr


def test_a_script_past_the_timeout_is_stopped_with_its_children(tmp_path):
    root = make_book(tmp_path / "b", "  post-render: sh slow.sh\n")
    (root / "_quarto.yml").write_text((root / "_quarto.yml").read_text(encoding="utf-8")
                                      + "bookbuild:\n  timeout: 2\n", encoding="utf-8")
    (root / "slow.sh").write_text("sleep 60 &\necho $! > child.pid\nwait\n", encoding="utf-8")
    started = time.monotonic()
    result = run(root, "render", "--to", "md")
    assert time.monotonic() - started < 30
    assert result.returncode == 1
    assert ("_quarto.yml:3: post-render script 'sh slow.sh' did not finish within 2 s and was "
            "stopped [CFG002]") in result.stderr
    child = int((root / "child.pid").read_text(encoding="utf-8"))
    time.sleep(0.2)
    assert not _running(child)  # the script's own child died with its process group


def _running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie awaiting its reaper is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def test_environment_files_of_the_project_and_its_profile(tmp_path):
    root = make_book(tmp_path / "b", "  pre-render: dump.py _pre.json\n")
    (root / "_environment").write_text("# shared\nTIDE_UNITS=metres\nTIDE_PORT=\"Leith\"\n",
                                       encoding="utf-8")
    (root / "_environment-neap").write_text("export TIDE_UNITS=fathoms\n", encoding="utf-8")
    (root / "_environment.local").write_text("QUARTO_PROFILE=neap\n", encoding="utf-8")
    assert run(root, "render", "--to", "md", TIDE_PORT="Dover").returncode == 0
    env = read(root, "_pre.json")
    assert env["QUARTO_PROFILE"] == "neap"  # from _environment.local, no --profile given
    assert env["TIDE_UNITS"] == "fathoms"  # the profile's file over the project's
    assert env["TIDE_PORT"] == "Dover"  # never over the caller's own environment
    assert run(root, "render", "--to", "md", "--profile", "spring").returncode == 0
    assert read(root, "_pre.json")["TIDE_UNITS"] == "metres"
