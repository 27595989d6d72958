"""Upstream compatibility tests skip, saying why, when ../shared/upstream is missing, except in CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PROBE = '''
from pathlib import Path
import tests.conftest as c
c.UPSTREAM = Path("/nonexistent/appendix_machine.qmd")

def test_needs_upstream():
    c.require_upstream()
'''


def run_probe(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    probe = tmp_path / "test_probe.py"
    probe.write_text(PROBE)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           "-p", "no:hypothesispytest", "--rootdir", str(tmp_path), str(probe)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_missing_upstream_skips_with_its_reason_outside_ci(tmp_path: Path) -> None:
    r = run_probe(tmp_path, None)
    assert r.returncode == 0, r.stdout
    assert "1 skipped" in r.stdout
    assert "/nonexistent/appendix_machine.qmd not present" in r.stdout


def test_missing_upstream_fails_in_ci(tmp_path: Path) -> None:
    r = run_probe(tmp_path, "true")
    assert r.returncode == 1, r.stdout
    assert "1 failed" in r.stdout
    assert "CI=true and /nonexistent/appendix_machine.qmd not present" in r.stdout
