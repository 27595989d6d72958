"""Execution cache under `.bookbuild/cache/`: one JSON entry per chapter execution.

The key hashes what the kernel sees (code cells with their options, inline expressions) plus the
Python and package versions; the entry lists every file the kernel imported or read, with its
hash, and is valid only while all of them are unchanged. Prose is not part of the key.

A module the chapter imported is hashed without the module-level definitions (`NAME = ...`,
`def`, `class`) that nothing the chapter runs can reach, following names through every imported
module, so editing one constant re-executes only the chapters that depend on it, helpers
included. Whenever the code that remains reaches names dynamically (`getattr`, `vars`,
`globals`, ...) the whole file counts. A definition that may run code as it is defined (a
decorator, base classes or a metaclass, a call in its defaults or class body) can change other
names (a registry it fills), so it is never pruned: like an import or a bare call, it is a root
whose names are always reached. `NAME = call(...)` is pruned with NAME unless the call (followed
through the modules, `bookbuild/analysis/effects.py`) changes a module-level name that the reached code
reads as data: `X = register(...)` appending to a `REGISTRY` a cell reads is then reached. A call
that only records into the callee itself (a constants table's `_c(...)` rows append to `_c`,
which only `_c.bind(globals())` reads) keeps its rows prunable for chapters that never read that
record.

Besides files read, a dependency is a folder the cells listed (hashed as its sorted entry names)
or a file they tried to open while it was absent (`"missing"`, stale once it exists).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import stat
import sys
import threading
from functools import lru_cache
from pathlib import Path

from bookbuild.analysis.effects import NONE as NO_EFFECTS
from bookbuild.analysis.effects import Effects, expr_reads, reads_as_data
from bookbuild.analysis.names import (
    DYNAMIC_ACCESS,
    EVERYTHING,
    expr_tree,
    mentioned,
    module_aliases,
    parse_cell,
)
from bookbuild.kernel.constants import module_source
from bookbuild.model import ExecutionResult
from bookbuild.source.project import CACHE_ENTRIES
from bookbuild.source.qmd import Document
from bookbuild.system.atomic import write_text
from bookbuild.system.cachesweep import touch
from bookbuild.system.stamps import file_sha256, of_stat
from bookbuild.system.store import checksum

FORMAT = 9  # 9: files native code reads are inputs (8: inline values where they stand)
MISSING = "missing"  # the hash of a dependency that does not exist


VERSIONED = ("pint", "bookbuild", "ipykernel", "numpy", "matplotlib")


@lru_cache(maxsize=1)
def _versions() -> dict[str, str]:
    """The interpreter and the installed packages whose change may change outputs."""
    from bookbuild.execution.native import library
    from bookbuild.system.installed import version_of

    # Results recorded without the native recorder lack what native code read: never mixed.
    return {"python": sys.version.split()[0], "cache-format": str(FORMAT),
            "reads": "native" if library() else "python",
            **{pkg: version_of(pkg) for pkg in VERSIONED}}


def key(doc: Document, cwd: Path, plan: str = "") -> str:
    """`plan`: the execution options that change outputs (eval, error, figure formats/size)."""
    material = {
        "plan": plan,
        "cells": [[c.source, c.options] for c in doc.cells],
        "inline": [r.expr for r in doc.refs],
        "cwd": str(cwd),
        "versions": _versions(),
        # the kernel sees QUARTO_PROFILE (Quarto sets it): a cell may compute by edition
        "profile": os.environ.get("QUARTO_PROFILE", ""),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


def _chapter_trees(doc: Document) -> list[ast.Module] | None:
    trees = [parse_cell(c.source) for c in doc.cells] + [expr_tree(r.expr) for r in doc.refs]
    return None if any(t is None for t in trees) else trees


def used_names(doc: Document, modules: set[str] | None = None) -> set[str]:
    """Every name the chapter's cells and inline expressions mention."""
    trees = _chapter_trees(doc)
    if trees is None:
        return {EVERYTHING}
    names: set[str] = set()
    frozen = None if modules is None else frozenset(modules)
    for tree in trees:
        names |= _mentions(tree, frozen)
    return names | ({EVERYTHING} if names & DYNAMIC_ACCESS else set())


