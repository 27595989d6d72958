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

from bookbuild.source.qmd import included_note
from bookbuild.system.atomic import write_text
from bookbuild.system.errors import BuildError, Diagnostic, display_path

LOCK = "numbers.lock"
HEADER = """\
# numbers.lock: every number this book renders, and the constants they are computed from.
# Written only by `bookbuild numbers accept`; `bookbuild numbers check` fails when it drifts.
# Entries: line in the chapter, the inline expression, the text it rendered.
"""
_STRING = r'"(?:[^"\\]|\\.)*"'
_CONSTANT = re.compile(rf"^  ([A-Za-z_][\w.:]*): ({_STRING})$")
_CHAPTER = re.compile(r"^  (\S.*):$")
_ENTRY = re.compile(rf"^  - \{{line: (\d+), expr: ({_STRING}), text: ({_STRING})\}}$")
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
    return "\n".join(lines) + "\n"


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
    section, chapter = None, None
    seen_chapters: dict[str, int] = {}
    constant_lines: dict[str, int] = {}

    def bad(n: int, message: str, hint: str = "") -> None:
        problems.append(Diagnostic(path, n, 1, "LCK001", message, hint))

    rows: list[tuple[str, int, str, str]] = []  # (chapter, line, expr, text) as listed
    for n, line in enumerate(text.splitlines(), start=1):
        # the common line first: a 100-chapter lock has thousands of entries
        if section == "chapters" and chapter and (m := _ENTRY.match(line)):
            # The same expression twice on one line is two entries, each an occurrence.
            rows.append((chapter, int(m.group(1)), _unquote(m.group(2)), _unquote(m.group(3))))
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if _CONFLICT.match(line):
            bad(n, "merge conflict marker in the numbers lock",
                "resolve the conflict: render, review the numbers, then `bookbuild numbers accept`")
            continue
        if line in ("constants:", "chapters:"):
            section, chapter = line[:-1], None
            continue
        if section == "constants" and (m := _CONSTANT.match(line)):
            name = m.group(1)
            if name in constant_lines:
                bad(n, f"constant '{name}' is listed twice (first at line {constant_lines[name]})")
                continue
            constant_lines[name] = n
            lock.constants[name] = _unquote(m.group(2))
        elif section == "chapters" and (m := _CHAPTER.match(line)):
            chapter = m.group(1)
            if chapter in seen_chapters:
                bad(n, f"chapter '{chapter}' is listed twice (first at line {seen_chapters[chapter]})")
            seen_chapters[chapter] = n
            lock.empty_chapters.add(chapter)
        else:
            bad(n, f"malformed line in the numbers lock: {line.strip()[:60]!r}",
                "only `bookbuild numbers accept` writes this file; restore it from version control")
    if problems:
        raise LockError(diagnostics=problems)
    lock.empty_chapters -= {row[0] for row in rows}
    lock.entries = _numbered(rows)
    return lock


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
    moved: list[tuple[Entry, Entry]] = field(default_factory=list)  # (locked, now)
    added: list[Entry] = field(default_factory=list)
    removed: list[Entry] = field(default_factory=list)
    constants: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    chapters_added: list[str] = field(default_factory=list)
    chapters_removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.moved or self.added or self.removed or self.constants
                    or self.chapters_added or self.chapters_removed)


def compare(locked: Lock, now: Lock) -> Drift:
    """Everything that differs between the committed lock and the numbers rendered now."""
    drift = Drift()
    old = {e.key: e for e in locked.entries}
    new = {e.key: e for e in now.entries}
    for k in sorted(old.keys() & new.keys()):
        if old[k].text != new[k].text:
            drift.moved.append((old[k], new[k]))
    drift.added = sorted((new[k] for k in new.keys() - old.keys()), key=lambda e: (e.chapter, e.line))
    drift.removed = sorted((old[k] for k in old.keys() - new.keys()), key=lambda e: (e.chapter, e.line))
    for name in sorted(locked.constants.keys() | now.constants.keys()):
        a, b = locked.constants.get(name), now.constants.get(name)
        if a != b:
            drift.constants.append((name, a, b))
    drift.moved.sort(key=lambda p: (p[1].chapter, p[1].line))
    drift.chapters_added = sorted(now.chapters() - locked.chapters())
    drift.chapters_removed = sorted(locked.chapters() - now.chapters())
    return drift


def restrict(lock: Lock, chapters: set[str]) -> Lock:
    """The part of a lock about some chapters (a render of part of the book)."""
    return Lock(dict(lock.constants), [e for e in lock.entries if e.chapter in chapters],
                lock.empty_chapters & chapters)
