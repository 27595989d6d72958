"""Quarto's `include-in-header`, `include-before-body`, `include-after-body`: files or
`{text: ...}`, at the top level of `_quarto.yml`, under `format.<fmt>`, or in front matter."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bookbuild.source.metadata import format_options

KEYS = ("include-in-header", "include-before-body", "include-after-body")


@dataclass
class Include:
    text: str
    origin: Path | None  # the file it was read from; None for inline text


@dataclass
class Includes:
    parts: dict[str, list[Include]] = field(default_factory=lambda: {k: [] for k in KEYS})
    problems: list[str] = field(default_factory=list)  # located, ready to print

    def text(self, key: str) -> str:
        return "\n".join(i.text for i in self.parts[key])

    def __add__(self, other: Includes) -> Includes:
        return Includes({k: self.parts[k] + other.parts[k] for k in KEYS},
                        self.problems + other.problems)


def _entries(value: object) -> list[object]:
    return value if isinstance(value, list) else [value] if value else []


def _line(text: str, needle: str) -> int:
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def collect(holder: dict, fmt: str, base: Path, source: Path, shown: str) -> Includes:
    """The includes of one configuration (`_quarto.yml` or a chapter's front matter): top-level
    entries first, then the format's. Paths are relative to `base`; a missing file is reported
    as `shown:line`."""
    found = Includes()
    source_text = source.read_text(encoding="utf-8") if source.is_file() else ""
    for options in (holder, format_options(holder, fmt)):
        for key in KEYS:
            for entry in _entries(options.get(key)):
                if isinstance(entry, dict) and "text" in entry:
                    found.parts[key].append(Include(str(entry["text"]), None))
                    continue
                name = str(entry.get("file") if isinstance(entry, dict) else entry)
                path = base / name
                if path.is_file():
                    try:
                        found.parts[key].append(Include(path.read_text(encoding="utf-8"), path))
                    except UnicodeDecodeError as exc:
                        found.problems.append(f"{shown}:{_line(source_text, name)}: {key} file "
                                              f"'{name}' is not UTF-8 (byte 0x{exc.object[exc.start]:02x}"
                                              f" at offset {exc.start}); save it as UTF-8")
                else:
                    found.problems.append(f"{shown}:{_line(source_text, name)}: {key} file "
                                          f"'{name}' not found (paths are relative to {base})")
    return found
