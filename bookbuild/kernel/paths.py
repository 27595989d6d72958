"""Module file paths as the chapter kernel compares them, resolved once per process."""

from __future__ import annotations

import functools
import os


@functools.cache
def module_path(path: str) -> str:
    """`os.path.realpath` of a module's file, remembered: a warm kernel holds some 1500 modules
    and resolving each on every snapshot took 0.1-0.3 s per chapter. The warm template fills
    this in once (`end_preload`), and it is replaced when a module file changes anyway."""
    return os.path.realpath(path)
