"""Names in Python source, read from its `ast`: shared by the static check, the provenance trace
and the cache, so all three agree on what a cell binds and what an expression reads.

Nothing here imports or runs the code it reads (only Python's own C modules, such as `math`, are
imported, to list what a star import of them binds).
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import os
from pathlib import Path

# Names an IPython kernel provides besides Python's builtins.
KERNEL_NAMES = frozenset({"get_ipython", "display", "In", "Out", "_", "__", "___", "exit", "quit"})
BUILTIN_NAMES = frozenset(dir(builtins)) | KERNEL_NAMES
EVERYTHING = "<everything>"  # in a set of names: assume every name is used
# Calls through which code reaches names a static reading cannot see.
DYNAMIC_ACCESS = frozenset({"getattr", "vars", "globals", "locals", "dir", "eval", "exec",
                            "__dict__", "__import__", "import_module"})
# Calls that hand back a module by a name made at run time: whatever it then reads is no name
# this analysis can follow (`importlib.import_module("lab." + name).VALUE`).
MODULE_BY_NAME = frozenset({"__import__", "import_module", "reload"})


def parse(source: str | bytes, filename: str = "<unknown>", mode: str = "exec") -> ast.AST:
    """`ast.parse`, once per process for each source text: the check, the trace and the cache
    all read the same cells and expressions. Trees are shared, so callers must not modify them;
    a SyntaxError is not cached and is raised again (with the caller's filename) each time."""
    tree = _TREES.get((source, mode))
    if tree is None:
        if len(_TREES) > 20_000:  # a long preview session: start over rather than grow
            _TREES.clear()
        try:
            tree = ast.parse(source, filename, mode)
        except (RecursionError, MemoryError):
            # Python's own parser gives up on a 100,000-term sum: as unreadable as bad syntax
            raise SyntaxError("nested too deeply for Python to read (split it into steps)",
                              (filename, 1, 1, None)) from None
        _TREES[source, mode] = tree
    return tree


_TREES: dict[tuple[str | bytes, str], ast.AST] = {}


def parse_expr(expr: str) -> ast.Expression:
    """An inline expression's tree (newlines read as spaces); raises SyntaxError."""
    return parse(expr.replace("\n", " "), "<inline>", "eval")


def parse_cell(source: str, filename: str = "<cell>") -> ast.Module | None:
    """A cell's tree with IPython-only lines blanked, or None on a syntax error."""
    try:
        return parse(python_source(source), filename)
    except SyntaxError:
        return None


def expr_tree(expr: str) -> ast.Expression | None:
    """An inline expression's tree, or None on a syntax error."""
    try:
        return parse_expr(expr)
    except SyntaxError:
        return None


def mentioned(tree: ast.AST, modules: set[str] | None = None) -> set[str]:
    """Every name a tree mentions, with attribute names (a superset of what it reads).

    With `modules` (names bound to imported modules), an attribute counts only when its chain
    starts at one of them (`constants.X` reads module-level X; `self.x` does not), and a module
    name used any other way (aliased, passed along), a module looked up by name
    (`import_module`, `__import__`, `sys.modules`) makes the tree mention everything.
    """
    names: set[str] = set()
    roots = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
            if modules is not None and (node.id in MODULE_BY_NAME
                                        or (node.id in modules and id(node) not in roots)):
                names.add(EVERYTHING)
        elif isinstance(node, ast.Attribute):
            head = node.value
            while isinstance(head, ast.Attribute):
                head = head.value
            if modules is None or (isinstance(head, ast.Name) and head.id in modules):
                names.add(node.attr)
            if modules is not None and (node.attr in MODULE_BY_NAME or (
                    node.attr == "modules" and isinstance(node.value, ast.Name)
                    and node.value.id == "sys")):
                names.add(EVERYTHING)
        elif isinstance(node, ast.alias) and node.name != "*":
            names.add((node.asname or node.name).split(".")[0])
            names.add(node.name.rsplit(".", 1)[-1])
            if modules is not None and node.asname and node.name in MODULE_BY_NAME:
                names.add(EVERYTHING)  # `import_module` under another name: its calls look alike
    return names


def read_module(path: Path) -> ast.Module:
    """A project module's tree; a located BuildError when it cannot be read or parsed."""
    from bookbuild.system.errors import BuildError, Diagnostic

    try:
        return parse(path.read_bytes(), str(path))
    except SyntaxError as exc:
        raise BuildError(diagnostics=[Diagnostic(str(path), exc.lineno or 0, exc.offset or 0, "PY001",
                                                 f"syntax error in module: {exc.msg}",
                                                 "cells import this module; fix it first")]) from None
    except (OSError, ValueError) as exc:
        raise BuildError(diagnostics=[Diagnostic(str(path), 0, 0, "PY001",
                                                 f"cannot read module: {exc}")]) from None


def defined_names(stmt: ast.stmt) -> list[str]:
    """Names a module- or class-level statement defines as data: `class`, `x = ...`, `x: T = ...`
    (shared by the kernel's constants snapshot and the trace, so both see the same constants)."""
    if isinstance(stmt, ast.ClassDef):
        return [stmt.name]
    if isinstance(stmt, ast.Assign):
        return [n.id for t in stmt.targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value:
        return [stmt.target.id]
    return []


def module_aliases(tree: ast.AST, module_files: list[str] = ()) -> set[str]:
    """Names bound to modules: `import x` / `import x as y` anywhere, and `from pkg import mod`
    when `pkg/mod` is one of `module_files` (relative imports: any file named `mod`)."""
    suffixes = {f.rsplit(".", 1)[0].removesuffix("/__init__") for f in module_files}
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = "/" + (node.module or "").replace(".", "/") if not node.level else ""
            for a in node.names:
                tail = f"{base}/{a.name}"
                if a.name != "*" and any(f.endswith(tail) for f in suffixes):
                    out.add(a.asname or a.name)
    return out


def _standard_names(module: str) -> set[str] | None:
    """What `from module import *` binds for a module of Python's own written in C (`math`,
    `itertools`): it has no source to read, and importing the interpreter's own modules runs
    none of the book's code. None for any other module without source."""
    import sys
    import sysconfig

    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    stdlib = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib")}
    origin = (spec.origin or "") if spec is not None else ""
    own = origin in ("built-in", "frozen") or module in sys.builtin_module_names or any(
        origin.startswith(os.path.join(d, "")) and "site-packages" not in origin for d in stdlib)
    if not own:
        return None
    imported = importlib.import_module(module)
    public = getattr(imported, "__all__", None)
    return set(public) if public is not None else {n for n in dir(imported) if not n.startswith("_")}


def python_source(source: str) -> str:
    """Blank out IPython-only lines (`%magic`, `!shell`, `name?` help) so `ast` can read the rest;
    a `%%` cell magic makes the whole cell another language (or IPython's), so all of it."""
    lines = source.splitlines()
    code = [line.lstrip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if code and code[0].startswith("%%"):
        return "\n" * (len(lines) - 1)
    # IPython's leading_indent: the indent of the first non-blank line is taken off every line
    # that has it, so a cell indented as a whole runs (and so must parse).
    first = next((line for line in lines if line.strip()), "")
    indent = first[:len(first) - len(first.lstrip(" \t"))]
    if indent:
        lines = [line[len(indent):] if line.startswith(indent) else line for line in lines]
    return "\n".join("" if _ipython_only(line.strip()) else line for line in lines)


def _ipython_only(line: str) -> bool:
    """`%timeit x`, `!ls`, `round?`, `??round`: lines the kernel reads and Python cannot."""
    return line.startswith(("%", "!", "?")) or (line.endswith("?") and not line.startswith("#"))


def search_roots(doc_path: str, project_root: Path | None) -> list[Path]:
    roots = [] if project_root is None else [project_root]
    roots.append(Path(doc_path).resolve().parent)
    return roots


class ModuleNames:
    """Public names of modules found by reading their source; results cached per process."""

    def __init__(self, search_roots: list[Path]) -> None:
        self.roots = search_roots
        self._cache: dict[str, set[str] | None] = {}

    def find(self, module: str) -> Path | None:
        parts = module.split(".")
        for root in self.roots:
            base = root.joinpath(*parts)
            for candidate in (base.with_suffix(".py"), base / "__init__.py"):
                if candidate.is_file():
                    return candidate
        # Installed packages: locate the top-level package without importing it.
        try:
            spec = importlib.util.find_spec(parts[0])
        except (ImportError, ValueError):
            return None
        if spec is None:
            return None
        if len(parts) == 1:
            return Path(spec.origin) if spec.origin and spec.origin.endswith(".py") else None
        for location in spec.submodule_search_locations or []:
            base = Path(location).joinpath(*parts[1:])
            for candidate in (base.with_suffix(".py"), base / "__init__.py"):
                if candidate.is_file():
                    return candidate
        return None

    def public_names(self, module: str) -> set[str] | None:
        """What `from module import *` binds, or None when the module cannot be found."""
        if module in self._cache:
            return self._cache[module]
        self._cache[module] = set()  # guards against import cycles
        path = self.find(module)
        if path is None:
            self._cache[module] = _standard_names(module)
            return self._cache[module]
        tree = read_module(path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        names: set[str] = set()
        explicit_all: list[str] | None = None
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in stmt.targets
            ):
                try:
                    explicit_all = list(ast.literal_eval(stmt.value))
                except ValueError:
                    explicit_all = None
            elif isinstance(stmt, ast.ImportFrom) and any(a.name == "*" for a in stmt.names):
                target = absolute_module(stmt.module, stmt.level, package)
                names |= self.public_names(target) or set()
            else:
                names |= {b for b, _ in bound_names(stmt)}
        result = set(explicit_all) if explicit_all is not None else {
            n for n in names if not n.startswith("_")}
        self._cache[module] = result
        return result


def absolute_module(module: str | None, level: int, package: str) -> str:
    if level == 0:
        return module or ""
    base = package.split(".")
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, module] if module else base)


def bound_names(stmt: ast.stmt) -> tuple[tuple[str, ast.AST], ...]:
    """Names a statement binds in the scope it runs in (not inside nested functions/classes)."""
    # Trees are shared per source text (`parse`), so the check of the next build, or of the
    # next edit in preview, finds each unchanged statement's answer here.
    entry = _BOUND.get(id(stmt))
    if entry is None or entry[0] is not stmt:
        if len(_BOUND) > 200_000:  # a long preview session: start over rather than grow
            _BOUND.clear()
        entry = _BOUND[id(stmt)] = (stmt, tuple(_bound_names(stmt)))
    return entry[1]


# By node id; each entry keeps its node alive, so no other node can take that id meanwhile.
_BOUND: dict[int, tuple[ast.AST, tuple[tuple[str, ast.AST], ...]]] = {}


def _bound_names(stmt: ast.stmt) -> list[tuple[str, ast.AST]]:
    out: list[tuple[str, ast.AST]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.append((node.name, node))
            return
        if isinstance(node, ast.Lambda):
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.extend(((a.asname or a.name).split(".")[0], node) for a in node.names if a.name != "*")
            return
        if isinstance(node, ast.ExceptHandler) and node.name:
            out.append((node.name, node))
        for target in _binding_targets(node):
            out.extend((n.id, n) for n in _target_names(target))
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                visit(child)

    visit(stmt)
    return out


def _binding_targets(node: ast.AST) -> list[ast.AST]:
    """The target expressions a node assigns to (before unpacking)."""
    if isinstance(node, ast.Assign):
        return list(node.targets)
    if isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor, ast.NamedExpr)):
        return [node.target]
    if isinstance(node, ast.withitem) and node.optional_vars is not None:
        return [node.optional_vars]
    return []


