"""Provenance of constants: where each number comes from, queryable from code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KINDS = ("datasheet", "paper", "reference", "definition", "measured")


@dataclass(frozen=True)
class Source:
    """One sourced constant: its name, value (a Quantity or a plain number) and citation."""

    name: str
    value: Any
    source: str
    year: int
    kind: str = "datasheet"
    detail: str = ""  # for measured values: device, software versions, date

    def __post_init__(self) -> None:
        if not self.source.strip():
            raise ValueError(f"constant {self.name}: source must not be empty")
        if self.kind not in KINDS:
            raise ValueError(f"constant {self.name}: kind {self.kind!r} is not one of {KINDS}")
        if not 1900 <= self.year <= 2100:
            raise ValueError(f"constant {self.name}: year {self.year} is not plausible")

    @property
    def unit(self) -> str:
        """The unit as pint prints it abbreviated, or '' for a plain number."""
        units = getattr(self.value, "units", None)
        return "" if units is None else f"{units:~P}"

    @property
    def magnitude(self) -> float:
        return getattr(self.value, "magnitude", self.value)


class Table:
    """Collects constants in definition order, then names them from the module's globals.

    A module writes `NAME = table(value, unit, source, year)` once per line; at its end
    `table.bind(globals())` pairs each recorded value with the global it was assigned to, so the
    name is written once, in the assignment that cells import.
    """

    def __init__(self, quantity) -> None:
        self._quantity = quantity
        self._pending: list[tuple[Any, str, int, str]] = []
        self.sources: dict[str, Source] = {}

    def __call__(self, value: float, unit: str | None, source: str, year: int,
                 kind: str = "datasheet", detail: str = "") -> Any:
        v = value if unit is None else self._quantity(value, unit)
        self._pending.append((v, source, year, kind, detail))
        return v

    def bind(self, namespace: dict[str, Any]) -> dict[str, Source]:
        pending = iter(self._pending)
        want = next(pending, None)
        for name, value in namespace.items():
            if want is not None and value is want[0]:
                self.sources[name] = Source(name, value, *want[1:])
                want = next(pending, None)
        if want is not None:
            raise RuntimeError(f"constant {want[0]!r} was recorded but never assigned to a name")
        return self.sources
