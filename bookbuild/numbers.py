"""The numbers lock: every rendered inline value and every constant, committed as `numbers.lock`.

A rebuild compares against it and reports which numbers moved and which constants moved them.
Only `bookbuild numbers accept` writes the file. The format is YAML a reviewer reads in a diff:
sorted, one entry per line.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bookbuild.diagnostics import display_path
from bookbuild.refs import ModuleNames, search_roots
from bookbuild.trace import Tracer

LOCK = "numbers.lock"
HEADER = """\
# numbers.lock: every number this book renders, and the constants they are computed from.
# Written only by `bookbuild numbers accept`; `bookbuild numbers check` fails when it drifts.
# Entries: line in the chapter, the inline expression, the text it rendered.
"""

SNAPSHOT_CODE = "import mlsysim.core.constants, bookbuild.kernel as k; print(k.constants())"


@dataclass(frozen=True)
class Entry:
    chapter: str  # path relative to the project root, posix
    line: int
    expr: str
    text: str
    occurrence: int  # n-th time this expression appears in the chapter

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.chapter, self.expr, self.occurrence)


@dataclass
class Lock:
    constants: dict[str, str] = field(default_factory=dict)  # name -> "value unit"
    entries: list[Entry] = field(default_factory=list)


class LockError(Exception):
    """numbers.lock exists but cannot be read."""


# --- constants ---------------------------------------------------------------------------
def constants_snapshot(root: Path, cache_dir: Path, chapters=()) -> dict[str, dict]:
    """Every mlsysim constant as the project's kernels see it (a project-local mlsysim wins).

    Taken from an executed chapter's kernel when one loaded mlsysim (free); otherwise from
    `mlsysim.sources()` in a fresh interpreter in the project folder, cached on the hash of the
    package's files.
    """
    for ch in chapters:
        if ch.result is not None and ch.result.constants:
            return ch.result.constants
    init = ModuleNames(search_roots(str(root / "x.qmd"), root)).find("mlsysim")
    digest = hashlib.sha256()
    if init is not None:
        for f in sorted(init.parent.rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts:
                digest.update(str(f.relative_to(init.parent)).encode())
                digest.update(f.read_bytes())
    cached = cache_dir / f"constants-{digest.hexdigest()[:20]}.json"
    try:
        return json.loads(cached.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    r = subprocess.run([sys.executable, "-c", SNAPSHOT_CODE], cwd=root, capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise LockError(f"cannot read mlsysim's constants: {r.stderr.strip().splitlines()[-1:]}")
    data = json.loads(r.stdout)
    cache_dir.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(data), encoding="utf-8")
    return data


# --- entries -----------------------------------------------------------------------------
def entries_of(chapter: str, doc, texts: list[str]) -> list[Entry]:
    seen: dict[str, int] = {}
    out = []
    for ref, text in zip(doc.refs, texts, strict=True):
        n = seen.get(ref.expr, 0) + 1
        seen[ref.expr] = n
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
    by_chapter: dict[str, list[Entry]] = {}
    for e in lock.entries:
        by_chapter.setdefault(e.chapter, []).append(e)
    for chapter in sorted(by_chapter):
        lines.append(f"  {chapter}:")
        for e in sorted(by_chapter[chapter], key=lambda e: (e.line, e.expr, e.occurrence)):
            lines.append(f"  - {{line: {e.line}, expr: {_q(e.expr)}, text: {_q(e.text)}}}")
    return "\n".join(lines) + "\n"


def load(path: Path) -> Lock | None:
    if not path.exists():
        return None
    import yaml

    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 10x faster on big locks
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}
        lock = Lock({k: str(v) for k, v in (data.get("constants") or {}).items()})
        for chapter, items in (data.get("chapters") or {}).items():
            seen: dict[str, int] = {}
            for item in sorted(items or [], key=lambda i: i["line"]):
                n = seen.get(item["expr"], 0) + 1
                seen[item["expr"]] = n
                lock.entries.append(Entry(chapter, int(item["line"]), str(item["expr"]),
                                          str(item["text"]), n))
    except (yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise LockError(f"{display_path(path)}: cannot read the numbers lock: {exc}") from None
    return lock


# --- comparison --------------------------------------------------------------------------
@dataclass
class Drift:
    moved: list[tuple[Entry, Entry]] = field(default_factory=list)  # (locked, now)
    added: list[Entry] = field(default_factory=list)
    removed: list[Entry] = field(default_factory=list)
    constants: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.moved or self.added or self.removed or self.constants)


def compare(locked: Lock, now: Lock) -> Drift:
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
    return drift


def report(drift: Drift, causes: dict[tuple[str, str, int], set[str]], severity: str) -> list[str]:
    """Human-readable drift: moved numbers, then each changed constant and what it moved."""
    out = []
    changed = {name for name, _, _ in drift.constants}
    for locked, now in drift.moved:
        line = f"{now.chapter}:{now.line} {now.expr}: {locked.text} → {now.text}"
        because = sorted(causes.get(now.key, set()) & changed)
        out.append(f"{severity}: {line}" + (f"  (moved by {', '.join(because)})" if because else
                                             "  (no changed constant explains it: code or inputs changed)"))
    for e in drift.added:
        out.append(f"{severity}: {e.chapter}:{e.line} new reference {e.expr} = {e.text}")
    for e in drift.removed:
        out.append(f"{severity}: {e.chapter}:{e.line} removed reference {e.expr} (was {e.text})")
    for name, a, b in drift.constants:
        moved = [f"{now.chapter}:{now.line} {now.expr}" for _, now in drift.moved
                 if name in causes.get(now.key, set())]
        if a is None:
            out.append(f"{severity}: new constant {name} = {b}")
        elif b is None:
            out.append(f"{severity}: removed constant {name} (was {a})")
        else:
            out.append(f"{severity}: constant {name}: {a} → {b}")
        out += [f"    moved {m}" for m in moved] or ["    moved no rendered number"]
    return out


def tracers(docs: dict[str, object], root: Path | None, constants: set[str]) -> dict[str, Tracer]:
    """One static tracer per chapter (keyed like Entry.chapter)."""
    return {chapter: Tracer(doc, ModuleNames(search_roots(doc.path, root)), constants)
            for chapter, doc in docs.items()}


def causes_of(entries: list[Entry], traced: dict[str, Tracer]) -> dict[tuple[str, str, int], set[str]]:
    cache: dict[tuple[str, str], set[str]] = {}
    out = {}
    for e in entries:
        k = (e.chapter, e.expr)
        if k not in cache:
            cache[k] = traced[e.chapter].trace(e.expr).constants
        out[e.key] = cache[k]
    return out


# --- commands ----------------------------------------------------------------------------
def chapter_key(root: Path | None, source: Path) -> str:
    source = source.resolve()
    if root is not None and source.is_relative_to(root):
        return source.relative_to(root).as_posix()
    return source.name


def current(proj, chapters) -> tuple[Lock, dict[str, Tracer], dict[str, dict]]:
    """The lock the executed `chapters` would write now, with tracers and constant details."""
    root = proj.root or Path.cwd()
    details = constants_snapshot(root, proj.cache_dir, chapters)
    now = Lock({name: d["value"] for name, d in details.items()})
    docs = {}
    for ch in chapters:
        key = chapter_key(proj.root, ch.source)
        docs[key] = ch.doc
        now.entries += entries_of(key, ch.doc, ch.result.inline)
    return now, tracers(docs, proj.root, set(details)), details


def restrict(lock: Lock, chapters: set[str]) -> Lock:
    return Lock(dict(lock.constants), [e for e in lock.entries if e.chapter in chapters])


def drift_lines(proj, chapters, severity: str, missing_is_drift: bool = True) -> tuple[list[str], bool]:
    """Compare executed chapters with numbers.lock; return report lines and whether it drifted.

    A missing lock counts as drift for `numbers check`; `render` only mentions it.
    """
    path = (proj.root or Path.cwd()) / LOCK
    locked = load(path)
    now, traced, _ = current(proj, chapters)
    if locked is None:
        level = severity if missing_is_drift else "note"
        return [f"{level}: no {LOCK} yet: review the numbers, then run `bookbuild numbers accept`"], \
            missing_is_drift
    locked = restrict(locked, {e.chapter for e in now.entries} | {chapter_key(proj.root, c.source) for c in chapters})
    drift = compare(locked, now)
    if not drift:
        return [], False
    lines = report(drift, causes_of(now.entries, traced), severity)
    n_moved, n_const = len(drift.moved), len(drift.constants)
    lines.append(f"numbers: {n_moved} moved, {len(drift.added)} new, {len(drift.removed)} removed, "
                 f"{n_const} constant(s) changed (run `bookbuild numbers accept` to take them)")
    return lines, True


def why(proj, chapters, expr: str) -> list[str]:
    """The dependency chain of `expr` down to constants, with values and sources."""
    root = proj.root or Path.cwd()
    details = constants_snapshot(root, proj.cache_dir)
    locked = load(root / LOCK) or Lock()
    values = {(e.chapter, e.expr): e.text for e in locked.entries}
    out: list[str] = []
    for ch in chapters:
        key = chapter_key(proj.root, ch.source)
        tracer = Tracer(ch.doc, ModuleNames(search_roots(ch.doc.path, proj.root)), set(details))
        t = tracer.trace(expr)
        if not t.steps or t.untraced == {expr}:
            continue  # not defined in this chapter
        value = values.get((key, expr))
        out.append(f"{key}: {expr}" + (f" = {value}" if value is not None else ""))
        for depth, name, text in t.steps:
            pad = "  " * (depth + 1)
            if text == "constant":
                d = details.get(name, {})
                out.append(f"{pad}← {name} = {d.get('value', '?')} ({d.get('source', '?')}, "
                           f"{d.get('year', '?')})")
            else:
                out.append(f"{pad}{name} = {text}")
        if t.untraced:
            out.append(f"  untraced: {', '.join(sorted(t.untraced))}")
        if t.constants:
            out.append(f"  constants: {', '.join(sorted(t.constants))}")
    return out


def annotations(chapter, tracer: Tracer, details: dict[str, dict]) -> list[dict | None]:
    """Per inline reference of `chapter`: its expression and the sourced constants behind it."""
    out = []
    for ref in chapter.doc.refs:
        t = tracer.trace(ref.expr)
        parts = [f"{name} = {details[name]['value']} ({details[name]['source']}, {details[name]['year']})"
                 for name in sorted(t.constants) if name in details]
        title = f"{ref.expr}" + (" ← " + "; ".join(parts) if parts else "")
        out.append({"index": len(out), "expr": ref.expr, "constants": " ".join(sorted(t.constants)),
                    "title": title})
    return out


def run(proj, files: list[Path], action: str, expr: str | None = None) -> int:
    """`bookbuild numbers check|accept|why`; returns the exit code."""
    from bookbuild.build import Chapter, execute_all
    from bookbuild.qmd import parse_file

    chapters = [Chapter(f, parse_file(f)) for f in files]
    if action == "why":
        lines = why(proj, chapters, expr or "")
        if not lines:
            print(f"bookbuild: '{expr}' is not defined in any chapter's cells", file=sys.stderr)
            return 1
        print("\n".join(lines))
        return 0

    from bookbuild.check import check_files
    from bookbuild.check import report as report_check

    def static_check() -> list[str]:
        results = check_files(files, proj.root)
        if any(r.diagnostics for r in results):
            report_check(results, sys.stderr)
            return ["numbers: fix the problems above first"]
        return []

    errors = execute_all(proj, chapters, use_cache=True, before_execution=static_check)
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    path = (proj.root or Path.cwd()) / LOCK
    if action == "accept":
        now, _, _ = current(proj, chapters)
        old = load(path) if path.exists() else None
        lines = report(compare(old, now), causes_of(now.entries, tracers(
            {chapter_key(proj.root, c.source): c.doc for c in chapters}, proj.root,
            set(now.constants))), "accepted") if old is not None else []
        path.write_text(dump(now), encoding="utf-8")
        print("\n".join(lines + [f"wrote {display_path(path)}: {len(now.entries)} numbers in "
                                 f"{len(chapters)} chapter(s), {len(now.constants)} constants"]))
        return 0
    lines, drifted = drift_lines(proj, chapters, "drift")
    if drifted:
        print("\n".join(lines))
        return 1
    print(f"numbers: {display_path(path)} matches ({sum(len(c.doc.refs) for c in chapters)} numbers)")
    return 0
