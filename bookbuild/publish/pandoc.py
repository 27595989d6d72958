"""The pandoc binary: always the one inside the pypandoc-binary wheel, never whatever is on PATH."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


class PandocMissing(RuntimeError):
    pass


@lru_cache(maxsize=1)
def pandoc_path() -> Path:
    import pypandoc

    files = Path(pypandoc.__file__).parent / "files"
    for name in ("pandoc", "pandoc.exe"):
        if (files / name).is_file():
            return files / name
    raise PandocMissing("the pandoc binary of the pypandoc-binary wheel is missing: "
                        "run `make setup` (pip install pypandoc-binary)")
