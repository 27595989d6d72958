"""LaTeX errors from the book's PDF run, located where the offending text was written: the
`.qmd` line for text from a chapter, else the header file that brought it in."""

from __future__ import annotations

import re
from dataclasses import dataclass

MESSAGE = re.compile(r"^\s*! (?P<msg>.+)$", re.M)
CONTEXT = re.compile(r"^\s*l\.(?P<line>\d+) (?P<text>.*)$", re.M)
CONTROL = re.compile(r"\\[A-Za-z@]+")
WORD = re.compile(r"\w")


@dataclass
class Source:
    name: str  # as shown to the user
    text: str


def _needles(context: str) -> list[str]:
    """What to look for: the line LaTeX stopped on, then its control sequences, last first
    (the offending one is where LaTeX stopped). A line of a few symbols (a lone `}`) is no
    needle: it occurs in any chapter, and a wrong place is worse than none."""
    line = context.strip()
    if not line:
        return []
    whole = [line] if len(WORD.findall(line)) >= 3 else []
    return [*whole, *reversed(CONTROL.findall(line))]


def locate(stderr: str, sources: list[Source]) -> str | None:
    """`file:line: LaTeX error: ...` for the first LaTeX error in pandoc's output, or None
    when the output holds no LaTeX error."""
    msg, ctx = MESSAGE.search(stderr), CONTEXT.search(stderr)
    if not msg:
        return None
    message = msg.group("msg").strip().rstrip(".")
    if ctx is None:
        return f"pdf: LaTeX error: {message}"
    for needle in _needles(ctx.group("text")):
        for src in sources:
            at = src.text.find(needle)
            if at >= 0:
                line = src.text.count("\n", 0, at) + 1
                return (f"{src.name}:{line}: LaTeX error: {message}: {ctx.group('text').strip()}\n"
                        f"  (line {ctx.group('line')} of the generated LaTeX; a macro a chapter "
                        "uses must be defined in a file under include-in-header)")
    return (f"pdf: LaTeX error: {message} at line {ctx.group('line')} of the generated LaTeX: "
            f"{ctx.group('text').strip()}")
