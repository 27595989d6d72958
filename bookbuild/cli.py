"""`bookbuild` command line. Imports stay inside commands so `check` starts fast.

Every failure reaches the user through `run_command`: located lines on stderr and an exit code
(1 build, 2 usage or configuration, 130 interrupted); a traceback only with `--debug`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bookbuild import __version__
from bookbuild.system.errors import (
    EXIT_BUILD,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    BookbuildError,
    UsageError,
    terminal_safe,
)


def parser() -> argparse.ArgumentParser:
    p0 = argparse.ArgumentParser(
        prog="bookbuild",
        description="Check, execute and render a Quarto-style book whose numbers are computed.",
    )
    p0.add_argument("--version", action="version", version=f"bookbuild {__version__}")
    p0.add_argument("--debug", action="store_true",
                    help="show Python tracebacks for internal errors (for bug reports)")
    sub = p0.add_subparsers(dest="command", metavar="COMMAND")
    # Quarto's --profile: every command that reads the project takes it (QUARTO_PROFILE else)
    profile = argparse.ArgumentParser(add_help=False)
    profile.add_argument("--profile", metavar="NAME[,NAME]",
                         help="active project profile(s): merge _quarto-NAME.yml over "
                              "_quarto.yml (default: $QUARTO_PROFILE, else profile.default)")
    _book_commands(sub, profile)
    p = sub.add_parser("numbers", help="the numbers lock: check drift, accept it, explain a number")
    _numbers_commands(p.add_subparsers(dest="action", metavar="ACTION", required=True), profile)
    return p0


def _book_commands(sub, profile: argparse.ArgumentParser) -> None:
    """check, render and preview."""
    p = sub.add_parser("check", parents=[profile],
                       help="statically check every inline reference (runs nothing)")
    p.add_argument("paths", nargs="*", type=Path, help=".qmd files (default: the book's chapters)")
    p.add_argument("--literals", action="store_true",
                   help="also lint hand-typed numbers against the computed ones (executes, cached)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("render", parents=[profile],
                       help="execute cells, substitute values and write the output")
    p.add_argument("paths", nargs="*", type=Path, help=".qmd files (default: the book's chapters)")
    p.add_argument("--to", choices=["html", "pdf", "epub", "md"], action="append",
                   help="output format; repeatable (default: the formats in _quarto.yml)")
    p.add_argument("--strict", action="store_true",
                   help="treat warnings (unresolved cross-references, numbers drift) as errors")
    p.add_argument("--output-dir", type=Path,
                   help="where to write (default: the book's _book/; beside each document)")
    p.add_argument("--adopt-output", action="store_true",
                   help="write into an existing non-empty output folder bookbuild did not make "
                        "(its files are kept)")
    p.add_argument("--no-cache", action="store_true", help="execute even when the cache is valid")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("preview", parents=[profile],
                       help="serve the book locally, rebuild on change, reload the page")
    p.add_argument("--port", type=_port, default=4200, help="first port to try (default 4200)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.set_defaults(func=cmd_preview)


def _numbers_commands(nsub, profile: argparse.ArgumentParser) -> None:
    """numbers check, diff, whatif, accept and why."""
    documents = "a document outside any project (default: the project's documents)"
    q = nsub.add_parser("check", parents=[profile],
                        help="exit 1 if any rendered number or constant drifted from numbers.lock")
    q.add_argument("paths", nargs="*", type=Path, help=documents)
    q.add_argument("--strict", action="store_true",
                   help="also fail, with a located line, on a missing or malformed numbers.lock (CI)")
    q.set_defaults(func=cmd_numbers)
    q = nsub.add_parser("diff", parents=[profile],
                        help="the numbers that moved between two git revisions (default: the "
                             "lock committed at HEAD against the working tree)")
    q.add_argument("revs", nargs="*", metavar="REV", help="up to two git revisions")
    q.add_argument("--format", choices=["plain", "md", "json"], default="plain",
                   help="plain text (default), a markdown table for a pull request, or JSON")
    q.set_defaults(func=cmd_numbers_diff)
    q = nsub.add_parser("whatif", parents=[profile],
                        help="the numbers and guards that would move if constants had other "
                             "values (nothing is written)")
    q.add_argument("overrides", nargs="+", metavar="NAME=VALUE",
                   help='a constant and its value for this run, with units: H100_MEM_BW="3.9 TB/s"')
    q.set_defaults(func=cmd_numbers_whatif)
    q = nsub.add_parser("accept", parents=[profile],
                        help="rewrite numbers.lock with the current numbers")
    q.add_argument("paths", nargs="*", type=Path, help=documents)
    q.set_defaults(func=cmd_numbers)
    q = nsub.add_parser("why", parents=[profile],
                        help="the chain from an inline expression, or a number a cell shows, "
                             "down to its constants, data files and packages")
    q.add_argument("expr", help="an inline expression (Roofline.h100_ridge), a cell's place "
                                "(chapter.qmd:120) or a cell's label")
    q.add_argument("paths", nargs="*", type=Path, help=documents)
    q.add_argument("--row", help="only the numbers of this table row (a cell's output)")
    q.add_argument("--column", help="only the numbers of this table column (a cell's output)")
    q.set_defaults(func=cmd_numbers)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not getattr(args, "func", None):
        parser().print_help()
        return EXIT_USAGE
    return run_command(args.func, args)


def _select_profile(args: argparse.Namespace) -> None:
    """`--profile` as Quarto applies it: it becomes QUARTO_PROFILE, which the project's loader,
    the chapters' kernels and the pre-/post-render scripts all read."""
    import os

    from bookbuild.source.layers import PROFILE_ENV

    if getattr(args, "profile", None):
        os.environ[PROFILE_ENV] = args.profile


