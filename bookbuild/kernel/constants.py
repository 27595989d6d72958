"""Inside the chapter's kernel: every constant of every project-local module the cells imported.

A constant is a module-level name bound by an assignment in a project-local module to a pint
Quantity or a real number, or an attribute chain of such a value inside classes and instances
defined there (`Hardware.Cloud.A100.peak_flops`). A module with a `__sources__` mapping declares
its constants itself (name or chain -> source, year, kind); see README, "The sources protocol".
Runs only when the kernel is asked for the snapshot, so chapter start-up never pays for it.
"""

from __future__ import annotations

import ast
import numbers
import os
import sys
from collections.abc import Mapping
from functools import lru_cache

from bookbuild.analysis.names import defined_names
from bookbuild.kernel.paths import module_path
from bookbuild.system.stamps import memo_stamp

MAX_DEPTH = 6  # attribute chains deeper than this are not registries but object graphs
PSEUDO = ("/proc/", "/sys/", "/dev/")


def project_root() -> str:
    """The folder holding `_quarto.yml` above the kernel's working directory, else that directory."""
    start = os.path.realpath(os.getcwd())
    d = start
    while True:
        if os.path.isfile(os.path.join(d, "_quarto.yml")):
            return d + os.sep
        parent = os.path.dirname(d)
        if parent == d:
            return start + os.sep
        d = parent


def local_modules(root: str, excluded: tuple[str, ...]) -> dict[str, object]:
    """Modules whose file lies under the project root, outside venvs and site-packages."""
    out = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.endswith(".py"):
            continue
        path = module_path(path)
        parts = path.split(os.sep)
        if (path.startswith(root) and not path.startswith(excluded)
                and "site-packages" not in parts and "dist-packages" not in parts):
            out[name] = module
    return out


def is_constant_value(value: object) -> bool:
    if isinstance(value, type) or isinstance(value, bool):
        return False
    if isinstance(value, numbers.Real):
        return True
    return (hasattr(value, "magnitude") and hasattr(value, "units")
            and isinstance(getattr(value, "magnitude", None), numbers.Real))


def value_text(value: object) -> str:
    """`magnitude!r units` (units abbreviated as pint prints them), or the number's repr."""
    if hasattr(value, "magnitude") and hasattr(value, "units"):
        return f"{_plain(value.magnitude)!r} {value.units:~P}".strip()
    return repr(_plain(value))


def _plain(x):
    return x.item() if hasattr(x, "item") and not isinstance(x, (int, float)) else x


class ModuleSource:
    """A module's AST, for the lines where names and chains are defined."""

    def __init__(self, path: str) -> None:
        try:
            with open(path, "rb") as f:
                self.tree = ast.parse(f.read(), path)
        except (OSError, SyntaxError, ValueError):
            self.tree = ast.Module(body=[], type_ignores=[])

    def assigned(self) -> dict[str, int]:
        """Module-level names bound by assignment or class definition (not by import), with lines."""
        out: dict[str, int] = {}
        for stmt in _flat(self.tree.body):
            for name in defined_names(stmt):
                out[name] = stmt.lineno
        return out

    def line_of(self, chain: list[str]) -> int:
        """The line defining `A.b.c`: class bodies, then keyword arguments of constructor calls."""
        # Memoised: every cache hit of every chapter asks again for the same constants' lines.
        memo = self.__dict__.setdefault("_lines", {})
        key = tuple(chain)
        if key not in memo:
            memo[key] = self._line_of(chain)
        return memo[key]

    def _line_of(self, chain: list[str]) -> int:
        body, line, call = self.tree.body, 0, None
        for part in chain:
            found = None
            if call is not None:
                found = next((k.value for k in call.keywords if k.arg == part), None)
                line = found.lineno if found is not None else line
                call = found if isinstance(found, ast.Call) else None
                if found is None:
                    return line
                continue
            for stmt in _flat(body):
                if part in defined_names(stmt):
                    found = stmt
            if found is None:
                return line
            line = found.lineno
            if isinstance(found, ast.ClassDef):
                body = found.body
            else:
                value = getattr(found, "value", None)
                call = value if isinstance(value, ast.Call) else None
                body = []
        return line


