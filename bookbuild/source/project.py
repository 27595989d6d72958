"""The project: its configuration, validated against a schema, its chapters and our settings.

The one reader of `_quarto.yml` and the files Quarto merges into it (`metadata-files`, profiles,
`_quarto.yml.local`; bookbuild.source.layers finds them, bookbuild.source.merge merges them).
Quarto has hundreds of keys and we pass most of them through, so the schema checks the types
of the keys we read and every key under our own `bookbuild:` namespace; each problem is a
located line in the file that wrote it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from bookbuild.source import layers, shapes
from bookbuild.source import website as _website
from bookbuild.source.merge import Mark, marks_of, merge
from bookbuild.source.metadata import PROFILE_KEY
from bookbuild.system.errors import Diagnostic, UsageError

CACHE_ENTRIES = "cache"  # under .bookbuild: the entries of the execution, parse and page caches

CONFIG = "_quarto.yml"
VARIABLES = ("_variables.yml", "_variables.yaml")
ProjectError = UsageError  # the configuration is missing or malformed (exit 2)

_NULL = {"type": "null"}  # a key left empty: as if it were absent (Quarto)
_STR_LIST = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}, _NULL]}
_POSITIVE = {"type": "integer", "minimum": 1}
_CHAPTERS = {"type": "array", "items": {"oneOf": [
    {"type": "string"},
    {"type": "object", "properties": {"part": {"type": "string"},
                                      "chapters": {"$ref": "#/$defs/chapters"}}},
]}}
SCHEMA: dict[str, Any] = {
    "$defs": {"chapters": _CHAPTERS},
    "type": "object",
    "properties": {
        "project": {"type": ["object", "null"], "properties": {
            "type": {"type": "string"},
            "output-dir": {"oneOf": [{"type": "string", "minLength": 1}, _NULL]},
            "render": {"oneOf": [{"type": "array", "items": {"type": "string"}}, _NULL]},
            "resources": _STR_LIST,
            "pre-render": _STR_LIST, "post-render": _STR_LIST,
            "execute-dir": {"oneOf": [{"enum": ["file", "project"]}, _NULL]},
        }},
        "profile": {"type": ["object", "null"], "additionalProperties": False, "properties": {
            "default": _STR_LIST,
            "group": {"oneOf": [{"type": "array", "items": {"type": "string"}},
                                {"type": "array", "items": {"type": "array",
                                                            "items": {"type": "string"}}},
                                _NULL]},
        }},
        "metadata-file": {"oneOf": [{"type": "string"}, _NULL]},
        "metadata-files": {"oneOf": [{"type": "array", "items": {"type": "string"}}, _NULL]},
        "book": {"type": ["object", "null"], "properties": {
            "title": {"type": "string"}, "subtitle": {"type": "string"},
            "output-file": {"type": "string", "minLength": 1},
            "chapters": {"$ref": "#/$defs/chapters"}, "appendices": {"$ref": "#/$defs/chapters"},
        }},
        # a format's name, a list of names, or names mapped to options (front-matter.ts)
        "format": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}},
                             {"type": "object"}, _NULL]},
        "execute": {"type": ["object", "null"]},
        "bibliography": _STR_LIST, "resources": _STR_LIST,
        "website": _website.SCHEMA,  # its navigation: bookbuild.source.website
        "bookbuild": {"type": ["object", "null"], "additionalProperties": False, "properties": {
            "timeout": _POSITIVE, "jobs": _POSITIVE, "echo": {"type": "boolean"},
            "warm-kernels": {"type": "boolean"},
            "lock-outputs": {"type": "boolean"},  # numbers.lock holds the numbers cells show
            "tikz-preamble": {"type": "string"},
            "callouts": {"type": "object", "additionalProperties": {
                "type": "object", "additionalProperties": False,
                "properties": {"label": {"type": "string"}, "color": {"type": "string"},
                               "icon": {"type": "string"}}}},
            "external-refs": {"type": "object", "additionalProperties": {
                "type": "object", "required": ["url"], "additionalProperties": False,
                "properties": {"url": {"type": "string"}, "title": {"type": "string"}}}},
        }},
    },
}


@dataclass(frozen=True)
class Settings:
    """Our settings, read from the `bookbuild:` key of `_quarto.yml` (Quarto ignores it)."""

    echo: bool = True  # Quarto's default; cells read it through bookbuild.source.options
    timeout: int = 120
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    warm_kernels: bool = True  # fork chapter kernels from a warm template (bookbuild.execution.warm)


BOOK, DEFAULT, DOCUMENT = "book", "default", "document"  # what a folder is (project.type)
WEBSITE = "website"  # pages numbered each on its own, with the site's navigation (source/website)


@lru_cache(maxsize=16)
def writable_cache(folder: Path) -> Path:
    """`folder` when bookbuild may write there, else a folder of this user's under the system's
    temporary folder, named after it: `check` and `numbers check` work on a read-only checkout
    (a CI mount, a shared copy), caching where they can."""
    import hashlib
    import tempfile

    if os.path.lexists(folder) and not folder.is_dir():
        return folder  # a file in its place: the write that needs it says so, with advice
    if os.access(folder if folder.is_dir() else folder.parent, os.W_OK):
        return folder  # (not created here: `check` leaves no .bookbuild behind)
    tag = hashlib.sha256(str(folder).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"bookbuild-{os.getuid()}-{tag}"


@dataclass(frozen=True)
class Project:
    """A book, a `type: default` project of separate documents, or one document alone."""

    root: Path | None
    config: dict[str, Any]
    settings: Settings
    kind: str = BOOK
    documents: tuple[Path, ...] = ()  # a lone document's project: that file
    marks: Mark | None = field(default=None, compare=False, repr=False)  # where values came from
    profiles: tuple[str, ...] = ()  # the active profiles, as Quarto sets QUARTO_PROFILE
    config_files: tuple[Path, ...] = ()  # every file merged into `config`, in order
    variables: dict[str, Any] = field(default_factory=dict, compare=False)  # _variables.yml
    # _environment files' variables the environment lacks (Quarto sets them for the render)
    environment: dict[str, str] = field(default_factory=dict, compare=False)

    def where(self, *keys: str | int) -> tuple[Path, int]:
        """The file and line that wrote the value at `keys` of the raw configuration (the
        nearest enclosing value when that one is not written; line 0 when unknown)."""
        if self.marks is None:
            return (self.config_file or Path(CONFIG), 0)
        mark = self.marks.at(*keys)
        return mark.file, mark.line

    def locate(self, scalar: str, nth: int = 1) -> tuple[Path, int]:
        """The file and line of the `nth` value `scalar` anywhere in the configuration (a
        resource, a css file...): `_quarto.yml`, a metadata file or a profile's."""
        found = self.marks.find(self.config, scalar, nth) if self.marks is not None else None
        if found is None:
            return (self.config_file or Path(CONFIG), 0)
        return found.file, found.line

    @property
    def is_book(self) -> bool:
        return self.kind == BOOK

    @property
    def config_file(self) -> Path | None:
        return None if self.root is None else self.root / CONFIG

    @property
    def output_dir(self) -> Path:
        """The book's output folder (`_book` unless `project.output-dir` says otherwise)."""
        base = self.root or Path.cwd()
        default = _website.OUTPUT_DIR if self.kind == WEBSITE else "_book"
        out = (self.config.get("project") or {}).get("output-dir", default)
        return base / out

    @property
    def documents_output(self) -> Path | None:
        """Where a document project's outputs go: `project.output-dir`, or None (beside each
        source, as Quarto writes `doc.html` next to `doc.qmd`)."""
        out = (self.config.get("project") or {}).get("output-dir")
        if self.kind == WEBSITE:  # a website's pages go under _site/, as Quarto's
            return self.output_dir
        return (self.root or Path.cwd()) / out if out else None

    @property
    def cache_dir(self) -> Path:
        """`.bookbuild` at the project's root; for a lone document, where bookbuild runs (as
        before: rendering it `--output-dir` elsewhere writes nothing into its folder)."""
        base = Path.cwd() if self.kind == DOCUMENT or self.root is None else self.root
        return writable_cache(base / ".bookbuild")

    @property
    def cache_entries(self) -> Path:
        """The folder of every cache's entries (executions, parses, pages)."""
        return self.cache_dir / CACHE_ENTRIES

    def chapters(self) -> list[Path]:
        """Chapters in book order: `book.chapters` then `book.appendices` (parts flattened)."""
        if self.root is None:
            return []
        if self.kind == DOCUMENT:
            return list(self.documents)
        if self.kind == DEFAULT:
            return _project_documents(self.root, self.config)
        if self.kind == WEBSITE:
            return _website.pages(self.root, self.config)
        return [self.root / f for f in _chapter_entries(self.config)]

    def sources(self) -> list[Path]:
        """Every chapter file the project names (the output folder must never contain one)."""
        return self.chapters()

    def appendices(self) -> set[Path]:
        """Chapters listed under `book.appendices` (lettered A, B, ...)."""
        if self.root is None:
            return set()
        entries = (self.config.get("book") or {}).get("appendices") or []
        return {(self.root / e).resolve() for e in entries if isinstance(e, str)}

    def part_files(self) -> set[Path]:
        """Files given as `part:` (a part's title page: unnumbered, no chapter of its own)."""
        if self.root is None:
            return set()
        return {(self.root / f).resolve() for title, f, _ in _book_parts(self.config) if f}

    def part_titles(self) -> dict[Path, str]:
        """For each part given by a title alone, its first chapter and that title."""
        if self.root is None:
            return {}
        return {(self.root / first).resolve(): title
                for title, f, first in _book_parts(self.config) if not f and first and title}

    def option(self, key: str, default: Any = None) -> Any:
        """A setting under the `bookbuild:` key of `_quarto.yml`."""
        return (self.config.get("bookbuild") or {}).get(key, default)

    def path_setting(self, value: str | None) -> Path | None:
        if not value:
            return None
        return (self.root or Path.cwd()) / value

    @property
    def formats(self) -> list[str]:
        """Output formats named in `_quarto.yml` (html first), or html alone."""
        fmt = self.config.get("format") or {}
        declared = [fmt] if isinstance(fmt, str) else list(fmt.keys())
        ours = [f for f in ("html", "pdf", "epub") if f in declared]
        return ours or ["html"]

    @property
    def book_title(self) -> str:
        book = self.config.get("book") or {}
        return str(book.get("title") or self.config.get("title") or "Book")

    def kernel_cwd(self, chapter: Path) -> Path:
        """Where a chapter's cells run: beside the chapter (Quarto's `project: execute-dir:
        file`, the default), or at the project root with `execute-dir: project`."""
        if self.root is not None and (self.config.get("project") or {}).get(
                "execute-dir") == "project":
            return self.root.resolve()
        return chapter.resolve().parent


