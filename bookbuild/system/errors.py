"""The one error record and the one place that formats it: `path:line:col: message [CODE]`.

Every stage reports problems as `Diagnostic`s (a file position, a stable code, a message and an
optional hint); every failure that stops a command is a `BookbuildError` carrying them. Only
`cli.py` prints them, so the format and the exit codes live here and nowhere else.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

# Stable codes, one per problem class; tests and editors may rely on them.
CODES = {
    "REF001": "unresolved reference",
    "REF002": "reference before its definition",
    "REF003": "syntax error in inline expression",
    "REF004": "unclosed inline code",
    "REF005": "inline reference that never renders",
    "REF006": "module for a star import not found",
    "XRF001": "cross-reference label defined twice",
    "QMD001": "syntax error in code cell",
    "QMD002": "invalid YAML",
    "QMD003": "unclosed code fence",
    "QMD004": "file is not UTF-8",
    "QMD005": "include that cannot be expanded",
    "QMD006": "cell option of the wrong type",
    "PY001": "unreadable Python module",
    "CFG001": "invalid project configuration",
    "CFG002": "project script (pre-render, post-render) failed",
    "LCK001": "malformed numbers.lock",
    "LCK002": "no numbers.lock (numbers check --strict)",
    "WIF001": "whatif value that does not fit its constant",
    "OUT001": "unsafe output folder",
    "EXE001": "cell or inline expression failed",
    "PUB001": "publishing failed",
    "ERR000": "internal error",
}

# Exit codes: 1 for a build that failed on the book's content, 2 for usage or configuration.
EXIT_BUILD = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem at a position in a source file (line and column are 1-based; 0 = unknown)."""

    path: str
    line: int
    col: int
    code: str
    message: str
    hint: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown diagnostic code {self.code!r}")

    def format(self) -> str:
        where = display_path(self.path) if self.path else "bookbuild"
        if self.line:
            where += f":{self.line}" + (f":{self.col}" if self.col else "")
        text = f"{where}: {self.message} [{self.code}]"
        return text + (f"\n  help: {self.hint}" if self.hint else "")


Located = Diagnostic  # the name the design uses for the record


class BookbuildError(Exception):
    """A failure that stops a command: its text is ready to print, located where possible."""

    exit_code = EXIT_BUILD

    def __init__(self, message: str = "", diagnostics: list[Diagnostic] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.diagnostics = list(diagnostics or [])

    def __str__(self) -> str:
        lines = [d.format() for d in self.diagnostics]
        return "\n".join([*lines, self.message] if self.message else lines)


class UsageError(BookbuildError):
    """The command line or the project configuration is wrong (exit 2)."""

    exit_code = EXIT_USAGE


class BuildError(BookbuildError):
    """The book's content stopped a build (exit 1); earlier output is left as it was."""


def located(path: str | os.PathLike, line: int, code: str, message: str, col: int = 0,
            hint: str = "") -> Diagnostic:
    """A Diagnostic from any path-like (a shorthand for call sites with Paths)."""
    return Diagnostic(str(path), line, col, code, message, hint)


def brief(text: str, limit: int = 120) -> str:
    """`text` for a one-line message: cut, saying so, when it would not fit a screen line."""
    return text if len(text) <= limit else f"{text[:limit - 20]}… ({len(text):,} characters)"


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """`text` with control characters other than newline and tab shown as escapes: a cell's
    error may carry terminal sequences (colours, a window title, a cleared screen)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def display_path(path: str | os.PathLike) -> str:
    """A path relative to the working directory when it lies below it, else as absolute."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return str(p)
