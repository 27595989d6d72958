"""Where a number comes from: the constants behind each inline value, and their sources.

Uses the static trace (`trace.py`) and the constants snapshot that the chapter kernels took;
never executes anything itself and never writes the lock.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from pathlib import Path

from bookbuild.analysis.names import ModuleNames, dotted, references, search_roots
from bookbuild.analysis.trace import Tracer, still_current
from bookbuild.model import Chapter, chapter_key
from bookbuild.numbers.inputs import data_files
from bookbuild.numbers.lock import Entry
from bookbuild.numbers.shown import Shown
from bookbuild.source.qmd import CodeCell
from bookbuild.system.errors import display_path
from bookbuild.system.stamps import of_path
from bookbuild.system.store import sealed, store, unsealed


def constants_of(chapters: list[Chapter]) -> dict[str, dict]:
    """Every constant the executed chapters' kernels reported, by name (later chapters add)."""
    details: dict[str, dict] = {}
    for ch in chapters:
        if ch.result is None or not isinstance(ch.result.constants, dict):
            continue
        for key, record in ch.result.constants.items():
            other = details.get(key)
            if other is not None and _origin(other) != _origin(record):
                # Two chapters' modules define the same name: qualify both with their module.
                details.pop(key)
                details[f"{other.get('module')}:{key}"] = other
                key = f"{record.get('module')}:{key}"
            details[key] = record
    return details


def _origin(record: dict) -> tuple:
    return (record.get("file"), record.get("name"))


def tracer(doc, root: Path | None, constants: dict[str, dict]) -> Tracer:
    """A tracer for one chapter that knows where each constant is defined; tracers for the
    same constants (one build) share what they learnt about the book's modules."""
    return Tracer(doc, ModuleNames(search_roots(doc.path, root)), constants, root,
                  _shared(root, constants))


def _shared(root: Path | None, constants: dict[str, dict]) -> dict:
    """What tracing learnt, kept while the constants and the module files stay the same."""
    global _SHARED
    # Equal constants and unchanged module files: what the last build learnt still holds
    # (preview's next prose edit re-traces nothing it traced before).
    if (_SHARED is None or _SHARED[1] != root or _SHARED[0] != constants
            or not still_current(_SHARED[2])):
        _SHARED = (constants, root, {})
    return _SHARED[2]


def chapter_annotations(chapter: Chapter, root: Path | None, constants: dict[str, dict],
                        cache: Path | None = None) -> list[dict]:
    """`annotations` of a chapter, remembered on its code cells and inline expressions: the
    prose around them plays no part, so a prose edit re-traces nothing (it was 30-50 ms).
    `cache`: the file (`save_annotations`) that keeps them from one build to the next."""
    doc = chapter.doc
    key = _digest([str(doc.path), [c.source for c in doc.cells], [r.expr for r in doc.refs]])
    shared = _shared(root, constants)
    if cache is not None and cache not in shared.setdefault("loaded", set()):
        shared["loaded"].add(cache)
        _load(shared, cache, root, constants)
    memo = shared.setdefault("annotations", {})
    shared.setdefault("used", set()).add(key)
    if key not in memo:
        global TRACED
        TRACED += 1
        memo[key] = annotations(chapter, tracer(doc, root, constants), constants)
        shared["dirty"] = True
    return memo[key]


