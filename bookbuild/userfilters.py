"""The `filters:` an author lists in `_quarto.yml` or a chapter's front matter, placed around
ours as Quarto places them around its own: before, unless listed after the entry `quarto`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

OURS = "bookbuild"  # our own extension's name: its filters already run


class FilterError(Exception):
    """A listed filter cannot be found; the message names where it was listed."""


@dataclass
class UserFilters:
    before: list[Path] = field(default_factory=list)
    after: list[Path] = field(default_factory=list)

    def __add__(self, other: UserFilters) -> UserFilters:
        return UserFilters(_unique(self.before + other.before), _unique(self.after + other.after))


def _unique(paths: list[Path]) -> list[Path]:
    return list(dict.fromkeys(paths))


def _extension_filters(name: str, base: Path, root: Path) -> list[Path] | None:
    """Filters contributed by `_extensions/[org/]name/_extension.yml`, or None if no such one."""
    import yaml

    for folder in (base / "_extensions", root / "_extensions"):
        for manifest in [*folder.glob(f"{name}/_extension.y*ml"),
                         *folder.glob(f"*/{name}/_extension.y*ml")]:
            data = yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}
            listed = (data.get("contributes") or {}).get("filters") or []
            return [manifest.parent / (f["path"] if isinstance(f, dict) else f) for f in listed]
    return None


def resolve(entries: object, base: Path, root: Path, where: str) -> UserFilters:
    """Paths of the listed filters (relative to `base`), split around the `quarto` entry."""
    result = UserFilters()
    if not entries:
        return result
    if not isinstance(entries, list):
        raise FilterError(f"{where}: filters must be a list")
    target = result.before
    for entry in entries:
        name = str(entry.get("path") or "") if isinstance(entry, dict) else str(entry)
        if name == "quarto":
            target = result.after
            continue
        # `{path: f.lua, at: post-quarto}` (Quarto 1.3+) places one filter explicitly
        at = str(entry.get("at") or "") if isinstance(entry, dict) else ""
        here = result.after if at.startswith("post") else result.before if at else target
        if not name:
            continue
        if name == OURS:
            continue
        path = base / name
        if path.is_file():
            here.append(path.resolve())
            continue
        contributed = _extension_filters(name, base, root)
        if contributed is None:
            raise FilterError(f"{where}: filter '{name}' not found (a .lua file relative to "
                              f"{base}, or an extension under _extensions/)")
        here.extend(p.resolve() for p in contributed)
    return result


def pandoc_args(paths: list[Path]) -> list[str]:
    """`--lua-filter` for Lua, `--filter` for any other (JSON) filter program."""
    args = []
    for p in paths:
        args += ["--lua-filter" if p.suffix == ".lua" else "--filter", str(p)]
    return args
