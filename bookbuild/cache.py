"""Execution cache under `.bookbuild/cache/`: one JSON entry per chapter execution.

The key hashes what the kernel sees (code cells with their options, inline expressions) plus the
Python and pint versions; the entry lists every local file the kernel imported or read, with its
hash, and is valid only while all of them are unchanged. Prose is not part of the key.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

from bookbuild.execute import ExecutionResult
from bookbuild.qmd import Document

FORMAT = 1


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0], "cache-format": str(FORMAT)}
    for pkg in ("pint", "bookbuild", "ipykernel"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "absent"
    return out


def key(doc: Document, cwd: Path) -> str:
    material = {
        "cells": [c.source for c in doc.cells],
        "inline": [r.expr for r in doc.refs],
        "cwd": str(cwd),
        "versions": _versions(),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def file_hash(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


class Cache:
    def __init__(self, root: Path) -> None:
        self.dir = root / "cache"

    def get(self, k: str) -> ExecutionResult | None:
        """The stored result if it exists, reads cleanly and no dependency changed; else None."""
        try:
            entry = json.loads((self.dir / f"{k}.json").read_text(encoding="utf-8"))
            deps = entry["dependencies"]
            if any(file_hash(p) != h for p, h in deps.items()):
                return None
            return ExecutionResult(entry["outputs"], entry["inline"], list(deps))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a missing or unreadable entry is a miss

    def put(self, k: str, result: ExecutionResult) -> None:
        deps = {p: file_hash(p) for p in result.dependencies}
        entry = {"outputs": result.outputs, "inline": result.inline, "dependencies": deps}
        self.dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.dir, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(entry, f)
        os.replace(tmp, self.dir / f"{k}.json")
