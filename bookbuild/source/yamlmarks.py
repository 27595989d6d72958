"""YAML facts PyYAML does not give: where in the text its error is (its mark, or for a reader
error the character position), and how large a value is once its aliases are written out."""

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


def expanded_size(value: object, limit: int, seen: dict[int, int] | None = None) -> int:
    """How many values `value` holds with every alias written out (stopping past `limit`), in
    time linear in the text: aliases share values, and walking each use of a "billion laughs"
    (what a schema check or JSON for pandoc does) would take minutes and gigabytes."""
    seen = {} if seen is None else seen
    if not isinstance(value, dict | list):
        return 1
    known = seen.get(id(value))
    if known is not None:
        return known
    seen[id(value)] = limit + 1  # a value that holds itself is endless
    items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
    total = 1
    for item in items:
        total += expanded_size(item, limit, seen)
        if total > limit:
            break
    seen[id(value)] = total
    return total
