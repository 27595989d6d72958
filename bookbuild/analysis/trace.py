"""Static dependency trace: from an inline expression down to the constants it is computed from.

Works on the `ast` of the cells and of the project-local modules they import, never runs them:
a class attribute leads to the names on its right-hand side, those to other attributes,
module-level names and imported names, through any depth and across cells, into modules
(`from m import x`, `import m`, `from m import *`, re-exports, helper functions' bodies, derived
module-level values) until constants are reached. Constants are those the kernels discovered
(`bookbuild/kernel/constants.py`), matched by defining file and name. A name the trace cannot
follow is kept as *untraced*, never guessed.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from bookbuild.analysis.names import (
    BUILTIN_NAMES,
    ModuleNames,
    absolute_module,
    block_targets,
    bound_names,
    defined_names,
    dotted,
    expression_locals,
    parse,
    parse_expr,
    python_source,
    references,
)
from bookbuild.source.qmd import CodeCell, Document
from bookbuild.system.stamps import of_path


@dataclass
class Definition:
    """What a name or class attribute was last assigned from."""

    key: str  # "name" or "Class.attr"
    expr: ast.AST | None  # right-hand side; None for a name bound by a loop, `with`, ...
    cell: CodeCell
    line: int
    owner: str | None = None  # the class whose body binds it


@dataclass
class Trace:
    """The result for one expression: constants reached, the steps, what could not be followed."""

    expr: str
    constants: set[str] = field(default_factory=set)
    steps: list[tuple[int, str, str]] = field(default_factory=list)  # (depth, key, source text)
    untraced: set[str] = field(default_factory=set)


class Tracer:
    """Builds a definition table for one document and traces expressions through it.

    `constants` is the kernels' snapshot (lock key -> record with `file`, `name`, `declared`);
    a bare set of names (no records) still traces the cells but reaches no module constant.
    """

    def __init__(self, doc: Document, modules: ModuleNames,
                 constants: Mapping[str, dict] | set[str], root: Path | None = None,
                 shared: dict | None = None) -> None:
        self.doc = doc
        self.details = constants if isinstance(constants, Mapping) else {}
        self.constants = set(constants)
        self.root = (root or (modules.roots[0] if modules.roots else Path.cwd())).resolve()
        self.origins: dict[tuple[str, str], str] = {
            (d["file"], d["name"]): k for k, d in self.details.items()
            if isinstance(d, dict) and "file" in d and "name" in d}
        self.defs: dict[str, Definition] = {}
        self.imports: dict[str, tuple[str, str, str]] = {}  # local -> (kind, module, name)
        self.functions: dict[str, ast.AST] = {}
        self.classes: set[str] = set()
        self.modules = modules
        # What modules hold does not depend on the chapter: tracers built for the same
        # constants share it (`shared`), and every expression re-reads the same helpers.
        shared = {} if shared is None else shared
        self._scopes: dict[str, ModuleScope | None] = shared.setdefault("scopes", {})
        self._memo: dict[tuple[str, tuple[str, ...]], Trace] = shared.setdefault("memo", {})
        self._busy: set[tuple[str, tuple[str, ...]]] = set()
        # Keyed by node id, the node kept alive with its entry.
        self._refs: dict[int, tuple[ast.AST, list[ast.AST]]] = shared.setdefault("refs", {})
        self._locals: dict[int, tuple[ast.AST, frozenset[str]]] = shared.setdefault("locals", {})
        # What the shared knowledge was read from: `still_current` tells a later build whether
        # it may reuse it (preview's next prose edit) or must start afresh.
        self._stamps: dict[str, tuple[int, ...] | None] = shared.setdefault("stamps", {})
        for cell in doc.cells:
            try:
                tree = parse(python_source(cell.source))
            except SyntaxError:
                continue
            self._collect(tree.body, cell, None)

    # --- definitions --------------------------------------------------------------------
    def _collect(self, body: list[ast.stmt], cell: CodeCell, owner: str | None) -> None:
        for stmt in body:
            line = cell.first_line + stmt.lineno - 1
            prefix = f"{owner}." if owner else ""
            if isinstance(stmt, ast.ImportFrom):
                self._import_from(stmt)
            elif isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    if alias.asname:
                        self.imports[alias.asname] = ("module", alias.name, "")
                    else:
                        top = alias.name.split(".")[0]
                        self.imports[top] = ("module", top, "")
            elif isinstance(stmt, ast.ClassDef):
                self.classes.add(prefix + stmt.name)
                self._collect(stmt.body, cell, prefix + stmt.name)
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[prefix + stmt.name] = stmt
            elif isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    self._bind(target, stmt.value, cell, line, owner)
            elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) and stmt.value is not None:
                value = self._augmented(stmt) if isinstance(stmt, ast.AugAssign) else stmt.value
                self._bind(stmt.target, value, cell, line, owner)
            elif isinstance(stmt, (ast.For, ast.While, ast.If, ast.With, ast.Try)):
                for name in block_targets(stmt):
                    self.defs.setdefault(prefix + name, Definition(prefix + name, None, cell, line, owner))
                self._collect([s for s in ast.iter_child_nodes(stmt) if isinstance(s, ast.stmt)],
                              cell, owner)

    def _augmented(self, stmt: ast.AugAssign) -> ast.AST:
        """`x += v` as `x = x + v`: it depends on x's earlier value and v (`_bind` carries a
        name's earlier value in; an attribute's is carried here)."""
        if not isinstance(stmt.target, ast.Name):
            earlier = self.defs.get(dotted(stmt.target) or "")
            if earlier is not None and earlier.expr is not None:
                return ast.BinOp(left=earlier.expr, op=stmt.op, right=stmt.value)
        return ast.BinOp(left=_load(stmt.target), op=stmt.op, right=stmt.value)

    def _import_from(self, stmt: ast.ImportFrom) -> None:
        """Names a `from m import ...` binds, remembered with the module they come from."""
        module = stmt.module or ""
        for alias in stmt.names:
            if alias.name == "*":
                for name in self.modules.public_names(module) or set():
                    self.imports[name] = ("from", module, name)
                continue
            self.imports[alias.asname or alias.name] = ("from", module, alias.name)

    def _bind(self, target: ast.AST, value: ast.AST, cell: CodeCell, line: int, owner: str | None) -> None:
        prefix = f"{owner}." if owner else ""
        if isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
                for t, v in zip(target.elts, value.elts, strict=True):
                    self._bind(t, v, cell, line, owner)
            else:
                for t in target.elts:
                    self._bind(t, value, cell, line, owner)
        elif isinstance(target, ast.Name):
            earlier = self.defs.get(prefix + target.id)
            if earlier is not None and earlier.expr is not None:
                value = carried(target.id, value, earlier.expr)
            self.defs[prefix + target.id] = Definition(prefix + target.id, value, cell, line, owner)
        elif isinstance(target, ast.Attribute):
            key = dotted(target)
            if key:
                self.defs[key] = Definition(key, value, cell, line, None)

    # --- tracing ------------------------------------------------------------------------
    def trace(self, expr: str) -> Trace:
        result = Trace(expr)
        try:
            tree = parse_expr(expr)
        except SyntaxError:
            result.untraced.add(expr)
            return result
        seen: set[str] = set()
        self._follow(tree.body, None, 0, result, seen)
        return result

    def _resolve(self, node: ast.AST, owner: str | None) -> str | None:
        """The definition key a Name or attribute chain refers to, seen from class `owner`."""
        chain = dotted(node)
        if chain is None:
            return None
        head = chain.split(".")[0]
        if owner and f"{owner}.{head}" in self.defs:  # class bodies see their earlier attributes
            return f"{owner}.{chain}"
        return chain

    def _references(self, node: ast.AST) -> list[ast.AST]:
        if id(node) not in self._refs:
            self._refs[id(node)] = (node, list(references(node)))
        return self._refs[id(node)][1]

    def _follow(self, node: ast.AST, owner: str | None, depth: int, out: Trace, seen: set[str],
                local: frozenset[str] = frozenset()) -> None:
        for ref in self._references(node):
            key = self._resolve(ref, owner)
            if key is None or key.split(".")[0] in local:
                continue
            self._follow_key(key, depth, out, seen)

    def _follow_key(self, key: str, depth: int, out: Trace, seen: set[str]) -> None:
        head, _, rest = key.partition(".")
        if key in self.defs:
            if key in seen:
                return
            seen.add(key)
            d = self.defs[key]
            if d.expr is None:
                out.untraced.add(key)
                out.steps.append((depth, key, "(bound by a loop or block: not traced)"))
                return
            out.steps.append((depth, key, ast.unparse(d.expr)))
            self._follow(d.expr, d.owner, depth + 1, out, seen)
            return
        if head in self.imports:
            kind, module, name = self.imports[head]
            parts = rest.split(".") if rest else []
            if kind == "from":
                self._module_chain(module, [name, *parts], depth, out, seen)
            elif parts:
                self._module_chain(module, parts, depth, out, seen)
            return
        if key in self.functions or head in self.functions:
            fn = self.functions.get(key) or self.functions[head]
            if f"def:{key}" not in seen:
                seen.add(f"def:{key}")
                self._follow_body(fn, None, depth, out, seen)
            return
        if head in BUILTIN_NAMES:
            return
        if "." in key and key.rsplit(".", 1)[0] in self.defs:
            # an attribute of a traced value (q.magnitude): follow the value
            self._follow_key(key.rsplit(".", 1)[0], depth, out, seen)
            return
        if head in self.classes or key in self.classes:
            return  # a class object itself, used as a namespace
        out.untraced.add(key)
        out.steps.append((depth, key, "(not defined in this chapter: not traced)"))

    def _follow_body(self, fn: ast.AST, scope: ModuleScope | None, depth: int, out: Trace,
                     seen: set[str]) -> None:
        """The free names of a function's body: what it reads from its module."""
        if id(fn) not in self._locals:
            self._locals[id(fn)] = (fn, frozenset(_function_locals(fn) | expression_locals(fn)))
        local = self._locals[id(fn)][1]
        for stmt in fn.body:
            if scope is None:
                self._follow(stmt, None, depth, out, seen, local)
            else:
                self._module_expr(scope, stmt, depth, out, seen, local)

    # --- into project-local modules -----------------------------------------------------
    def _local_module(self, module: str) -> ModuleScope | None:
        """The module's scope when it is project-local (our book's code, not a library)."""
        if module not in self._scopes:
            self._scopes[module] = self._find_local(module)
        return self._scopes[module]

    def _find_local(self, module: str) -> ModuleScope | None:
        path = self.modules.find(module) if module else None
        # A module file added or removed where `find` looks changes what it returns. Each place
        # is stamped, not its folder: a folder's stamp moves with every file written beside
        # (the build's own output, an editor's save), which would forget all on every edit.
        for root in self.modules.roots:
            base = root.joinpath(*module.split("."))
            for candidate in (str(base) + ".py", str(base / "__init__.py")):
                self._stamps.setdefault(candidate, of_path(candidate))
        if path is None:
            return None
        self._stamps[str(path)] = of_path(str(path))
        path = path.resolve()
        try:
            rel = path.relative_to(self.root).as_posix()
        except ValueError:
            return None
        if {"site-packages", "dist-packages"} & set(path.parts) or any(
                (p / "pyvenv.cfg").is_file() for p in path.parents if self.root in p.parents):
            return None
        return _scope(str(path), module, rel)

    def _constant(self, key: str, depth: int, out: Trace) -> None:
        if key not in out.constants:
            out.constants.add(key)
            out.steps.append((depth, key, "constant"))

    def _module_chain(self, module: str, parts: list[str], depth: int, out: Trace,
                      seen: set[str]) -> None:
        """Follow `module.parts[0].parts[1]...` to the constants it is, holds or is computed from.

        Memoized per tracer: every expression of a chapter reaches the same helpers."""
        memo_key = (module, tuple(parts))
        sub = self._memo.get(memo_key)
        if sub is None:
            if memo_key in self._busy:
                return  # an import cycle: the outer visit covers it
            self._busy.add(memo_key)
            sub = Trace("")
            try:
                self._module_chain_once(module, parts, 0, sub, set())
            finally:
                self._busy.discard(memo_key)
            self._memo[memo_key] = sub
        for d, key, text in sub.steps:
            if text != "constant" or key not in out.constants:
                out.steps.append((depth + d, key, text))
            if text == "constant":
                out.constants.add(key)
        out.constants |= sub.constants
        out.untraced |= sub.untraced

    def _module_chain_once(self, module: str, parts: list[str], depth: int, out: Trace,
                           seen: set[str]) -> None:
        scope = self._local_module(module)
        if scope is None or not parts:
            return  # a library (pint, numpy, ...) is code, not the book's data
        for i in range(len(parts), 0, -1):
            key = self.origins.get((scope.rel, ".".join(parts[:i])))
            if key is not None:
                self._constant(key, depth, out)
                if not self.details[key].get("declared"):
                    self._module_binding(scope, parts[:i], depth + 1, out, seen)
                return
        prefix = ".".join(parts) + "."
        below = sorted(k for (f, q), k in self.origins.items() if f == scope.rel and q.startswith(prefix))
        if below:  # a registry object: every constant it holds
            for key in below:
                self._constant(key, depth, out)
            return
        self._module_binding(scope, parts, depth, out, seen)

    def _module_binding(self, scope: ModuleScope, parts: list[str], depth: int, out: Trace,
                        seen: set[str]) -> None:
        mark = f"{scope.module}:{'.'.join(parts)}"
        if mark in seen:
            return
        seen.add(mark)
        kind, node = scope.binding(parts[0], self.modules)
        first = len(out.steps)
        found = len(out.constants)
        if kind == "from" and node[0] == scope.module:
            # `from . import part` in a package's __init__: the submodule, not this binding again
            self._module_chain(f"{scope.module}.{node[1]}", parts[1:], depth, out, seen)
        elif kind == "from":
            self._module_chain(node[0], [node[1], *parts[1:]], depth, out, seen)
        elif kind == "module":
            self._module_chain(node, parts[1:], depth, out, seen)
        elif kind == "submodule":
            self._module_chain(f"{scope.module}.{parts[0]}", parts[1:], depth, out, seen)
        elif kind == "def":
            self._follow_body(node, scope, depth, out, seen)
        elif kind == "class":
            self._class_chain(scope, node, parts, depth, out, seen)
        elif kind == "assign":
            value = _keyword(node.value, parts[1]) if len(parts) > 1 else None
            value = value or node.value
            out.steps.append((depth, f"{scope.module}.{'.'.join(parts)}",
                              f"{ast.unparse(value)}  ({scope.rel}:{node.lineno})"))
            self._module_expr(scope, value, depth + 1, out, seen)
        elif parts[0] not in BUILTIN_NAMES and not parts[0].startswith("__"):
            name = f"{scope.module}.{'.'.join(parts)}"
            out.untraced.add(name)
            out.steps.append((depth, name, f"(not found in {scope.rel}: not traced)"))
        if len(out.constants) == found:
            # Code that reached no constant (formatting helpers, unit registries, the literal
            # behind a constant): not a step of the chain.
            kept = [s for s in out.steps[first:] if s[2].startswith("(")]
            del out.steps[first:]
            out.steps += kept

    def _class_chain(self, scope: ModuleScope, cls: ast.ClassDef, parts: list[str], depth: int,
                     out: Trace, seen: set[str], outer: tuple[str, ...] = ()) -> None:
        """`Registry.Cloud.A100.x` through nested class bodies defined in a module.

        `outer` holds the enclosing classes' names, so a step is named as the author wrote it."""
        if len(parts) == 1:
            return  # the class itself (called or passed): its instances are traced where made
        body = _class_body(cls)
        stmt = body.get(parts[1])
        if stmt is None:
            return
        if isinstance(stmt, ast.ClassDef):
            self._class_chain(scope, stmt, parts[1:], depth, out, seen, (*outer, parts[0]))
            return
        value = getattr(stmt, "value", None)
        if value is None:
            return
        value = (_keyword(value, parts[2]) if len(parts) > 2 else None) or value
        out.steps.append((depth, f"{scope.module}.{'.'.join((*outer, *parts))}",
                          f"{ast.unparse(value)}  ({scope.rel}:{stmt.lineno})"))
        for ref in self._references(value):
            chain = (dotted(ref) or "").split(".")
            if chain[0] in body and chain[0] != parts[1]:
                self._class_chain(scope, cls, [parts[0], *chain], depth + 1, out, seen, outer)
            elif chain[0]:
                self._module_chain(scope.module, chain, depth + 1, out, seen)

    def _module_expr(self, scope: ModuleScope, node: ast.AST, depth: int, out: Trace,
                     seen: set[str], local: frozenset[str] = frozenset()) -> None:
        for ref in self._references(node):
            chain = dotted(ref)
            if chain is None or chain.split(".")[0] in local:
                continue
            self._module_chain(scope.module, chain.split("."), depth, out, seen)


