"""A document's own metadata as Quarto assembles it: the `_metadata.yml` of each folder from
the project's root down to the document's, then its front matter, then the files its
`metadata-files` name (each over the one before; quarto-cli project-shared.ts
`directoryMetadataForInputFile`, render-contexts.ts `resolveFormatsFromMetadata`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bookbuild.source import layers
from bookbuild.source.merge import Mark, merge
from bookbuild.source.shapes import normalize
from bookbuild.system.errors import Diagnostic, UsageError

INCLUDE_KEYS = ("metadata-file", "metadata-files")


def assemble(path: Path, root: Path | None, front: dict[str, Any], text: str
             ) -> tuple[dict[str, Any], list[str], list[Diagnostic]]:
    """The document's metadata, the files read for it (besides the document) and the problems
    met: an unreadable file, a metadata file that does not exist."""
    problems: list[Diagnostic] = []
    files: list[str] = []
    below: dict[str, Any] = {}
    for file in layers.directory_files(root, path.parent):
        data = _read(file, problems)
        if data is not None:
            below = _merged(below, data)
            files.append(str(file))
    meta = _merged(below, front) if below else dict(front)
    for name, file in _named(front, path.parent):
        if not file.is_file():
            problems.append(Diagnostic(str(path), _line(text, name), 0, "CFG001",
                                       f"metadata file {name} does not exist",
                                       "fix the path, or remove it from metadata-files:"))
            continue
        data = _read(file, problems)
        if data is not None:
            meta = _merged(meta, data)
            files.append(str(file))
    if not files and not any(k in meta for k in INCLUDE_KEYS):
        return front, [], problems
    return {k: v for k, v in meta.items() if k not in INCLUDE_KEYS}, files, problems


def watched(root: Path | None, folder: Path) -> list[str]:
    """The directory metadata files that apply to documents in `folder` (for cache keys: a
    `_metadata.yml` added later changes what the document means)."""
    return [str(f) for f in layers.directory_files(root, folder)]


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    nowhere = Mark(Path(), 0)
    return merge(base, nowhere, over, nowhere)[0]


def _read(file: Path, problems: list[Diagnostic]) -> dict[str, Any] | None:
    try:
        return normalize(layers.read(file).data)
    except UsageError as exc:
        problems.extend(exc.diagnostics)
        return None


def _named(front: dict[str, Any], folder: Path) -> list[tuple[str, Path]]:
    names = []
    if isinstance(front.get("metadata-file"), str):
        names.append(front["metadata-file"])
    if isinstance(front.get("metadata-files"), list):
        names += [str(n) for n in front["metadata-files"]]
    elif isinstance(front.get("metadata-files"), str):  # one name: the schema wants a list
        names.append(front["metadata-files"])
    return [(n, folder / n) for n in names]


def _line(text: str, name: str) -> int:
    m = re.search(re.escape(name), text)
    return text.count("\n", 0, m.start()) + 1 if m else 1
