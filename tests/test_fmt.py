"""fmt, check, md_math and sci_latex against golden strings."""

from __future__ import annotations

import pytest

from mlsysim.core.constants import A100_FLOPS_FP16_TENSOR, A100_MEM_BW, H100_MEM_BW
from mlsysim.core.units import Q_
from mlsysim.errors import FormatError, GuardError, MlsysimError
from mlsysim.fmt import check, fmt, md_math, sci_latex


def test_fmt_converts_to_the_unit_string() -> None:
    assert fmt(A100_FLOPS_FP16_TENSOR, "TFLOP/s", precision=0) == "312"
    assert fmt(A100_MEM_BW, "TB/s", precision=1) == "2.0"
    assert fmt(H100_MEM_BW, "GB/s", precision=0) == "3,350"
    assert fmt(H100_MEM_BW, "GB/s", precision=0, commas=False) == "3350"


def test_fmt_plain_numbers_precision_and_commas() -> None:
    assert fmt(1000, precision=0) == "1,000"
    assert fmt(1000, precision=0, commas=False) == "1000"
    assert fmt(5.925925, precision=1, commas=False) == "5.9"
    assert fmt(1234567.891, precision=2) == "1,234,567.89"
    assert fmt(0) == "0.0"


def test_fmt_refuses_to_print_a_nonzero_value_as_zero() -> None:
    with pytest.raises(FormatError, match="prints as '0.00'"):
        fmt(0.001, precision=2)
    assert fmt(0.001, precision=2, allow_zero=True) == "0.00"
    assert fmt(0.001, precision=3) == "0.001"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_fmt_refuses_nan_and_inf(bad: float) -> None:
    with pytest.raises(FormatError, match="not a finite number"):
        fmt(bad)


def test_fmt_rejects_an_incompatible_unit() -> None:
    with pytest.raises(Exception) as info:
        fmt(H100_MEM_BW, "TFLOP/s")
    assert type(info.value).__name__ == "DimensionalityError"


def test_fmt_of_a_quantity_without_unit_uses_its_own() -> None:
    assert fmt(Q_(2.5, "ms"), precision=2) == "2.50"


def test_check_raises_a_guard_error_with_the_message() -> None:
    check(True, "never shown")
    with pytest.raises(GuardError) as info:
        check(1 > 2, "one must exceed two")
    assert str(info.value) == "one must exceed two"
    assert isinstance(info.value, ValueError) and isinstance(info.value, MlsysimError)


def test_md_math_is_markdown() -> None:
    m = md_math(r"\frac{a}{b}")
    assert m._repr_markdown_() == r"$\frac{a}{b}$"
    assert str(m) == r"$\frac{a}{b}$"


@pytest.mark.parametrize(("x", "p", "text"), [
    (4.1e9, 2, r"4.10 \times 10^{9}"),
    (1e9, 0, r"1 \times 10^{9}"),
    (1.2e20, 1, r"1.2 \times 10^{20}"),
    (0.00025, 1, r"2.5 \times 10^{-4}"),
    (-3e5, 2, r"-3.00 \times 10^{5}"),
    (0, 2, "0.00"),
])
def test_sci_latex(x: float, p: int, text: str) -> None:
    assert sci_latex(x, p) == text
