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
    """JSON list of the local files this kernel imported, and those it read below the working
    directory or inside a local package (data files of mlsysim, say)."""
    modules = {name: os.path.realpath(m.__file__) for name, m in list(sys.modules.items())
               if isinstance(getattr(m, "__file__", None), str)}
    local = {name: f for name, f in modules.items() if _local(f)}
    roots = {os.path.realpath(os.getcwd()) + os.sep}
    for name in local:
        top = modules.get(name.split(".")[0])
        if top and top.endswith("__init__.py"):
            roots.add(os.path.dirname(top) + os.sep)
    read = {f for f in _opened if f.startswith(tuple(roots)) and _local(f)}
    return json.dumps(sorted(set(local.values()) | read))


def constants() -> str:
    """JSON of every mlsysim constant (value with unit, source, year, kind), or "null" when the
    chapter did not load mlsysim's constants; the numbers lock snapshots them from here."""
    mlsysim = sys.modules.get("mlsysim")
    if mlsysim is None or "mlsysim.core.constants" not in sys.modules:
        return "null"
    try:
        return json.dumps({s.name: {"value": f"{s.magnitude!r} {s.unit}".strip(), "source": s.source,
                                    "year": s.year, "kind": s.kind} for s in mlsysim.sources()})
    except Exception:  # an older mlsysim without sources(): the caller falls back
        return "null"
