"""Formulas against hand-computed values, units, argument checks, and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlsysim import formulas as F
from mlsysim.core.constants import (
    A100_FLOPS_FP16_TENSOR,
    A100_MEM_BW,
    H100_FLOPS_FP16_TENSOR,
    H100_MEM_BW,
)
from mlsysim.core.units import Q_


def test_ridge_point() -> None:
    assert F.ridge_point(H100_FLOPS_FP16_TENSOR, H100_MEM_BW).m_as("flop/byte") == pytest.approx(989 / 3.35)
    assert int(F.ridge_point(A100_FLOPS_FP16_TENSOR, A100_MEM_BW).m_as("flop/byte")) == 153


def test_attainable_performance_is_the_lower_ceiling() -> None:
    low = F.attainable_performance(H100_FLOPS_FP16_TENSOR, H100_MEM_BW, Q_(1, "flop/byte"))
    assert low.m_as("TFLOP/s") == pytest.approx(3.35)
    high = F.attainable_performance(H100_FLOPS_FP16_TENSOR, H100_MEM_BW, Q_(1e4, "flop/byte"))
    assert high.m_as("TFLOP/s") == pytest.approx(989)


def test_gemm_intensity_of_a_square_fp16_gemm() -> None:
    # 2 n^3 flops over 3 n^2 elements of 2 bytes: n / 3
    assert F.gemm_intensity(4096, 4096, 4096).m_as("flop/byte") == pytest.approx(4096 / 3)


def test_amdahl_and_gustafson_worked_numbers() -> None:
    assert F.amdahl_speedup(0.05, 8) == pytest.approx(1 / (0.05 + 0.95 / 8))
    assert F.gustafson_speedup(0.05, 1000) == pytest.approx(950.05)


def test_littles_law() -> None:
    assert F.littles_law(Q_(1000, "1/s"), Q_(50, "ms")) == pytest.approx(50)


def test_transfer_time() -> None:
    t = F.transfer_time(Q_(1, "GB"), Q_(10, "Gbps"), Q_(10, "ms"))
    assert t.m_as("ms") == pytest.approx(810)


def test_training_time() -> None:
    t = F.training_time(1e9, 20e9, 1, A100_FLOPS_FP16_TENSOR, 0.4)
    assert t.m_as("s") == pytest.approx(6 * 1e9 * 20e9 / (312e12 * 0.4))


@pytest.mark.parametrize("call", [
    lambda: F.ridge_point(H100_MEM_BW, H100_MEM_BW),
    lambda: F.ridge_point(H100_FLOPS_FP16_TENSOR, Q_(1, "Hz")),
    lambda: F.transfer_time(Q_(1, "s"), H100_MEM_BW, Q_(1, "ms")),
    lambda: F.littles_law(Q_(1, "GB/s"), Q_(1, "ms")),
])
def test_wrong_dimension_raises_dimensionality_error(call) -> None:
    with pytest.raises(Exception) as info:
        call()
    assert type(info.value).__name__ == "DimensionalityError"


@pytest.mark.parametrize(("call", "arg"), [
    (lambda: F.amdahl_speedup(1.5, 4), "serial_fraction"),
    (lambda: F.amdahl_speedup(-0.1, 4), "serial_fraction"),
    (lambda: F.amdahl_speedup(0.1, 0.5), "n"),
    (lambda: F.gustafson_speedup(0.1, 0), "n"),
    (lambda: F.training_time(1e9, 1e9, 1, H100_FLOPS_FP16_TENSOR, 1.5), "utilization"),
    (lambda: F.gemm_intensity(0, 4, 4), "m"),
])
def test_out_of_range_raises_value_error_naming_the_argument(call, arg: str) -> None:
    with pytest.raises(ValueError, match=arg):
        call()


fractions = st.floats(min_value=0.0, max_value=1.0)
counts = st.integers(min_value=1, max_value=10**6)


@given(s=st.floats(min_value=1e-6, max_value=1.0), n=counts)
def test_amdahl_never_beats_one_over_s(s: float, n: int) -> None:
    assert F.amdahl_speedup(s, n) <= 1 / s * (1 + 1e-12)


@given(s=fractions, n=counts)
def test_amdahl_is_non_decreasing_in_n(s: float, n: int) -> None:
    assert F.amdahl_speedup(s, n + 1) >= F.amdahl_speedup(s, n) * (1 - 1e-12)


@given(s=fractions, n=counts)
def test_gustafson_never_exceeds_n(s: float, n: int) -> None:
    assert 1 - 1e-9 <= F.gustafson_speedup(s, n) <= n * (1 + 1e-12)


@given(ai=st.floats(min_value=0, max_value=1e6), peak=st.floats(1, 1e4), bw=st.floats(0.01, 100))
def test_roofline_never_above_either_ceiling(ai: float, peak: float, bw: float) -> None:
    p = F.attainable_performance(Q_(peak, "TFLOP/s"), Q_(bw, "TB/s"), Q_(ai, "flop/byte"))
    assert p.m_as("TFLOP/s") <= peak * (1 + 1e-9)
    assert p.m_as("TFLOP/s") <= bw * ai * (1 + 1e-9) + 1e-12
