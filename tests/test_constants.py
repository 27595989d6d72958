"""Every constant has the dimension its name promises, a source and a year; units convert."""

from __future__ import annotations

import re

import pytest

import mlsysim
from mlsysim.core import constants as C
from mlsysim.core.units import Q_, ureg

# Values are pinned once, in numbers.lock (`bookbuild numbers check` in `make test`), against the
# figures their sources cite; here each constant's dimension must follow from its name.
FAMILIES = [  # (name pattern, the unit its dimension must match)
    (r"_BW$", "byte/s"),
    (r"_(FLOPS|TOPS)_|_MATMUL$", "flop/s"),
    (r"^LATENCY_|_TIME$|_LAUNCH$", "s"),
    (r"^ENERGY_", "J"),
    (r"_CAPACITY$", "byte"),
    (r"_KM_S$", "km/s"),
]


def family(name: str) -> str | None:
    units = [unit for pattern, unit in FAMILIES if re.search(pattern, name)]
    assert len(units) <= 1, f"{name} matches several families: {units}"
    return units[0] if units else None


@pytest.mark.parametrize("source", mlsysim.sources(), ids=lambda s: s.name)
def test_each_constant_has_the_dimension_its_name_promises(source) -> None:
    unit = family(source.name)
    if source.name == "INFINIBAND_NDR_BW_GBS":
        unit = None  # a plain number on purpose: see below
    if unit is None:
        assert not hasattr(source.value, "dimensionality"), f"{source.name} has a unit but no family"
        return
    assert source.value.dimensionality == Q_(1, unit).dimensionality, source.name
    assert source.value.magnitude > 0, source.name


def test_datasheet_ceilings_sit_above_what_was_measured() -> None:
    from mlsysim.core import measured as M

    assert M.H100_MEASURED_HBM_BW < C.H100_MEM_BW
    assert M.H100_MEASURED_FP16_MATMUL < C.H100_FLOPS_FP16_TENSOR
    assert M.H100_MEASURED_H2D_BW < C.PCIE_GEN5_BW
    assert M.H100_MEASURED_D2H_BW < C.PCIE_GEN5_BW


def test_infiniband_is_a_plain_number_as_upstream_uses_it() -> None:
    assert C.INFINIBAND_NDR_BW_GBS == 50
    assert f"{C.INFINIBAND_NDR_BW_GBS}" == "50"


def test_every_constant_has_a_source_and_year() -> None:
    sources = {s.name: s for s in mlsysim.sources()}
    assert {"H100_MEM_BW", "INFINIBAND_NDR_BW_GBS", "H100_MEASURED_HBM_BW"} <= set(sources)
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
