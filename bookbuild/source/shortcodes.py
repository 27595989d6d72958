"""Quarto's built-in shortcodes (`{{< meta k >}}`, `var`, `env`, `pagebreak`, `kbd`, `video`) expanded in
the chapter's markdown before pandoc, so they work in text, link targets, attributes, headings
and math alike. `include` is left to the include step; an unknown name is reported."""

from __future__ import annotations

import html
import os
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# `{{< name args >}}`; `{{{< ... >}}}` and `{{</* ... */>}}` are Quarto's escapes for a literal.
SHORTCODE = re.compile(r"\{\{\{<\s*(?P<esc1>.*?)\s*>\}\}\}|\{\{</\*\s*(?P<esc2>.*?)\s*\*/>\}\}"
                       r"|\{\{<\s*(?P<body>.*?)\s*>\}\}", re.S)
KNOWN = {"meta", "var", "env", "pagebreak", "kbd", "include", "video"}
VARIABLES = "_variables.yml"  # named in messages


@dataclass
class Problem:
    line: int
    message: str


@dataclass
class Context:
    """What the shortcodes of one chapter can see."""

    meta: dict[str, Any]
    variables: dict[str, Any]
    fmt: str  # "html" or "latex"
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    videos: int = 0  # local-file players so far: each gets its own id, as in Quarto

    def next_video(self) -> int:
        self.videos += 1
        return self.videos


def load_variables(root: Path | None) -> dict[str, Any]:
    """`_variables.yml` beside `_quarto.yml` ({} when absent; the project reads it)."""
    from bookbuild.source.project import load_variables as read

    return read(root or Path.cwd())


def _lookup(data: dict[str, Any], key: str) -> Any:
    """A dotted key (`book.title`, `engine.version`); None when any step is missing."""
    value: Any = data
    for part in key.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_as_text(v) for v in value)
    return str(value)


def _kbd(args: list[str], fmt: str) -> str:
    named = dict(a.split("=", 1) for a in args if "=" in a)
    plain = [a for a in args if "=" not in a]
    keys = plain[0] if plain else next(iter(named.values()), "")
    if fmt == "latex":
        escaped = re.sub(r"([\\{}$&#^_%~])", r"\\\1", keys)
        return f"`\\texttt{{{escaped}}}`{{=latex}}"
    data = "".join(f' data-{html.escape(k)}="{html.escape(v)}"' for k, v in named.items())
    return f'`<kbd aria-label="{html.escape(keys)}"{data}>{html.escape(keys)}</kbd>`{{=html}}'


def _expand_one(name: str, args: list[str], ctx: Context,
                report: Callable[[str], None]) -> str | None:
    """The replacement text, or None to leave the shortcode as written."""
    if name in ("meta", "var"):
        if not args:
            report(f"{{{{< {name} >}}}} needs a key, e.g. {{{{< {name} title >}}}}")
            return f"?{name}"
        source = ctx.meta if name == "meta" else ctx.variables
        value = _lookup(source, args[0])
        if value is None:
            where = "the document's metadata" if name == "meta" else VARIABLES
            report(f"{name} '{args[0]}' is not defined in {where}")
            return f"?{name}:{args[0]}"
        return _as_text(value)
    if name == "env":
        if not args:
            report("{{< env >}} needs a variable name")
            return "?env"
        if args[0] in ctx.environ:
            return ctx.environ[args[0]]
        if len(args) > 1:
            return args[1]
        report(f"environment variable '{args[0]}' is not set")
        return f"?env:{args[0]}"
    if name == "pagebreak":
        if ctx.fmt == "latex":
            return "\n\n```{=latex}\n\\newpage{}\n```\n\n"
        return '\n\n```{=html}\n<div class="pagebreak" style="page-break-after: always;"></div>\n```\n\n'
    if name == "kbd":
        return _kbd(args, ctx.fmt)
    return None  # include, or unknown (reported)


def _alone_on_line(text: str, start: int, end: int) -> str | None:
    """The indent before the shortcode when nothing else shares its line (it is then a block
    of its own, inside a list item if indented), else None."""
    before = text[text.rfind("\n", 0, start) + 1:start]
    after_end = text.find("\n", end)
    alone = not before.strip() and not text[end:after_end if after_end >= 0 else len(text)].strip()
    return before if alone else None


def _video(args: list[str], ctx: Context, block: str | None, report: Callable[[str], None],
           written: str) -> str:
    from bookbuild.source.video import Video, video_markdown

    v = Video.of(args)
    if v is None:
        report("{{< video >}} needs a source, e.g. {{< video https://youtu.be/ID >}} "
               "or {{< video media/clip.mp4 >}}")
        return written
    return video_markdown(v, ctx.fmt, block, ctx.next_video)


def expand(text: str, ctx: Context,
           on_problem: Callable[[Problem], None] | None = None) -> str:
    """`text` with every shortcode replaced; problems go to `on_problem` with their line."""
    def replace(m: re.Match) -> str:
        if m.group("esc1") is not None:
            return "{{< " + m.group("esc1") + " >}}"
        if m.group("esc2") is not None:
            return "{{< " + m.group("esc2") + " >}}"
        line = text.count("\n", 0, m.start()) + 1

        def report(message: str) -> None:
            if on_problem is not None:
                on_problem(Problem(line, message))

        try:
            parts = shlex.split(m.group("body"))
        except ValueError:
            parts = m.group("body").split()
        if not parts:
            report("empty shortcode {{< >}}")
            return m.group(0)
        name, args = parts[0], parts[1:]
        if name == "video":
            return _video(args, ctx, _alone_on_line(text, m.start(), m.end()), report, m.group(0))
        if name not in KNOWN:
            report(f"unknown shortcode '{name}' (known: {', '.join(sorted(KNOWN))}); "
                   "write {{{< " + name + " >}}} for a literal")
            return m.group(0)
        result = _expand_one(name, args, ctx, report)
        return m.group(0) if result is None else result

    return SHORTCODE.sub(replace, text)


def problems(text: str, ctx: Context) -> list[Problem]:
    """Every problem with the shortcodes of `text` (a `.qmd`), with its line."""
    found: list[Problem] = []
    expand(text, ctx, found.append)
    return found


def context(config: dict, root: Path | None, front_matter: dict, fmt: str,
            variables: dict[str, Any] | None = None) -> Context:
    """The shortcode context of one chapter: the project's configuration (all of it, so
    `book.title` works), the format's options and the chapter's front matter; the project's
    variables (`_variables.yml`, read again when not given)."""
    from bookbuild.source.metadata import document_metadata

    meta = dict(config)
    meta.update(document_metadata(config, "pdf" if fmt == "latex" else "html", front_matter))
    return Context(meta, load_variables(root) if variables is None else variables, fmt)


def located(path: str, text: str, ctx: Context) -> list[str]:
    """`file:line: unknown shortcode ...` lines for one chapter."""
    return [f"{path}:{p.line}: {p.message}" for p in problems(text, ctx)]
