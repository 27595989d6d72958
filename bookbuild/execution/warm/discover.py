"""Which local packages the chapters import: the warm template imports them once per build."""

from __future__ import annotations

import ast
import importlib.util
import os
import sys
from pathlib import Path

from bookbuild.analysis.names import parse_cell

# Installed packages worth importing once when some cell imports them (their import costs
# 0.1-0.5 s each); any other installed package is left for the chapter to import itself.
HEAVY = {
    "numpy": ["numpy"],
    "pint": ["pint"],
    "matplotlib": ["matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg",
                   "matplotlib.pyplot"],
}


def preload_list(sources: list[str], cwd: Path) -> list[str]:
    """What the template imports: the heavy packages the cells import, then the book's own."""
    imported = _imports(sources)
    tops = {name.split(".")[0] for name in imported}
    heavy = [module for top, modules in HEAVY.items() if top in tops for module in modules]
    return heavy + local_packages(imported, cwd)


def installed_only(sources: list[str]) -> list[str]:
    """A cell importing only the heavy installed packages `sources` import: a template for
    kernels whose book modules must be imported by the chapter itself (`numbers whatif`)."""
    tops = {name.split(".")[0] for name in _imports(sources)}
    return ["\n".join(f"import {module}" for top, modules in HEAVY.items() if top in tops
                       for module in modules)]


def local_packages(imported: set[str], cwd: Path) -> list[str]:
    """The imported modules whose top-level package is the book's own, sorted.

    The kernel's `sys.path` starts at its working directory, so a package found there is the
    book's; so is one installed from a source tree outside the interpreter's prefix (editable).
    A template never imports packages installed from an index.
    """
    return sorted(name for name in imported if _is_local(name.split(".")[0], Path(cwd)))


def _imports(sources: list[str]) -> set[str]:
    """Absolute module names the cells import (cells with syntax errors are skipped)."""
    wanted: set[str] = set()
    for source in sources:
        tree = parse_cell(source)
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.Import):
                wanted |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                wanted.add(node.module)
    return wanted


def _is_local(top: str, root: Path) -> bool:
    """Found in the kernel's directory, or installed from a source tree (an editable install
    of the book's package lives outside the interpreter's prefix); bookbuild itself is not."""
    if (root / top / "__init__.py").is_file() or (root / f"{top}.py").is_file():
        return True
    try:
        spec = importlib.util.find_spec(top)  # a top-level name: found, not imported
    except (ImportError, ValueError):
        return False
    origin = getattr(spec, "origin", None)
    if not origin or not os.path.isfile(origin) or top == "bookbuild":
        return False
    installed = {os.path.realpath(p) + os.sep for p in (sys.prefix, sys.base_prefix)}
    return not os.path.realpath(origin).startswith(tuple(installed))
