"""Where a number comes from: the constants behind each inline value, and their sources.

Uses the static trace (`trace.py`) and the constants snapshot that the chapter kernels took;
never executes anything itself and never writes the lock.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from bookbuild.chapters import Chapter, chapter_key
from bookbuild.lock import Entry
from bookbuild.names import ModuleNames, search_roots
from bookbuild.trace import Tracer, still_current


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


def chapter_annotations(chapter: Chapter, root: Path | None,
                        constants: dict[str, dict]) -> list[dict]:
    """`annotations` of a chapter, remembered on its code cells and inline expressions: the
    prose around them plays no part, so a prose edit re-traces nothing (it was 30-50 ms)."""
    doc = chapter.doc
    key = (doc.path, tuple(c.source for c in doc.cells), tuple(r.expr for r in doc.refs))
    memo = _shared(root, constants).setdefault("annotations", {})
    if key not in memo:
        memo[key] = annotations(chapter, tracer(doc, root, constants), constants)
    return memo[key]


_SHARED: tuple[dict, Path | None, dict] | None = None  # the last build's module knowledge


def causes_of(entries: list[Entry], tracers: dict[str, Tracer]) -> dict[tuple[str, str, int], set[str]]:
    """The constants each entry's expression is computed from, by entry key."""
    memo: dict[tuple[str, str], set[str]] = {}
    out = {}
    for e in entries:
        k = (e.chapter, e.expr)
        if k not in memo:
            memo[k] = tracers[e.chapter].trace(e.expr).constants
        out[e.key] = memo[k]
    return out


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
        data = data_files(ch, root)
        if data:
            out.append(f"  data the chapter reads: {', '.join(data)}")
        for depth, name, text in t.steps:
            pad = "  " * (depth + 1)
            out.append(f"{pad}← {describe(name, details)}" if text == "constant"
                       else f"{pad}{name} = {text}")
        if t.untraced:
            out.append(f"  untraced: {', '.join(sorted(t.untraced))}")
        if t.constants:
            out.append(f"  constants: {', '.join(sorted(t.constants))}")
    return out


def data_files(chapter: Chapter, root: Path | None) -> list[str]:
    """The files in the project that a chapter's kernel read, other than Python modules (display
    paths): the data its numbers may come from (caches in the home folder are left out)."""
    from bookbuild.errors import display_path

    deps = chapter.result.dependencies if chapter.result is not None else []
    inside = str(root) + os.sep if root is not None else ""
    venvs = tuple({os.path.join(p, "") for p in (sys.prefix, sys.base_prefix)})
    return [display_path(p) for p in sorted(deps) if p.startswith(inside)
            and not p.startswith(venvs) and not p.endswith(".py") and os.path.isfile(p)
            and ".egg-info" + os.sep not in p and ".dist-info" + os.sep not in p]


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
