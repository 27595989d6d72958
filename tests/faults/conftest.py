"""A small book of our own for fault injection: two chapters, one cell, plain Python (no mlsysim)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import bookbuild_exe

CONFIG = """\
project:
  type: book
book:
  title: Faults
  chapters:
    - index.qmd
    - part/speed.qmd
format:
  html: {}
"""
INDEX = "# Welcome {#sec-welcome}\n\nA book for breaking things on purpose.\n"
SPEED = """\
# Speed {#sec-speed}

```{python}
class Speed:
    meters = 100
    seconds = 9.58
    value = round(meters / seconds, 2)
```

The record is `{python} Speed.value` metres per second.
"""


def bb(*args: str, cwd: Path, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """The real `bookbuild` command, as a user runs it."""
    full = dict(os.environ, NO_COLOR="1", **(env or {}))
    full.pop("BOOKBUILD_FAULT_AT", None) if not env or "BOOKBUILD_FAULT_AT" not in env else None
    return subprocess.run([bookbuild_exe(), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=full)


def tree(root: Path) -> dict[str, bytes]:
    """Every file below `root` with its content (what 'left as it was' compares)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".bookbuild" not in p.parts}


@pytest.fixture
def book(tmp_path: Path) -> Path:
    root = tmp_path / "book"
    (root / "part").mkdir(parents=True)
    (root / "_quarto.yml").write_text(CONFIG)
    (root / "index.qmd").write_text(INDEX)
    (root / "part" / "speed.qmd").write_text(SPEED)
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return root