def module_source(path: str) -> ModuleSource:
    """The module's source as it is now, parsed once per file stamp (the warm template parses
    its modules' once for every chapter forked from it), except a file modified in the last two
    seconds, which a same-size edit could change unseen; an unreadable file has no definitions."""
    try:
        stamp = memo_stamp(os.stat(path))
    except OSError:
        stamp = None
    return ModuleSource(path) if stamp is None else _module_source(path, stamp)


@lru_cache(maxsize=256)
def _module_source(path: str, stamp: tuple[int, ...]) -> ModuleSource:
    return ModuleSource(path)


def _flat(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements of a body, looking into module-level if/try blocks."""
    out = []
    for stmt in body:
        if isinstance(stmt, (ast.If, ast.Try)):
            out += _flat(stmt.body + stmt.orelse + getattr(stmt, "finalbody", []))
        else:
            out.append(stmt)
    return out


def _meta(entry: object) -> dict:
    """source/year/kind/detail from a `__sources__` value: a mapping or an object with attributes."""
    out = {}
    for k in ("source", "year", "kind", "detail"):
        v = entry.get(k) if isinstance(entry, Mapping) else getattr(entry, k, None)
        if v not in (None, ""):
            out[k] = v if isinstance(v, (int, float)) else str(v)
    return out


def _walk(obj: object, chain: list[str], owner: str, seen: set[int], out: list) -> None:
    """Constants inside classes and instances defined in module `owner` (a registry)."""
    if len(chain) > MAX_DEPTH or id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, type):
        if obj.__module__ != owner:
            return
        items = [(k, v) for k, v in vars(obj).items() if not k.startswith("_")]
    elif type(obj).__module__ == owner and hasattr(obj, "__dict__"):
        items = [(k, v) for k, v in vars(obj).items() if not k.startswith("_")]
    else:
        return
    for k, v in items:
        if is_constant_value(v):
            out.append(([*chain, k], v))
        elif not callable(v) or isinstance(v, type):
            _walk(v, [*chain, k], owner, seen, out)


def module_constants(name: str, module: object) -> list[tuple[list[str], object, dict]]:
    """(chain, value, declared metadata) for each constant of one module."""
    declared = getattr(module, "__sources__", None)
    if isinstance(declared, Mapping):
        out = []
        for key, entry in declared.items():
            chain, value = str(key).split("."), module
            try:
                for part in chain:
                    value = getattr(value, part)
            except AttributeError:
                continue  # declared but absent: nothing to lock
            if is_constant_value(value):
                out.append((chain, value, {**_meta(entry), "declared": True}))
        return out
    source = module_source(module.__file__)
    out = []
    namespace = vars(module)
    for attr in source.assigned():
        if attr.startswith("_") or attr not in namespace:
            continue
        value = namespace[attr]
        if is_constant_value(value):
            out.append(([attr], value, {}))
        else:
            found: list = []
            _walk(value, [attr], name, set(), found)
            out += [(chain, v, {}) for chain, v in found]
    return out


def snapshot(excluded: tuple[str, ...], only: set[str] | None = None) -> dict[str, dict]:
    """Every constant by lock key: the name as cells use it, `module:name` on a collision.

    `only`: the module names the chapter used (a warm kernel holds modules it never imported)."""
    root = project_root()
    found: list[tuple[str, str, dict]] = []
    for name, module in sorted(local_modules(root, excluded).items()):
        if only is not None and name not in only:
            continue
        try:
            items = module_constants(name, module)
        except Exception:  # noqa: BLE001  one odd module must not hide the others' constants
            continue
        if not items:
            continue
        path = module_path(module.__file__)
        rel = os.path.relpath(path, root).replace(os.sep, "/")
        lines = module_source(path)
        for chain, value, meta in items:
            qual = ".".join(chain)
            record = {"value": value_text(value), "module": name, "name": qual, "file": rel,
                      "path": path,
                      "line": lines.line_of(chain), **meta}
            record["defined"] = f"{rel}:{record['line']}"
            found.append((qual, name, record))
    counts: dict[str, int] = {}
    for qual, _, _ in found:
        counts[qual] = counts.get(qual, 0) + 1
    return {(qual if counts[qual] == 1 else f"{module}:{qual}"): record
            for qual, module, record in found}
