"""Where in a YAML text PyYAML's error is: its mark, or for a reader error (a control character,
bad encoding), the character position it gives instead."""

from __future__ import annotations


def yaml_position(exc: Exception, text: str) -> tuple[int, int] | None:
    """(line, column), both from 0, of the problem `exc` reports in `text`; None if unknown."""
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        return mark.line, mark.column
    position = getattr(exc, "position", None)  # yaml.reader.ReaderError
    if isinstance(position, int) and 0 <= position <= len(text):
        before = text[:position]
        return before.count("\n"), position - (before.rfind("\n") + 1)
    return None