# Memos keyed on trees, which `names.parse` and `_module_tree` hand out once per source text or
# file stamp: a preview edit re-analyses only the cells and modules that changed.
@lru_cache(maxsize=4096)
def _mentions(tree: ast.AST, modules: frozenset[str] | None) -> frozenset[str]:
    return frozenset(mentioned(tree, None if modules is None else set(modules)))


@lru_cache(maxsize=4096)
def _aliases(tree: ast.AST, deps: tuple[str, ...]) -> frozenset[str]:
    return frozenset(module_aliases(tree, list(deps)))


@lru_cache(maxsize=256)
def _module_tree(path: str, stamp: tuple[int, ...]) -> ast.Module | None:
    try:
        return ast.parse(Path(path).read_bytes(), path)
    except (OSError, SyntaxError, ValueError):
        return None


def _tree(path: str) -> ast.Module | None:
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return _module_tree(path, of_stat(st)) if path.endswith(".py") else None


def reachable_names(deps: list[str], doc: Document) -> set[str]:
    """Names the chapter can reach: its own, then, to a fixed point, every name mentioned by a
    module statement that binds a reached name or binds nothing (imports, calls, ...), or whose
    call changes a name the reached code reads as data (`X = register(...)` appending to a
    `REGISTRY` that a cell reads: the row is reached, so editing it re-executes the chapter)."""
    with _ANALYSIS:  # the remembered analyses (and their Effects' recursion guard) are shared
        return _reachable_names(deps, doc)


_ANALYSIS = threading.Lock()


def _reachable_names(deps: list[str], doc: Document) -> set[str]:
    trees = tuple(t for t in map(_tree, deps) if t is not None)
    modules: set[str] = set()
    for tree in trees + tuple(_chapter_trees(doc) or ()):
        modules |= _aliases(tree, tuple(deps))
    part = _module_part(trees, frozenset(modules))
    reach = used_names(doc, modules) | part.reach
    state = _chapter_reads(doc, modules) | part.state  # what the reached code reads as data
    if EVERYTHING in reach:
        return reach
    pending = list(part.rows)
    changed = True
    while changed:
        changed = False
        for row in list(pending):
            names, changes, stmt = row
            if names & reach or changes & state:
                pending.remove(row)
                mentions, reads = part.reached(stmt)
                # an effect keeps the row in the hash even if NAME is unread
                reach |= names | mentions
                state |= reads
                changed = True
    return reach


class _ModulePart:
    """What a chapter's modules add to what it reaches: the roots' names and data reads (roots
    bind nothing prunable, so they are always reached), and each prunable definition, whose
    own names and reads are worked out once it is reached, then remembered."""

    def __init__(self, trees: tuple[ast.Module, ...], modules: frozenset[str]) -> None:
        self.modules, self.effects = modules, Effects(list(trees))
        self._memo: dict[ast.stmt, tuple[frozenset[str], frozenset[str]]] = {}
        reach: set[str] = set()
        state: set[str] = set()
        rows = []
        for tree in trees:
            for stmt in tree.body:
                names = bound_by(stmt)
                if names:
                    made = self.effects.of_expr(stmt.value) if isinstance(
                        stmt, (ast.Assign, ast.AnnAssign)) and _calls(stmt.value) else NO_EFFECTS
                    rows.append((frozenset(names), frozenset(made.changes), stmt))
                else:
                    mentions, reads = self.reached(stmt)
                    reach |= mentions
                    state |= reads
        self.reach, self.state, self.rows = frozenset(reach), frozenset(state), tuple(rows)

    def reached(self, stmt: ast.stmt) -> tuple[frozenset[str], frozenset[str]]:
        """The names a statement mentions and what it reads as data (its calls' values may read
        what other rows' calls changed: a counter)."""
        found = self._memo.get(stmt)
        if found is None:
            value = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else None
            reads = self.effects.of_expr(value).reads if value is not None and _calls(value) \
                else set()
            modules = set(self.modules)
            found = self._memo[stmt] = (frozenset(mentioned(stmt, modules)),
                                        frozenset(reads_as_data([stmt], modules) | reads))
        return found