def run_command(func, args: argparse.Namespace) -> int:
    """Run one command in its session (signals, children); every failure becomes located lines
    on stderr and an exit code. Children are stopped before the message says so."""
    from bookbuild.system.session import Session

    with Session() as session:
        try:
            _select_profile(args)
            return func(args)
        except KeyboardInterrupt:
            session.stop_children()
            print("bookbuild: interrupted; kernels and child processes stopped", file=sys.stderr)
            return EXIT_INTERRUPTED
        except BookbuildError as exc:
            session.stop_children()
            print(terminal_safe(str(exc)), file=sys.stderr)
            return exc.exit_code
        except OSError as exc:  # a folder we cannot write, a full disk: the file and the reason
            session.stop_children()
            if getattr(args, "debug", False):
                raise
            target = f"{exc.filename}: " if exc.filename else ""
            print(f"bookbuild: {target}{exc.strerror or exc} ({_advice(exc)})", file=sys.stderr)
            return EXIT_BUILD
        except Exception as exc:  # a bug of ours: one line, the traceback only with --debug
            session.stop_children()
            if session.interrupted:  # a signal landed mid-operation, surfaced as another error
                print("bookbuild: interrupted; kernels and child processes stopped",
                      file=sys.stderr)
                return EXIT_INTERRUPTED
            if getattr(args, "debug", False):
                raise
            print(f"bookbuild: internal error: {type(exc).__name__}: {exc} "
                  f"({_innermost_frame(exc)}); run again with --debug for the traceback and "
                  "report it", file=sys.stderr)
            return EXIT_BUILD


def _advice(exc: OSError) -> str:
    """What to do about a file operation that failed, by its cause."""
    if isinstance(exc, IsADirectoryError):
        return "a folder has the name of the file to write: move or remove it"
    if isinstance(exc, NotADirectoryError):
        return "a file has the name of a folder bookbuild needs (such as .bookbuild): move or remove it"
    return "check the permissions and free space of that folder"


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is outside 1-65535")
    return port


def _innermost_frame(exc: BaseException) -> str:
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    return f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"


