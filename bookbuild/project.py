"""The book project: `_quarto.yml`, its chapters and our namespaced settings."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG = "_quarto.yml"


class ProjectError(Exception):
    """The project configuration is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    """Our settings, read from the `bookbuild:` key of `_quarto.yml` (Quarto ignores it)."""

    echo: bool = True  # Quarto's default; cells read it through bookbuild.options
    timeout: int = 120
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)


@dataclass(frozen=True)
class Project:
    root: Path | None
    config: dict[str, Any]
    settings: Settings

    @property
    def output_dir(self) -> Path:
        base = self.root or Path.cwd()
        out = (self.config.get("project") or {}).get("output-dir", "_book")
        return base / out

    @property
    def cache_dir(self) -> Path:
        return (self.root or Path.cwd()) / ".bookbuild"

    def chapters(self) -> list[Path]:
        """Chapters in book order: `book.chapters` then `book.appendices` (parts flattened)."""
        if self.root is None:
            return []
        book = self.config.get("book") or {}
        files: list[str] = []

        def add(entries: Any) -> None:
            for entry in entries or []:
                if isinstance(entry, str):
                    files.append(entry)
                elif isinstance(entry, dict):
                    if "part" in entry and str(entry["part"]).endswith(".qmd"):
                        files.append(entry["part"])
                    add(entry.get("chapters"))

        add(book.get("chapters"))
        add(book.get("appendices"))
        if not files:
            files = list((self.config.get("project") or {}).get("render") or [])
        return [self.root / f for f in files if f.endswith(".qmd")]

    def appendices(self) -> set[Path]:
        """Chapters listed under `book.appendices` (lettered A, B, ...)."""
        if self.root is None:
            return set()
        entries = (self.config.get("book") or {}).get("appendices") or []
        return {(self.root / e).resolve() for e in entries if isinstance(e, str)}

    def option(self, key: str, default: Any = None) -> Any:
        """A setting under the `bookbuild:` key of `_quarto.yml`."""
        return (self.config.get("bookbuild") or {}).get(key, default)

    def path_setting(self, value: str | None) -> Path | None:
        if not value:
            return None
        return (self.root or Path.cwd()) / value

    @property
    def formats(self) -> list[str]:
        """Output formats named in `_quarto.yml` (html first), or html alone."""
        declared = list((self.config.get("format") or {}).keys())
        ours = [f for f in ("html", "pdf") if f in declared]
        return ours or ["html"]

    @property
    def book_title(self) -> str:
        book = self.config.get("book") or {}
        return str(book.get("title") or self.config.get("title") or "Book")

    def kernel_cwd(self, chapter: Path) -> Path:
        """Cells run at the project root, or beside the file when it lies outside a project."""
        return self.root if self.root is not None else chapter.resolve().parent


def find_root(start: Path) -> Path | None:
    start = start.resolve()
    for d in [start, *start.parents]:
        if (d / CONFIG).is_file():
            return d
    return None


def load(start: Path | None = None) -> Project:
    """The project containing `start` (default: the working directory), or a bare one."""
    root = find_root(start or Path.cwd())
    if root is None:
        return Project(None, {}, Settings())
    import yaml

    try:
        config = yaml.safe_load((root / CONFIG).read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ProjectError(f"{root / CONFIG}: invalid YAML: {exc}") from exc
    ours = config.get("bookbuild") or {}
    execute = config.get("execute") or {}
    settings = Settings(
        echo=bool(execute.get("echo", ours.get("echo", True))),
        timeout=int(ours.get("timeout", 120)),
        jobs=int(ours.get("jobs", os.cpu_count() or 1)),
    )
    return Project(root, config, settings)
