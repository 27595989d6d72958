"""What a module-level call changes besides the name it binds: `X = register(...)` appending X to
a `REGISTRY` that a chapter reads, read from the `ast` of the project's modules, never run.

A callee is followed by name through every module given (functions, classes run through
`__init__`/`__new__`/`__post_init__`, instances of the modules' classes through `__call__` and
their methods, `from m import f as g` and `g = f` aliases), and through the calls its body makes.
An effect is a module-level name the body mutates or rebinds: an item or attribute set or
deleted on it, a mutating method called on it (`append`, `update`, ...; see MUTATORS), `setattr`
on it, or a `global` assignment; a method's changes to `self` are changes to the instance it
is called on. Calls into libraries are assumed to change nothing of the book's (as before).

`reads_as_data` is the other half: the names code reads as data (not only calls or assigns, and
not its own variables), which is what makes such a change matter to a chapter.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

# Methods of builtin containers (and registries' usual spellings) that change their receiver.
MUTATORS = frozenset({"append", "extend", "insert", "add", "update", "setdefault", "pop",
                      "popitem", "remove", "discard", "clear", "sort", "reverse", "appendleft",
                      "extendleft", "register", "__setitem__", "__delitem__", "__setattr__"})
SETTERS = frozenset({"setattr", "delattr"})
INIT = ("__new__", "__init__", "__post_init__")
SELF = "<self>"  # in a method's effects: the instance it was called on


@dataclass(frozen=True)
class CallEffects:
    """Names a call may change, and those of them its value may depend on (a counter's call
    reads what earlier calls changed)."""

    changes: frozenset[str] = frozenset()
    reads: frozenset[str] = frozenset()

    def __or__(self, other: CallEffects) -> CallEffects:
        return CallEffects(self.changes | other.changes, self.reads | other.reads)

    def on(self, instance: str) -> CallEffects:
        """A method's effects with `self` read as `instance`."""
        def swap(names: frozenset[str]) -> frozenset[str]:
            return frozenset(instance if n == SELF else n for n in names)
        return CallEffects(swap(self.changes), swap(self.reads))


NONE = CallEffects()


