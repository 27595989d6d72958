"""The command line a newcomer meets first."""

from __future__ import annotations

from pathlib import Path

import bookbuild


def test_version(cli, workdir: Path) -> None:
    r = cli("--version", cwd=workdir)
    assert r.returncode == 0
    assert r.stdout.strip() == f"bookbuild {bookbuild.__version__}"


def test_help_lists_only_built_commands(cli, workdir: Path) -> None:
    r = cli("--help", cwd=workdir)
    assert r.returncode == 0
    commands = {line.split()[0] for line in r.stdout.splitlines() if line.startswith("    ")}
    assert commands == {"check", "render", "numbers", "preview"}


def test_no_command_prints_help_and_fails(cli, workdir: Path) -> None:
    r = cli(cwd=workdir)
    assert r.returncode == 2
    assert "usage: bookbuild" in r.stdout


def test_no_project_and_no_files_is_a_clear_error(cli, workdir: Path) -> None:
    r = cli("check", cwd=workdir)
    assert r.returncode == 2
    assert "no .qmd files given and no chapters listed in _quarto.yml" in r.stderr


def test_our_book_checks_clean(cli) -> None:
    from tests.conftest import ROOT

    r = cli("check", cwd=ROOT)
    assert r.returncode == 0, r.stdout
    assert r.stdout.startswith("ok: ")
