"""`numbers.lock` as data: read (strictly, with line numbers), write (atomically), compare.

The file is our own line-oriented subset of YAML, one entry per line, so a review sees a
changed number in an ordinary diff and a malformed line is reported where it is. Nothing here
executes or traces anything.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from bookbuild.numbers.shown import Shown
from bookbuild.source.qmd import included_note
from bookbuild.system.atomic import write_text
from bookbuild.system.errors import BuildError, Diagnostic, display_path

LOCK = "numbers.lock"
HEADER = """\
# numbers.lock: every number this book renders, and the constants they are computed from.
# Written only by `bookbuild numbers accept`; `bookbuild numbers check` fails when it drifts.
# chapters: line in the chapter, the inline expression, the text it rendered.
# outputs: the numbers cells show (line of the cell, its label or #n, place in its output).
# files and packages: what the cells read, so that a moved number names the input that moved it.
"""
_STRING = r'"(?:[^"\\]|\\.)*"'
_CONSTANT = re.compile(rf"^  ([A-Za-z_][\w.:]*): ({_STRING})$")
_CHAPTER = re.compile(r"^  (\S.*):$")
_ENTRY = re.compile(rf"^  - \{{line: (\d+), expr: ({_STRING}), text: ({_STRING})\}}$")
_SHOWN = re.compile(rf"^  - \{{line: (\d+), cell: ({_STRING}), at: ({_STRING}), text: ({_STRING})\}}$")
_FILE = re.compile(rf"^  ({_STRING}): \{{size: (\d+), sha256: \"([0-9a-f]{{64}})\"\}}$")
_PACKAGE = re.compile(rf"^  ([A-Za-z0-9][\w.-]*): ({_STRING})$")
SECTIONS = ("constants:", "chapters:", "outputs:", "files:", "packages:")
_CONFLICT = re.compile(r"^(<{7}|={7}|>{7}|\|{7})( |$)")


def _unquote(literal: str) -> str:
    """A JSON string literal's value; most hold no escape, and a lock has thousands of them."""
    if "\\" not in literal and literal.isprintable():
        return literal[1:-1]
    return json.loads(literal)


@dataclass(frozen=True)
class Entry:
    """One rendered inline value: where, which expression, what text."""

    chapter: str  # path relative to the project root, posix
    line: int  # in the chapter's own file: for a value in an included file, the include's line
    expr: str
    text: str
    occurrence: int  # n-th time this expression appears in the chapter
    # where a report shows it: `file:line` of the value, with its include chain; not stored
    where: str = field(default="", compare=False)

    def place(self) -> str:
        return self.where or f"{self.chapter}:{self.line}"

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.chapter, self.expr, self.occurrence)


@dataclass
class Lock:
    constants: dict[str, str] = field(default_factory=dict)  # name -> "value unit"
    entries: list[Entry] = field(default_factory=list)

    empty_chapters: set[str] = field(default_factory=set)  # chapters with no inline values
    # The numbers cell outputs show; None for a lock written before they were locked.
    shown: list[Shown] | None = None
    files: dict[str, tuple[int, str]] | None = None  # data file -> (size, sha256)
    packages: dict[str, str] | None = None  # installed distribution -> version
    # not stored: per chapter, the inputs (`file:PATH`, `package:NAME`) its cells used
    inputs: dict[str, set[str]] = field(default_factory=dict, compare=False)

    def chapters(self) -> set[str]:
        return {e.chapter for e in self.entries} | self.empty_chapters


class LockError(BuildError):
    """numbers.lock exists but is malformed; carries the located problems."""


def entries_of(chapter: str, refs, texts: list[str]) -> list[Entry]:
    """Entries for one chapter's inline references and their rendered texts, in order."""
    seen: dict[str, int] = {}
    out = []
    for ref, text in zip(refs, texts, strict=True):
        n = seen.get(ref.expr, 0) + 1
        seen[ref.expr] = n
        chain = getattr(ref, "included_from", ())
        if chain:  # written in an included file: its place there, and the chapter's include line
            where = f"{display_path(ref.path)}:{ref.line}{included_note(chain)}"
            out.append(Entry(chapter, chain[-1][1], ref.expr, text, n, where))
        else:
            out.append(Entry(chapter, ref.line, ref.expr, text, n))
    return out


