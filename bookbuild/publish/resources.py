"""Files the HTML pages need beside them: images the chapters reference, `resources:` globs."""

from __future__ import annotations

import glob
import os
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

# `src` as HTML allows it: spaces around `=`, double, single or no quotes (raw HTML in a page
# reaches us as written).
IMG_SRC = re.compile(r"""<(?:img|source|video|audio|embed)\b[^>]*?\bsrc\s*=\s*"""
                     r"""(?:"([^"]+)"|'([^']+)'|([^"'\s>]+))""", re.I)


def _local(src: str) -> str | None:
    """The relative file path of a `src`, or None for URLs, data and absolute paths."""
    parts = urlsplit(src)
    if parts.scheme or parts.netloc or src.startswith(("/", "#")):
        return None
    return unquote(parts.path) or None


def copy_images(body: str, source_dir: Path, page_dir: Path, stage: Path) -> list[str]:
    """Copy every local image the page shows from beside the chapter to beside the page (never
    outside the output folder); return the `src` of those found in neither place."""
    missing = []
    for src in dict.fromkeys(next(filter(None, m.groups())) for m in IMG_SRC.finditer(body)):
        rel = _local(src)
        if rel is None or (page_dir / rel).exists():
            continue  # a URL, or written by the build (cell output, TikZ)
        origin = (source_dir / rel).resolve()
        target = (page_dir / rel).resolve()
        if not origin.is_file():
            missing.append(src)
        elif target.is_relative_to(stage.resolve()):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target)
    return missing


def line_of(text: str, needle: str) -> int:
    """The 1-based line where `needle` first appears in `text` (1 if nowhere)."""
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def resource_globs(config: dict) -> list[str]:
    """`project.resources` (and a top-level `resources:`) of `_quarto.yml`."""
    found: list[str] = []
    for value in ((config.get("project") or {}).get("resources"), config.get("resources")):
        found += [value] if isinstance(value, str) else list(value or [])
    return [str(v) for v in found]


def copy_resources(patterns: list[str], root: Path, stage: Path) -> list[str]:
    """Copy the files matching each glob (relative to the project) into the output, keeping
    their paths; return the patterns that matched nothing."""
    unmatched = []
    for pattern in patterns:
        negate = pattern.startswith("!")
        if negate:
            continue  # an exclusion narrows other globs; nothing to copy
        matches = [Path(m) for m in glob.glob(str(root / pattern), recursive=True)]
        files = [m for m in matches if m.is_file()]
        for d in (m for m in matches if m.is_dir()):
            files += [f for f in d.rglob("*") if f.is_file()]
        if not files:
            unmatched.append(pattern)
        for f in files:
            target = Path(os.path.normpath(stage / f.relative_to(root)))
            if not target.is_relative_to(stage):
                continue  # refused where _quarto.yml is read; never written outside the output
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, target)
    return unmatched