class ModuleScope:
    """What a module's top level binds, read from its source."""

    def __init__(self, path: str, module: str, rel: str, tree: ast.Module) -> None:
        self.module, self.rel = module, rel
        self.package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
        self.bindings: dict[str, tuple[str, object]] = {}
        self.stars: list[str] = []
        for stmt in tree.body:
            self._add(stmt)

    def _add(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.ImportFrom):
            source = absolute_module(stmt.module, stmt.level, self.package)
            for a in stmt.names:
                if a.name == "*":
                    self.stars.append(source)
                else:
                    self.bindings[a.asname or a.name] = ("from", (source, a.name))
        elif isinstance(stmt, ast.Import):
            for a in stmt.names:
                local = a.asname or a.name.split(".")[0]
                self.bindings[local] = ("module", a.name if a.asname else local)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.bindings[stmt.name] = ("def", stmt)
        elif isinstance(stmt, ast.ClassDef):
            self.bindings[stmt.name] = ("class", stmt)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            for name in defined_names(stmt):
                earlier = self.bindings.get(name)
                if earlier is not None and earlier[0] == "assign":
                    stmt = _rebound(stmt, name, earlier[1].value)
                self.bindings[name] = ("assign", stmt)
        elif isinstance(stmt, (ast.If, ast.Try)):
            for child in stmt.body + stmt.orelse + getattr(stmt, "finalbody", []):
                self._add(child)

    def binding(self, name: str, modules: ModuleNames) -> tuple[str, object]:
        """How the module binds `name`: assign, def, class, from, module, submodule or missing."""
        if name in self.bindings:
            return self.bindings[name]
        for star in reversed(self.stars):
            if name in (modules.public_names(star) or set()):
                return "from", (star, name)
        if modules.find(f"{self.module}.{name}") is not None:
            return "submodule", None
        return "missing", None


