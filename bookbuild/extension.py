"""`_extensions/bookbuild/`: our filters packaged as the Quarto extension `quarto add` installs.

`filters/` stays the one source; this module writes the extension from it (`make extension`),
and a test fails when the committed copy differs from what it would write.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bookbuild import __version__
from bookbuild.render import FILTER_ORDER, FILTERS

NAME = "bookbuild"
EXTRA = ["tikz-preamble.tex"]  # read by tikz.lua from beside itself


def manifest() -> str:
    """`_extension.yml`: the filters in the order bookbuild runs them."""
    lines = [f"title: {NAME}", "author: The bookbuild authors", f"version: {__version__}",
             'quarto-required: ">=1.4.0"', "contributes:", "  filters:"]
    lines += [f"    - {name}" for name in FILTER_ORDER]
    return "# Written by `make extension` from filters/; edit filters/ instead.\n" + "\n".join(lines) + "\n"


def files() -> dict[str, bytes]:
    """Every file of the extension folder, by name."""
    out = {name: (FILTERS / name).read_bytes() for name in [*FILTER_ORDER, *EXTRA]}
    out["_extension.yml"] = manifest().encode("utf-8")
    return out


def write(root: Path) -> Path:
    """Write `root/_extensions/bookbuild/`, removing files no longer part of it."""
    folder = root / "_extensions" / NAME
    folder.mkdir(parents=True, exist_ok=True)
    wanted = files()
    for old in folder.iterdir():
        if old.name not in wanted and old.is_file():
            old.unlink()
    for name, data in wanted.items():
        (folder / name).write_bytes(data)
    return folder


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else FILTERS.parent), file=sys.stderr)