_SHARED: tuple[dict, Path | None, dict] | None = None  # the last build's module knowledge
TRACED = 0  # chapters traced by this process: a no-op build after a build traces none
ANNOTATIONS_FORMAT = 1


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _load(shared: dict, cache: Path, root: Path | None, constants: dict[str, dict]) -> None:
    """Seed `shared` with the annotations a previous build stored, when they were traced
    from the same constants and every module file they read is unchanged (else: none)."""
    try:
        entry = unsealed(cache.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return
    try:
        if (entry is None or entry["format"] != ANNOTATIONS_FORMAT or entry["root"] != str(root)
                or entry["constants"] != _digest(constants)):
            return
        stamps = {path: tuple(s) if s is not None else None for path, s in entry["stamps"].items()}
        if not all(of_path(path) == stamp for path, stamp in stamps.items()):
            return  # a module changed: what it was traced from no longer holds
        found = dict(entry["annotations"])
    except (KeyError, TypeError, ValueError):
        return  # an entry of another shape: a miss
    for path, stamp in stamps.items():
        shared.setdefault("stamps", {}).setdefault(path, stamp)
    shared.setdefault("annotations", {}).update(found)


def save_annotations(cache: Path, root: Path | None, constants: dict[str, dict]) -> None:
    """Store this build's annotations (when it traced anything) for the next build; entries
    no build used lately are dropped so the file follows the book, not its history."""
    shared = _shared(root, constants)
    if not shared.get("dirty"):
        return
    memo, used = shared.get("annotations", {}), shared.get("used", set())
    # A one-chapter render keeps the other chapters' entries; a whole-book one sheds the rest.
    keep = memo if len(memo) <= 2 * len(used) + 20 else {k: memo[k] for k in used if k in memo}
    store(cache, sealed({"format": ANNOTATIONS_FORMAT, "root": str(root),
                         "constants": _digest(constants), "stamps": shared.get("stamps", {}),
                         "annotations": keep}))
    shared["dirty"] = False


def causes_of(entries: list[Entry | Shown], tracers: dict[str, Tracer],
              cells: dict[tuple[str, str], CodeCell] | None = None) -> dict[tuple, set[str]]:
    """The constants each entry is computed from, by entry key: an inline value's expression,
    or for a number a cell shows, every name the cell reads."""
    memo: dict[tuple[str, str], set[str]] = {}
    out = {}
    for e in entries:
        shown = isinstance(e, Shown)
        k = (e.chapter, f"[{e.cell}]" if shown else e.expr)
        if k not in memo:
            expr = cell_expression((cells or {}).get((e.chapter, e.cell))) if shown else e.expr
            t = tracers[e.chapter].trace(expr) if expr else None
            # A trace that stopped at names it cannot follow (a loop over a registry, a
            # library call) may have missed a constant: UNTRACED lets drift fall back to the
            # constants the chapter's kernel reached.
            memo[k] = (t.constants | ({UNTRACED} if t.untraced else set())) if t else {UNTRACED}
        out[e.key] = memo[k]
    return out


UNTRACED = "untraced:"  # a cause set's marker: the trace did not reach every name


def cell_expression(cell: CodeCell | None) -> str | None:
    """The names and attribute chains a cell reads, as one tuple expression to trace."""
    if cell is None:
        return None
    try:
        tree = ast.parse(cell.source)
    except SyntaxError:  # IPython magics: nothing to trace
        return None
    chains = {dotted(n) for n in references(tree) if isinstance(getattr(n, "ctx", None), ast.Load)}
    chains.discard(None)
    return f"({', '.join(sorted(chains))},)" if chains else None


def cells_by_name(chapters: list[Chapter], root: Path | None) -> dict[tuple[str, str], CodeCell]:
    """Each chapter's cells by the name the lock gives them: their label, else `#n`."""
    return {(chapter_key(root, ch.source), c.label or f"#{i + 1}"): c
            for ch in chapters for i, c in enumerate(ch.doc.cells)}


def tracers_for(chapters: list[Chapter], root: Path | None,
                constants: dict[str, dict]) -> dict[str, Tracer]:
    return {chapter_key(root, ch.source): tracer(ch.doc, root, constants) for ch in chapters}


def describe(name: str, details: dict[str, dict]) -> str:
    """`NAME = value (source, year)`, with what is known of the constant."""
    d = details.get(name, {})
    where = ", ".join(str(d[k]) for k in ("source", "year") if d.get(k))
    if d.get("defined"):  # no declared source: say where the value is defined
        where = where or f"defined at {d['defined']}"
    return f"{name} = {d.get('value', '?')}" + (f" ({where})" if where else "")


def why(chapters: list[Chapter], root: Path | None, details: dict[str, dict],
        values: dict[tuple[str, str], str], expr: str) -> list[str]:
    """The dependency chain of `expr` down to constants, with values and sources: from the
    chapters that show `expr` inline when there are any, else from every chapter defining it."""
    out: list[str] = []
    showing = [ch for ch in chapters if any(ref.expr == expr for ref in ch.doc.refs)]
    for ch in showing or chapters:
        key = chapter_key(root, ch.source)
        t = tracer(ch.doc, root, details).trace(expr)
        if not t.steps or t.untraced == {expr}:
            continue  # not defined in this chapter
        value = values.get((key, expr))
        out.append(f"{key}: {expr}" + (f" = {value}" if value is not None else ""))
        data = data_files(root, ch.result.dependencies if ch.result is not None else [])
        if data:
            out.append(f"  data the chapter reads: {', '.join(sorted(data))}")
        for depth, name, text in t.steps:
            pad = "  " * (depth + 1)
            out.append(f"{pad}← {describe(name, details)}" if text == "constant"
                       else f"{pad}{name} = {text}")
        if t.untraced:
            out.append(f"  untraced: {', '.join(sorted(t.untraced))}")
        if t.constants:
            out.append(f"  constants: {', '.join(sorted(t.constants))}")
    return out


def annotations(chapter: Chapter, tracer: Tracer, details: dict[str, dict]) -> list[dict]:
    """Per inline reference of `chapter`: its expression and the constants behind it."""
    out = []
    for ref in chapter.doc.refs:
        t = tracer.trace(ref.expr)
        parts = [describe(name, details) for name in sorted(t.constants) if name in details]
        title = f"{ref.expr}" + (" ← " + "; ".join(parts) if parts else "")
        out.append({"index": len(out), "expr": ref.expr, "constants": " ".join(sorted(t.constants)),
                    "title": title})
    return out


def output_cells(root: Path | None, chapters: list[Chapter], expr: str) -> list[tuple[str, str]] | None:
    """(chapter, cell name) of the cells `expr` names: `chapter.qmd:LINE` (a line of the cell,
    or of the include that brings it in) or a cell's label; None when it names neither."""
    place = re.fullmatch(r"(.+\.qmd):(\d+)", expr.strip())
    out = []
    for ch in chapters:
        key = chapter_key(root, ch.source)
        for i, cell in enumerate(ch.doc.cells):
            name = cell.label or f"#{i + 1}"
            if place is None:
                if cell.label == expr:
                    out.append((key, name))
                continue
            if place.group(1) not in (key, display_path(ch.source), str(ch.source)):
                continue
            line = int(place.group(2))
            chain = cell.included_from
            last = cell.line + cell.source.count("\n") + 1  # the closing fence
            if (chain and chain[-1][1] == line) or (not chain and cell.line <= line <= last):
                out.append((key, name))
    return out if out or place is not None else None


def _input_line(cause: str, now, locked) -> str:
    """`reads PATH: size, hash` or `imports NAME VERSION`, with the locked value when it differs."""
    kind, _, name = cause.partition(":")
    if kind == "file":
        size, digest = now.files[name]
        text = f"  reads {name}: {size} bytes, sha256 {digest[:12]}"
        old = (locked.files or {}).get(name) if locked is not None else None
        if old is not None and old != (size, digest):
            text += f"  (locked: {old[0]} bytes, sha256 {old[1][:12]})"
        return text
    text = f"  imports {name} {now.packages[name]}"
    old = (locked.packages or {}).get(name) if locked is not None else None
    return text + (f"  (locked: {old})" if old is not None and old != now.packages[name] else "")


def why_shown(chapters: list[Chapter], root: Path | None, details: dict[str, dict], now,
              locked, shown: list[Shown]) -> list[str]:
    """For one cell's shown numbers: the cell, the files and packages its chapter read, the
    constants its code reaches, then each number with its locked value when that differs."""
    first = shown[0]
    cells = cells_by_name(chapters, root)
    cell = cells.get((first.chapter, first.cell))
    out = [f"{first.place()} cell {first.cell!r}"]
    out += [_input_line(c, now, locked) for c in sorted(now.inputs.get(first.chapter, ()))]
    expr = cell_expression(cell)
    if expr:
        ch = next(c for c in chapters if chapter_key(root, c.source) == first.chapter)
        t = tracer(ch.doc, root, details).trace(expr)
        out += [f"  ← {describe(name, details)}" for name in sorted(t.constants)]
    before = {s.key: s.text for s in (locked.shown or [])} if locked is not None else {}
    for s in shown:
        old = before.get(s.key)
        out.append(f"  {s.at} = {s.text}" + (f"  (locked: {old})" if old not in (None, s.text)
                                               else ""))
    return out
