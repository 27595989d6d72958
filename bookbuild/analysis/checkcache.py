"""The static check a build runs first, remembering clean chapters under `.bookbuild/cache/check/`.

A chapter's verdict depends on its expanded text, its path, the merged configuration (which cells run),
the checker's own code, and the modules whose names `from M import *` brought in. A clean
verdict is stored with each such module's location and content hash; it is reused only while
the chapter and settings are byte for byte the same and every module is still found at the
same place with the same bytes. Chapters with problems are always checked afresh, so every
problem is still reported. Entries are checksummed; an unreadable one is a miss.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from bookbuild.analysis import check, crossref, names, refs
from bookbuild.analysis.names import ModuleNames, search_roots
from bookbuild.source import options, qmd
from bookbuild.system.cachesweep import touch
from bookbuild.system.store import file_digest, sealed, store, unsealed

FORMAT = 3


class _Recording(ModuleNames):
    """Module names that remember which modules a check consulted and where it found them."""

    def __init__(self, roots: list[Path]) -> None:
        super().__init__(roots)
        self.consulted: dict[str, str | None] = {}

    def public_names(self, module: str) -> set[str] | None:
        result = super().public_names(module)
        found = self.find(module)
        self.consulted[module] = str(found) if found is not None else None
        return result


def _engine() -> list[str | None]:
    """The checker's code: a new bookbuild re-checks every chapter."""
    return [file_digest(m.__file__) for m in (check, crossref, names, options, qmd, refs)
            if m.__file__]


def _key(doc: qmd.Document, root: Path | None, merged: dict | None) -> str:
    # the merged configuration, not _quarto.yml's bytes: a profile or a metadata file changes it
    config = json.dumps(merged, sort_keys=True, default=str) if root is not None else None
    material = {"format": FORMAT, "engine": _engine(), "path": doc.path, "root": str(root),
                "config": config, "text": doc.text,
                # its metadata may come from a folder's _metadata.yml, not its text
                "front": json.dumps(doc.front_matter, sort_keys=True, default=str),
                "problems": [repr(p) for p in doc.problems]}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def _modules_unchanged(consulted: dict, roots: list[Path]) -> bool:
    finder = ModuleNames(roots)
    for module, (path, digest) in consulted.items():
        found = finder.find(module)
        if (str(found) if found is not None else None) != path:
            return False
        if path is not None and file_digest(path) != digest:
            return False
    return True


def check_files(files: list[Path], root: Path | None, docs: dict[Path, qmd.Document],
                cache_dir: Path, read: bool = True, config: dict | None = None
                ) -> tuple[list[refs.CheckResult], dict]:
    """`check.check_files` for the parsed chapters `docs`, skipping those checked clean before
    (unless `read` is false: `--no-cache` checks everything); also the entries to remember."""
    folder = cache_dir / "check"
    results = []
    new: dict[Path, dict] = {}
    parsed: list[tuple[qmd.Document, bool]] = []
    known: list[crossref.Defined | None] = []  # each clean chapter's labels, as remembered
    for f in files:
        doc = docs.get(f) or qmd.parse_file(f)
        parsed.append((doc, False))
        roots = search_roots(str(f), root)
        key = _key(doc, root, config)
        entry = _read(folder / f"{key}.json") if read else None
        if entry is not None and _modules_unchanged(entry["modules"], roots):
            touch(folder / f"{key}.json")  # used: the last to be swept (cachesweep)
            results.append(refs.CheckResult(doc.path, entry["refs"], []))
            known.append([(label, line, col, tuple(formats))
                          for label, line, col, formats in entry["labels"]])
            continue
        recorder = _Recording(roots)
        result = refs.check_document(doc, root, recorder, config)
        results.append(result)
        labels = crossref.labels_defined(doc, config)
        known.append(labels)
        if not result.diagnostics:
            modules = {m: [p, file_digest(p) if p is not None else None]
                       for m, p in recorder.consulted.items()}
            new[folder / f"{key}.json"] = {"refs": result.refs, "modules": modules,
                                           "labels": labels}
    # A label repeated across chapters is a fact about the whole book: checked every time,
    # from each chapter's labels (remembered with its verdict: they follow from its text).
    for repeated, result in zip(check.duplicates_per_file(parsed, known, config), results,
                                strict=True):
        result.diagnostics.extend(repeated)
    return results, new


def static_check(files: list[Path], root: Path | None, command: str,
                 docs: dict[Path, qmd.Document], cache_dir: Path, read: bool = True,
                 config: dict | None = None) -> list[str]:
    """`check.static_check` with remembered clean chapters, written only when all are clean
    (a stopped build leaves no trace). `config`: the book's `_quarto.yml`, parsed."""
    results, new = check_files(files, root, docs, cache_dir, read, config)
    if not any(r.diagnostics for r in results):
        for path, entry in new.items():
            _write(path, entry)
        return []
    check.report(results, sys.stderr)
    return [f"{command} stopped: fix the problems above first"]


def _read(path: Path) -> dict | None:
    try:
        entry = unsealed(path.read_text(encoding="utf-8"))
        if entry is None:
            return None
        if not isinstance(entry["refs"], int) or not isinstance(entry["modules"], dict):
            return None
        for label, line, col, formats in entry["labels"]:
            if not (isinstance(label, str) and isinstance(line, int) and isinstance(col, int)
                    and isinstance(formats, list) and all(isinstance(f, str) for f in formats)):
                return None
        for where, _digest in entry["modules"].values():
            if not (where is None or isinstance(where, str)):
                return None
        return entry
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(path: Path, entry: dict) -> None:
    store(path, sealed(entry))
