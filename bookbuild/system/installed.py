"""Versions of installed packages, for cache keys that must change when a package does."""

from __future__ import annotations

import os
import sys
from functools import lru_cache


def _normal(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


@lru_cache(maxsize=1)
def _dist_info() -> dict[str, str]:
    """Versions from the `name-version.dist-info` folder names on sys.path (the first found wins,
    as for imports): one listing per folder, where importlib.metadata scans every folder again
    for each package asked (30 ms of a no-op `numbers check`)."""
    found: dict[str, str] = {}
    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        for name in names:
            stem = name[:-len(".dist-info")]
            if name.endswith(".dist-info") and stem.count("-") == 1:
                dist, version = stem.split("-")
                found.setdefault(_normal(dist), version)
    return found


def version_of(package: str) -> str:
    """The installed version of `package`, "absent" when it is not installed."""
    found = _dist_info().get(_normal(package))
    if found is not None:
        return found
    from importlib.metadata import PackageNotFoundError, version  # egg-info and the like

    try:
        return version(package)
    except PackageNotFoundError:
        return "absent"
