"""Quarto's project scripts: `project.pre-render` and `project.post-render`.

Each entry is a command line run at the project's root (quarto.org/docs/projects/scripts.html):
a `.py` script with this Python (the project's venv), a `.lua` one with `pandoc lua`, a `.R`
one with Rscript, anything else as the command it names. They see Quarto's variables
(`QUARTO_PROJECT_ROOT`, `QUARTO_PROJECT_OUTPUT_DIR`, `QUARTO_PROJECT_RENDER_ALL` when the whole
project renders, `QUARTO_PROJECT_INPUT_FILES` before, `QUARTO_PROJECT_OUTPUT_FILES` after,
`QUARTO_PROFILE`), run under bookbuild's timeout in their own process group, and a failure is
one line at the configuration line that names the script.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from bookbuild.model import relative_output
from bookbuild.source.project import DOCUMENT, Project
from bookbuild.source.shapes import as_list
from bookbuild.system import processes
from bookbuild.system.errors import BuildError, Diagnostic, display_path
from bookbuild.system.output import document_outputs

PRE, POST = "pre-render", "post-render"
INTERPRETERS = {".py": lambda: [sys.executable], ".R": lambda: ["Rscript"],
                ".r": lambda: ["Rscript"], ".lua": lambda: [str(_pandoc()), "lua"],
                ".ts": lambda: ["deno", "run", "--allow-all"]}


def _pandoc() -> Path:
    from bookbuild.publish.pandoc import pandoc_path

    return pandoc_path()


def scripts(proj: Project, which: str) -> list[str]:
    """The command lines `project.<which>` lists (one string or a list)."""
    if proj.root is None or proj.kind == DOCUMENT:
        return []  # a document outside any project has no project scripts
    return [str(s) for s in as_list((proj.config.get("project") or {}).get(which)) if s]


def pre_render(proj: Project, files: list[Path], output_dir: Path | None, whole: bool) -> bool:
    """Run the pre-render scripts; whether any ran (the project is then read again)."""
    inputs = "\n".join(_relative(proj, f) for f in files)
    return _run_all(proj, PRE, {"QUARTO_PROJECT_INPUT_FILES": inputs}, output_dir, whole)


def post_render(proj: Project, files: list[Path], formats: list[str] | None,
                output_dir: Path | None, whole: bool) -> None:
    """Run the post-render scripts, told the files this render wrote."""
    outputs = "\n".join(_relative(proj, f) for f in _outputs(proj, files, formats, output_dir))
    _run_all(proj, POST, {"QUARTO_PROJECT_OUTPUT_FILES": outputs}, output_dir, whole)


def _run_all(proj: Project, which: str, extra: dict[str, str], output_dir: Path | None,
             whole: bool) -> bool:
    listed = scripts(proj, which)
    if not listed:
        return False
    env = {**os.environ, **extra, "QUARTO_PROJECT_ROOT": str(proj.root),
           "QUARTO_PROJECT_OUTPUT_DIR": str(_output_dir(proj, output_dir)),
           "QUARTO_PROJECT_SCRIPT_PROGRESS": "1", "QUARTO_PROJECT_SCRIPT_QUIET": "0",
           "QUARTO_PROFILE": ",".join(proj.profiles)}
    env.pop("QUARTO_PROJECT_RENDER_ALL", None)
    if whole:
        env["QUARTO_PROJECT_RENDER_ALL"] = "1"
    for i, line in enumerate(listed):
        _run_one(proj, which, i, line, env)
    return True


def _run_one(proj: Project, which: str, index: int, line: str, env: dict[str, str]) -> None:
    """One script; its output goes to stderr; BuildError located at its configuration line."""
    assert proj.root is not None
    try:
        argv = shlex.split(line)
    except ValueError as exc:
        raise _failure(proj, which, index, f"{which} entry '{line}' cannot be read as a command "
                       f"line ({exc})", "fix its quoting") from None
    cmd = _command(proj.root, argv)
    print(f"{which}: running {line}", file=sys.stderr, flush=True)
    timeout = proj.settings.timeout
    try:
        done = processes.run(cmd, timeout, cwd=proj.root, env=env)
    except processes.Timeout:
        raise _failure(proj, which, index, f"{which} script '{line}' did not finish within "
                       f"{timeout} s and was stopped",
                       "make it faster, or raise bookbuild.timeout") from None
    except FileNotFoundError:
        raise _failure(proj, which, index, f"{which} script '{line}': command "
                       f"'{cmd[0]}' not found", "install it, or fix the entry") from None
    except PermissionError:
        raise _failure(proj, which, index, f"{which} script '{line}' is not executable",
                       f"chmod +x {argv[0]}, or name its interpreter (sh {argv[0]})") from None
    for text in (done.stdout, done.stderr):
        if text:
            sys.stderr.write(text if text.endswith("\n") else text + "\n")
    if done.returncode != 0:
        last = next((t for t in reversed((done.stderr or done.stdout or "").splitlines())
                     if t.strip()), "")
        said = f": {last.strip()}" if last else ""
        raise _failure(proj, which, index, f"{which} script '{line}' failed with exit code "
                       f"{done.returncode}{said}", "fix the script; nothing was rendered"
                       if which == PRE else "fix the script; the output was written")


def _command(root: Path, argv: list[str]) -> list[str]:
    """The program to start: a script by its interpreter, a file of the project by its path."""
    if not argv:
        return [""]
    first = argv[0]
    interpreter = INTERPRETERS.get(Path(first).suffix)
    if interpreter is not None:
        return [*interpreter(), first, *argv[1:]]
    if (root / first).is_file():  # `scripts/tidy.sh`: the project's file, not one on PATH
        return [str((root / first).resolve()), *argv[1:]]
    return argv


def _failure(proj: Project, which: str, index: int, message: str, hint: str) -> BuildError:
    file, line = proj.where("project", which, index)
    return BuildError(diagnostics=[Diagnostic(display_path(file), line, 0, "CFG002", message,
                                              hint)])


def _output_dir(proj: Project, output_dir: Path | None) -> Path:
    assert proj.root is not None
    if output_dir is not None:
        return output_dir.resolve()
    if proj.is_book:
        return proj.output_dir.resolve()
    return (proj.documents_output or proj.root).resolve()


def _outputs(proj: Project, files: list[Path], formats: list[str] | None,
             output_dir: Path | None) -> list[Path]:
    """The pages and documents this render wrote (Quarto's output list, one per format)."""
    formats = formats or proj.formats
    out = _output_dir(proj, output_dir)
    found: list[Path] = []
    if proj.is_book:
        found += [out / relative_output(proj.root, f, ".html") for f in files if "html" in formats]
        found += [out / relative_output(proj.root, f, ".md") for f in files if "md" in formats]
        found += sorted(out.glob("*.pdf")) if "pdf" in formats else []
        return [f for f in found if f.exists()]
    for f in files:
        folder = out / relative_output(proj.root, f, "").parent
        found += [folder / n for n in document_outputs(f.stem, formats) if "_files" not in n]
    return [f for f in found if f.exists()]


def _relative(proj: Project, path: Path) -> str:
    assert proj.root is not None
    path = path.resolve()
    root = proj.root.resolve()
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
