"""Static dependency trace: from an inline expression down to the constants it is computed from.

Works on the cells' `ast`, never runs them: a class attribute leads to the names on its right-hand
side, those to other attributes or module-level names, through any depth and across cells, until
a constant of `mlsysim` (a leaf with a source) is reached. A name the trace cannot follow is kept
as *untraced*, never guessed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from bookbuild.names import (
    BUILTIN_NAMES,
    ModuleNames,
    block_targets,
    dotted,
    python_source,
    references,
)
from bookbuild.qmd import CodeCell, Document

CONSTANTS_MODULE = "mlsysim.core.constants"
# Modules whose sourced names are leaves of the trace (datasheet and measured values).
CONSTANT_MODULES = (CONSTANTS_MODULE, "mlsysim.core.measured")


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
    """Builds a definition table for one document and traces expressions through it."""

    def __init__(self, doc: Document, modules: ModuleNames, constants: set[str]) -> None:
        self.doc = doc
        self.constants = constants
        self.defs: dict[str, Definition] = {}
        self.imports: dict[str, str] = {}  # local name -> "constant:NAME" | "unit" | "import"
        self.classes: set[str] = set()
        self.modules = modules
        for cell in doc.cells:
            try:
                tree = ast.parse(python_source(cell.source))
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
                    self.imports[(alias.asname or alias.name).split(".")[0]] = "import"
            elif isinstance(stmt, ast.ClassDef):
                self.classes.add(prefix + stmt.name)
                self._collect(stmt.body, cell, prefix + stmt.name)
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.imports[prefix + stmt.name] = "import"  # code, not data
            elif isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    self._bind(target, stmt.value, cell, line, owner)
            elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) and stmt.value is not None:
                value = stmt.value
                if isinstance(stmt, ast.AugAssign):  # x += v depends on x's earlier value and v
                    # The new definition replaces x's, so carry the earlier right-hand side in.
                    key = prefix + stmt.target.id if isinstance(stmt.target, ast.Name) \
                        else dotted(stmt.target)
                    earlier = self.defs.get(key or "")
                    left = earlier.expr if earlier and earlier.expr is not None else _load(stmt.target)
                    value = ast.BinOp(left=left, op=stmt.op, right=stmt.value)
                self._bind(stmt.target, value, cell, line, owner)
            elif isinstance(stmt, (ast.For, ast.While, ast.If, ast.With, ast.Try)):
                for name in block_targets(stmt):
                    self.defs.setdefault(prefix + name, Definition(prefix + name, None, cell, line, owner))
                self._collect([s for s in ast.iter_child_nodes(stmt) if isinstance(s, ast.stmt)],
                              cell, owner)

    def _import_from(self, stmt: ast.ImportFrom) -> None:
        """Names a `from m import ...` binds: constants, units or other imports."""
        for alias in stmt.names:
            if alias.name == "*":
                if stmt.module in CONSTANT_MODULES:
                    for name in self.modules.public_names(stmt.module) or set():
                        self.imports[name] = (f"constant:{name}" if name in self.constants
                                              else "unit")
                continue
            local = alias.asname or alias.name
            if stmt.module in CONSTANT_MODULES and alias.name in self.constants:
                self.imports[local] = f"constant:{alias.name}"
            elif stmt.module in (*CONSTANT_MODULES, "mlsysim.core.units"):
                self.imports[local] = "unit"
            else:
                self.imports[local] = "import"

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
            self.defs[prefix + target.id] = Definition(prefix + target.id, value, cell, line, owner)
        elif isinstance(target, ast.Attribute):
            key = dotted(target)
            if key:
                self.defs[key] = Definition(key, value, cell, line, None)

    # --- tracing ------------------------------------------------------------------------
    def trace(self, expr: str) -> Trace:
        result = Trace(expr)
        try:
            tree = ast.parse(expr, mode="eval")
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

    def _follow(self, node: ast.AST, owner: str | None, depth: int, out: Trace, seen: set[str]) -> None:
        for ref in references(node):
            key = self._resolve(ref, owner)
            if key is None:
                continue
            self._follow_key(key, depth, out, seen)

    def _follow_key(self, key: str, depth: int, out: Trace, seen: set[str]) -> None:
        head = key.split(".")[0]
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
        kind = self.imports.get(head) or self.imports.get(key)
        if kind and kind.startswith("constant:"):
            name = kind.split(":", 1)[1]
            if name not in out.constants:
                out.constants.add(name)
                out.steps.append((depth, name, "constant"))
            return
        if kind in ("unit", "import") or head in BUILTIN_NAMES:
            return  # units, functions and modules are code, not data to trace
        if "." in key and key.rsplit(".", 1)[0] in self.defs:
            # an attribute of a traced value (q.magnitude): follow the value
            self._follow_key(key.rsplit(".", 1)[0], depth, out, seen)
            return
        if head in self.classes:
            return  # a class object itself, used as a namespace
        out.untraced.add(key)
        out.steps.append((depth, key, "(not defined in this chapter: not traced)"))


def _load(target: ast.AST) -> ast.AST:
    """`x` or `K.x` as an expression that reads it (an assignment target only stores)."""
    return ast.parse(ast.unparse(target), mode="eval").body


