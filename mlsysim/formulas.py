"""The book's compact performance models, unit-aware.

Arguments that carry units are pint Quantities; a wrong dimension raises pint's
DimensionalityError, an out-of-range plain argument raises ValueError naming the argument.
"""

from __future__ import annotations

from typing import Any

from mlsysim.core.units import Q_, ureg

Quantity = Any  # a pint.Quantity; kept loose so plain annotations stay readable


def _as(q: Quantity, unit: str, name: str) -> Quantity:
    """Return `q` in `unit`; raise DimensionalityError if `q` has the wrong dimension."""
    if not isinstance(q, ureg.Quantity):
        raise TypeError(f"{name} must be a Quantity in units compatible with {unit}, got {q!r}")
    return q.to(unit)


def _positive(x: float, name: str, minimum: float = 0.0, inclusive: bool = False) -> float:
    ok = x >= minimum if inclusive else x > minimum
    if not ok:
        bound = f">= {minimum}" if inclusive else f"> {minimum}"
        raise ValueError(f"{name} must be {bound}, got {x!r}")
    return x


def ridge_point(peak_compute: Quantity, memory_bandwidth: Quantity) -> Quantity:
    """Arithmetic intensity (flop/byte) at which a machine turns from memory- to compute-bound."""
    peak = _as(peak_compute, "flop/s", "peak_compute")
    bw = _as(memory_bandwidth, "byte/s", "memory_bandwidth")
    return (peak / bw).to("flop/byte")


def attainable_performance(peak_compute: Quantity, memory_bandwidth: Quantity,
                           intensity: Quantity) -> Quantity:
    """Roofline: min(peak compute, bandwidth x arithmetic intensity)."""
    peak = _as(peak_compute, "flop/s", "peak_compute")
    bw = _as(memory_bandwidth, "byte/s", "memory_bandwidth")
    ai = _as(intensity, "flop/byte", "intensity")
    _positive(ai.magnitude, "intensity", inclusive=True)
    return min(peak, (bw * ai).to("flop/s"))


def gemm_intensity(m: int, n: int, k: int, bytes_per_element: float = 2) -> Quantity:
    """Arithmetic intensity of C[m,n] = A[m,k] @ B[k,n], each matrix moved once."""
    for name, v in (("m", m), ("n", n), ("k", k), ("bytes_per_element", bytes_per_element)):
        _positive(v, name)
    flops = 2 * m * n * k
    traffic = bytes_per_element * (m * k + k * n + m * n)
    return Q_(flops / traffic, "flop/byte")


def amdahl_speedup(serial_fraction: float, n: float) -> float:
    """Strong scaling: 1 / (s + (1 - s) / n)."""
    if not 0 <= serial_fraction <= 1:
        raise ValueError(f"serial_fraction must lie in [0, 1], got {serial_fraction!r}")
    _positive(n, "n", 1, inclusive=True)
    return 1 / (serial_fraction + (1 - serial_fraction) / n)


def gustafson_speedup(serial_fraction: float, n: float) -> float:
    """Weak (scaled) speedup: n - s (n - 1)."""
    if not 0 <= serial_fraction <= 1:
        raise ValueError(f"serial_fraction must lie in [0, 1], got {serial_fraction!r}")
    _positive(n, "n", 1, inclusive=True)
    return n - serial_fraction * (n - 1)


def littles_law(arrival_rate: Quantity, latency: Quantity) -> float:
    """Requests in flight, L = lambda x W (dimensionless)."""
    lam = _as(arrival_rate, "1/s", "arrival_rate")
    w = _as(latency, "s", "latency")
    _positive(lam.magnitude, "arrival_rate", inclusive=True)
    _positive(w.magnitude, "latency", inclusive=True)
    return float((lam * w).m_as("dimensionless"))


def transfer_time(size: Quantity, bandwidth: Quantity, latency: Quantity) -> Quantity:
    """Time to move `size` bytes: latency + size / bandwidth."""
    s = _as(size, "byte", "size")
    bw = _as(bandwidth, "byte/s", "bandwidth")
    lat = _as(latency, "s", "latency")
    _positive(bw.magnitude, "bandwidth")
    _positive(s.magnitude, "size", inclusive=True)
    _positive(lat.magnitude, "latency", inclusive=True)
    return (lat + s / bw).to("s")


def training_time(parameters: float, tokens: float, n_devices: int, peak_per_device: Quantity,
                  utilization: float) -> Quantity:
    """Training time 6 P D / (N X U), with X the peak FLOP/s of one device."""
    _positive(parameters, "parameters")
    _positive(tokens, "tokens")
    _positive(n_devices, "n_devices", 1, inclusive=True)
    if not 0 < utilization <= 1:
        raise ValueError(f"utilization must lie in (0, 1], got {utilization!r}")
    x = _as(peak_per_device, "flop/s", "peak_per_device")
    total = Q_(6 * parameters * tokens, "flop")
    return (total / (n_devices * x * utilization)).to("s")
