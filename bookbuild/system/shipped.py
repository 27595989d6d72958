"""Where bookbuild's own files are, in a source checkout and in an installed wheel alike."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # bookbuild/, above system/
# The wheel carries the Lua filters and the default TikZ preamble as bookbuild/filters; a
# source checkout (and an editable install) keeps them in filters/ at the repository root.
FILTERS = next((p for p in (PACKAGE / "filters", PACKAGE.parent / "filters") if p.is_dir()),
               PACKAGE / "filters")
TEMPLATES = PACKAGE / "templates"
LUA = PACKAGE / "lua"  # bookbuild's own Lua: the pandoc worker and steps no Quarto book needs
