"""Static check of inline references: every name and attribute chain must resolve, in order.

Works on the cells' `ast` only; modules named in `from m import *` are read as source, never
imported. Scope follows execution order: a reference sees the cells above it.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass, field
from pathlib import Path

from bookbuild.analysis.names import (
    BUILTIN_NAMES,
    ModuleNames,
    bound_names,
    chain,
    expression_locals,
    outermost_chains,
    parse,
    parse_expr,
    python_source,
    search_roots,
)
from bookbuild.source.options import evaluated
from bookbuild.source.qmd import CodeCell, Document, InlineRef
from bookbuild.system.errors import Diagnostic, brief


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
            for name, _node in bound_names(stmt):
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
            for name, _node in bound_names(stmt):
                info.attrs[name] = Binding(name, line)
        return info


@dataclass
class CheckResult:
    path: str
    refs: int
    diagnostics: list[Diagnostic]


def check_document(doc: Document, project_root: Path | None = None,
                   modules: ModuleNames | None = None, config: dict | None = None) -> CheckResult:
    """Every problem in one document, sorted by position; `config`: the parsed `_quarto.yml`."""
    modules = modules or ModuleNames(search_roots(doc.path, project_root))
    problems: list[Diagnostic] = list(doc.problems)
    trees: list[tuple[CodeCell, ast.Module | None]] = []
    runs = evaluated(doc, config)
    for cell in doc.cells:
        if not runs[cell.index]:
            continue  # `eval: false`: never runs, so it defines nothing
        try:
            trees.append((cell, parse(python_source(cell.source), cell.path)))
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
    broken = False  # a cell above could not be read: it may define what a reference names
    for ref in doc.refs:
        while pending and pending[0][0].start < ref.start:
            cell, tree = pending.pop(0)
            if tree is not None:
                scope.run_cell(cell, tree, problems)
            broken = broken or tree is None
        problems.extend(_check_ref(ref, scope, final, broken))
    for cell, tree in pending:
        if tree is not None:
            scope.run_cell(cell, tree, problems)
    return CheckResult(doc.path, len(doc.refs), sorted({doc.annotate(p) for p in problems}))


def _check_ref(ref: InlineRef, scope: Scope, final: Scope,
               after_broken: bool = False) -> list[Diagnostic]:
    """`after_broken`: a cell before `ref` has a syntax error; a name nothing else defines is
    then not reported (that cell's error is, and one fix should not bring a page of others)."""
    def at(node: ast.AST, offset: int = 0) -> tuple[int, int]:
        return ref.expr_line, ref.expr_col + node.col_offset + offset

    if not ref.expr:
        return [Diagnostic(ref.path, ref.line, ref.col, "REF003", "empty inline expression")]
    try:
        tree = parse_expr(ref.expr)
    except SyntaxError as exc:
        col = ref.expr_col + max((exc.offset or 1) - 1, 0)
        return [Diagnostic(ref.path, ref.expr_line, col, "REF003",
                           f"syntax error in inline expression '{brief(ref.expr)}': {exc.msg}")]
    local = expression_locals(tree)
    out: list[Diagnostic] = []
    for node in outermost_chains(tree):
        parts = chain(node)
        if parts is None:
            continue
        head, attrs, name_node = parts
        if head in local or head in BUILTIN_NAMES:
            continue
        b = scope.names.get(head)
        if b is None:
            later = final.names.get(head)
            if later is not None:
                out.append(Diagnostic(ref.path, *at(name_node), "REF002",
                                      f"'{head}' is used before its definition (line {later.line})"))
            elif not after_broken:
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


