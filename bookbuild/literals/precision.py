"""Does a literal agree with a computed value at the precision the literal itself claims?

`~600` for 581 is a fair rounding (600 commits to hundreds); `~208` for 153 is not. Digits
are read as rounded (half a unit of the last digit either way); `~`, `about` and
the like widen that to 5 % of the value; a percentage may quote a fraction (5 % for 0.05).
"""

from __future__ import annotations

from bookbuild.literals.scan import Literal

APPROX_SLACK = 0.05
# A stale literal is the same order as the value it once was; beyond this ratio the two are
# different quantities (or units), not a contradiction.
WINDOW = 1.75


def _candidates(lit: Literal, value: float) -> list[float]:
    return [value, value * 100] if lit.unit == "%" else [value]


def agrees(lit: Literal, value: float) -> bool:
    """Plain digits are exact to their last digit, rounded (153 for 153.02); an approximate
    literal's trailing zeros are rounding too (`~600` is 550-650), and it may be 5 % off."""
    step = lit.step
    whole = "." not in lit.digits and "e" not in lit.digits.lower()
    for v in _candidates(lit, value):
        if lit.approx:
            tol = max(step / 2, APPROX_SLACK * abs(v))
            if abs(lit.number - v) <= tol * (1 + 1e-9):
                return True
            continue
        unit = 1.0 if whole else step
        if abs(lit.number - v) <= unit / 2 * (1 + 1e-9):
            return True
    return False


def plausible(lit: Literal, value: float) -> bool:
    """Close enough in size that the literal could be a stale copy of the value."""
    for v in _candidates(lit, value):
        if v > 0 and lit.number > 0 and 1 / WINDOW <= lit.number / v <= WINDOW:
            return True
    return False


def distance(lit: Literal, value: float) -> float:
    import math

    return min(abs(math.log(lit.number / v)) if v > 0 and lit.number > 0 else math.inf
               for v in _candidates(lit, value))
