"""The upstream appendix's cells run against our mlsysim and give upstream's stated results."""

from __future__ import annotations

import re

import pytest

CELL = re.compile(r"^```\{python\}[^\n]*\n(.*?)^```", re.S | re.M)


@pytest.fixture(scope="module")
def namespace() -> dict:
    from tests.conftest import UPSTREAM, require_upstream

    require_upstream()
    ns: dict = {}
    for code in CELL.findall(UPSTREAM.read_text(encoding="utf-8")):
        exec(compile(code, str(UPSTREAM), "exec"), ns)  # one namespace, as one kernel would
    return ns


@pytest.mark.parametrize(("expr", "expected"), [
    ("NumbersToKnow.dram_vs_compute", 581),
    ("NumbersToKnow.ridge_h100", 295),
    ("NumbersToKnow.ridge_a100", 153),
    ("NumbersToKnow.gpu_bw_vs_pcie", 52),
    ("AmdahlExample.amdahl_8_str", "5.9"),
    ("AmdahlExample.amdahl_inf_str", "20"),
    ("GustafsonExample.gustafson_1000_str", "950"),
    ("LittlesLawExample.L_concurrent_str", "50"),
    ("AppendixMachineSetup.a100_fp16", "312"),
    ("AppendixMachineSetup.relu_util_str", "0.16"),
    ("AppendixMachineSetup.bw_net_str", "50"),
    ("TrainingTimeRef.T_days_str", "11"),
])
def test_upstream_stated_results(namespace: dict, expr: str, expected) -> None:
    assert eval(expr, namespace) == expected
