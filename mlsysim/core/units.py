"""The one unit registry of mlsysim, and the short aliases the book's cells use.

Every Quantity in the book comes from this registry; it is also set as pint's application
registry so quantities built elsewhere (pickles, other libraries) interoperate.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import pint

DEFINITIONS = Path(__file__).with_name("units.txt")
_PINT_DATA = Path(pint.__file__).parent


def _patched_defaults() -> str:
    """pint's default definitions with one change: a bit has the dimension [information].

    pint ships `bit = []`, which lets bytes/s convert silently to 1/s; the book wants a
    bandwidth passed where a rate is expected to be a DimensionalityError.
    """
    text = (_PINT_DATA / "default_en.txt").read_text(encoding="utf-8")
    lines = ["bit = [information]" if line.strip() == "bit = []" else line
             for line in text.splitlines()]
    return "\n".join(lines) + "\n"


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mlsysim"


def _write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)  # atomic: parallel kernels may race to write the same file


def _definitions_folder() -> Path:
    """A folder holding the full definitions (patched pint defaults + ours), made once.

    Keeping them as files lets pint's disk cache skip parsing on every import, which every
    chapter kernel pays.
    """
    ours = DEFINITIONS.read_text(encoding="utf-8")
    digest = hashlib.sha256((pint.__version__ + ours).encode()).hexdigest()[:16]
    folder = _cache_root() / f"units-{digest}"
    top = folder / "mlsysim_units.txt"
    if not top.exists():
        folder.mkdir(parents=True, exist_ok=True)
        _write(folder / "constants_en.txt",
               (_PINT_DATA / "constants_en.txt").read_text(encoding="utf-8"))
        _write(folder / "default_en.txt", _patched_defaults())
        _write(top, "@import default_en.txt\n" + ours)
    return folder


def _build_registry() -> pint.UnitRegistry:
    try:
        folder = _definitions_folder()
    except OSError:  # no writable cache: parse every time, same definitions
        registry = pint.UnitRegistry(None)
        constants = (_PINT_DATA / "constants_en.txt").read_text(encoding="utf-8")
        text = _patched_defaults().replace("@import constants_en.txt", constants)
        registry.load_definitions(text.splitlines())
        registry.load_definitions(DEFINITIONS)
        registry._build_cache()
        return registry
    return pint.UnitRegistry(str(folder / "mlsysim_units.txt"), cache_folder=str(folder / "cache"))


ureg = _build_registry()
pint.set_application_registry(ureg)
Q_ = ureg.Quantity

# Information
byte = ureg.byte
KB, MB, GB, TB, PB = ureg.kilobyte, ureg.megabyte, ureg.gigabyte, ureg.terabyte, ureg.petabyte
KiB, MiB, GiB, TiB = ureg.kibibyte, ureg.mebibyte, ureg.gibibyte, ureg.tebibyte
Gbps = ureg.Gbps

# Time
second = ureg.second
NS, US, MS = ureg.nanosecond, ureg.microsecond, ureg.millisecond

# Computation
flop = ureg.flop
GFLOPs, TFLOPs, PFLOPs = ureg.gigaflop, ureg.teraflop, ureg.petaflop
TFLOP = TFLOPs

# Plain scale numbers (dimensionless on purpose: cells multiply counts by them).
MILLION = 1_000_000
BILLION = 1_000_000_000
TRILLION = 1_000_000_000_000
SECONDS_PER_MINUTE = 60
SEC_PER_DAY = 86_400

# The sources protocol (README): units and scale words are definitions, not sourced data,
# so this module declares no constants (without this, its plain numbers would be discovered).
__sources__: dict = {}

__all__ = [
    "ureg", "Q_", "byte", "KB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB", "Gbps",
    "second", "NS", "US", "MS", "flop", "GFLOPs", "TFLOPs", "PFLOPs", "TFLOP",
    "MILLION", "BILLION", "TRILLION", "SECONDS_PER_MINUTE", "SEC_PER_DAY",
]
