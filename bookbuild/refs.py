"""Static check of inline references: every name and attribute chain must resolve, in order.

Works on the cells' `ast` only; modules named in `from m import *` are read as source, never
imported. Scope follows execution order: a reference sees the cells above it.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from bookbuild.diagnostics import Diagnostic
from bookbuild.options import evaluated
from bookbuild.qmd import CodeCell, Document, InlineRef

# Names an IPython kernel provides besides Python's builtins.
KERNEL_NAMES = frozenset({"get_ipython", "display", "In", "Out", "_", "__", "___", "exit", "quit"})
BUILTIN_NAMES = frozenset(dir(builtins)) | KERNEL_NAMES


@dataclass
class ClassInfo:
    """Attributes a class defined in a cell is known to have; `open` when bases are unknown."""

    name: str
    attrs: dict[str, Binding] = field(default_factory=dict)
    open: bool = False


@dataclass
class Binding:
    name: str
    line: int  # .qmd line where the name is bound
    cls: ClassInfo | None = None


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
            self._cache[module] = None
            return None
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
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
                target = _absolute(stmt.module, stmt.level, package)
                names |= self.public_names(target) or set()
            else:
                names |= {b for b, _ in _bound_names(stmt)}
        result = set(explicit_all) if explicit_all is not None else {
            n for n in names if not n.startswith("_")}
        self._cache[module] = result
        return result


def _absolute(module: str | None, level: int, package: str) -> str:
    if level == 0:
        return module or ""
    base = package.split(".")
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, module] if module else base)


def _bound_names(stmt: ast.stmt) -> list[tuple[str, ast.AST]]:
    """Names a statement binds in the scope it runs in (not inside nested functions/classes)."""
    out: list[tuple[str, ast.AST]] = []

    def targets(node: ast.AST) -> None:
        if isinstance(node, ast.Name):
            out.append((node.id, node))
        elif isinstance(node, (ast.Tuple, ast.List)):
            for elt in node.elts:
                targets(elt)
        elif isinstance(node, ast.Starred):
            targets(node.value)

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.append((node.name, node))
            return
        if isinstance(node, ast.Lambda):
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    out.append(((alias.asname or alias.name).split(".")[0], node))
            return
        if isinstance(node, ast.Assign):
            for t in node.targets:
                targets(t)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets(node.target)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            targets(node.target)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            targets(node.optional_vars)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            out.append((node.name, node))
        elif isinstance(node, ast.NamedExpr):
            targets(node.target)
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                visit(child)

    visit(stmt)
    return out


class Scope:
    """Module-level names of a chapter's kernel as cells run, with known class attributes."""

    def __init__(self, modules: ModuleNames) -> None:
        self.names: dict[str, Binding] = {}
        self.modules = modules

    def run_cell(self, cell: CodeCell, tree: ast.Module, problems: list[Diagnostic]) -> None:
        for stmt in tree.body:
            line = cell.first_line + stmt.lineno - 1
            if isinstance(stmt, ast.ImportFrom) and any(a.name == "*" for a in stmt.names):
                names = self.modules.public_names(stmt.module or "") if stmt.level == 0 else None
                if names is None:
                    problems.append(Diagnostic(cell.path, line, stmt.col_offset + 1, "REF006",
                                               f"cannot find module '{stmt.module}' to read the "
                                               f"names of 'from {stmt.module} import *'"))
                    continue
                for n in names:
                    self.names.setdefault(n, Binding(n, line))
                continue
            if isinstance(stmt, ast.ClassDef):
                self.names[stmt.name] = Binding(stmt.name, line, self._class(stmt, cell))
                continue
            # `Cls.attr = value` at module level adds a known attribute to a cell class.
            if isinstance(stmt, ast.Assign):
                for t in stmt.targets:
                    if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name):
                        b = self.names.get(t.value.id)
                        if b and b.cls:
                            b.cls.attrs[t.attr] = Binding(t.attr, line)
            for name, _node in _bound_names(stmt):
                self.names[name] = Binding(name, line, None)
            for node in ast.walk(stmt):  # `global x` inside a function binds x here too
                if isinstance(node, ast.Global):
                    for name in node.names:
                        self.names.setdefault(name, Binding(name, line))

    def _class(self, node: ast.ClassDef, cell: CodeCell) -> ClassInfo:
        info = ClassInfo(node.name)
        for base in node.bases:
            b = self.names.get(base.id) if isinstance(base, ast.Name) else None
            if b is not None and b.cls is not None:
                info.attrs.update(b.cls.attrs)
                info.open |= b.cls.open
            elif not (isinstance(base, ast.Name) and base.id == "object"):
                info.open = True
        if node.keywords:  # metaclass=... may add anything
            info.open = True
        for stmt in node.body:
            line = cell.first_line + stmt.lineno - 1
            if isinstance(stmt, ast.ClassDef):
                inner = Scope(self.modules)
                inner.names = dict(self.names)
                info.attrs[stmt.name] = Binding(stmt.name, line, inner._class(stmt, cell))
                continue
            for name, _node in _bound_names(stmt):
                info.attrs[name] = Binding(name, line)
        return info


