"""The book's reference constants: one per line, each with its unit, source and year.

Cells import them with `from mlsysim.core.constants import *`, which also brings the unit
aliases of `mlsysim.core.units`. `mlsysim.sources()` lists them with their provenance.
Change a value here and every number derived from it in the book moves (the numbers lock says which).
"""

from mlsysim.core.provenance import Table
from mlsysim.core.units import *  # noqa: F403  (cells rely on the aliases coming along)
from mlsysim.core.units import Q_

_c = Table(Q_)

_HOROWITZ = "M. Horowitz, Computing's Energy Problem (and what we can do about it), ISSCC"
_H100 = "NVIDIA H100 Tensor Core GPU datasheet (SXM5)"
_A100 = "NVIDIA A100 Tensor Core GPU datasheet (SXM4 80GB)"
_TPUV5P = "Google Cloud TPU v5p system architecture documentation"
_LATENCY = "Order-of-magnitude latencies compiled from vendor docs (Dean/Norvig table, updated)"

# --- Physics -------------------------------------------------------------------------------
SPEED_OF_LIGHT_FIBER_KM_S = _c(200_000, "km/s",   "Light in silica fiber travels at c/n with n ~ 1.5", 2024, "reference")

# --- Energy per operation and per access (45 nm) ---------------------------------------------
ENERGY_DRAM_ACCESS_PJ     = _c(640,   "pJ",       _HOROWITZ + " (32-bit DRAM read)", 2014, "paper")
ENERGY_FLOP_FP16_PJ       = _c(1.1,   "pJ",       _HOROWITZ + " (16-bit FP multiply-add)", 2014, "paper")
ENERGY_FLOP_FP32_PJ       = _c(3.7,   "pJ",       _HOROWITZ + " (32-bit FP multiply-add)", 2014, "paper")
ENERGY_FLOP_INT8_PJ       = _c(0.2,   "pJ",       _HOROWITZ + " (8-bit integer add)", 2014, "paper")
ENERGY_SRAM_L1_PJ         = _c(0.5,   "pJ",       _HOROWITZ + " (small SRAM read, per 32 bits)", 2014, "paper")
ENERGY_REG_PJ             = _c(0.01,  "pJ",       _HOROWITZ + " (register file access)", 2014, "paper")

# --- Latency hierarchy ----------------------------------------------------------------------
LATENCY_L1_REGISTER       = _c(1,       "ns",     _LATENCY + ": L1 hit", 2024, "reference")
LATENCY_L2_CACHE          = _c(4,       "ns",     _LATENCY + ": L2 hit", 2024, "reference")
LATENCY_HBM3              = _c(300,     "ns",     _LATENCY + ": HBM3 load from GPU SM", 2024, "reference")
LATENCY_NVLINK            = _c(500,     "ns",     _LATENCY + ": NVLink GPU-to-GPU", 2024, "reference")
LATENCY_PCIE_GEN5         = _c(1_000,   "ns",     _LATENCY + ": PCIe Gen5 round trip", 2024, "reference")
LATENCY_INFINIBAND        = _c(5_000,   "ns",     _LATENCY + ": InfiniBand NDR hop", 2024, "reference")
LATENCY_NVME_SSD          = _c(100_000, "ns",     _LATENCY + ": NVMe SSD random read", 2024, "reference")

# --- Bandwidth ------------------------------------------------------------------------------
H100_MEM_BW               = _c(3.35,  "TB/s",     _H100 + ": HBM3 bandwidth", 2023)
A100_MEM_BW               = _c(2_039, "GB/s",     _A100 + ": HBM2e bandwidth", 2021)
PCIE_GEN5_BW              = _c(64,    "GB/s",     "PCI-SIG PCIe 5.0 specification, x16 per direction", 2019)
SYSTEM_MEMORY_BW          = _c(50,    "GB/s",     "Typical DDR5 dual-channel host memory bandwidth", 2023, "reference")
NVME_SEQUENTIAL_BW        = _c(7.0,   "GB/s",     "PCIe Gen4 NVMe SSD datasheets, sequential read", 2022)
NVLINK_H100_BW            = _c(900,   "GB/s",     _H100 + ": NVLink 4 total bandwidth", 2023)
TPUV5P_MEM_BW             = _c(2.76,  "TB/s",     _TPUV5P + ": HBM bandwidth per chip", 2023)
TPUV5P_ICI_BW             = _c(1_600, "GB/s",     _TPUV5P + ": inter-chip interconnect per chip", 2023)
INFINIBAND_NDR_BW_GBS     = _c(50,    None,       "NVIDIA Quantum-2 InfiniBand NDR 400 Gb/s port, in GB/s", 2022)

# --- Compute throughput (dense) -------------------------------------------------------------
H100_FLOPS_FP16_TENSOR    = _c(989,   "TFLOP/s",  _H100 + ": FP16/BF16 Tensor Core, dense", 2023)
H100_FLOPS_FP8_TENSOR     = _c(1_979, "TFLOP/s",  _H100 + ": FP8 Tensor Core, dense", 2023)
A100_FLOPS_FP16_TENSOR    = _c(312,   "TFLOP/s",  _A100 + ": FP16/BF16 Tensor Core, dense", 2021)
TPUV5P_FLOPS_BF16         = _c(459,   "TFLOP/s",  _TPUV5P + ": BF16 peak per chip", 2023)
MOBILE_NPU_TOPS_INT8      = _c(50,    "TFLOP/s",  "Flagship phone NPU INT8 peak (TOPS), vendor keynotes", 2024, "reference")

# --- Memory capacity ------------------------------------------------------------------------
H100_MEM_CAPACITY         = _c(80,    "GiB",      _H100 + ": HBM3 capacity", 2023)
TPUV5P_MEM_CAPACITY       = _c(95,    "GiB",      _TPUV5P + ": HBM capacity per chip", 2023)

SOURCES = _c.bind(globals())
# The sources protocol (README): the constants this module declares, with source, year, kind.
__sources__ = SOURCES
