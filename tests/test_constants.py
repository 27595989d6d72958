"""Every constant has the right dimension, the stated value, and a source."""

from __future__ import annotations

import pytest

import mlsysim
from mlsysim.core import constants as C
from mlsysim.core.units import Q_, ureg

EXPECTED = {
    "SPEED_OF_LIGHT_FIBER_KM_S": (200_000, "km/s"),
    "ENERGY_DRAM_ACCESS_PJ": (640, "pJ"),
    "ENERGY_FLOP_FP16_PJ": (1.1, "pJ"),
    "ENERGY_FLOP_FP32_PJ": (3.7, "pJ"),
    "ENERGY_FLOP_INT8_PJ": (0.2, "pJ"),
    "ENERGY_SRAM_L1_PJ": (0.5, "pJ"),
    "ENERGY_REG_PJ": (0.01, "pJ"),
    "LATENCY_L1_REGISTER": (1, "ns"),
    "LATENCY_L2_CACHE": (4, "ns"),
    "LATENCY_HBM3": (300, "ns"),
    "LATENCY_NVLINK": (500, "ns"),
    "LATENCY_PCIE_GEN5": (1_000, "ns"),
    "LATENCY_INFINIBAND": (5_000, "ns"),
    "LATENCY_NVME_SSD": (100_000, "ns"),
    "H100_MEM_BW": (3.35, "TB/s"),
    "A100_MEM_BW": (2_039, "GB/s"),
    "PCIE_GEN5_BW": (64, "GB/s"),
    "SYSTEM_MEMORY_BW": (50, "GB/s"),
    "NVME_SEQUENTIAL_BW": (7.0, "GB/s"),
    "NVLINK_H100_BW": (900, "GB/s"),
    "TPUV5P_MEM_BW": (2.76, "TB/s"),
    "TPUV5P_ICI_BW": (1_600, "GB/s"),
    "H100_FLOPS_FP16_TENSOR": (989, "TFLOP/s"),
    "H100_FLOPS_FP8_TENSOR": (1_979, "TFLOP/s"),
    "A100_FLOPS_FP16_TENSOR": (312, "TFLOP/s"),
    "TPUV5P_FLOPS_BF16": (459, "TFLOP/s"),
    "MOBILE_NPU_TOPS_INT8": (50, "TFLOP/s"),
    "H100_MEM_CAPACITY": (80, "GiB"),
    "TPUV5P_MEM_CAPACITY": (95, "GiB"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_constant_value_and_dimension(name: str) -> None:
    value, unit = EXPECTED[name]
    q = getattr(C, name)
    assert q.dimensionality == Q_(1, unit).dimensionality, name
    assert q.m_as(unit) == pytest.approx(value), name


def test_infiniband_is_a_plain_number_as_upstream_uses_it() -> None:
    assert C.INFINIBAND_NDR_BW_GBS == 50
    assert f"{C.INFINIBAND_NDR_BW_GBS}" == "50"


def test_every_constant_has_a_source_and_year() -> None:
    sources = {s.name: s for s in mlsysim.sources()}
    assert set(EXPECTED) | {"INFINIBAND_NDR_BW_GBS"} <= set(sources)
    from mlsysim.core import measured as M

    for s in sources.values():
        assert s.source.strip(), s.name
        assert 1990 <= s.year <= 2030, s.name
        assert s.value is getattr(M if s.kind == "measured" else C, s.name)
    assert sources["H100_MEM_BW"].unit == "TB/s"
    assert sources["INFINIBAND_NDR_BW_GBS"].unit == ""


def test_unit_aliases_parse_and_convert() -> None:
    assert Q_(1, "TFLOP/s").to(C.TFLOPs / C.second).magnitude == 1
    assert (1 * C.GiB).m_as(C.byte) == 2**30
    assert (1 * C.GB).m_as(C.byte) == 10**9
    assert (10 * C.Gbps).m_as(C.GB / C.second) == pytest.approx(1.25)
    assert (1 * C.MS).m_as(C.NS) == pytest.approx(1e6)
    assert C.BILLION == 10**9 and C.TRILLION == 10**12 and C.MILLION == 10**6
    assert C.SEC_PER_DAY == 86_400 and C.SECONDS_PER_MINUTE == 60


def test_information_has_a_dimension() -> None:
    """A bandwidth must not convert to a plain rate: pint's default makes bits dimensionless."""
    with pytest.raises(Exception) as info:
        Q_(1, "Hz").to("byte/s")
    assert type(info.value).__name__ == "DimensionalityError"


def test_one_registry_is_the_application_registry() -> None:
    import pint

    assert pint.get_application_registry().get() is ureg


def test_registry_without_a_writable_cache_still_has_information_dimension(tmp_path) -> None:
    """The uncached fallback builds the same registry."""
    import os
    import subprocess
    import sys

    blocker = tmp_path / "file-not-dir"
    blocker.write_text("")
    code = "from mlsysim.core.constants import *; print(ureg.byte.dimensionality, H100_MEM_BW)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, XDG_CACHE_HOME=str(blocker)))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[information] 3.35 terabyte / second"
