"""Run the benchmarks (`make bench`); each prints ratios against a baseline from the same run.

    python bench/run.py [--rounds N] [NAME ...]     (names: see BENCHMARKS; default all)
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

BENCHMARKS = ["import_cost", "parse_count", "engine", "render_html", "includes", "literals",
              "book_import", "book_fifty", "book_noop",
              "numbers_scale", "jupyter_book", "jupyter_book_incremental", "preview_latency",
              "crossref_cost"]
# Some modules hold two benchmarks (book_scale.py, jupyter_book.py).
ENTRY = {"book_import": ("book_scale", "main_import"), "book_fifty": ("book_scale", "main_fifty"),
         "book_noop": ("book_scale", "main_noop"),
         "jupyter_book_incremental": ("jupyter_book", "main_incremental")}


def fresh_bytecode() -> None:
    """Compile our packages' bytecode first. With PYTHONDONTWRITEBYTECODE set (some machines
    set it), Python never rewrites a stale .pyc, so every run of every command and every kernel
    would recompile each module edited since `make setup` (11 ms for crossref.py alone), and
    the timings would measure the compiler."""
    import compileall

    root = Path(__file__).resolve().parent.parent
    for package in ("bookbuild", "mlsysim"):
        if not compileall.compile_dir(root / package, quiet=1):
            sys.exit(f"bench: {package}/ does not compile; fix it before measuring")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="paired rounds per comparison")
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(BENCHMARKS))
    args = parser.parse_args()
    unknown = set(args.names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    fresh_bytecode()
    for name in args.names or BENCHMARKS:
        print(f"== {name}", flush=True)
        module, function = ENTRY.get(name, (name, "main"))
        getattr(importlib.import_module(module), function)(rounds=args.rounds)


if __name__ == "__main__":
    main()