def _project_documents(root: Path, config: dict) -> list[Path]:
    """A `type: default` project's documents: `project.render`, else every `.qmd` under the
    root whose name and folders start with neither `_` nor `.` (Quarto's rule), sorted."""
    listed = (config.get("project") or {}).get("render")
    if listed:
        return [root / f for f in listed if f.endswith(".qmd")]
    out = (config.get("project") or {}).get("output-dir")
    skip = (root / out).resolve() if out else None
    found = []
    for path in sorted(root.rglob("*.qmd")):
        parts = path.relative_to(root).parts
        if any(p.startswith(("_", ".")) for p in parts):
            continue
        if skip is not None and skip in path.resolve().parents:
            continue
        found.append(path)
    return found


def project_kind(config: dict) -> str:
    """`project.type`: `default` is a set of documents, `website` a site of pages; anything
    else renders as a book."""
    kind = (config.get("project") or {}).get("type")
    return kind if kind in (DEFAULT, WEBSITE) else BOOK


def for_documents(files: list[Path], front: dict[str, Any]) -> Project:
    """The project of documents outside any project (one folder): their formats are those of
    `front` (the first one's front matter), their outputs go beside them."""
    folders = {f.resolve().parent for f in files}
    if len(folders) > 1:
        raise UsageError("bookbuild: documents outside a project must lie in one folder; "
                         "render each folder's documents on their own")
    config = {"format": front["format"]} if front.get("format") else {}
    return Project(folders.pop(), shapes.normalize(config), Settings(), DOCUMENT, tuple(files))


