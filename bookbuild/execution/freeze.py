"""Frozen results (Quarto's `execute: freeze: true | auto`): a chapter's execution result
exported from the cache into a committed `_freeze/` folder, so that a co-author or CI renders
the book without executing (and without the chapters' Python packages).

One file per chapter and output formats, where Quarto keeps its own:
`_freeze/<chapter path without .qmd>/execute-results/<formats>.json` (our result, not Quarto's
executed markdown: a file Quarto wrote is not read). Its bytes are the same on every machine
for the same result: keys sorted, paths relative to the project, and only the project's files
among the inputs (the interpreter, installed packages, user caches and files elsewhere are the
machine's). Besides the result it keeps the md5 of the chapter's text (`auto` stops serving a
chapter whose text changed, as Quarto does), a hash of the code the result answers (prose may
change under `true`; cells and inline expressions may not, or the outputs would not line up)
and a hash of each input the chapter read: a frozen result whose inputs changed is named stale
in a warning, never served as current without a word.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bookbuild.execution.cache import file_hash, reachable_names
from bookbuild.execution.execute import Plan
from bookbuild.model import ExecutionResult
from bookbuild.source.options import truthy
from bookbuild.source.qmd import Document
from bookbuild.system.atomic import write_text

FREEZE_DIR = "_freeze"
RESULTS = "execute-results"
ENGINE = "bookbuild"
FORMAT = 1
AUTO = "auto"
_UNSET = object()


def mode(config: dict | None, front: dict | None) -> bool | str:
    """`execute: freeze` (or top-level `freeze`), the chapter's front matter over `_quarto.yml`:
    True, "auto" or False (Quarto's default)."""
    value: Any = False
    for layer in (config or {}, front or {}):
        found = _freeze_of(layer)
        if found is not _UNSET:
            value = found
    if isinstance(value, str) and value.strip().lower() == AUTO:
        return AUTO
    return truthy(value)


def _freeze_of(layer: dict) -> Any:
    execute = layer.get("execute")
    if isinstance(execute, dict) and "freeze" in execute:
        return execute["freeze"]
    return layer.get("freeze", _UNSET)


def results_file(root: Path, source: Path, formats: list[str]) -> Path:
    """Where the chapter's result for these output formats is frozen."""
    rel = Path(os.path.relpath(source.resolve(), root.resolve())).with_suffix("")
    return root / FREEZE_DIR / rel / RESULTS / ("-".join(formats or ["html"]) + ".json")


def source_hash(source: Path) -> str:
    """Quarto's: the md5 of the chapter's text with LF line endings."""
    text = source.read_text(encoding="utf-8", errors="surrogateescape")
    return hashlib.md5(text.replace("\r\n", "\n").encode("utf-8", "surrogateescape")).hexdigest()


def code_hash(doc: Document) -> str:
    """What the result answers: the cells with their options and the inline expressions."""
    material = {"cells": [[c.source, c.options] for c in doc.cells],
                "inline": [r.expr for r in doc.refs]}
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


def _plan(plan: Plan) -> dict:
    return {"run": list(plan.run), "allow_errors": list(plan.allow_errors),
            "figure": [plan.fig_width, plan.fig_height, plan.fig_dpi, *plan.figure_formats]}


def _machine() -> tuple[str, ...]:
    """Folders whose files are the machine's, not the book's, wherever they lie (a venv inside
    the project too): the interpreter and its packages (their versions count, not their
    paths) and the user's caches."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, cache}
    return tuple({os.path.join(p, "") for d in dirs for p in (d, os.path.realpath(d))})


def portable(root: Path, path: str) -> str | None:
    """`path` relative to the project (posix), or None when it lies outside the project (a
    file elsewhere is this machine's: a co-author's has no such path) or is the machine's."""
    inside = os.path.join(str(root.resolve()), "")
    if not path.startswith(inside) or path.startswith(_machine()) or _METADATA.search(path) \
            or os.path.basename(path) in _HOOKS:
        return None
    return Path(os.path.relpath(path, inside)).as_posix()


# sys.path entries that name no folder (setuptools' editable path hooks): looked up beside the
# chapter as missing files by the import system, no input of the book.
_HOOKS = frozenset(p for p in sys.path if p and not os.path.isabs(p))

# Installed packages' metadata (an editable install's lies in the project): it describes a
# package, whose version counts, not the bytes of its record.
_METADATA = re.compile(r"\.(egg|dist)-info[/\\]")


def export(root: Path, source: Path, doc: Document, plan: Plan, formats: list[str],
           result: ExecutionResult) -> Path:
    """Write the chapter's frozen result (only when its bytes differ: git sees no change, the
    file keeps its time); returns the file."""
    used = reachable_names(result.dependencies, doc)
    inputs = {}
    for path in result.dependencies:
        rel = portable(root, path)
        if rel is not None:
            inputs[rel] = file_hash(path, used)
    constants = {}
    for name, d in (result.constants or {}).items():
        if isinstance(d, dict):
            d = dict(d)
            if isinstance(d.get("path"), str):
                d["path"] = portable(root, d["path"]) or d["path"]
            constants[name] = d
    record = {"engine": ENGINE, "format": FORMAT,
              "source": Path(os.path.relpath(source.resolve(), root.resolve())).as_posix(),
              "hash": source_hash(source), "code": code_hash(doc), "plan": _plan(plan),
              "result": {"outputs": result.outputs, "inline": result.inline,
                         "constants": constants},
              "inputs": inputs}
    text = json.dumps(record, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    target = results_file(root, source, formats)
    try:
        if target.read_text(encoding="utf-8") == text:
            return target
    except (OSError, UnicodeDecodeError):
        pass
    write_text(target, text)
    return target


@dataclass(frozen=True)
class Thawed:
    """A frozen result fit for the chapter, where it came from, and the inputs that changed."""

    file: Path
    result: ExecutionResult
    stale: list[str]


def thaw(root: Path, source: Path, doc: Document, plan: Plan, formats: list[str],
         how: bool | str, values_only: bool = False) -> Thawed | None:
    """The chapter's frozen result when one answers its code and plan (`values_only`: any
    format's whose cells run alike), and for `auto` only while the chapter's text is unchanged."""
    exact = results_file(root, source, formats)
    files = [exact]
    if exact.parent.is_dir():
        files += sorted(p for p in exact.parent.glob("*.json") if p != exact)
    want = _plan(plan)
    for file in files:
        record = _read(file)
        if record is None or record.get("code") != code_hash(doc):
            continue
        if not _fits(record.get("plan") or {}, want,
                     values_only or not _figures(record["result"].get("outputs"))):
            continue
        if how == AUTO and record.get("hash") != source_hash(source):
            continue
        return _thawed(root, doc, file, record)
    return None


def _fits(got: dict, want: dict, any_figures: bool) -> bool:
    """Whether a result made under plan `got` serves plan `want`: the same cells run with the
    same error rules, and unless any figures do (values; a chapter that drew none), the same
    figure size with every figure format wanted among those made (`html-pdf.json` serves a
    render to HTML alone)."""
    if (got.get("run"), got.get("allow_errors")) != (want["run"], want["allow_errors"]):
        return False
    made, wanted = got.get("figure") or [], want["figure"]
    return any_figures or (made[:3] == wanted[:3] and set(wanted[3:]) <= set(made[3:]))


def _figures(outputs: object) -> bool:
    """Whether any output holds an image (what the figure formats and size shape)."""
    if not isinstance(outputs, list):
        return True
    return any(isinstance(o, dict) and any(k.startswith("image/") or k == "application/pdf"
                                           for k in (o.get("data") or {}))
               for cell in outputs if isinstance(cell, list) for o in cell)


def _read(file: Path) -> dict | None:
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("engine") != ENGINE \
            or record.get("format") != FORMAT or not isinstance(record.get("result"), dict):
        return None
    return record


def _thawed(root: Path, doc: Document, file: Path, record: dict) -> Thawed | None:
    """The frozen record as a result, paths made absolute again; the inputs that changed."""
    try:
        inputs = {str((root / rel).resolve()) if not os.path.isabs(rel) else rel: (rel, h)
                  for rel, h in record.get("inputs", {}).items()}
        constants = {}
        for name, d in (record["result"].get("constants") or {}).items():
            d = dict(d)
            if isinstance(d.get("path"), str) and not os.path.isabs(d["path"]):
                d["path"] = str((root / d["path"]).resolve())
            constants[name] = d
        result = ExecutionResult(record["result"]["outputs"], record["result"]["inline"],
                                 list(inputs), constants)
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    if len(result.outputs) != len(doc.cells) or len(result.inline) != len(doc.refs):
        return None
    used = reachable_names(result.dependencies, doc)
    stale = [rel for path, (rel, h) in inputs.items() if file_hash(path, used) != h]
    return Thawed(file, result, stale)


def frozen_files(root: Path, source: Path) -> list[Path]:
    """Every frozen result of the chapter (any formats)."""
    folder = results_file(root, source, ["html"]).parent
    return sorted(folder.glob("*.json")) if folder.is_dir() else []
