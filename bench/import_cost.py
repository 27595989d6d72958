"""Import cost of the constants (every chapter kernel pays it) vs a bare pint.UnitRegistry()."""

from __future__ import annotations

from common import PY, report, time_command


def main(runs: int = 7) -> None:
    baseline = time_command([PY, "-c", "import pint; pint.UnitRegistry()"], runs)
    ours = time_command([PY, "-c", "import mlsysim.core.constants"], runs)
    report("import mlsysim.core.constants", ours, baseline, "bare pint.UnitRegistry()", 1.0)


if __name__ == "__main__":
    main()
