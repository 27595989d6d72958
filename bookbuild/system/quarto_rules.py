"""Quarto's rules that bookbuild's checks and its Lua filters both follow (label kinds, theorems,
asides, callout types, format aliases), read from the one data file the filters read too."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from bookbuild.system.shipped import FILTERS

RULES_FILE = "quarto-rules.json"  # beside the filters: filters/quarto_rules.lua reads it


@cache
def rules() -> dict[str, Any]:
    """The tables of `quarto-rules.json`, read once."""
    return json.loads((FILTERS / RULES_FILE).read_text(encoding="utf-8"))


def format_names(writer: str) -> frozenset[str]:
    """The `when-format` names a pandoc writer answers to: itself and each alias listing it,
    as filters/conditional.lua matches them."""
    aliases = rules()["format-aliases"]
    return frozenset({writer, *(name for name, writers in aliases.items() if writer in writers)})
