"""Execution cache under `.bookbuild/cache/`: one JSON entry per chapter execution.

The key hashes what the kernel sees (code cells with their options, inline expressions) plus the
Python and pint versions; the entry lists every local file the kernel imported or read, with its
hash, and is valid only while all of them are unchanged. Prose is not part of the key.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

from bookbuild.execute import ExecutionResult
from bookbuild.qmd import Document

FORMAT = 2


@lru_cache(maxsize=1)
def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0], "cache-format": str(FORMAT)}
    for pkg in ("pint", "bookbuild", "ipykernel"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "absent"
    return out


def key(doc: Document, cwd: Path, plan: str = "") -> str:
    """`plan`: the execution options that change outputs (eval, error, figure formats/size)."""
    material = {
        "plan": plan,
        "cells": [c.source for c in doc.cells],
        "inline": [r.expr for r in doc.refs],
        "cwd": str(cwd),
        "versions": _versions(),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


CONSTANTS_FILE = ("mlsysim", "core", "constants.py")
WHOLE_TABLE = {"sources", "SOURCES"}  # reading the table itself uses every constant
UNKNOWN = "<unparsable cell>"  # then assume every constant is used


def used_names(doc: Document) -> set[str]:
    """Every name the chapter's cells mention (a superset of the constants they use)."""
    import ast

    from bookbuild.refs import python_source

    names: set[str] = set()
    for cell in doc.cells:
        try:
            tree = ast.parse(python_source(cell.source))
        except SyntaxError:
            return {UNKNOWN}
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Attribute):
                names.add(node.attr)
            elif isinstance(node, ast.alias) and node.name != "*":
                names.add(node.asname or node.name)
    return names


def file_hash(path: str, used: set[str] | None = None) -> str | None:
    """Content hash of a dependency. For mlsysim's constants table, lines defining constants the
    chapter never names are left out, so editing one constant re-executes only its users."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    if used is not None and Path(path).parts[-3:] == CONSTANTS_FILE and not (used & WHOLE_TABLE) \
            and UNKNOWN not in used:
        kept = [line for line in data.decode("utf-8", "replace").splitlines()
                if not _defines_other_constant(line, used)]
        data = "\n".join(kept).encode()
    return hashlib.sha256(data).hexdigest()


def _defines_other_constant(line: str, used: set[str]) -> bool:
    m = re.match(r"([A-Z][A-Z0-9_]*)\s*=\s*_c\(", line)
    return bool(m) and m.group(1) not in used


class Cache:
    def __init__(self, root: Path) -> None:
        self.dir = root / "cache"

    def get(self, k: str, doc: Document | None = None) -> ExecutionResult | None:
        """The stored result if it exists, reads cleanly and no dependency changed; else None."""
        used = used_names(doc) if doc is not None else None
        try:
            entry = json.loads((self.dir / f"{k}.json").read_text(encoding="utf-8"))
            deps = entry["dependencies"]
            if any(file_hash(p, used) != h for p, h in deps.items()):
                return None
            return ExecutionResult(entry["outputs"], entry["inline"], list(deps),
                                   entry.get("constants"))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a missing or unreadable entry is a miss

    def put(self, k: str, result: ExecutionResult, doc: Document | None = None) -> None:
        used = used_names(doc) if doc is not None else None
        deps = {p: file_hash(p, used) for p in result.dependencies}
        entry = {"outputs": result.outputs, "inline": result.inline, "dependencies": deps,
                 "constants": result.constants}
        self.dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.dir, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(entry, f)
        os.replace(tmp, self.dir / f"{k}.json")