# --- file format -------------------------------------------------------------------------
def _q(s: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(s, ensure_ascii=False)


def dump(lock: Lock) -> str:
    lines = [HEADER, "constants:"]
    for name in sorted(lock.constants):
        lines.append(f"  {name}: {_q(lock.constants[name])}")
    lines.append("chapters:")
    by_chapter: dict[str, list[Entry]] = {c: [] for c in lock.empty_chapters}
    for e in lock.entries:
        by_chapter.setdefault(e.chapter, []).append(e)
    for chapter in sorted(by_chapter):
        lines.append(f"  {chapter}:")
        for e in sorted(by_chapter[chapter], key=lambda e: (e.line, e.expr, e.occurrence)):
            lines.append(f"  - {{line: {e.line}, expr: {_q(e.expr)}, text: {_q(e.text)}}}")
    return "\n".join(lines + _dump_inputs(lock)) + "\n"


def _dump_inputs(lock: Lock) -> list[str]:
    """The outputs, files and packages sections (always written: their absence marks a lock
    from before cell outputs were locked)."""
    lines = ["outputs:"]
    shown: dict[str, list[Shown]] = {}
    for s in lock.shown or []:
        shown.setdefault(s.chapter, []).append(s)
    for chapter in sorted(shown):
        lines.append(f"  {chapter}:")
        for s in sorted(shown[chapter], key=lambda s: (s.line, s.cell, s.at)):
            lines.append(f"  - {{line: {s.line}, cell: {_q(s.cell)}, at: {_q(s.at)}, "
                         f"text: {_q(s.text)}}}")
    lines.append("files:")
    for path, (size, digest) in sorted((lock.files or {}).items()):
        lines.append(f'  {_q(path)}: {{size: {size}, sha256: "{digest}"}}')
    lines.append("packages:")
    for name, version in sorted((lock.packages or {}).items()):
        lines.append(f"  {name}: {_q(version)}")
    return lines


def write(path: Path, lock: Lock) -> None:
    """Replace the lock atomically: a reader sees the old file or the new one, never half."""
    write_text(path, dump(lock))


def load(path: Path) -> Lock | None:
    """The lock at `path`, None when there is none; LockError listing every malformed line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise LockError(diagnostics=[Diagnostic(str(path), 0, 0, "LCK001",
                                                f"cannot read the numbers lock: {exc}")]) from None
    return parse(text, str(path))


def parse(text: str, path: str = LOCK) -> Lock:
    lock = Lock()
    problems: list[Diagnostic] = []
    state = _Reading(lock, path, problems)
    for n, line in enumerate(text.splitlines(), start=1):
        # the common line first: a 100-chapter lock has thousands of entries
        if state.section == "chapters" and state.chapter and (m := _ENTRY.match(line)):
            # The same expression twice on one line is two entries, each an occurrence.
            state.rows.append((state.chapter, int(m.group(1)), _unquote(m.group(2)),
                               _unquote(m.group(3))))
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if _CONFLICT.match(line):
            state.bad(n, "merge conflict marker in the numbers lock",
                      "resolve the conflict: render, review the numbers, then "
                      "`bookbuild numbers accept`")
        elif line in SECTIONS:
            state.open(n, line[:-1])
        elif not state.read(n, line):
            state.bad(n, f"malformed line in the numbers lock: {line.strip()[:60]!r}",
                      "only `bookbuild numbers accept` writes this file; restore it from "
                      "version control")
    if problems:
        raise LockError(diagnostics=problems)
    lock.empty_chapters -= {row[0] for row in state.rows}
    lock.entries = _numbered(state.rows)
    return lock


class _Reading:
    """Where `parse` is in the lock and what it has read so far."""

    def __init__(self, lock: Lock, path: str, problems: list[Diagnostic]) -> None:
        self.lock, self.path, self.problems = lock, path, problems
        self.section: str | None = None
        self.chapter: str | None = None
        self.rows: list[tuple[str, int, str, str]] = []  # (chapter, line, expr, text) as listed
        self.first: dict[tuple[str, str], int] = {}  # (section, name) -> line first listed

    def bad(self, n: int, message: str, hint: str = "") -> None:
        self.problems.append(Diagnostic(self.path, n, 1, "LCK001", message, hint))

    def open(self, n: int, section: str) -> None:
        """Enter a section; an outputs, files or packages section marks the lock's format."""
        self.section, self.chapter = section, None
        # a section listed twice adds to the first (a merge conflict is caught by its markers)
        if section == "outputs" and self.lock.shown is None:
            self.lock.shown = []
        elif section == "files" and self.lock.files is None:
            self.lock.files = {}
        elif section == "packages" and self.lock.packages is None:
            self.lock.packages = {}

    def once(self, n: int, what: str, name: str) -> bool:
        """Whether `name` is new in this section; else a located problem naming both lines."""
        if (self.section or "", name) in self.first:
            self.bad(n, f"{what} '{name}' is listed twice (first at line "
                        f"{self.first[self.section or '', name]})")
            return False
        self.first[self.section or "", name] = n
        return True

    def read(self, n: int, line: str) -> bool:
        """Take one entry line of the current section; False when it is not one."""
        if self.section == "constants" and (m := _CONSTANT.match(line)):
            if self.once(n, "constant", m.group(1)):
                self.lock.constants[m.group(1)] = _unquote(m.group(2))
        elif self.section in ("chapters", "outputs") and (m := _CHAPTER.match(line)):
            self.chapter = m.group(1)
            if self.once(n, "chapter", self.chapter) and self.section == "chapters":
                self.lock.empty_chapters.add(self.chapter)
        elif self.section == "outputs" and self.chapter and (m := _SHOWN.match(line)):
            cell, at = _unquote(m.group(2)), _unquote(m.group(3))
            if self.once(n, "output number", f"{self.chapter} [{cell}] {at}"):
                self.lock.shown.append(Shown(self.chapter, int(m.group(1)), cell, at,
                                             _unquote(m.group(4))))
        elif self.section == "files" and (m := _FILE.match(line)):
            name = _unquote(m.group(1))
            if self.once(n, "file", name):
                self.lock.files[name] = (int(m.group(2)), m.group(3))
        elif self.section == "packages" and (m := _PACKAGE.match(line)):
            if self.once(n, "package", m.group(1)):
                self.lock.packages[m.group(1)] = _unquote(m.group(2))
        else:
            return False
        return True


def _numbered(rows: list[tuple[str, int, str, str]]) -> list[Entry]:
    """Entries with their occurrence counted per (chapter, expr), in line order."""
    seen: dict[tuple[str, str], int] = {}
    out = []
    for chapter, line, expr, shown in sorted(rows, key=lambda r: (r[0], r[1])):
        n = seen.get((chapter, expr), 0) + 1
        seen[(chapter, expr)] = n
        out.append(Entry(chapter, line, expr, shown, n))
    return out


# --- comparison --------------------------------------------------------------------------
@dataclass
class Drift:
    moved: list[tuple[Entry | Shown, Entry | Shown]] = field(default_factory=list)  # (locked, now)
    added: list[Entry | Shown] = field(default_factory=list)
    removed: list[Entry | Shown] = field(default_factory=list)
    constants: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    chapters_added: list[str] = field(default_factory=list)
    chapters_removed: list[str] = field(default_factory=list)
    outputs_unlocked: int = 0  # numbers cells show that a lock from before outputs cannot hold
    # inputs that changed (not drift by themselves: they explain the numbers they moved)
    files: list[tuple[str, tuple[int, str] | None, tuple[int, str] | None]] = field(default_factory=list)
    packages: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    known_inputs: bool = False  # the lock recorded files and packages: "no input changed" holds

    def __bool__(self) -> bool:
        return bool(self.moved or self.added or self.removed or self.constants
                    or self.chapters_added or self.chapters_removed or self.outputs_unlocked)


def _by_key(old: list, new: list, drift: Drift) -> None:
    """Moved, added and removed entries between two lists keyed alike."""
    before = {e.key: e for e in old}
    after = {e.key: e for e in new}
    for k in sorted(before.keys() & after.keys()):
        if before[k].text != after[k].text:
            drift.moved.append((before[k], after[k]))
    drift.added += sorted((after[k] for k in after.keys() - before.keys()),
                          key=lambda e: (e.chapter, e.line, e.key))
    drift.removed += sorted((before[k] for k in before.keys() - after.keys()),
                            key=lambda e: (e.chapter, e.line, e.key))


def _changed(old: dict | None, new: dict | None) -> list[tuple]:
    """(name, before, after) for each name whose value differs; nothing when `old` predates
    the section."""
    if old is None:
        return []
    return [(k, old.get(k), (new or {}).get(k)) for k in sorted(old.keys() | (new or {}).keys())
            if old.get(k) != (new or {}).get(k)]


def compare(locked: Lock, now: Lock) -> Drift:
    """Everything that differs between the committed lock and the numbers rendered now."""
    drift = Drift()
    _by_key(locked.entries, now.entries, drift)
    if locked.shown is None:  # an older lock: one line says to accept, not one per number
        drift.outputs_unlocked = len(now.shown or [])
    else:
        _by_key(locked.shown, now.shown or [], drift)
    drift.added.sort(key=lambda e: (e.chapter, e.line))
    drift.removed.sort(key=lambda e: (e.chapter, e.line))
    for name in sorted(locked.constants.keys() | now.constants.keys()):
        a, b = locked.constants.get(name), now.constants.get(name)
        if a != b:
            drift.constants.append((name, a, b))
    drift.moved.sort(key=lambda p: (p[1].chapter, p[1].line))
    drift.chapters_added = sorted(now.chapters() - locked.chapters())
    drift.chapters_removed = sorted(locked.chapters() - now.chapters())
    drift.known_inputs = locked.files is not None
    return drift


def changed_inputs(locked: Lock, now: Lock, drift: Drift) -> None:
    """Note in `drift` the data files and packages that differ (once `now` has them)."""
    drift.files = _changed(locked.files, now.files)
    drift.packages = _changed(locked.packages, now.packages)


def restrict(lock: Lock, chapters: set[str]) -> Lock:
    """The part of a lock about some chapters (a render of part of the book)."""
    shown = None if lock.shown is None else [s for s in lock.shown if s.chapter in chapters]
    return Lock(dict(lock.constants), [e for e in lock.entries if e.chapter in chapters],
                lock.empty_chapters & chapters, shown, lock.files, lock.packages)
