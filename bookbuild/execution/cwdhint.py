"""The advice added to a cell's error when what it missed lies at the project root.

Cells run beside their chapter (Quarto's default, `execute-dir: file`). A chapter in a subfolder
that imports a module kept at the root, or opens `data/x.csv` meaning the root's `data/`, fails
there as it would under Quarto; the error then says where the thing is and how to run there.
"""

from __future__ import annotations

import re
from pathlib import Path

CONFIG = "_quarto.yml"
_MODULE = re.compile(r"No module named '([\w.]+)'")
_FILE = re.compile(r"No such file or directory: '([^']+)'")


def project_root(cwd: Path) -> Path | None:
    """The folder holding `_quarto.yml` at or above `cwd`."""
    for d in [cwd, *cwd.parents]:
        if (d / CONFIG).is_file():
            return d
    return None


def at_root(ename: str | None, evalue: str | None, cwd: Path) -> str:
    """'; ... ' advice when a ModuleNotFoundError's module or a FileNotFoundError's relative
    path exists at the project root (above `cwd`, where the cells ran), else ''."""
    root = project_root(cwd)
    if root is None or root == cwd or not evalue:
        return ""
    if ename == "ModuleNotFoundError" and (found := _MODULE.search(evalue)):
        top = found.group(1).split(".")[0]
        if (root / f"{top}.py").is_file() or (root / top / "__init__.py").is_file():
            return (f"; '{top}' is at the project root, and cells run in their chapter's folder "
                    f"({_where(cwd, root)}) as in Quarto: set `execute-dir: project` under "
                    f"`project:` in {CONFIG}, or install the module")
    if ename == "FileNotFoundError" and (found := _FILE.search(evalue)):
        rel = found.group(1)
        if not Path(rel).is_absolute() and (root / rel).exists():
            return (f"; '{rel}' is at the project root, and cells run in their chapter's folder "
                    f"({_where(cwd, root)}) as in Quarto: set `execute-dir: project` under "
                    f"`project:` in {CONFIG}, or give the path from the chapter's folder")
    return ""


def _where(cwd: Path, root: Path) -> str:
    return cwd.relative_to(root).as_posix() + "/"