@lru_cache(maxsize=32)
def _module_part(trees: tuple[ast.Module, ...], modules: frozenset[str]) -> _ModulePart:
    """Keyed on the trees themselves: `_module_tree` hands out one per file stamp."""
    return _ModulePart(trees, modules)


def _chapter_reads(doc: Document, modules: set[str]) -> set[str]:
    """What the cells, in order, then the inline expressions read as data from modules."""
    bound: set[str] = set()
    out: set[str] = set()
    for cell in doc.cells:
        tree = parse_cell(cell.source)
        out |= reads_as_data(tree.body, modules, bound) if tree is not None else set()
    for ref in doc.refs:
        tree = expr_tree(ref.expr)
        out |= expr_reads(tree.body, modules, bound) if tree is not None else set()
    return out


def _not_a_file(path: str) -> tuple[bool, str | None]:
    """(True, hash) for a dependency that is no regular file: `MISSING` when absent, its sorted
    entry names when a folder, None when unreadable; (False, None) for a file."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return True, MISSING
    except OSError:
        return True, None
    if not stat.S_ISDIR(st.st_mode):
        return False, None
    try:
        names = "\n".join(sorted(os.listdir(path)))
    except OSError:
        return True, None
    return True, "folder:" + hashlib.sha256(names.encode("utf-8", "surrogateescape")).hexdigest()


def content_hash(path: str) -> str | None:
    """Hash of a dependency's bytes, whole (a folder's entry names; `MISSING` when absent); None
    when it cannot be read. Memoised while the file's mtime, size, inode and ctime hold
    (chapters share their dependencies), except for a file modified in the last two seconds,
    which a same-size edit could change unseen (git's racy clean)."""
    other, digest = _not_a_file(path)
    if other:
        return digest
    try:
        return file_sha256(path, os.stat(path))
    except OSError:
        return None


def file_hash(path: str, used: set[str] | None = None) -> str | None:
    """Content hash of a dependency, leaving out definitions of names nothing reaches (a
    folder's entry names; `MISSING` when absent; None when unreadable)."""
    other, digest = _not_a_file(path)
    if other:
        return digest
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    kept = _kept(path, used)
    if kept is None:
        return hashlib.sha256(data).hexdigest()
    material = "\n".join(kept)
    return hashlib.sha256(material.encode()).hexdigest()


def _kept(path: str, used: set[str] | None) -> list[str] | None:
    """The dumps of the module statements the hash covers; None when it covers the whole file."""
    tree = _tree(path) if used is not None and EVERYTHING not in used else None
    if tree is None:
        return None
    rows = _statements(tree)
    if any("__getattr__" in names for names, _, _ in rows):
        return None  # a module __getattr__ (PEP 562) answers any name from anything in the file
    kept = [row for row in rows if not row[0] or row[0] & used]
    return None if any(dynamic for _, dynamic, _ in kept) else [dump for _, _, dump in kept]


@lru_cache(maxsize=256)
def _statements(tree: ast.Module) -> tuple[tuple[frozenset[str], bool, str], ...]:
    """Each module statement's prunable names, whether it reaches names dynamically, and its
    position-free dump (what the pruned hash covers)."""
    return tuple((frozenset(bound_by(stmt)), bool(mentioned(stmt) & DYNAMIC_ACCESS),
                  ast.dump(stmt, include_attributes=False)) for stmt in tree.body)


def fresh_constants(constants: dict | None, deps: list[str], used: set[str] | None) -> dict:
    """The part of a kernel's constants snapshot that the cache key vouches for.

    A cached chapter is re-used while the definitions it reaches are unchanged, so its
    snapshot of a constant it does not reach may be stale: keep a constant only when its
    defining file is a dependency hashed whole or its name is reached. Applied to fresh
    executions too, so the numbers lock never depends on what happened to be cached.
    """
    if not isinstance(constants, dict):
        return {}
    whole = {p for p in deps if _kept(p, used) is None}
    return {k: d for k, d in constants.items() if isinstance(d, dict) and (
        used is None or EVERYTHING in used or d.get("path") in whole
        or str(d.get("name", "")).split(".")[0] in used)}


def relocated(constants: dict) -> dict:
    """A cached constants snapshot with each "defined at file:line" read from the file as it is
    now: the pruned hashes ignore positions (so lines added above a constant re-execute
    nothing), hence the line a snapshot stored may have moved since."""
    for d in constants.values():
        if isinstance(d, dict) and isinstance(d.get("path"), str) and d.get("name"):
            if os.path.exists(d["path"]):
                d["line"] = module_source(d["path"]).line_of(str(d["name"]).split("."))
                if "file" in d:
                    d["defined"] = f"{d['file']}:{d['line']}"
    return constants


def bound_by(stmt: ast.stmt) -> set[str]:
    """Names a prunable module statement defines (`NAME = ...`, `def`, `class`); empty for a
    statement that binds nothing or may run code as it is defined (a root, never pruned)."""
    if _runs_code(stmt):
        return set()
    if isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets):
        return {t.id for t in stmt.targets}
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value:
        return {stmt.target.id}
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    return set()


