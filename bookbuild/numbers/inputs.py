"""What a chapter's numbers are computed from besides constants: the data files its cells read
(as its execution recorded them) and the versions of the installed packages its cells import.
The lock keeps both, so a moved number can name the input that moved it.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from functools import lru_cache
from pathlib import Path

from bookbuild.source.qmd import Document


def file_name(root: Path | None, path: str) -> str:
    """A data file's name in the lock: below the project root when it lies there, posix."""
    p = Path(path)
    if root is not None and p.is_relative_to(root):
        return p.relative_to(root).as_posix()
    return p.as_posix()


# The system's own data (time zones, locales, certificates) and the user's caches (fonts,
# parsed unit registries) differ between machines and are no book's input: a lock written on
# one machine must read the same on another.
_SYSTEM = ("/usr/", "/etc/", "/lib/", "/lib64/", "/var/lib/", "/var/cache/", "/opt/")


# Installed packages' metadata (an editable install's lies in the project): importlib reads it
# for entry points; it describes packages, whose versions the lock keeps instead.
_METADATA = re.compile(r"\.(egg|dist)-info[/\\]")


def _not_inputs() -> tuple[str, ...]:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return (*_SYSTEM, os.path.join(cache, ""))


def data_files(root: Path | None, dependencies: list[str]) -> dict[str, tuple[int, str]]:
    """(size, sha256) of each data file a chapter read; modules are code (their constants are
    locked by name), folders listed and files absent have no content to compare."""
    out = {}
    skipped = _not_inputs()
    prefix = os.path.join(str(root), "") if root is not None else None
    for path in dependencies:
        if path.endswith((".py", ".pyc")) or _METADATA.search(path):
            continue  # (most of what a chapter reads is modules: strings first, no Path)
        if path.startswith(skipped) and not (prefix and path.startswith(prefix)):
            continue
        try:
            data = Path(path).read_bytes()
        except OSError:  # a folder, or a file that is gone or was never there
            continue
        out[file_name(root, path)] = (len(data), hashlib.sha256(data).hexdigest())
    return out


_IMPORT = re.compile(r"^[ \t]*(?:import[ \t]+([^#\n]+)|from[ \t]+([A-Za-z_]\w*)[\w.]*[ \t]+import\b)",
                     re.M)


def imported_names(doc: Document) -> set[str]:
    """Top-level module names the chapter's cells import (`import a.b, c`, `from a import x`);
    read off the lines (not parsed): every render asks, and our cells took 100 ms to parse."""
    names: set[str] = set()
    for cell in doc.cells:
        names |= _cell_imports(cell.source)
    return names - set(sys.stdlib_module_names)


@lru_cache(maxsize=1024)
def _cell_imports(source: str) -> frozenset[str]:
    """The top-level module names one cell's import lines name."""
    out = set()
    for plain, source_module in _IMPORT.findall(source):
        if source_module:
            out.add(source_module)
        for part in plain.split(","):
            name = part.strip().split(" ")[0].split(".")[0]
            if name.isidentifier():
                out.add(name)
    return frozenset(out)


def package_versions(root: Path | None, doc: Document) -> dict[str, str]:
    """Installed distribution -> version for the packages the chapter's cells import; the
    book's own modules (at its root) are not packages."""
    out = {}
    for name in sorted(imported_names(doc)):
        if root is not None and ((root / name).is_dir() or (root / f"{name}.py").is_file()):
            continue
        out.update(_versions(name))
    return out


@lru_cache(maxsize=256)
def _versions(module: str) -> dict[str, str]:
    """Distribution -> version for the installed package that provides `module`."""
    from importlib import metadata

    try:
        return {module: metadata.version(module)}
    except metadata.PackageNotFoundError:
        pass  # the distribution has another name (yaml: PyYAML): ask the slower index
    out = {}
    for dist in _distributions().get(module, ()):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


@lru_cache(maxsize=1)
def _distributions() -> dict[str, list[str]]:
    from importlib import metadata

    return dict(metadata.packages_distributions())
