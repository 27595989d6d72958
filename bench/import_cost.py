"""Import cost of the constants (every chapter kernel pays it) vs a bare pint.UnitRegistry()."""

from __future__ import annotations

from common import PY, ROOT, Run, paired


def main(rounds: int = 7) -> None:
    paired("import mlsysim.core.constants",
           Run("import", [PY, "-c", "import mlsysim.core.constants"], cwd=ROOT),
           Run("bare pint.UnitRegistry()", [PY, "-c", "import pint; pint.UnitRegistry()"]),
           rounds, 1.0)


if __name__ == "__main__":
    main()
