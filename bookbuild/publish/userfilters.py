"""The `filters:` an author lists in `_quarto.yml` or a chapter's front matter, placed around
ours as Quarto places them around its own: before, unless listed after the entry `quarto`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from bookbuild.system.stamps import of_path

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


# --- filters whose effects reach outside the page -------------------------------------------

@dataclass(frozen=True)
class Effect:
    """One place in a filter (or a Lua module it requires) that acts outside the document."""

    path: Path
    line: int
    what: str  # "writes files", "runs programs", ...
    filter: Path  # the filter listed (`path` itself, or the filter that requires it)

    def note(self, shown=str) -> str:
        """The progress line: `filters/log.lua:12: writes files; pages using it are not cached`
        (`shown`: how paths are displayed)."""
        user = "it" if self.path == self.filter else shown(self.filter)
        return f"{shown(self.path)}:{self.line}: {self.what}; pages using {user} are not cached"


# What a filter may do beyond returning the document, spelled as pandoc's Lua API and Lua's
# standard library spell it (after comments and string contents are blanked out).
EFFECTS = [
    (re.compile(r"\bos\s*\.\s*execute\b|\bpopen\b|\bpandoc\s*\.\s*pipe\b"), "runs programs"),
    (re.compile(r"\bos\s*\.\s*(?:remove|rename)\b|\b(?:make|remove)_directory\b"
                r"|\blfs\s*\.\s*(?:mkdir|rmdir|touch|link)\b"), "changes files"),
    (re.compile(r"\bos\s*\.\s*tmpname\b|\bwrite_file\b|\bmediabag\s*\.\s*write\b"
                r"|\bio\s*\.\s*output\s*\(\s*[^)\s]"), "writes files"),
]
IO_OPEN = re.compile(r"\bio\s*\.\s*open\b")
READ_ONLY = re.compile(r"""\(\s*[^,()]+(?:\)|,\s*(["'])[rb]*\1\s*\))""")  # io.open(p[, "r"/"rb"])
REQUIRE = re.compile(r"""\brequire\s*\(?\s*(["'])([\w.\-]+)\1""")


def side_effects(paths: list[Path]) -> list[Effect]:
    """The first effect outside the document of each filter in `paths` and of each Lua module
    it requires (found beside it); a filter program that is not Lua cannot be read, so it is
    taken to have effects."""
    found: list[Effect] = []
    seen: set[Path] = set()
    for path in paths:
        if Path(path).suffix != ".lua":
            found.append(Effect(Path(path), 1, "is a program bookbuild cannot read", Path(path)))
            continue
        pending = [Path(path)]
        while pending:
            lua = pending.pop()
            if lua in seen:
                continue
            seen.add(lua)
            effect, required = _scan(str(lua), of_path(lua))
            if effect is not None:
                found.append(Effect(effect.path, effect.line, effect.what, Path(path)))
            for name in required:
                base = Path(path).parent / name.replace(".", "/")
                pending += [p for p in (base.with_suffix(".lua"), base / "init.lua") if p.is_file()]
    return found


@lru_cache(maxsize=256)
def _scan(path: str, stamp: tuple[int, ...]) -> tuple[Effect | None, tuple[str, ...]]:
    """(the first effect in a Lua file, the modules it requires); memoised per file version."""
    try:
        source = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None, ()
    code, bare = _blank(source)
    hits: list[tuple[int, str]] = []
    for pattern, what in EFFECTS:
        hits += [(m.start(), what) for m in pattern.finditer(bare)]
    for m in IO_OPEN.finditer(bare):
        if not READ_ONLY.match(code, m.end()):  # a write/append mode, or one we cannot read
            hits.append((m.start(), "writes files"))
    required = tuple(m.group(2) for m in REQUIRE.finditer(code))
    if not hits:
        return None, required
    at, what = min(hits)
    return Effect(Path(path), source.count("\n", 0, at) + 1, what, Path(path)), required


def _blank(source: str) -> tuple[str, str]:
    """(the source with comments blanked, and also with string contents blanked); newlines and
    offsets are kept, so a match's offset is its place in the file."""
    code, bare = list(source), list(source)
    i, n = 0, len(source)

    def blank(start: int, end: int, *targets: list[str]) -> None:
        for t in targets:
            for j in range(start, end):
                if t[j] != "\n":
                    t[j] = " "

    while i < n:
        long = re.compile(r"\[(=*)\[").match(source, i + 2 if source.startswith("--", i) else i)
        if source.startswith("--", i):
            if long:  # --[[ ... ]] or --[==[ ... ]==]
                end = source.find("]" + long.group(1) + "]", long.end())
                end = n if end < 0 else end + len(long.group(1)) + 2
            else:
                end = source.find("\n", i)
                end = n if end < 0 else end
            blank(i, end, code, bare)
            i = end
        elif long and long.start() == i:  # a long string [[ ... ]]
            end = source.find("]" + long.group(1) + "]", long.end())
            end = n if end < 0 else end
            blank(long.end(), end, bare)
            i = end + len(long.group(1)) + 2
        elif source[i] in "\"'":
            j = i + 1
            while j < n and source[j] != source[i] and source[j] != "\n":
                j += 2 if source[j] == "\\" else 1
            blank(i + 1, min(j, n), bare)
            i = j + 1
        else:
            i += 1
    return "".join(code), "".join(bare)