def _chapter_entries(config: dict) -> list[str]:
    files = _listed_files(config)
    if not files:
        files = list((config.get("project") or {}).get("render") or [])
    return [f for f in files if f.endswith(".qmd")]


def _listed_files(config: dict) -> list[str]:
    """Every file `book.chapters` and `book.appendices` name, parts' files included."""
    book = config.get("book") or {}
    out: list[str] = []

    def add(entries: Any) -> None:
        for entry in entries or []:
            if isinstance(entry, str):
                out.append(entry)
            elif isinstance(entry, dict):
                if _part_file(entry.get("part")):
                    out.append(entry["part"])
                add(entry.get("chapters"))

    add(book.get("chapters"))
    add(book.get("appendices"))
    return out


def _book_parts(config: dict) -> list[tuple[str, str | None, str | None]]:
    """Each `part:` of `book.chapters` and `book.appendices`: its title (a string part's own;
    "" for a file), its file (None for a string part) and its first chapter file (or None)."""
    book = config.get("book") or {}
    out = []
    for entries in (book.get("chapters"), book.get("appendices")):
        for entry in entries or []:
            if not isinstance(entry, dict) or "part" not in entry:
                continue
            part = str(entry["part"])
            first = next((c for c in entry.get("chapters") or []
                          if isinstance(c, str) and c.endswith(".qmd")), None)
            if _part_file(part):
                out.append(("", part, first))
            else:
                out.append((part, None, first))
    return out


