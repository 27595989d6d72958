"""Formatting helpers the book's OUTPUT steps use: `fmt`, `check`, `md_math`, `sci_latex`.

One rule per target, independent of the output format: the same text lands in HTML and PDF.
"""

from __future__ import annotations

import math
from typing import Any

from mlsysim.errors import FormatError, GuardError

__all__ = ["fmt", "check", "md_math", "sci_latex", "Markdown"]


class Markdown(str):
    """A string that the book engine inserts as markdown (it has `_repr_markdown_`)."""

    def _repr_markdown_(self) -> str:
        return str(self)


def _magnitude(value: Any, unit: str | None) -> float:
    if hasattr(value, "magnitude") and hasattr(value, "units"):
        return value.m_as(unit) if unit is not None else value.magnitude
    if unit is not None:
        raise TypeError(f"fmt: cannot convert plain number {value!r} to {unit!r}; pass a Quantity")
    return value


def fmt(value: Any, unit: str | None = None, precision: int = 1, commas: bool = True,
        allow_zero: bool = False) -> str:
    """Return the number only, converted to `unit` (e.g. "TFLOP/s"), with `precision` decimals.

    Raises FormatError on NaN or infinity, and when a non-zero value would print as zero
    (pass `allow_zero=True` to accept that).
    """
    x = float(_magnitude(value, unit))
    if math.isnan(x) or math.isinf(x):
        raise FormatError(x, "not a finite number")
    text = f"{x:{',' if commas else ''}.{precision}f}"
    if x != 0 and not allow_zero and float(text.replace(",", "")) == 0:
        raise FormatError(x, f"non-zero value prints as {text!r} with precision={precision}")
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]  # "-0.0" is never what an author means
    return text


def check(condition: Any, message: str) -> None:
    """GUARD step: raise GuardError(message) unless `condition` holds."""
    if not condition:
        raise GuardError(message)


def md_math(latex: str) -> Markdown:
    """Inline math as markdown: `$latex$`."""
    return Markdown(f"${latex}$")


def sci_latex(x: Any, p: int = 2) -> str:
    """Scientific notation in LaTeX: sci_latex(4.1e9) == '4.10 \\times 10^{9}'."""
    v = float(_magnitude(x, None))
    if math.isnan(v) or math.isinf(v):
        raise FormatError(v, "not a finite number")
    if v == 0:
        return f"{0:.{p}f}"
    mantissa, exponent = f"{v:.{p}e}".split("e")
    return f"{mantissa} \\times 10^{{{int(exponent)}}}"
