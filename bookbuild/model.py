"""The records stages hand on: a chapter (source, parsed document, execution result)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bookbuild.source.qmd import Document
from bookbuild.system.errors import display_path


@dataclass
class ExecutionResult:
    """What a chapter's execution produced; plain data so it can be cached as JSON."""

    outputs: list[list[dict[str, Any]]]  # nbformat outputs, per code cell
    inline: list[str]  # text per inline reference, in document order
    dependencies: list[str] = field(default_factory=list)
    constants: dict | None = None  # project-local constants as this kernel saw them
    # Each file read as it was when first opened ([mtime_ns, size, inode, ctime_ns, opened_ns]):
    # the cache stores the result only if none changed while the chapter ran. Not stored.
    stamps: dict[str, list[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Chapter:
    """A chapter's source and parsed document; `result` once executed (`service.executed`
    makes that new record: no stage changes a chapter it was handed)."""

    source: Path
    doc: Document
    result: ExecutionResult | None = None

    @property
    def name(self) -> str:
        return display_path(self.source)


def relative_output(root: Path | None, source: Path, suffix: str) -> Path:
    """Where a chapter's output goes inside the output folder, mirroring the sources."""
    source = source.resolve()
    if root is not None and source.is_relative_to(root):
        return source.relative_to(root).with_suffix(suffix)
    return Path(source.name).with_suffix(suffix)


def chapter_key(root: Path | None, source: Path) -> str:
    """A chapter's name in numbers.lock: its path below the project root, posix."""
    source = source.resolve()
    if root is not None and source.is_relative_to(root):
        return source.relative_to(root).as_posix()
    return source.name
