"""Parsed chapters remembered under `.bookbuild/cache/parse/`, so a no-op build parses nothing.

An entry holds a chapter's Document as qmd.parse_file made it, keyed on the chapter's path,
project root, bytes and the parser's code, and lists every file the parse read (the chapter
and its includes) with its hash; it is used only while all of them are unchanged. Chapters
with parse problems are always parsed afresh, so their problems are reported every time.
Entries carry a checksum; a damaged or unreadable one is a miss.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from functools import lru_cache
from pathlib import Path

from bookbuild.source import qmd
from bookbuild.source.docmeta import watched
from bookbuild.system.cachesweep import touch
from bookbuild.system.store import file_digest, store_bytes

FORMAT = 1
PACKAGE = Path(__file__).resolve().parents[1]  # bookbuild/, above source/


@lru_cache(maxsize=1)
def _engine() -> str:
    """The parser's code (every module of the package: includes, options, shortcodes...)."""
    files = sorted(PACKAGE.rglob("*.py"))
    return hashlib.sha256(json.dumps([[str(p), file_digest(p)] for p in files]).encode()).hexdigest()


class ParseCache:
    """Parsed chapters for one build; new entries are written by `flush()`, which the build
    calls once its static check has passed (a stopped build leaves no trace)."""

    def __init__(self, cache_dir: Path, read: bool = True) -> None:
        self.folder = cache_dir / "parse"
        self.read = read
        self.pending: dict[Path, bytes] = {}

    def parse_file(self, path: Path) -> qmd.Document:
        """`qmd.parse_file(path)`, from the cache when the chapter and its includes are unchanged."""
        from bookbuild.source.project import find_root

        root = find_root(Path(path).parent)
        own = file_digest(path)
        if own is None:  # unreadable: the parser says so, located
            return qmd.parse_file(path, root)
        # a `_metadata.yml` added above the chapter changes its metadata: part of the key
        folders = watched(root, Path(path).parent)
        key = hashlib.sha256(json.dumps([FORMAT, _engine(), str(path), str(root), own,
                                         folders]).encode())
        entry = self.folder / f"{key.hexdigest()}.pickle"
        doc = _read(entry) if self.read else None
        if doc is not None:
            return doc
        doc = qmd.parse_file(path, root)
        if not doc.problems:
            sources = {s: file_digest(s) for s in doc.sources}
            if all(sources.values()):
                data = pickle.dumps({"sources": sources, "doc": doc},
                                    protocol=pickle.HIGHEST_PROTOCOL)
                self.pending[entry] = hashlib.sha256(data).hexdigest().encode() + b"\n" + data
        return doc

    def flush(self) -> None:
        for entry, data in self.pending.items():
            store_bytes(entry, data)
        self.pending.clear()


def _read(entry: Path) -> qmd.Document | None:
    try:
        raw = entry.read_bytes()
        digest, _, data = raw.partition(b"\n")
        if hashlib.sha256(data).hexdigest().encode() != digest:
            return None  # damaged: a miss
        # Written by parse_file above and checksummed: our own data, never another's file.
        value = pickle.loads(data)  # noqa: S301
        doc, sources = value["doc"], value["sources"]
        if not isinstance(doc, qmd.Document) or not isinstance(sources, dict):
            return None
        if any(file_digest(s) != h for s, h in sources.items()):
            return None  # an include changed
        touch(entry)  # used: the last to be swept (cachesweep)
        return doc
    except (OSError, ValueError, KeyError, TypeError, EOFError, AttributeError,
            pickle.UnpicklingError, ImportError):
        return None
