"""Figures measured on one real H100, named and sourced like the datasheet constants.

The numbers live in `mlsysim/data/h100_probe.json` (data, copied unchanged); this module gives
each a name, a unit and its provenance (kind "measured": device, software, date), so
`mlsysim.sources()` and the book's Sources table list them beside the datasheet values.
"""

import json
from pathlib import Path

from mlsysim.core.provenance import Table
from mlsysim.core.units import Q_

PROBE_FILE = Path(__file__).resolve().parent.parent / "data" / "h100_probe.json"
PROBE = json.loads(PROBE_FILE.read_text(encoding="utf-8"))

_m = Table(Q_)
_SOURCE = "Measured on H100 SXM 80GB, 2026-11-26"
_DETAIL = (f"{PROBE['device']}, {PROBE['sms']} SMs, PyTorch {PROBE['torch']}, CUDA {PROBE['cuda']}; "
           "CUDA events, mean of repeated runs after warm-up")
_YEAR = 2026

H100_MEASURED_HBM_BW       = _m(PROBE["hbm_copy_TBps_rw"], "TB/s", _SOURCE + ": 2 GiB device copy, read + write", _YEAR, "measured", _DETAIL)  # noqa: E501
H100_MEASURED_H2D_BW       = _m(PROBE["h2d_GBps"], "GB/s", _SOURCE + ": pinned 1 GiB host-to-device copy", _YEAR, "measured", _DETAIL)
H100_MEASURED_D2H_BW       = _m(PROBE["d2h_GBps"], "GB/s", _SOURCE + ": pinned 1 GiB device-to-host copy", _YEAR, "measured", _DETAIL)
H100_MEASURED_FP16_MATMUL  = _m(PROBE["matmul8192_fp16_TFLOPs"], "TFLOP/s", _SOURCE + ": 8192^3 FP16 matmul", _YEAR, "measured", _DETAIL)
H100_MEASURED_BF16_MATMUL  = _m(PROBE["matmul8192_bf16_TFLOPs"], "TFLOP/s", _SOURCE + ": 8192^3 BF16 matmul", _YEAR, "measured", _DETAIL)
H100_MEASURED_FP32_MATMUL  = _m(PROBE["matmul8192_fp32_tf32off_TFLOPs"], "TFLOP/s", _SOURCE + ": 8192^3 FP32 matmul, TF32 off", _YEAR, "measured", _DETAIL)  # noqa: E501
H100_MEASURED_TF32_MATMUL  = _m(PROBE["matmul8192_tf32_TFLOPs"], "TFLOP/s", _SOURCE + ": 8192^3 FP32 matmul on TF32 tensor cores", _YEAR, "measured", _DETAIL)  # noqa: E501
H100_MEASURED_RELU_TIME    = _m(PROBE["relu4096_fp16_us"], "us", _SOURCE + ": ReLU over a 4096x4096 FP16 tensor", _YEAR, "measured", _DETAIL)  # noqa: E501
H100_MEASURED_RELU_BW      = _m(PROBE["relu4096_fp16_eff_TBps"], "TB/s", _SOURCE + ": ReLU 4096x4096 FP16, effective bandwidth", _YEAR, "measured", _DETAIL)  # noqa: E501
H100_MEASURED_LAUNCH       = _m(PROBE["tiny_kernel_us"], "us", _SOURCE + ": one launch-bound tiny kernel", _YEAR, "measured", _DETAIL)  # noqa: E501

SOURCES = _m.bind(globals())
# The sources protocol (README): the constants this module declares, with source, year, kind.
__sources__ = SOURCES


def gemm_sweep(kind: str) -> list[dict]:
    """Rows of the measured GEMM roofline as Quantities: kind is "batch_gemm_k4096" or "square_gemm"."""
    if kind not in {row["kind"] for row in PROBE["gemm_rows"]}:
        raise ValueError(f"kind must be batch_gemm_k4096 or square_gemm, got {kind!r}")
    return [{
        "size": row["size"],
        "flops": Q_(row["flops"], "flop"),
        "bytes": Q_(row["bytes"], "byte"),
        "time": Q_(row["seconds"], "s"),
        "intensity": Q_(row["flops"] / row["bytes"], "flop/byte"),
        "achieved": Q_(row["flops"] / row["seconds"], "flop/s").to("TFLOP/s"),
    } for row in PROBE["gemm_rows"] if row["kind"] == kind]