def _part_file(part: object) -> bool:
    """Whether a `part:` names a file (its title page) rather than giving a title."""
    return isinstance(part, str) and re.search(r"\.(qmd|md|ipynb|[Rr]md)$", part) is not None


def find_root(start: Path) -> Path | None:
    start = start.resolve()
    for d in [start, *start.parents]:
        if (d / CONFIG).is_file():
            return d
    return None


def load(start: Path | None = None, profile: str | None = None,
         environ: dict[str, str] | None = None) -> Project:
    """The project containing `start` (default: the working directory), or a bare one, with
    its configuration merged from every file Quarto reads: `_quarto.yml`, its `metadata-files`,
    the active profiles' `_quarto-NAME.yml` (`profile`, else `QUARTO_PROFILE` in `environ`,
    else `profile.default`) and `_quarto.yml.local`.

    Raises UsageError with located problems when a file is unreadable or invalid.
    """
    root = find_root(start or Path.cwd())
    if root is None:
        return Project(None, {}, Settings())
    remembered = root / ".bookbuild" / "cache" / VALID
    base = _checked(layers.read(root / CONFIG), remembered)
    config, mark = base.data, base.mark
    files = [base.path]
    for name, file, line in layers.included(base):
        if not file.is_file():
            raise layers.fail(base.path, line, f"metadata file {name} does not exist",
                              "fix the path, or remove it from metadata-files:")
        extra = _checked(layers.read(file), remembered)
        config, mark = merge(config, mark, extra.data, extra.mark)
        files.append(file)
    config = {k: v for k, v in config.items() if k not in ("metadata-file", "metadata-files")}
    environ = os.environ if environ is None else environ
    asked = (layers.requested_profiles(profile, environ) or layers.dotenv_profile(root)
             or layers.local_profile(root))
    active = layers.active_profiles(asked, config)
    config = {k: v for k, v in config.items() if k != "profile"}
    for file in layers.profile_files(root, active):
        extra = _checked(layers.read(file), remembered)
        data = {k: v for k, v in extra.data.items() if k != "profile"}  # read above
        config, mark = merge(config, mark, data, extra.mark)
        files.append(file)
    problems = merged_problems(config, mark, root)
    if problems:
        raise UsageError(diagnostics=problems)
    variables, env_files = layers.environment(root, active)
    proj = _project(root, config, mark, tuple(active), (*files, *env_files))
    return dataclasses.replace(proj, environment={k: v for k, v in variables.items()
                                                  if k not in environ})


def publish_environment(proj: Project) -> None:
    """Set QUARTO_PROFILE to the active profiles (with `profile.default` and groups applied)
    and the project's `_environment` variables the environment lacks, as Quarto does for a
    render: chapters' kernels and project scripts read them. Called by the commands."""
    if proj.root is None:
        return
    os.environ[layers.PROFILE_ENV] = ",".join(proj.profiles)
    for key, value in proj.environment.items():  # never over the caller's own
        os.environ.setdefault(key, value)


