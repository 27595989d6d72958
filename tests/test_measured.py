"""Measured H100 figures: loaded from the copied probe file, with units and provenance."""

from __future__ import annotations

import pytest

import mlsysim
from mlsysim.core import measured as M
from mlsysim.core.constants import H100_FLOPS_FP16_TENSOR, H100_MEM_BW
from mlsysim.core.units import Q_


def test_values_and_units_are_the_measured_figures() -> None:
    # The figures of the probe run, written here once: a wrong key or unit in measured.py fails.
    assert M.H100_MEASURED_HBM_BW.m_as("TB/s") == pytest.approx(3.015)
    assert M.H100_MEASURED_H2D_BW.m_as("GB/s") == pytest.approx(54.7)
    assert M.H100_MEASURED_FP16_MATMUL.m_as("TFLOP/s") == pytest.approx(769.2)
    assert M.H100_MEASURED_LAUNCH.m_as("us") == pytest.approx(7.67)
    assert M.H100_MEASURED_HBM_BW.dimensionality == Q_(1, "byte/s").dimensionality
    assert M.H100_MEASURED_FP16_MATMUL.dimensionality == Q_(1, "flop/s").dimensionality


def test_measured_values_are_listed_with_their_provenance() -> None:
    measured = [s for s in mlsysim.sources() if s.kind == "measured"]
    assert len(measured) == 10
    for s in measured:
        assert s.source.startswith("Measured on H100 SXM 80GB, 2026-11-26")
        assert "PyTorch 2.11.0+cu130" in s.detail and "CUDA 13.0" in s.detail
    kinds = {s.kind for s in mlsysim.sources()}
    assert {"datasheet", "measured"} <= kinds


def test_gemm_sweep_rows_are_quantities_under_both_ceilings() -> None:
    rows = M.gemm_sweep("batch_gemm_k4096") + M.gemm_sweep("square_gemm")
    assert len(rows) == 21
    for r in rows:
        assert r["achieved"].dimensionality == Q_(1, "flop/s").dimensionality
        assert r["achieved"] <= H100_FLOPS_FP16_TENSOR
        assert r["achieved"] <= (H100_MEM_BW * r["intensity"]).to("TFLOP/s")
    assert M.gemm_sweep("square_gemm")[0]["intensity"].m_as("flop/byte") == pytest.approx(85.333, rel=1e-3)
    with pytest.raises(ValueError, match="kind must be"):
        M.gemm_sweep("nope")