def _runs_code(stmt: ast.stmt) -> bool:
    """Whether defining `stmt` may run code with effects beyond the name it binds: decorators,
    base classes or class keywords (`__init_subclass__`, a metaclass), or a call among what
    Python evaluates at definition time (defaults, annotations, a class body)."""
    if isinstance(stmt, ast.ClassDef):
        defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        return bool(stmt.decorator_list or stmt.bases or stmt.keywords) or any(
            _runs_code(s) or (not isinstance(s, defs) and _calls(s)) for s in stmt.body)
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        a = stmt.args
        evaluated = [*a.defaults, *(d for d in a.kw_defaults if d is not None), stmt.returns,
                     *(x.annotation for x in [*a.posonlyargs, *a.args, *a.kwonlyargs,
                                              a.vararg, a.kwarg] if x is not None)]
        return bool(stmt.decorator_list) or any(_calls(e) for e in evaluated if e is not None)
    return False  # `NAME = call(...)`: assumed to bind only NAME (constant tables are calls)


# Builtins whose call has no effect beyond its value (a module rebinding one is not looked for).
PURE = frozenset({"abs", "bool", "dict", "dir", "float", "frozenset", "globals", "int", "len",
                  "list", "locals", "max", "min", "range", "round", "set", "sorted", "str", "sum",
                  "tuple", "vars"})


def _calls(node: ast.AST) -> bool:
    """Whether evaluating `node` calls anything but a pure builtin."""
    return any(isinstance(n, ast.Call) and not (isinstance(n.func, ast.Name) and n.func.id in PURE)
               for n in ast.walk(node))