def _project(root: Path, raw: dict, mark: Mark, active: tuple[str, ...],
             files: tuple[Path, ...]) -> Project:
    config = shapes.normalize(raw)  # the one shape per key every reader expects
    if active:
        config[PROFILE_KEY] = list(active)
    ours = config.get("bookbuild") or {}
    execute = config.get("execute") or {}
    settings = Settings(
        echo=bool(execute.get("echo", ours.get("echo", True))),
        timeout=int(ours.get("timeout", 120)),
        jobs=int(ours.get("jobs", os.cpu_count() or 1)),
        warm_kernels=bool(ours.get("warm-kernels", True)),
    )
    return Project(root, config, settings, project_kind(config), marks=mark, profiles=active,
                   config_files=files, variables=load_variables(root))


def load_variables(root: Path) -> dict[str, Any]:
    """`_variables.yml` beside `_quarto.yml` (what `{{< var >}}` reads; {} when absent)."""
    path = next((root / n for n in VARIABLES if (root / n).is_file()), None)
    return layers.read(path).data if path is not None else {}


def _checked(layer: layers.Layer, remembered: Path) -> layers.Layer:
    """`layer`, once its keys have the types the schema gives (UsageError, located, if not)."""
    problems = validate(layer.data, layer.text, str(layer.path), remembered)
    if problems:
        raise UsageError(diagnostics=problems)
    return layer


VALID = "config"  # under .bookbuild/cache: one empty file per config text that passed the schema


def validate(config: dict, text: str, path: str, remembered: Path | None = None) -> list[Diagnostic]:
    """Every schema violation of one configuration file, located in it.

    A text that passed the schema before (a file in `remembered`) skips it: importing
    jsonschema and validating costs more than the rest of a no-op `numbers check`.
    """
    mark = remembered / f"{_digest(text)}.ok" if remembered is not None else None
    if mark is not None and mark.is_file():
        from bookbuild.system.cachesweep import touch

        touch(mark)
        return []
    import jsonschema

    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    where_in = marks_of(layers.compose(text), Path(path)) if errors else None
    problems = []
    for err in errors:
        # {part: P1, chapters: 5} fails as a whole; name the value that is wrong in it
        err = jsonschema.exceptions.best_match([err])
        keys = list(err.absolute_path)
        where = ".".join(map(str, keys)) or "(top level)"
        problems.append(Diagnostic(path, where_in.at(*keys).line, 0, "CFG001",
                                   f"{where}: {_explain(err)}", _hint(err)))
    if not errors and mark is not None and mark.parent.parent.is_dir():
        # only in a project that has built before: `check` leaves no .bookbuild behind
        with contextlib.suppress(OSError):
            mark.parent.mkdir(exist_ok=True)
            mark.touch()  # empty: its existence is the whole record
    return problems


def merged_problems(config: dict, mark: Mark, root: Path) -> list[Diagnostic]:
    """Chapters, resources and bibliographies of the merged configuration that cannot work,
    each located where it is written (in `_quarto.yml`, a metadata file or a profile's)."""
    problems = []
    for entry in _listed_files(config):
        if not entry.endswith(".qmd"):
            problems.append(_at(mark, config, entry,
                                f"chapter {entry or '(empty)'} is not a .qmd file and would be left out",
                                "bookbuild renders .qmd chapters: rename it to .qmd, or remove it"))
    return problems + _chapter_file_problems(config, mark, root) + \
        _resource_problems(config, mark) + _bibliography_problems(config, mark, root)


def _at(mark: Mark, config: dict, scalar: str, message: str, hint: str, nth: int = 1) -> Diagnostic:
    """A problem with the `nth` value `scalar` of the merged configuration, where it is written."""
    found = mark.find(config, scalar, nth) or mark
    line = found.line if found is not mark else 0
    return Diagnostic(str(found.file), line, 0, "CFG001", message, hint)


MAX_BIBLIOGRAPHY = 64 * 2**20  # a bibliography past this is no bibliography (a link to /dev/zero?)