def _targets(paths: list[Path]):
    """The project and the chapter files a command works on; UsageError on a missing file."""
    from bookbuild.source import project

    start = paths[0].resolve().parent if paths else Path.cwd()
    proj = project.load(start)
    project.publish_environment(proj)
    if proj.root is None and paths:  # documents outside any project: each renders on its own
        from bookbuild.source.qmd import parse_file

        docs = [p for p in paths if p.suffix == ".qmd"] or paths
        front = parse_file(docs[0]).front_matter if docs[0].is_file() else {}
        proj = project.for_documents(docs, front or {})
    files = paths or proj.chapters()
    if not files:
        raise UsageError("bookbuild: no .qmd files given and no chapters listed in _quarto.yml")
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise UsageError("\n".join(f"bookbuild: no such file: {f}" for f in missing))
    pages = (".qmd", ".md") if proj.kind == project.WEBSITE else (".qmd",)
    other = [f for f in files if f.suffix not in pages]
    if other:  # `render _quarto.yml` made a page of the config
        raise UsageError("\n".join(f"bookbuild: {f} is not a .qmd chapter; give .qmd files, "
                                    "or none for the whole book" for f in other))
    return proj, files


def cmd_check(args: argparse.Namespace) -> int:
    from bookbuild.analysis.check import check_files, report

    proj, files = _targets(args.paths)
    checked: dict = {}
    if proj.is_book:
        results = check_files(files, proj.root, proj.config, checked)
    else:  # documents: a label may be defined once in each
        results = [r for f in files for r in check_files([f], proj.root, proj.config, checked)]
    code = report(results, sys.stdout)
    if not code:  # render warns of these too; they do not fail the check
        from bookbuild.analysis.check import unresolved_cross_references

        for line in unresolved_cross_references(proj, checked):
            print(line, file=sys.stdout)
        from bookbuild.analysis.check import shortcode_warnings

        for line in shortcode_warnings(proj, checked):
            print(line, file=sys.stdout)
    if code or not args.literals:
        return code
    from bookbuild.literals.run import lint

    return lint(proj, files, sys.stdout)


def cmd_render(args: argparse.Namespace) -> int:
    from bookbuild.commands import scripts

    proj, files = _targets(args.paths)
    if scripts.pre_render(proj, files, args.output_dir, whole=not args.paths):
        proj, files = _targets(args.paths)  # a script may write chapters or configuration
    from bookbuild.execution.prestart import prestart_if_cold

    # Before the build's own imports and parsing: the template's imports overlap them.
    if prestart_if_cold(proj, files, use_cache=not args.no_cache):
        from bookbuild.execution.execute import import_kernel_client

        # Kernels will run: import their client now, while the templates import, rather than
        # between a kernel's start and its first cell (100-150 ms of a cold one-chapter render).
        import_kernel_client()
    from bookbuild.commands.render import build

    code = build(proj, files, formats=args.to, output_dir=args.output_dir,
                 use_cache=not args.no_cache, strict=args.strict, whole_book=not args.paths,
                 adopt_output=args.adopt_output)
    scripts.post_render(proj, files, args.to, args.output_dir, whole=not args.paths)
    return code


def cmd_preview(args: argparse.Namespace) -> int:
    from bookbuild.preview import Previewer
    from bookbuild.system.session import current

    previewer = Previewer(Path.cwd(), port=args.port, open_browser=not args.no_browser)
    current().on_terminate(previewer.stop.set)  # SIGTERM shuts the server down in order
    return previewer.serve()


def cmd_numbers(args: argparse.Namespace) -> int:
    from bookbuild.commands.numbers import run

    paths = getattr(args, "paths", None) or []
    proj, files = _targets(paths)
    if paths and proj.is_book:  # the lock is the whole book's: a chapter alone is no book
        raise UsageError("bookbuild: numbers check and accept work on the whole book; give "
                         "files only for documents outside a project")
    return run(proj, files, args.action, getattr(args, "expr", None),
               strict=getattr(args, "strict", False),
               where=(getattr(args, "row", None), getattr(args, "column", None)))


def cmd_numbers_diff(args: argparse.Namespace) -> int:
    if len(args.revs) > 2:
        raise UsageError("bookbuild: numbers diff takes at most two revisions")
    from bookbuild.commands.numbersdiff import run
    from bookbuild.source import project

    revs = [*args.revs, None, None]
    proj = project.load(Path.cwd())
    project.publish_environment(proj)
    return run(proj, revs[0], revs[1], args.format)


def cmd_numbers_whatif(args: argparse.Namespace) -> int:
    from bookbuild.commands.whatif import run

    proj, files = _targets([])
    return run(proj, files, args.overrides)


if __name__ == "__main__":
    raise SystemExit(main())
