"""A chapter as it moves through the stages: its source, parsed document and execution result."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bookbuild.errors import display_path
from bookbuild.execute import ExecutionResult
from bookbuild.qmd import Document


@dataclass
class Chapter:
    source: Path
    doc: Document
    result: ExecutionResult | None = None
    cached: bool = False

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