def _bibliography_problems(config: dict, mark: Mark, root: Path) -> list[Diagnostic]:
    """Bibliography files that pandoc could not read, said where they are listed: a folder, a
    device or a missing file stopped pandoc with a backtrace, and /dev/zero never ended."""
    import stat

    formats = config.get("format")  # raw here: `format: html` and `[html, pdf]` hold no options
    holders = [config, *(v for v in (formats.values() if isinstance(formats, dict) else [])
                         if isinstance(v, dict))]
    out = []
    for holder in holders:
        value = holder.get("bibliography")
        for entry in [value] if isinstance(value, str) else list(value or []):
            file = root / str(entry)
            try:
                st = file.stat()
                why = None if stat.S_ISREG(st.st_mode) else "is not a file"
                why = why or ("is larger than 64 MB" if st.st_size > MAX_BIBLIOGRAPHY else None)
            except OSError:
                why = "does not exist"
            if why:
                out.append(_at(mark, config, str(entry), f"bibliography {entry} {why}",
                               "fix the path, or remove it from bibliography:"))
    return out


def _resource_problems(config: dict, mark: Mark) -> list[Diagnostic]:
    """`resources:` entries that name a place outside the project: each is copied to the same
    place under the output folder, so `../x` or `/etc/x` would be written outside it."""
    from pathlib import PurePosixPath

    out = []
    for value in ((config.get("project") or {}).get("resources"), config.get("resources")):
        for entry in [value] if isinstance(value, str) else list(value or []):
            name = PurePosixPath(str(entry).lstrip("!"))
            if name.is_absolute() or ".." in name.parts:
                out.append(_at(mark, config, str(entry),
                               f"resources entry {entry} lies outside the project: it would "
                               "be copied outside the output folder",
                               "copy the file into the project and list it from there"))
    return out


def _chapter_file_problems(config: dict, mark: Mark, root: Path) -> list[Diagnostic]:
    """Chapters that are missing, outside the project, or the same file as another (by
    another spelling, `./x.qmd`, or through a link): one page per chapter, one chapter per page."""
    problems: list[Diagnostic] = []
    seen: dict[str, int] = {}
    files: dict[Path, str] = {}  # each chapter file, by its real path: the first entry naming it
    real_root = root.resolve()

    def problem(entry: str, message: str, hint: str, nth: int = 1) -> None:
        problems.append(_at(mark, config, entry, message, hint, nth))

    for entry in _chapter_entries(config):
        if entry.startswith("!") or any(c in entry for c in "*?["):
            continue  # a glob of `project.render`, or one it leaves out: no file of its own
        seen[entry] = seen.get(entry, 0) + 1
        if seen[entry] > 1:
            problem(entry, f"chapter {entry} is listed twice", "list each chapter once", seen[entry])
            continue
        file = root / entry
        if not file.is_file():
            what = "is a folder, not a chapter file" if file.is_dir() else "does not exist"
            problem(entry, f"chapter {entry} {what}",
                    "fix the path or remove it from the book's chapters")
            continue
        real = file.resolve()
        if not real.is_relative_to(real_root):
            problem(entry, f"chapter {entry} lies outside the project folder",
                    "move or copy it into the project: its page and lock entry are named after "
                    "its place in the project")
        elif real in files:
            problem(entry, f"chapter {entry} is the same file as {files[real]}, listed before",
                    "list each chapter once")
        files.setdefault(real, entry)
    return problems


def _digest(text: str) -> str:
    """The config text and the schema it passed (a new schema validates again)."""
    import hashlib
    import json

    material = json.dumps([text, SCHEMA], sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()


def _explain(err) -> str:
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        return f"unknown key{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))}"
    if err.validator in ("type", "oneOf"):
        return f"expected {_expected(err.schema)}, got {err.instance!r}"
    if err.validator == "minimum":
        return f"expected a number of at least {err.validator_value}, got {err.instance!r}"
    return err.message


def _expected(schema: dict) -> str:
    if "oneOf" in schema:
        return " or ".join(_expected(s) for s in schema["oneOf"])
    names = {"string": "a string", "integer": "a whole number", "boolean": "true or false",
             "object": "a mapping", "array": "a list", "null": "nothing"}
    if isinstance(schema.get("type"), list):
        return " or ".join(_expected({**schema, "type": t}) for t in schema["type"])
    text = names.get(schema.get("type"), str(schema.get("type", "another value")))
    return text + (f" of at least {schema['minimum']}" if "minimum" in schema else "")


def _hint(err) -> str:
    if err.validator == "additionalProperties":
        known = sorted(err.schema.get("properties", {}))
        extra = sorted(set(err.instance) - set(known))
        close = difflib.get_close_matches(extra[0], known, n=1) if extra else []
        return f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"
    return ""
