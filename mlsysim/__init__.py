"""mlsysim: the constants, formulas and formatting helpers behind the book's numbers.

Importing `mlsysim` is cheap; the unit registry is built when `mlsysim.core` is first used.
"""

from __future__ import annotations

__version__ = "0.1.0"


def sources() -> list:
    """Every sourced constant, datasheet values first, then measured ones, in definition order.

    Each is `Source(name, value, source, year, kind, detail)`.
    """
    from mlsysim.core.constants import SOURCES
    from mlsysim.core.measured import SOURCES as MEASURED

    return list(SOURCES.values()) + list(MEASURED.values())
