"""`numbers whatif`'s overrides: read `NAME=VALUE`, find where each constant is defined among
the constants the chapters' kernels reported. Units are checked in the kernel, with the
book's own registry (kernel/whatif.py): building pint's default one here took 0.5-2 s."""

from __future__ import annotations

import difflib

from bookbuild.model import Chapter
from bookbuild.system.errors import UsageError


def parse(args: list[str]) -> dict[str, str]:
    """`["BW=3.9 TB/s"]` -> `{"BW": "3.9 TB/s"}`; UsageError on anything else."""
    out: dict[str, str] = {}
    for arg in args:
        name, eq, value = arg.partition("=")
        name, value = name.strip(), value.strip()
        if not eq or not name.isidentifier() or not value:
            raise UsageError(f"bookbuild: numbers whatif takes NAME=VALUE (H100_MEM_BW=\"3.9 TB/s\"), "
                             f"not {arg!r}")
        out[name] = value
    return out


def locate(name: str, details: dict[str, dict]) -> dict:
    """The kernel's record of module-level constant `name` (module, file, line, value)."""
    found = [d for k, d in details.items() if d.get("name") == name]
    if len(found) > 1:
        raise UsageError(f"bookbuild: whatif {name}: defined in "
                         f"{', '.join(sorted(d['defined'] for d in found))}; rename one")
    if not found:
        names = sorted({d.get("name", k) for k, d in details.items()})
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise UsageError(f"bookbuild: whatif: no constant named '{name}' in the modules the "
                         f"chapters import{hint}")
    return found[0]


def users(name: str, chapters: list[Chapter]) -> list[Chapter]:
    """The chapters whose kernels reached constant `name` (only these re-execute)."""
    return [ch for ch in chapters if ch.result is not None
            and isinstance(ch.result.constants, dict) and name in ch.result.constants]


def by_module(overrides: dict[str, str], records: dict[str, dict]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for name, value in overrides.items():
        out.setdefault(records[name]["module"], {})[name] = value
    return out