class Effects:
    """Module-level definitions of the given module trees, by name, and what calling them does."""

    def __init__(self, trees: list[ast.Module]) -> None:
        self.functions: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
        self.classes: dict[str, list[ast.ClassDef]] = {}
        self.aliases: dict[str, set[str]] = {}  # g -> {f}: `from m import f as g`, `g = f`
        self.instances: dict[str, set[str]] = {}  # _c -> {Table}: `_c = Table(...)`
        self._memo: dict[tuple[str, str], CallEffects] = {}
        self._busy: set[tuple[str, str]] = set()
        for tree in trees:
            self._collect(tree.body)

    def _collect(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions.setdefault(stmt.name, []).append(stmt)
            elif isinstance(stmt, ast.ClassDef):
                self.classes.setdefault(stmt.name, []).append(stmt)
            elif isinstance(stmt, ast.ImportFrom):
                for a in stmt.names:
                    if a.asname and a.name != "*":
                        self.aliases.setdefault(a.asname, set()).add(a.name)
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
                    and isinstance(stmt.targets[0], ast.Name):
                name, value = stmt.targets[0].id, stmt.value
                if isinstance(value, ast.Name):
                    self.aliases.setdefault(name, set()).add(value.id)
                elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
                    self.instances.setdefault(name, set()).add(value.func.id)
            elif isinstance(stmt, (ast.If, ast.Try)):
                self._collect([s for s in ast.iter_child_nodes(stmt) if isinstance(s, ast.stmt)])

    # --- calls -------------------------------------------------------------------------------
    def of_expr(self, node: ast.AST) -> CallEffects:
        """What evaluating `node` (a module statement's value) may change, over all its calls."""
        out = NONE
        for n in ast.walk(node):
            if isinstance(n, ast.Call):
                out |= self._call(n, frozenset(), None)
        return out

    def _call(self, call: ast.Call, free_of: frozenset[str], cls: str | None) -> CallEffects:
        """One call seen from a body whose locals are `free_of` (None: module level), inside
        the methods of class `cls` when given."""
        func = call.func
        if isinstance(func, ast.Name):
            if func.id in SETTERS and call.args:
                head = _head(call.args[0])
                return _changed(head, free_of)
            return NONE if func.id in free_of else self.of_name(func.id)
        if not isinstance(func, ast.Attribute):
            return NONE
        head = _head(func.value)
        out = _changed(head, free_of) if func.attr in MUTATORS else NONE
        if isinstance(func.value, ast.Name):
            if head == "self" and cls is not None:
                out |= self._method(cls, func.attr)
            elif head is not None and head not in free_of:
                for c in self._classes_of(head):
                    out |= self._method(c, func.attr).on(head)
        return out

    def of_name(self, name: str) -> CallEffects:
        """What calling the module-level `name` may change."""
        return self._memoised(("name", name), lambda: self._of_name(name))

    def _of_name(self, name: str) -> CallEffects:
        out = NONE
        for fn in self.functions.get(name, []):
            out |= self._body(fn, None)
        for cls in self.classes.get(name, []):
            for init in INIT:  # a new object: its own changes to self are no one else's
                e = self._method(cls.name, init)
                out |= CallEffects(e.changes - {SELF}, e.reads - {SELF})
        for c in self._classes_of(name):
            out |= self._method(c, "__call__").on(name)
        for target in self.aliases.get(name, set()) - {name}:
            out |= self.of_name(target)
        return out

    def _classes_of(self, name: str) -> set[str]:
        return {c for c in self.instances.get(name, set()) if c in self.classes}

    def _method(self, cls: str, method: str) -> CallEffects:
        def compute() -> CallEffects:
            out = NONE
            for node in self.classes.get(cls, []):
                for stmt in node.body:
                    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                            and stmt.name == method:
                        out |= self._body(stmt, cls)
            return out
        return self._memoised((cls, method), compute)

    def _memoised(self, key: tuple[str, str], compute) -> CallEffects:
        if key in self._memo:
            return self._memo[key]
        if key in self._busy:
            return NONE  # recursion: the outer visit covers it
        self._busy.add(key)
        try:
            self._memo[key] = compute()
        finally:
            self._busy.discard(key)
        return self._memo[key]

    # --- bodies ------------------------------------------------------------------------------
    def _body(self, fn: ast.FunctionDef | ast.AsyncFunctionDef, cls: str | None) -> CallEffects:
        """What running `fn` may change at module level (`SELF` for its instance in a method)."""
        declared = {n for s in ast.walk(fn) if isinstance(s, ast.Global) for n in s.names}
        local = _locals(fn) - declared
        if cls is not None:
            local.discard("self")
        changes: set[str] = set()
        targets: set[int] = set()  # the Name nodes that are changed, not read
        for node in ast.walk(fn):
            for target in _targets(node):
                head = _head_node(target)
                if head is None:
                    continue
                if isinstance(target, ast.Name):
                    if head.id in declared:
                        changes.add(head.id)
                        targets.add(id(head))
                elif head.id not in local:
                    changes.add(SELF if head.id == "self" and cls else head.id)
                    targets.add(id(head))
        out = CallEffects(frozenset(changes))
        for node in ast.walk(fn):
            if isinstance(node, ast.Call):
                out |= self._call(node, frozenset(local), cls)
                head = _head_node(node.func.value) if isinstance(node.func, ast.Attribute) else None
                if head is not None and node.func.attr in MUTATORS:
                    targets.add(id(head))
                if isinstance(node.func, ast.Name) and node.func.id in SETTERS and node.args:
                    first = _head_node(node.args[0])
                    targets.add(id(first)) if first is not None else None
        reads = {("self" if n == SELF else n) for n in out.changes} & {
            n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and id(n) not in targets
            and (n.id != "self" or _reads_changed_attr(fn, targets))}
        return out | CallEffects(reads=frozenset(SELF if n == "self" else n for n in reads))


def reads_as_data(body: list[ast.stmt], modules: set[str], bound: set[str] | None = None) -> set[str]:
    """Names `body` reads as data from outside itself: not only called (`f(...)` does not read
    what f's earlier calls changed) nor assigned, and not its own variables (a loop's `for _c in
    ...` is not a module's `_c`); `REGISTRY`, `REGISTRY["X"]` and `consts.REGISTRY` are read.
    `bound` (grown in place) holds the names the code has bound so far, in order."""
    bound = set() if bound is None else bound
    out: set[str] = set()
    for stmt in body:
        out |= _stmt_reads(stmt, modules, bound)
    return out


def _stmt_reads(stmt: ast.stmt, modules: set[str], bound: set[str]) -> set[str]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        header = [*stmt.decorator_list, *stmt.args.defaults,
                  *(d for d in stmt.args.kw_defaults if d is not None)]
        out = set().union(*(expr_reads(e, modules, bound) for e in header))
        declared = {n for s in ast.walk(stmt) if isinstance(s, ast.Global) for n in s.names}
        out |= reads_as_data(stmt.body, modules, bound | (_locals(stmt) - declared))
        bound.add(stmt.name)
        return out
    if isinstance(stmt, ast.ClassDef):
        header = [*stmt.decorator_list, *stmt.bases, *(k.value for k in stmt.keywords)]
        out = set().union(*(expr_reads(e, modules, bound) for e in header))
        out |= reads_as_data(stmt.body, modules, set(bound))
        bound.add(stmt.name)
        return out
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        out = expr_reads(stmt.iter, modules, bound)
        inner = bound | {n.id for n in ast.walk(stmt.target) if isinstance(n, ast.Name)}
        return out | reads_as_data(stmt.body, modules, inner) | reads_as_data(
            stmt.orelse, modules, set(bound))
    children = list(ast.iter_child_nodes(stmt))
    blocks = [c for c in children if isinstance(c, ast.stmt)]
    if blocks or isinstance(stmt, (ast.Try, ast.If, ast.While, ast.With, ast.AsyncWith)):
        # A compound statement: its header now, each block from what is bound before it (a name
        # bound in one branch is not taken for bound anywhere else: when in doubt, it is read).
        out = set().union(*(expr_reads(c, modules, bound) for c in children
                            if not isinstance(c, (ast.stmt, ast.excepthandler))))
        inner = set(bound)
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            inner |= {n.id for i in stmt.items if i.optional_vars is not None
                      for n in ast.walk(i.optional_vars) if isinstance(n, ast.Name)}
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            for part in getattr(stmt, field, []) or []:
                nested = getattr(part, "body", None)
                out |= reads_as_data(nested if nested is not None and not isinstance(part, ast.stmt)
                                     else [part], modules, set(inner))
        return out
    out = expr_reads(stmt, modules, bound)
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name) \
            and stmt.target.id not in bound:
        out.add(stmt.target.id)  # `x += 1` reads x
    if not isinstance(stmt, (ast.Import, ast.ImportFrom)):  # an imported name is the module's
        for target in _targets(stmt):
            bound |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return out