@dataclass
class CheckResult:
    path: str
    refs: int
    diagnostics: list[Diagnostic]


def search_roots(doc_path: str, project_root: Path | None) -> list[Path]:
    roots = [] if project_root is None else [project_root]
    roots.append(Path(doc_path).resolve().parent)
    return roots


def check_document(doc: Document, project_root: Path | None = None,
                   modules: ModuleNames | None = None) -> CheckResult:
    """Every problem in one document, sorted by position."""
    modules = modules or ModuleNames(search_roots(doc.path, project_root))
    problems: list[Diagnostic] = list(doc.problems)
    trees: list[tuple[CodeCell, ast.Module | None]] = []
    runs = evaluated(doc, project_root)
    for cell in doc.cells:
        if not runs[cell.index]:
            continue  # `eval: false`: never runs, so it defines nothing
        try:
            trees.append((cell, ast.parse(python_source(cell.source), cell.path)))
        except SyntaxError as exc:
            line = cell.first_line + (exc.lineno or 1) - 1
            problems.append(Diagnostic(cell.path, line, exc.offset or 1, "QMD001",
                                       f"syntax error in {cell.describe()}: {exc.msg}"))
            trees.append((cell, None))

    # Everything the document ever binds, to tell "defined later" from "never defined".
    final = Scope(modules)
    for cell, tree in trees:
        if tree is not None:
            final.run_cell(cell, tree, [])

    scope = Scope(modules)
    pending = list(trees)
    for ref in doc.refs:
        while pending and pending[0][0].start < ref.start:
            cell, tree = pending.pop(0)
            if tree is not None:
                scope.run_cell(cell, tree, problems)
        problems.extend(_check_ref(ref, scope, final))
    for cell, tree in pending:
        if tree is not None:
            scope.run_cell(cell, tree, problems)
    return CheckResult(doc.path, len(doc.refs), sorted({doc.annotate(p) for p in problems}))


def python_source(source: str) -> str:
    """Blank out IPython-only lines (`%magic`, `!shell`) so `ast` can read the rest."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def _check_ref(ref: InlineRef, scope: Scope, final: Scope) -> list[Diagnostic]:
    def at(node: ast.AST, offset: int = 0) -> tuple[int, int]:
        return ref.expr_line, ref.expr_col + node.col_offset + offset

    if not ref.expr:
        return [Diagnostic(ref.path, ref.line, ref.col, "REF003", "empty inline expression")]
    try:
        tree = ast.parse(ref.expr.replace("\n", " "), mode="eval")
    except SyntaxError as exc:
        col = ref.expr_col + max((exc.offset or 1) - 1, 0)
        return [Diagnostic(ref.path, ref.expr_line, col, "REF003",
                           f"syntax error in inline expression '{ref.expr}': {exc.msg}")]
    local = _expression_locals(tree)
    out: list[Diagnostic] = []
    for node in _outermost_chains(tree):
        chain = _chain(node)
        if chain is None:
            continue
        head, attrs, name_node = chain
        if head in local or head in BUILTIN_NAMES:
            continue
        b = scope.names.get(head)
        if b is None:
            later = final.names.get(head)
            if later is not None:
                out.append(Diagnostic(ref.path, *at(name_node), "REF002",
                                      f"'{head}' is used before its definition (line {later.line})"))
            else:
                out.append(Diagnostic(ref.path, *at(name_node), "REF001",
                                      f"unresolved reference '{head}'"
                                      + _suggest(head, scope.names.keys())))
            continue
        dotted = head
        for attr, attr_node in attrs:
            cls = b.cls
            if cls is None or cls.open:
                break
            dotted = f"{dotted}.{attr}"
            nxt = cls.attrs.get(attr)
            if nxt is None:
                col = attr_node.end_col_offset - len(attr)
                out.append(Diagnostic(ref.path, ref.expr_line, ref.expr_col + col, "REF001",
                                      f"unresolved reference '{dotted}'"
                                      + _suggest(attr, cls.attrs.keys())))
                break
            b = nxt
    return out


def _suggest(name: str, candidates) -> str:
    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _expression_locals(tree: ast.AST) -> set[str]:
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


def _outermost_chains(tree: ast.AST):
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


def _chain(node: ast.AST):
    """`A.b.c` as ('A', [('b', node), ('c', node)], name_node); None if it does not start at a name."""
    attrs = []
    while isinstance(node, ast.Attribute):
        attrs.append((node.attr, node))
        node = node.value
    if not isinstance(node, ast.Name):
        # e.g. f(x).attr: the call's own names are visited as separate chains
        return None
    return node.id, list(reversed(attrs)), node
