"""The files a Quarto configuration is made of, found and read as Quarto finds them.

A project: `_quarto.yml`, then its `metadata-files` (each over the one before), then the active
profiles' `_quarto-NAME.yml` (the first named wins), then `_quarto.yml.local`. A document: the
`_metadata.yml` of each folder from the project's root down to its own, then its front matter,
then its own `metadata-files` (quarto.org/docs/projects/quarto-projects.html, profiles.html).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bookbuild.source.merge import Mark, marks_of
from bookbuild.source.yamlmarks import expanded_size, yaml_position
from bookbuild.system.errors import Diagnostic, UsageError

PROFILE_ENV = "QUARTO_PROFILE"
DIRECTORY = ("_metadata.yml", "_metadata.yaml")
LOCAL = ("_quarto.yml.local", "_quarto.yaml.local")
MAX_VALUES = 1_000_000  # a real configuration holds hundreds


@dataclass(frozen=True)
class Layer:
    """One configuration file as written: its text, its data and where each value sits."""

    path: Path
    text: str
    data: dict[str, Any]
    mark: Mark


def fail(path: Path, line: int, message: str, hint: str = "") -> UsageError:
    return UsageError(diagnostics=[Diagnostic(str(path), line, 0, "CFG001", message, hint)])


def read(path: Path) -> Layer:
    """`path` parsed as a YAML mapping ({} when empty); UsageError at the line that is wrong."""
    text = _text(path)
    data = _parse(text, path)
    return Layer(path, text, data, marks_of(compose(text) if data else None, path))


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise fail(path, line, f"not UTF-8 text (byte 0x{path.read_bytes()[exc.start]:02x})",
                   "save the file as UTF-8") from None
    except OSError as exc:
        raise fail(path, 0, f"cannot read this configuration file: {exc.strerror}") from None


def loader():
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def compose(text: str):
    import yaml

    return yaml.compose(text, Loader=loader())


def _parse(text: str, path: Path) -> dict:
    import yaml

    try:
        data = yaml.load(text, Loader=loader())
    except yaml.YAMLError as exc:
        where = yaml_position(exc, text)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and start is not None:
            problem += f" ({context} at line {start.line + 1})"
        raise fail(path, where[0] + 1 if where else 0, f"invalid YAML: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise fail(path, 1, "a configuration file must be a mapping of keys, "
                            f"not a {type(data).__name__}")
    if expanded_size(data, MAX_VALUES) > MAX_VALUES:
        # YAML aliases share values; checking the config walks each use (a "billion laughs")
        raise fail(path, 0, f"more than {MAX_VALUES:,} values once its aliases are expanded",
                   "use fewer nested aliases (*name)")
    return data


def included(layer: Layer) -> list[tuple[str, Path, int]]:
    """The files `metadata-file` and `metadata-files` of `layer` name, in Quarto's order: each
    entry as written, its path (relative to the layer's folder) and the line naming it."""
    out = []
    single = layer.data.get("metadata-file")
    if isinstance(single, str):
        out.append((single, layer.mark.at("metadata-file").line))
    many = layer.data.get("metadata-files")
    if isinstance(many, list):
        out += [(str(f), layer.mark.at("metadata-files", i).line) for i, f in enumerate(many)]
    return [(name, layer.path.parent / name, line) for name, line in out]


def requested_profiles(requested: str | None, environ: dict[str, str]) -> str:
    """The profiles asked for: `--profile`, else `QUARTO_PROFILE` ("" when neither)."""
    return requested if requested else environ.get(PROFILE_ENV, "")


def active_profiles(asked: str, config: dict[str, Any]) -> list[str]:
    """The active profiles: those asked for, else `profile.default`; then the first of each
    `profile.group` none of whose members is active (quarto-cli project-profile.ts)."""
    profile = config.get("profile") if isinstance(config.get("profile"), dict) else {}
    if not asked:
        default = profile.get("default")
        asked = ",".join(map(str, default)) if isinstance(default, list) else str(default or "")
    active = [p for p in re.split(r"[ ,]+", asked) if p]
    for group in groups(profile.get("group")):
        if group and not any(name in active for name in group):
            active.append(group[0])
    return active


def groups(value: Any) -> list[list[str]]:
    """`profile.group`: one group (a list of names) or a list of groups."""
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return [list(value)]
    if isinstance(value, list) and all(isinstance(v, list) for v in value):
        return [[str(n) for n in g] for g in value]
    return []


def local_profile(root: Path) -> str:
    """`profile.default` of `_quarto.yml.local` ("" when none): a machine's own default."""
    local = next((root / n for n in LOCAL if (root / n).is_file()), None)
    profile = read(local).data.get("profile") if local is not None else None
    default = profile.get("default") if isinstance(profile, dict) else None
    return ",".join(map(str, default)) if isinstance(default, list) else str(default or "")


def profile_files(root: Path, active: list[str]) -> list[Path]:
    """`_quarto-NAME.yml` of each active profile that has one, the last-listed first (each
    merged over the one before, so the first-listed wins), then `_quarto.yml.local`."""
    found = []
    for name in reversed(active):
        path = next((root / f"_quarto-{name}{ext}" for ext in (".yml", ".yaml")
                     if (root / f"_quarto-{name}{ext}").is_file()), None)
        if path is not None:
            found.append(path)
    local = next((root / n for n in LOCAL if (root / n).is_file()), None)
    return found + ([local] if local else [])


def directory_files(root: Path | None, folder: Path) -> list[Path]:
    """The `_metadata.yml` of each folder from `root` down to `folder` (Quarto's directory
    metadata), outermost first; none when `folder` lies outside `root`."""
    if root is None:
        return []
    root, folder = root.resolve(), folder.resolve()
    if folder != root and root not in folder.parents:
        return []
    chain = [root, *reversed([p for p in folder.parents if root in p.parents]),
             *([folder] if folder != root else [])]
    out = []
    for d in chain:
        path = next((d / n for n in DIRECTORY if (d / n).is_file()), None)
        if path is not None:
            out.append(path)
    return out


ENVIRONMENT = "_environment"  # Quarto's project environment files (dotenv syntax)
_DOTENV = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def dotenv(path: Path) -> dict[str, str]:
    """`KEY=value` lines of a dotenv file (`#` comments, optional quotes; {} if unreadable)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    out = {}
    for line in lines:
        m = _DOTENV.match(line)
        if not m or line.lstrip().startswith("#"):
            continue
        value = m.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1].replace("\\n", "\n") if value[0] == '"' else value[1:-1]
        else:
            value = value.split(" #", 1)[0].rstrip()
        out[m.group(1)] = value
    return out


def dotenv_profile(root: Path) -> str:
    """QUARTO_PROFILE as `_environment.local` or `_environment` gives it ("" when neither)."""
    for name in (f"{ENVIRONMENT}.local", ENVIRONMENT):
        value = dotenv(root / name).get(PROFILE_ENV)
        if value:
            return value
    return ""


def environment(root: Path, active: list[str]) -> tuple[dict[str, str], list[Path]]:
    """The variables `_environment.local`, each active profile's `_environment-NAME` (the
    first-listed first) and `_environment` define, the first to define a name winning, and the
    files read. Quarto sets each one the environment does not already have."""
    files = [root / f"{ENVIRONMENT}.local", *(root / f"{ENVIRONMENT}-{p}" for p in active),
             root / ENVIRONMENT]
    found = [f for f in files if f.is_file()]
    values: dict[str, str] = {}
    for file in found:
        for key, value in dotenv(file).items():
            values.setdefault(key, value)
    return values, found
