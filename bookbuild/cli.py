"""`bookbuild` command line. Imports stay inside commands so `check` starts fast."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bookbuild import __version__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bookbuild",
        description="Check, execute and render a Quarto-style book whose numbers are computed.",
    )
    parser.add_argument("--version", action="version", version=f"bookbuild {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("check", help="statically check every inline reference (runs nothing)")
    p.add_argument("paths", nargs="*", type=Path, help=".qmd files (default: the book's chapters)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("render", help="execute cells, substitute values and write the output")
    p.add_argument("paths", nargs="*", type=Path, help=".qmd files (default: the book's chapters)")
    p.add_argument("--to", choices=["html", "pdf", "md"], action="append",
                   help="output format; repeatable (default: the formats in _quarto.yml)")
    p.add_argument("--strict", action="store_true",
                   help="treat warnings (such as unresolved cross-references) as errors")
    p.add_argument("--output-dir", type=Path, help="where to write (default: the project's _book/)")
    p.add_argument("--no-cache", action="store_true", help="execute even when the cache is valid")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("preview", help="serve the book locally, rebuild on change, reload the page")
    p.add_argument("--port", type=int, default=4200, help="first port to try (default 4200)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.set_defaults(func=cmd_preview)

    p = sub.add_parser("numbers", help="the numbers lock: check drift, accept it, explain a number")
    nsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = nsub.add_parser("check", help="exit 1 if any rendered number or constant drifted from numbers.lock")
    q.set_defaults(func=cmd_numbers)
    q = nsub.add_parser("accept", help="rewrite numbers.lock with the current numbers")
    q.set_defaults(func=cmd_numbers)
    q = nsub.add_parser("why", help="the chain from an inline expression down to its constants")
    q.add_argument("expr", help="an inline expression, e.g. Roofline.h100_ridge")
    q.set_defaults(func=cmd_numbers)

    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _targets(paths: list[Path]):
    """The project and the chapter files a command works on; exits 2 on a missing file."""
    from bookbuild import project

    start = paths[0].resolve().parent if paths else Path.cwd()
    proj = project.load(start)
    files = paths or proj.chapters()
    if not files:
        print("bookbuild: no .qmd files given and no chapters listed in _quarto.yml", file=sys.stderr)
        raise SystemExit(2)
    missing = [f for f in files if not f.is_file()]
    if missing:
        for f in missing:
            print(f"bookbuild: no such file: {f}", file=sys.stderr)
        raise SystemExit(2)
    return proj, files


def cmd_check(args: argparse.Namespace) -> int:
    from bookbuild.check import check_files, report

    proj, files = _targets(args.paths)
    results = check_files(files, proj.root)
    return report(results, sys.stdout)


def cmd_render(args: argparse.Namespace) -> int:
    from bookbuild.build import build

    proj, files = _targets(args.paths)
    return build(proj, files, formats=args.to, output_dir=args.output_dir,
                 use_cache=not args.no_cache, strict=args.strict, whole_book=not args.paths)


def cmd_preview(args: argparse.Namespace) -> int:
    import signal

    from bookbuild.preview import Previewer
    from bookbuild.project import ProjectError

    try:
        previewer = Previewer(Path.cwd(), port=args.port, open_browser=not args.no_browser)
    except ProjectError as exc:
        print(f"bookbuild: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: previewer.stop.set())
    return previewer.serve()


def cmd_numbers(args: argparse.Namespace) -> int:
    from bookbuild.numbers import LockError, run

    proj, files = _targets([])
    try:
        return run(proj, files, args.action, getattr(args, "expr", None))
    except LockError as exc:
        print(f"bookbuild: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
