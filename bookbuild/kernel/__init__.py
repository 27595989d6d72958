"""Code that runs inside the chapter's Jupyter kernel; kept tiny because every kernel imports it.

`install()` records which local files the cells read; `inline()` turns a value into the text
that replaces an inline reference; `dependencies()` reports the local files the cells used.
"""

from __future__ import annotations

import json
import os
import sys

_opened: set[str] = set()
# Python itself, installed packages and bookbuild's own code are not the book's inputs (the
# cache key carries their versions instead).
_ENGINE = os.path.dirname(os.path.dirname(os.path.realpath(__file__))) + os.sep
_EXCLUDED = tuple({os.path.realpath(p) + os.sep for p in (sys.prefix, sys.base_prefix,
                                                          sys.exec_prefix, sys.base_exec_prefix)}
                  | {_ENGINE})


def _local(path: str) -> bool:
    return not path.startswith(_EXCLUDED) and os.path.isfile(path)


def _audit(event: str, args: tuple) -> None:
    # Only reads count as inputs: a file a cell writes must not invalidate its own cache entry.
    if event == "open" and isinstance(args[0], str):
        mode, flags = args[1], args[2]
        reading = (mode is not None and not set(mode) & set("wax+")) or (
            mode is None and isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR) == 0)
        if reading:
            _opened.add(os.path.realpath(args[0]))
    elif event == "sqlite3.connect" and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.fsdecode(args[0])
        path = path[5:].split("?")[0] if path.startswith("file:") else path  # URI form
        if path and path != ":memory:":
            _opened.add(os.path.realpath(path))


def install() -> None:
    """Start recording file reads (audit hooks cannot be removed: one kernel per chapter)."""
    sys.addaudithook(_audit)


def inline(value: object) -> str:
    """The one formatting rule for inline values, the same for every output format."""
    markdown = getattr(value, "_repr_markdown_", None)
    if callable(markdown):
        text = markdown()
        if isinstance(text, tuple):  # (data, metadata) form
            text = text[0]
        return str(text)
    if isinstance(value, str):
        return value
    if hasattr(value, "magnitude") and hasattr(value, "units"):
        return format(value, "~P")  # pint Quantity: abbreviated units, pretty exponents
    return str(value)


def dependencies() -> str:
    """JSON list of the local files this kernel imported and of every file its cells read,
    wherever it lies (a CSV outside the project counts), except Python's and installed packages'
    own files and pseudo-files (/proc, /dev): a stale number is worse than a re-execution."""
    modules = {os.path.realpath(m.__file__) for m in list(sys.modules.values())
               if isinstance(getattr(m, "__file__", None), str)}
    local = {f for f in modules if _local(f)}
    read = {f for f in _opened if not f.startswith(("/proc/", "/sys/", "/dev/")) and _local(f)}
    return json.dumps(sorted(local | read))


def constants() -> str:
    """JSON of every constant of every project-local module the cells imported (value text,
    defining file:line, and source/year/kind where the module declares `__sources__`); `{}`
    when there are none. The numbers lock snapshots them from here."""
    from bookbuild.kernel.constants import snapshot

    return json.dumps(snapshot(_EXCLUDED), default=str)
