"""Inside the chapter kernel: the installed distributions whose packages the chapter imported.

Their files lie under the venv and are left out of the dependencies (the cache key carries the
versions of a few packages only); each distribution's METADATA file, which names its version,
is a dependency instead, so upgrading polars in the venv re-executes the chapters importing it.
"""

from __future__ import annotations

import os
import re
import sys

from bookbuild.kernel.paths import module_path

_SITES: dict[str, dict[str, str]] = {}  # site folder -> {import or project name: METADATA}


def metadata_files(top_levels: set[str]) -> set[str]:
    """The METADATA files of the distributions providing these top-level modules (those found)."""
    out = set()
    for name in top_levels:
        path = getattr(sys.modules.get(name), "__file__", None)
        if not isinstance(path, str):
            continue
        real = module_path(path)
        site = os.path.dirname(os.path.dirname(real) if os.path.basename(real).startswith(
            "__init__.") else real)
        if os.path.basename(site) not in ("site-packages", "dist-packages"):
            continue
        found = _distributions(site).get(_normal(name))
        if found:
            out.add(found)
    return out


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _distributions(site: str) -> dict[str, str]:
    """{name: METADATA} for every distribution in `site`, by project name and by the import
    names its top_level.txt lists (PyYAML provides yaml); remembered per process (the warm
    template fills it once for every kernel it forks)."""
    known = _SITES.get(site)
    if known is not None:
        return known
    known = _SITES[site] = {}
    try:
        entries = sorted(os.listdir(site))
    except OSError:
        return known
    for entry in entries:
        if not entry.endswith(".dist-info"):
            continue
        meta = os.path.join(site, entry, "METADATA")
        known.setdefault(_normal(entry[:-len(".dist-info")].rsplit("-", 1)[0]), meta)
        try:
            with open(os.path.join(site, entry, "top_level.txt"), encoding="utf-8") as f:
                tops = f.read().split()
        except OSError:
            tops = []
        for top in tops:
            known.setdefault(_normal(top), meta)
    return known