class Cache:
    def __init__(self, root: Path) -> None:
        self.dir = root / CACHE_ENTRIES

    def get(self, k: str, doc: Document | None = None) -> ExecutionResult | None:
        """The stored result if it reads cleanly, its checksum holds and no dependency changed."""
        try:
            path = self.dir / f"{k}.json"
            raw = json.loads(path.read_text(encoding="utf-8"))
            entry = raw["entry"]
            if raw["sha256"] != checksum(entry):
                return None  # edited or damaged: a miss, never published
            deps = entry["dependencies"]
            contents = entry.get("contents")
            if doc is not None and isinstance(contents, dict) and contents.keys() == deps.keys() \
                    and all(content_hash(p) == h for p, h in contents.items()):
                # Every dependency byte for byte as when stored: the names reached, hence the
                # pruned hashes and the constants kept, are what they were (no AST walk needed).
                touch(path)  # used: the last to be swept (cachesweep)
                return ExecutionResult(entry["outputs"], entry["inline"], list(deps),
                                       relocated(entry.get("constants") or {}))
            used = reachable_names(list(deps), doc) if doc is not None else None
            if any(file_hash(p, used) != h for p, h in deps.items()):
                return None
            result = ExecutionResult(entry["outputs"], entry["inline"], list(deps),
                                     relocated(fresh_constants(entry.get("constants"),
                                                               list(deps), used)))
            if doc is not None:  # still valid: store it afresh, so the next get takes the fast path
                self.put(k, ExecutionResult(result.outputs, result.inline, result.dependencies,
                                            dict(result.constants)), doc)
            return result
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a missing or unreadable entry is a miss

    def put(self, k: str, result: ExecutionResult, doc: Document | None = None) -> list[str]:
        """Store `result` under the inputs it was computed from; when a file it read changed
        while the chapter ran, store nothing and return those files (hashing them now would
        file the old result under the new content)."""
        moved = changed_while_running(result.stamps)
        if moved:
            return moved
        used = reachable_names(result.dependencies, doc) if doc is not None else None
        deps = {p: file_hash(p, used) for p in result.dependencies}
        result.constants = fresh_constants(result.constants, result.dependencies, used)
        entry = {"outputs": result.outputs, "inline": result.inline, "dependencies": deps,
                 "constants": result.constants}
        if doc is not None:  # stored pruned for this document: the fast path of get()
            entry["contents"] = {p: content_hash(p) for p in result.dependencies}
        write_text(self.dir / f"{k}.json", json.dumps({"sha256": checksum(entry), "entry": entry}))
        return []


def seed(cache_dir: Path, k_from: str, k_to: str, old_root: Path, new_root: Path) -> bool:
    """Copy the entry stored for a chapter run in `old_root` to its key in `new_root` (a
    worktree of another revision), with the paths of what it read moved there too. `get`
    then hashes the worktree's own files, so a revision whose inputs differ still misses."""
    source, target = cache_dir / CACHE_ENTRIES / f"{k_from}.json", cache_dir / CACHE_ENTRIES / f"{k_to}.json"
    if target.exists():
        return False
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
        if raw["sha256"] != checksum(raw["entry"]):
            return False
    except (OSError, ValueError, KeyError, TypeError):
        return False
    # Paths are JSON strings: moving the quoted prefix moves exactly the paths under old_root.
    text = json.dumps(raw["entry"]).replace(json.dumps(str(old_root) + os.sep)[:-1],
                                            json.dumps(str(new_root) + os.sep)[:-1])
    entry = json.loads(text)
    write_text(target, json.dumps({"sha256": checksum(entry), "entry": entry}))
    return True


# An mtime is taken from a clock that ticks every few milliseconds: a file whose mtime is this
# close to the moment it was opened may have been written again within the same tick, unseen.
RACY_OPEN_NS = 50_000_000


def changed_while_running(stamps: dict[str, list[int]]) -> list[str]:
    """The files whose stamp now differs from the one taken when the chapter first opened them,
    or that were modified too close to that moment to tell (see RACY_OPEN_NS)."""
    out = []
    for path, stamp in sorted(stamps.items()):
        if len(stamp) != 5:
            continue
        try:
            now = list(of_stat(os.stat(path)))
        except FileNotFoundError:
            now = [-1, -1, -1, -1]  # as an absent file is stamped: it must still be absent
        except OSError:
            now = []
        if now != stamp[:4] or stamp[0] >= stamp[4] - RACY_OPEN_NS:
            out.append(path)
    return out

