"""Run every benchmark; each prints its ratio against a baseline measured in the same run."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import import_cost  # noqa: E402

if __name__ == "__main__":
    import_cost.main()
    import engine  # noqa: E402

    engine.main()
    import render_html  # noqa: E402

    render_html.main()
    import numbers_scale  # noqa: E402

    numbers_scale.main()
    import preview_latency  # noqa: E402

    preview_latency.main()
    import crossref_cost  # noqa: E402

    crossref_cost.main()