def expr_reads(node: ast.AST, modules: set[str], bound: set[str]) -> set[str]:
    """Names an expression (or simple statement) reads as data, less `bound` and its own
    comprehension and lambda variables; attributes count when their chain starts at a module."""
    called = {id(n.func) for n in ast.walk(node) if isinstance(n, ast.Call)}
    skip = bound | _expression_locals(node)
    out: set[str] = set()
    for n in ast.walk(node):
        if id(n) in called or not isinstance(getattr(n, "ctx", None), ast.Load):
            continue
        if isinstance(n, ast.Name) and n.id not in skip:
            out.add(n.id)
        elif isinstance(n, ast.Attribute):
            head = _head_node(n)
            if head is not None and head.id in modules and head.id not in skip:
                out.add(n.attr)
    return out


def _expression_locals(node: ast.AST) -> set[str]:
    names: set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.comprehension):
            names |= {x.id for x in ast.walk(n.target) if isinstance(x, ast.Name)}
        elif isinstance(n, ast.Lambda):
            a = n.args
            names |= {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]
                      if x is not None}
    return names


def _changed(head: str | None, free_of: frozenset[str]) -> CallEffects:
    if head is None or head in free_of:
        return NONE
    return CallEffects(frozenset({SELF if head == "self" else head}))


def _head_node(node: ast.AST) -> ast.Name | None:
    """The name an attribute, subscript or starred chain starts at (`R` of `R[k].x`)."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node if isinstance(node, ast.Name) else None


def _head(node: ast.AST) -> str | None:
    head = _head_node(node)
    return None if head is None else head.id


def _targets(node: ast.AST) -> list[ast.AST]:
    """What a statement assigns or deletes, tuples unpacked."""
    if isinstance(node, ast.Assign):
        raw = list(node.targets)
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
        raw = [node.target]
    elif isinstance(node, ast.Delete):
        raw = list(node.targets)
    elif isinstance(node, ast.withitem) and node.optional_vars is not None:
        raw = [node.optional_vars]
    else:
        return []
    out: list[ast.AST] = []
    while raw:
        t = raw.pop()
        if isinstance(t, (ast.Tuple, ast.List)):
            raw.extend(t.elts)
        else:
            out.append(t.value if isinstance(t, ast.Starred) else t)
    return out


def _locals(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Parameters and names the body binds (nested functions included: a superset is safe,
    since a name taken for local is one whose changes are not looked for)."""
    a = fn.args
    names = {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs]}
    names |= {x.arg for x in (a.vararg, a.kwarg) if x is not None}
    for node in ast.walk(fn):
        for target in _targets(node):
            if isinstance(target, ast.Name) and not isinstance(node, ast.Delete):
                names.add(target.id)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                and node is not fn:
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
    return names


def _reads_changed_attr(fn: ast.AST, targets: set[int]) -> bool:
    """Whether a method reads an attribute of `self` that it also changes (`self.n += 1;
    return self.n`): only then does its value depend on the instance's earlier calls."""
    changed = {_self_attr(n) for n in ast.walk(fn) if isinstance(n, ast.Attribute)
               and _head_node(n) is not None and id(_head_node(n)) in targets}
    changed.discard(None)
    for n in ast.walk(fn):
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self" \
                and id(n.value) not in targets and n.attr in changed:
            return True
    return False


def _self_attr(node: ast.Attribute) -> str | None:
    """`x` of `self.x...` (the attribute of self a chain goes through)."""
    while isinstance(node, ast.Attribute) or isinstance(node, ast.Subscript):
        inner = node.value
        if isinstance(inner, ast.Name) and inner.id == "self" and isinstance(node, ast.Attribute):
            return node.attr
        node = inner
    return None
