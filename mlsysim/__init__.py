"""mlsysim: the constants, formulas and formatting helpers behind the book's numbers.

Importing `mlsysim` is cheap; the unit registry is built when `mlsysim.core` is first used.
"""

from __future__ import annotations

__version__ = "0.1.0"


def sources() -> list:
    """Every sourced constant as `Source(name, value, source, year, kind)`, in definition order."""
    from mlsysim.core.constants import SOURCES

    return list(SOURCES.values())
