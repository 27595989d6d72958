"""The one place where preview touches the rest of bookbuild (project, build, kernels).

Everything preview needs from the engine goes through these few functions, so a change in the
build's API is one edit here.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bookbuild.source import project as project_mod
from bookbuild.source.metadata import bibliography
from bookbuild.system.errors import BookbuildError, UsageError

ProjectError = UsageError  # what preview raises for a bad command line or a missing project


def find_root(start: Path) -> Path | None:
    """The folder holding `_quarto.yml` at or above `start`; the file is not parsed here."""
    return project_mod.find_root(start)


def preview_dir(root: Path) -> Path:
    """Where preview writes its pages (never the render output folder)."""
    return root / ".bookbuild" / "preview"


def load(root: Path):
    """The parsed project; raises on a broken `_quarto.yml` (a located `BookbuildError`).
    Its profiles and `_environment` variables are set for the kernels, as render sets them."""
    proj = project_mod.load(root)
    project_mod.publish_environment(proj)
    return proj


def is_located(exc: BaseException) -> bool:
    """Whether `exc` is one of bookbuild's own errors, whose text is ready for the user."""
    return isinstance(exc, BookbuildError)


def chapters(proj) -> list[Path]:
    return proj.chapters()


def output_dir(proj) -> Path:
    return proj.output_dir


def extra_watch_dirs(proj) -> list[Path]:
    """Folders outside the project that change pages: our templates and filters, a shared
    bibliography or TikZ preamble."""
    from bookbuild.publish.pages import TEMPLATES
    from bookbuild.publish.pandoc_run import FILTERS

    dirs = [TEMPLATES, FILTERS]
    for b in bibliography(proj.config, "html"):
        dirs.append((proj.root / str(b)).parent)
    preamble = proj.option("tikz-preamble")
    if preamble:
        dirs.append((proj.root / str(preamble)).parent)
    return dirs


def build_html(proj, targets: list[Path], out: Path, inputs: set[Path] | None = None,
               whole: bool = False) -> int:
    """Render `targets` as HTML into `out`, keeping other chapters' pages unless `whole` (the
    whole book: pages of chapters renamed or removed go); the exit code. `inputs` receives the
    files the built chapters were made from."""
    from bookbuild.commands.render import build

    try:
        return build(proj, targets, formats=["html"], output_dir=out, whole_book=whole,
                     inputs=inputs)
    except BookbuildError as exc:  # located lines, ready to print: the overlay shows them
        print(str(exc), file=sys.stderr)
        return exc.exit_code


def warm_session():
    """The builder child's session: warm templates and pandoc workers outlive each build, to
    serve the next edit; no signal handlers (the parent kills the child's whole tree)."""
    from bookbuild.system.session import Session

    return Session(keep_warm=True, signals=False)


def keep_kernels_warm() -> None:
    """Between edits: a started kernel waits for the next code edit of the chapters just built."""
    from bookbuild.execution.execute import start_spares

    start_spares()
