"""`_extensions/bookbuild/`: our filters packaged as the Quarto extension `quarto add` installs.

`filters/` is the one source: the extension's filters are relative symbolic links to it (the same
bytes, as pandoc-ext/diagram does), and only `_extension.yml` is written (`make extension`); a test
fails when the committed folder differs from what it would write.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bookbuild import __version__
from bookbuild.publish.pandoc_run import FILTER_ORDER, FILTERS

NAME = "bookbuild"
EXTRA = ["quarto_rules.lua", "quarto-rules.json",  # the rules the filters load from beside them
         "tikz-preamble.tex"]  # read by tikz.lua from beside itself


def manifest() -> str:
    """`_extension.yml`: the filters in the order bookbuild runs them."""
    lines = [f"title: {NAME}", "author: The bookbuild authors", f"version: {__version__}",
             'quarto-required: ">=1.4.0"', "contributes:", "  filters:"]
    lines += [f"    - {name}" for name in FILTER_ORDER]
    return "# Written by `make extension` from filters/; edit filters/ instead.\n" + "\n".join(lines) + "\n"


def links() -> dict[str, str]:
    """The extension's filters and their files, by name: where each link points."""
    return {name: f"../../{FILTERS.name}/{name}" for name in [*FILTER_ORDER, *EXTRA]}


def write(root: Path) -> Path:
    """Write `root/_extensions/bookbuild/`, removing files no longer part of it."""
    folder = root / "_extensions" / NAME
    folder.mkdir(parents=True, exist_ok=True)
    wanted = links()
    for old in folder.iterdir():
        if old.name not in wanted and old.name != "_extension.yml" and (old.is_file() or old.is_symlink()):
            old.unlink()
    for name, target in wanted.items():
        link = folder / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target)
    (folder / "_extension.yml").write_text(manifest(), encoding="utf-8")
    return folder


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else FILTERS.parent), file=sys.stderr)