@lru_cache(maxsize=256)
def _parsed(path: str, stamp: tuple[int, ...]) -> ast.Module | None:
    try:
        return ast.parse(Path(path).read_bytes(), path)
    except (OSError, SyntaxError, ValueError):
        return None


def _scope(path: str, module: str, rel: str) -> ModuleScope | None:
    stamp = of_path(path)
    tree = None if stamp is None else _parsed(path, stamp)
    return None if tree is None else ModuleScope(path, module, rel, tree)


def still_current(shared: dict) -> bool:
    """Whether every module file and folder the shared knowledge was read from is unchanged."""
    return all(of_path(path) == stamp for path, stamp in shared.get("stamps", {}).items())


def carried(name: str, value: ast.AST, earlier: ast.AST) -> ast.AST:
    """`value` with its reads of `name` replaced by `earlier`, the value `name` had before:
    `x = x * 2` (or `x += v`) depends on what x was, which its new definition replaces."""
    if not any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(value)):
        return value

    class Carry(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            return earlier if node.id == name and isinstance(node.ctx, ast.Load) else node

    return Carry().visit(copy.deepcopy(value))


def _rebound(stmt: ast.stmt, name: str, earlier: ast.AST | None) -> ast.stmt:
    """An assignment statement whose value carries `name`'s earlier value (see `carried`)."""
    value = getattr(stmt, "value", None)
    if earlier is None or value is None:
        return stmt
    new = carried(name, value, earlier)
    if new is value:
        return stmt
    stmt = copy.copy(stmt)
    stmt.value = new
    return stmt


def _class_body(cls: ast.ClassDef) -> dict[str, ast.stmt]:
    """What a class body defines, by name; a later `y = y * 2` carries y's earlier value."""
    body: dict[str, ast.stmt] = {}
    for stmt in cls.body:
        for name in defined_names(stmt):
            earlier = body.get(name)
            if earlier is not None and not isinstance(earlier, ast.ClassDef):
                stmt = _rebound(stmt, name, getattr(earlier, "value", None))
            body[name] = stmt
    return body


def _keyword(value: ast.AST, name: str) -> ast.AST | None:
    """The argument `name=` of a constructor call (`GPU(peak_flops=...)`), if written so."""
    if isinstance(value, ast.Call):
        return next((k.value for k in value.keywords if k.arg == name), None)
    return None


def _function_locals(fn: ast.AST) -> set[str]:
    a = fn.args
    names = {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs]}
    names |= {x.arg for x in (a.vararg, a.kwarg) if x is not None}
    for stmt in fn.body:
        names |= {n for n, _ in bound_names(stmt)}
    return names


def _load(target: ast.AST) -> ast.AST:
    """`x` or `K.x` as an expression that reads it (an assignment target only stores)."""
    return ast.parse(ast.unparse(target), mode="eval").body
