"""Which local packages the chapters import: the warm template imports them once per build."""

from __future__ import annotations

import ast
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


def preload_list(sources: list[str], cwd: Path | None) -> list[str]:
    """What the template imports: the heavy packages the cells import, then the book's own
    (for a template that serves every folder, `cwd` None: only those found from any folder)."""
    imported = _imports(sources)
    tops = {name.split(".")[0] for name in imported}
    heavy = [module for top, modules in HEAVY.items() if top in tops for module in modules]
    return heavy + local_packages(imported, cwd)


def local_packages(imported: set[str], cwd: Path | None) -> list[str]:
    """The imported modules whose top-level package is the book's own, sorted.

    The kernel's `sys.path` starts at its working directory, so a package found there is the
    book's; so is one installed from a source tree outside the interpreter's prefix (editable).
    A template never imports packages installed from an index.
    """
    return sorted(name for name in imported if _is_local(name.split(".")[0], cwd))


def imported_tops(sources: list[str]) -> set[str]:
    """Top-level names of the modules the cells import."""
    return {name.split(".")[0] for name in _imports(sources)}


def folder_modules(tops: set[str], cwd: Path) -> set[str]:
    """The names of `tops` that a kernel in `cwd` imports from that folder, where a kernel in
    another folder would find another module or none: a template serving every folder must not
    have imported them (Quarto's kernels run beside each chapter; a module beside one chapter
    is not importable from the others)."""
    out = set()
    for top in tops:
        here = _in_folder(top, cwd)
        if here is None:
            continue
        anywhere = found_anywhere(top)
        if anywhere is None or os.path.realpath(anywhere) != os.path.realpath(here):
            out.add(top)
    return out


def _in_folder(top: str, folder: Path) -> str | None:
    """The file or package folder that makes `top` importable from `folder`, if any."""
    for candidate in (folder / top / "__init__.py", folder / f"{top}.py"):
        if candidate.is_file():
            return str(candidate)
    package = folder / top
    return str(package / "__init__.py") if package.is_dir() and top.isidentifier() else None


def found_anywhere(top: str) -> str | None:
    """Where `top` is found from any working directory (installed, editable, PYTHONPATH): the
    build's own folder is left off the search, as `python -m bookbuild` puts it first."""
    from importlib.machinery import PathFinder

    here = {"", os.getcwd(), os.path.realpath(os.getcwd())}
    path = [p for p in sys.path if isinstance(p, str) and p not in here]
    for finder in sys.meta_path:
        try:
            if finder is PathFinder:
                spec = PathFinder.find_spec(top, path)
            else:
                find = getattr(finder, "find_spec", None)
                spec = find(top, None) if find is not None else None
        except (ImportError, ValueError):
            spec = None
        if spec is not None:
            origin = spec.origin if spec.has_location else None
            locations = list(spec.submodule_search_locations or [])
            return origin or (os.path.join(locations[0], "__init__.py") if locations else None)
    return None


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


def _is_local(top: str, root: Path | None) -> bool:
    """Found in the kernel's directory, or installed from a source tree (an editable install
    of the book's package lives outside the interpreter's prefix); bookbuild itself is not."""
    if root is not None and _in_folder(top, root) is not None:
        return True
    origin = found_anywhere(top)
    if not origin or not os.path.isfile(origin) or top == "bookbuild":
        return False
    installed = {os.path.realpath(p) + os.sep for p in (sys.prefix, sys.base_prefix)}
    return not os.path.realpath(origin).startswith(tuple(installed))
