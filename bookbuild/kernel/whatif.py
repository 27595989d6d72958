"""Inside a chapter's kernel for `numbers whatif`: constants take other values for one run.

The module defining a constant is compiled with one statement added after each top-level
assignment of the name, rebinding it to the override (in the constant's own unit registry and
units). So values the module derives from it later, and every `from m import NAME` done after
it, see the override: rebinding the name once the module has run would miss both.
"""

from __future__ import annotations

import ast
import importlib.abc
import importlib.machinery
import sys

ENV = "BOOKBUILD_WHATIF"  # the overrides as JSON, for a warm template to install before imports


class WhatifError(ValueError):
    """An override that does not fit its constant (another dimension, not a number)."""


def convert(old: object, name: str, text: str) -> object:
    """`text` as a value of the same kind as `old`: a Quantity in `old`'s registry and units."""
    registry = getattr(old, "_REGISTRY", None)
    if registry is not None:
        try:
            new = registry.parse_expression(text)
        except Exception as exc:  # pint's parse errors have no common base we can name
            raise WhatifError(f"whatif {name}: cannot read {text!r} as a quantity ({exc})") from None
        if not hasattr(new, "units"):
            new = registry.Quantity(new)
        if new.dimensionality != old.dimensionality:
            raise WhatifError(f"whatif {name}: {text!r} is in {new.units:~P}, the constant is in "
                              f"{old.units:~P} ({new.dimensionality} vs {old.dimensionality})")
        new = new.to(old.units)
        if hasattr(old, "_magnitude"):
            # The same object with the new magnitude: a module may pair its values with their
            # names by identity (a sources table bound from globals()), and a new object would
            # be a value nobody recorded.
            old._magnitude = new.magnitude
            return old
        return new
    try:
        value = float(text)
    except ValueError:
        raise WhatifError(f"whatif {name}: {text!r} is not a number, and the constant is the "
                          f"plain number {old!r}") from None
    return int(value) if isinstance(old, int) and value.is_integer() else value


def _rebinding(name: str, text: str, at: ast.stmt) -> ast.stmt:
    code = (f"{name} = __import__('bookbuild.kernel.whatif', fromlist=['convert'])"
            f".convert({name}, {name!r}, {text!r})")
    return ast.copy_location(ast.parse(code).body[0], at)


def _binds(stmt: ast.stmt) -> set[str]:
    if isinstance(stmt, ast.Assign):
        return {t.id for t in stmt.targets if isinstance(t, ast.Name)}
    if isinstance(stmt, ast.AnnAssign | ast.AugAssign) and isinstance(stmt.target, ast.Name):
        return {stmt.target.id}
    return set()


def rewritten(body: list[ast.stmt], overrides: dict[str, str]) -> list[ast.stmt]:
    """`body` with each assignment of an overridden name followed by its rebinding."""
    out: list[ast.stmt] = []
    for stmt in body:
        out.append(stmt)
        out += [_rebinding(n, overrides[n], stmt) for n in sorted(_binds(stmt) & overrides.keys())]
    return out


class _Loader(importlib.machinery.SourceFileLoader):
    def __init__(self, fullname: str, path: str, overrides: dict[str, str]) -> None:
        super().__init__(fullname, path)
        self.overrides = overrides

    def get_code(self, fullname: str):
        """Compiled from the source every time: never from, nor into, the bytecode cache."""
        source = self.get_data(self.path)
        tree = ast.parse(source, filename=self.path)
        tree.body = rewritten(tree.body, self.overrides)
        return compile(tree, self.path, "exec", dont_inherit=True)


class _Finder(importlib.abc.MetaPathFinder):
    def __init__(self, overrides: dict[str, dict[str, str]]) -> None:
        self.overrides = overrides

    def find_spec(self, fullname, path, target=None):
        if fullname not in self.overrides:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            return None
        spec.loader = _Loader(fullname, spec.origin, self.overrides[fullname])
        return spec


def install(overrides: dict[str, dict[str, str]]) -> None:
    """Override, per module name, constants by name (`{"m": {"BW": "3.9 TB/s"}}`)."""
    if any(isinstance(f, _Finder) and f.overrides == overrides for f in sys.meta_path):
        return  # forked from a template that installed them before importing the book's modules
    stale = [m for m in overrides if m in sys.modules]
    if stale:  # imported before this cell (a preloaded kernel): the override would be missed
        raise WhatifError(f"whatif: {', '.join(stale)} was imported before the override")
    sys.meta_path.insert(0, _Finder(overrides))


def setup_code(overrides: dict[str, dict[str, str]]) -> str:
    """The kernel code that installs `overrides` (appended to the chapter's setup cell)."""
    return f"import bookbuild.kernel.whatif as __whatif__\n__whatif__.install({overrides!r})\n"
