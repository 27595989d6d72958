"""Located problems, printed compiler style: `path:line:col: message [CODE]`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Stable codes, one per problem class; tests and editors may rely on them.
CODES = {
    "REF001": "unresolved reference",
    "REF002": "reference before its definition",
    "REF003": "syntax error in inline expression",
    "REF004": "unclosed inline code",
    "REF005": "inline reference that never renders",
    "REF006": "module for a star import not found",
    "QMD001": "syntax error in code cell",
    "QMD002": "invalid YAML",
    "QMD003": "unclosed code fence",
    "QMD004": "file is not UTF-8",
    "QMD005": "include that cannot be expanded",
}


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem at a position in a source file (line and column are 1-based)."""

    path: str
    line: int
    col: int
    code: str
    message: str

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown diagnostic code {self.code!r}")

    def format(self) -> str:
        return f"{display_path(self.path)}:{self.line}:{self.col}: {self.message} [{self.code}]"


def display_path(path: str | os.PathLike) -> str:
    """A path relative to the working directory when it lies below it, else as absolute."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return str(p)
