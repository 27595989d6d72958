"""How many times one `bookbuild` command runs `ast.parse` (the issue counted 541 for one
prose-edit render); prints the count and the callers, run in-process with a counting wrapper.

    python bench/parse_count.py render --to html     (in a book folder)
"""

from __future__ import annotations

import ast
import collections
import sys
import traceback


def main(argv: list[str]) -> int:
    calls: collections.Counter[str] = collections.Counter()
    plain = ast.parse

    def counting(*args, **kwargs):
        frame = traceback.extract_stack(limit=2)[0]
        calls[f"{frame.filename.rsplit('/', 2)[-2:][-1]}:{frame.lineno}"] += 1
        return plain(*args, **kwargs)

    ast.parse = counting
    from bookbuild.cli import main as cli

    try:
        code = cli(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    print(f"ast.parse calls: {sum(calls.values())}  " +
          ", ".join(f"{k} x{n}" for k, n in calls.most_common(8)), file=sys.stderr)
    return code or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
