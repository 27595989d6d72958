"""Quarto's merge of configuration layers, keeping where each value was written.

Quarto merges `_quarto.yml`, its `metadata-files`, profile files and directory metadata with
one rule (quarto-cli `mergeConfigs`, lodash `mergeWith`): mappings merge key by key, a list
meeting a list or a scalar is the two concatenated without duplicates, a later scalar (or null)
replaces an earlier one, and `contents:` written as a string is replaced, not extended. Each
value travels with a `Mark` tree, so an error found in the merged mapping names the file and
line that wrote the value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Keys whose string value is a glob that a later layer replaces (Quarto's kExandableStringKeys).
REPLACED_WHEN_STRING = ("contents",)


@dataclass(frozen=True)
class Mark:
    """Where a value was written: its file and line (a mapping entry: its key's line), and the
    marks of its entries (a mapping's by key, a list's by position)."""

    file: Path
    line: int
    children: dict[str, Mark] | list[Mark] | None = field(default=None, compare=False)

    def at(self, *keys: str | int) -> Mark:
        """The mark of the value at `keys`, or of the nearest enclosing one that exists."""
        mark = self
        for key in keys:
            kids = mark.children
            if isinstance(kids, dict) and str(key) in kids:
                mark = kids[str(key)]
            elif isinstance(kids, list) and isinstance(key, int) and 0 <= key < len(kids):
                mark = kids[key]
            else:
                break
        return mark

    def find(self, value: Any, scalar: str, nth: int = 1) -> Mark | None:
        """The mark of the `nth` scalar equal to `scalar` in `value` (the merged data this
        tree marks), walking in document order; None when there is none."""
        found: list[Mark] = []

        def walk(v: Any, m: Mark) -> None:
            kids = m.children
            if isinstance(v, dict):
                for k, item in v.items():
                    walk(item, kids[k] if isinstance(kids, dict) and k in kids else m)
            elif isinstance(v, list):
                for i, item in enumerate(v):
                    walk(item, kids[i] if isinstance(kids, list) and i < len(kids) else m)
            elif isinstance(v, str) and v == scalar:
                found.append(m)

        walk(value, self)
        return found[nth - 1] if len(found) >= nth else (found[0] if found else None)


def marks_of(node, file: Path) -> Mark:
    """The mark tree of a YAML node (from `yaml.compose`) written in `file`."""
    if node is None:
        return Mark(file, 1)
    return _mark(node, file, node.start_mark.line + 1, {})


def _mark(node, file: Path, line: int, seen: dict[int, Mark]) -> Mark:
    if id(node) in seen:  # an alias: the anchor's marks (and no endless walk)
        return seen[id(node)]
    if node.id == "mapping":
        kids: dict[str, Mark] = {}
        mark = Mark(file, line, kids)
        seen[id(node)] = mark
        for key, value in node.value:
            if key.tag == "tag:yaml.org,2002:merge":  # `<<: *base`: its keys are this mapping's
                for inner in (value.value if value.id == "sequence" else [value]):
                    if inner.id == "mapping":
                        kids.update(_mark(inner, file, inner.start_mark.line + 1, seen).children)
                continue
            kids[str(key.value)] = _mark(value, file, key.start_mark.line + 1, seen)
        return mark
    if node.id == "sequence":
        items: list[Mark] = []
        mark = Mark(file, line, items)
        seen[id(node)] = mark
        items.extend(_mark(v, file, v.start_mark.line + 1, seen) for v in node.value)
        return mark
    return Mark(file, line)


def _falsy(value: Any) -> bool:
    """JavaScript's falsy values among YAML's (an empty list is not one)."""
    return value is None or value is False or value == "" or (
        type(value) in (int, float) and value == 0)


def merge(base: Any, base_mark: Mark, over: Any, over_mark: Mark,
          key: str | None = None) -> tuple[Any, Mark]:
    """`over` merged onto `base` with Quarto's rules, and the marks of the result."""
    if key in REPLACED_WHEN_STRING and isinstance(base, str):
        return over, over_mark
    if isinstance(base, list) or isinstance(over, list):
        if _falsy(base):
            return over, over_mark
        if _falsy(over):
            return base, base_mark
        return _concat(base, base_mark, over, over_mark)
    if isinstance(over, dict):
        if not isinstance(base, dict):
            return over, over_mark
        value = dict(base)
        kids = dict(base_mark.children) if isinstance(base_mark.children, dict) else {}
        for k, v in over.items():
            mark = over_mark.at(k)
            if k in value:
                value[k], kids[k] = merge(value[k], kids.get(k, base_mark), v, mark, k)
            else:
                value[k], kids[k] = v, mark
        return value, Mark(base_mark.file, base_mark.line, kids)
    return over, over_mark


def _concat(base: Any, base_mark: Mark, over: Any, over_mark: Mark) -> tuple[list, Mark]:
    """Both as lists, concatenated, each value once (the first), as Quarto's `uniqBy`."""
    items: list[Any] = []
    marks: list[Mark] = []
    seen: set[str] = set()
    for value, mark in (*_items(base, base_mark), *_items(over, over_mark)):
        tag = json.dumps(value, default=str)
        if tag not in seen:
            seen.add(tag)
            items.append(value)
            marks.append(mark)
    return items, Mark(base_mark.file, base_mark.line, marks)


def _items(value: Any, mark: Mark) -> list[tuple[Any, Mark]]:
    if not isinstance(value, list):
        return [(value, mark)]
    kids = mark.children if isinstance(mark.children, list) else []
    return [(v, kids[i] if i < len(kids) else mark) for i, v in enumerate(value)]
