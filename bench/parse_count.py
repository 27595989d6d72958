"""How many times one `bookbuild` command runs `ast.parse` (the issue counted 541 for one
prose-edit render); prints the count and the callers, run in-process with a counting wrapper.

    python bench/parse_count.py render --to html     (in a book folder: that command's count)
    python bench/run.py parse_count                  (a prose edit in our own book)
"""

from __future__ import annotations

import ast
import collections
import subprocess
import sys
import traceback


def count(argv: list[str]) -> int:
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


def main(rounds: int = 1) -> None:
    """Count the parses of a prose-edit HTML render of a copy of our own book."""
    from common import PY, ROOT, prose_editor, scratch

    with scratch("bookbuild-bench-parse-") as work:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD"], capture_output=True,
                                 check=True, timeout=60).stdout
        subprocess.run(["tar", "-x", "-C", str(work)], input=archive, check=True, timeout=60)
        render = [PY, __file__, "render", "--to", "html"]
        subprocess.run(render, cwd=work, capture_output=True, timeout=600)  # cold: fill caches
        prose_editor(work / "appendix" / "models.qmd", "A handful of small models")()
        r = subprocess.run(render, cwd=work, capture_output=True, text=True, timeout=600)
        print("prose-edit render of our book, " + r.stderr.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    sys.exit(count(sys.argv[1:]))