def _target_names(node: ast.AST) -> list[ast.Name]:
    """Names bound by one assignment target, unpacking tuples, lists and starred targets."""
    if isinstance(node, ast.Name):
        return [node]
    if isinstance(node, (ast.Tuple, ast.List)):
        return [n for elt in node.elts for n in _target_names(elt)]
    if isinstance(node, ast.Starred):
        return _target_names(node.value)
    return []


def expression_locals(tree: ast.AST) -> set[str]:
    """Names bound inside the expression itself: comprehension targets, lambda parameters."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.comprehension):
            names |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.Lambda):
            a = node.args
            names |= {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs]}
            names |= {x.arg for x in (a.vararg, a.kwarg) if x is not None}
        elif isinstance(node, ast.NamedExpr):
            names.add(node.target.id)
    return names


def outermost_chains(tree: ast.AST):
    """Name and Attribute nodes that are not themselves the inner part of a longer chain."""
    inner: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            inner.add(id(node.value))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Name, ast.Attribute)) and id(node) not in inner:
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                continue
            yield node


def chain(node: ast.AST):
    """`A.b.c` as ('A', [('b', node), ('c', node)], name_node); None if it does not start at a name."""
    attrs = []
    while isinstance(node, ast.Attribute):
        attrs.append((node.attr, node))
        node = node.value
    if not isinstance(node, ast.Name):
        # e.g. f(x).attr: the call's own names are visited as separate chains
        return None
    return node.id, list(reversed(attrs)), node


def dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def references(node: ast.AST):
    """Outermost Name/Attribute chains read by an expression, minus names it binds itself."""
    local: set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.comprehension):
            local |= {x.id for x in ast.walk(n.target) if isinstance(x, ast.Name)}
        elif isinstance(n, ast.Lambda):
            local |= {a.arg for a in n.args.args}
    inner = {id(n.value) for n in ast.walk(node) if isinstance(n, ast.Attribute)}
    for n in ast.walk(node):
        if isinstance(n, (ast.Name, ast.Attribute)) and id(n) not in inner:
            if isinstance(n, ast.Name) and (n.id in local or not isinstance(n.ctx, ast.Load)):
                continue
            if isinstance(n, ast.Attribute) and dotted(n) is None:
                continue  # f(x).attr: the call's own names are visited separately
            yield n


def block_targets(stmt: ast.stmt) -> set[str]:
    names = set()
    for n in ast.walk(stmt):
        if isinstance(n, (ast.For, ast.AsyncFor)):
            names |= {x.id for x in ast.walk(n.target) if isinstance(x, ast.Name)}
        elif isinstance(n, ast.withitem) and n.optional_vars is not None:
            names |= {x.id for x in ast.walk(n.optional_vars) if isinstance(x, ast.Name)}
    return names
