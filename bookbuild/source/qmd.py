"""Parse a `.qmd` chapter: front matter, includes, fenced code cells with `#|` options, inline
references.

`{{< include >}}` shortcodes are expanded first, so included cells and inline references become
part of the chapter; each keeps the file and line it was written on. Markdown structure (read by
markdown-it, CommonMark) decides what is code, comment or prose: only references in prose are
live. Offsets (`start`, `end`) are in the expanded text, which is what substitution edits.
Parsing never runs code.
"""

from __future__ import annotations

import bisect
import codecs
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from bookbuild.source.shapes import normalize
from bookbuild.source.yamlmarks import expanded_size, yaml_position
from bookbuild.system.errors import Diagnostic

INLINE_ENGINE = "{python}"
_CELL_INFO = re.compile(r"^\{\s*python\b([^}]*)\}\s*$")
# `#| key: value`, also `# | key: value` as code formatters (black) write it; Quarto reads both.
_OPTION = re.compile(r"^#[ \t]*\|\s?(.*)$")


def is_option_line(line: str) -> bool:
    """Whether a cell line is a `#|` option line (leading spaces allowed)."""
    return _OPTION.match(line.lstrip()) is not None
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_INCLUDE = re.compile(r"(?<!\{)\{\{<\s*include\s+(\"[^\"]+\"|'[^']+'|\S+?)\s*>\}\}(?!\})")
_FENCE_LINE = re.compile(r"^[ \t]*(`{3,}|~{3,})")

# Where an included line came from: the include shortcodes that brought it in, innermost first.
Chain = tuple[tuple[str, int], ...]
# What one chapter may pull in through includes: past these, an include is an error, so that
# an include bomb (files that include each other many times over) ends at once.
MAX_INCLUDES = 2_000
MAX_INCLUDED_BYTES = 64 * 2**20
MAX_YAML_VALUES = 100_000  # in one front matter or cell's options, aliases written out


@dataclass(frozen=True)
class InlineRef:
    """An inline `` `{python} expr` `` occurrence; `path`/`line`/`col` are where it is written."""

    path: str
    line: int  # line of the opening backtick
    col: int  # column of the opening backtick
    expr: str
    expr_line: int  # position of the expression's first character
    expr_col: int
    start: int  # offsets of the whole code span in the (expanded) chapter text
    end: int
    included_from: Chain = ()


@dataclass(frozen=True)
class CodeCell:
    """A ```` ```{python} ```` cell. `source` keeps the `#|` lines so cell lines map 1:1 to the file."""

    path: str
    index: int
    line: int  # line of the opening fence
    source: str
    options: dict[str, Any]
    start: int  # offsets of the whole fenced block, fences included
    end: int
    included_from: Chain = ()
    indent: str = ""  # of the opening fence (a cell inside a list item)

    @property
    def first_line(self) -> int:
        """The `.qmd` line of the cell's first source line."""
        return self.line + 1

    @property
    def label(self) -> str | None:
        label = self.options.get("label")
        return str(label) if label is not None else None

    def describe(self) -> str:
        return f"cell '{self.label}'" if self.label else f"cell #{self.index + 1}"


@dataclass(frozen=True)
class Fence:
    """Any other fenced block (```` ```{.tikz} ````, plain code): never holds live references."""

    path: str
    line: int
    info: str
    body: str
    start: int
    end: int


class Origin(NamedTuple):
    """Where one line of the expanded text was written (a tuple: one per line, made fast)."""

    path: str
    line: int
    chain: Chain = ()


@dataclass(frozen=True)
class Document:
    path: str
    text: str  # the chapter with its includes expanded
    front_matter: dict[str, Any]
    cells: tuple[CodeCell, ...]
    fences: tuple[Fence, ...]
    refs: tuple[InlineRef, ...]
    problems: tuple[Diagnostic, ...] = field(default=())
    body_start: int = 0  # offset just past the YAML front matter
    sources: tuple[str, ...] = ()  # the chapter, then every file it includes (for cache, preview)
    origins: tuple[Origin, ...] = field(default=(), repr=False, compare=False)
    files: dict[str, str] = field(default_factory=dict, repr=False, compare=False, hash=False)
    # front_matter's keys whose values came from other files (a folder's _metadata.yml, its
    # metadata-files): pandoc reads the text's front matter, so they are written into it
    inherited: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    def origin(self, offset: int) -> tuple[str, int, int, Chain]:
        """File, line, column and include chain of an offset in `text`."""
        return _Locator(self.path, LineIndex(self.text), self.origins).at(offset)

    def source_line(self, path: str, line: int) -> str | None:
        """The text of `line` in `path` (the chapter or one of its includes), for excerpts."""
        text = self.files.get(path, self.text if path == self.path else None)
        if text is None:
            return None
        lines = text.split("\n")
        return lines[line - 1].rstrip("\r") if 0 < line <= len(lines) else None

    def chain_of(self, path: str, line: int) -> Chain:
        """The include chain of the first place `path:line` appears in the chapter."""
        if path == self.path:
            return ()
        for o in self.origins:
            if o.path == path and o.line == line:
                return o.chain
        for o in self.origins:
            if o.path == path:
                return o.chain
        return ()

    def annotate(self, d: Diagnostic) -> Diagnostic:
        """`d` with "included from chapter.qmd:12" when it lies in an included file."""
        note = included_note(self.chain_of(d.path, d.line))
        if not note or note in d.message:
            return d
        return Diagnostic(d.path, d.line, d.col, d.code, d.message + note)


def included_note(chain: Chain) -> str:
    """` (included from ch.qmd:12)`, innermost include first; empty for the chapter's own lines."""
    if not chain:
        return ""
    from bookbuild.system.errors import display_path

    return " (" + ", ".join(f"included from {display_path(p)}:{n}" for p, n in chain) + ")"


class LineIndex:
    """Maps character offsets of a text to 1-based (line, column)."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.starts, offset) - 1
        return i + 1, offset - self.starts[i] + 1


def read_source(path: str | Path, problems: list[Diagnostic], where: str | None = None) -> str:
    """A file's text; bytes that are not UTF-8 become U+FFFD and one located problem."""
    with open(path, "rb") as f:
        data = f.read()
    return _decode(data, str(where or path), problems)


def _decode(data: bytes, where: str, problems: list[Diagnostic]) -> str:
    """`data` as text the way pandoc reads it: without a leading BOM and with CRLF line ends as
    LF, so front matter and blank lines are found in files saved on Windows. A lone CR (classic
    Mac line ends) is a line end too, as editors show it. Lines and columns stay those an editor
    shows (a BOM is not a column; a CR only ends a line)."""
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        problems.append(Diagnostic(where, line, col, "QMD004",
                                   f"byte 0x{data[exc.start]:02x} is not UTF-8; save the file "
                                   "as UTF-8"))
        text = data.decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


Spans = list[tuple[int, int]]  # [start, end) offsets into the expanded text


def parse_file(path: str | Path, project_root: Path | None = None) -> Document:
    path = Path(path)
    problems: list[Diagnostic] = []
    text = read_source(path, problems)
    if project_root is None:
        from bookbuild.source.project import find_root

        project_root = find_root(path.parent)
    doc = parse(text, str(path), project_root=project_root, problems=problems)
    return _with_metadata(doc, path, project_root)


def _with_metadata(doc: Document, path: Path, root: Path | None) -> Document:
    """`doc` whose front matter is its whole metadata: folders' `_metadata.yml` below it and
    its `metadata-files` over it, as Quarto merges them (the files read join `sources`)."""
    from dataclasses import replace

    from bookbuild.source.docmeta import assemble

    meta, files, problems = assemble(path, root, doc.front_matter, doc.files.get(doc.path, ""))
    if meta is doc.front_matter and not problems:
        return doc
    own = doc.front_matter
    inherited = {k: v for k, v in meta.items() if k not in own or own[k] != v}
    return replace(doc, front_matter=meta, sources=(*doc.sources, *files),
                   problems=(*doc.problems, *problems), inherited=inherited)


def parse(text: str, path: str = "<string>", project_root: Path | None = None,
          problems: list[Diagnostic] | None = None) -> Document:
    """Expand includes, split into front matter, fenced blocks and prose; find inline references."""
    problems = list(problems or [])
    if "\r" in text:  # line ends as _decode makes them: markdown-it splits at a lone CR too
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    front, body_start = _front_matter(text, path, problems)
    files = {path: text}
    if "{{<" in text:
        expanded, origins = _expand(text, path, body_start, project_root, problems, files)
    else:
        expanded, origins = text, ()
    text = expanded
    index = LineIndex(text)
    where = _Locator(path, index, origins)

    cells, fences, dead = _fenced_blocks(text, body_start, where, index, problems)
    refs = _live_refs(text, body_start, dead, cells, where, index, problems)
    doc = Document(path, text, front, tuple(cells), tuple(fences), tuple(refs), (), body_start,
                   tuple(files), tuple(origins), files)
    located = tuple(sorted({doc.annotate(p) for p in problems}))
    return Document(path, text, front, doc.cells, doc.fences, doc.refs, located, body_start,
                    doc.sources, doc.origins, files)


def _fenced_blocks(text: str, body_start: int, where: _Locator, index: LineIndex,
                   problems: list[Diagnostic]) -> tuple[list[CodeCell], list[Fence], Spans]:
    """The code cells, the other fenced blocks, and the spans (front matter, code, raw HTML)
    that hold no live inline references."""
    cells: list[CodeCell] = []
    fences: list[Fence] = []
    dead: list[tuple[int, int]] = [(0, body_start)]  # spans that hold no live references
    lines = newline_lines(text)
    offsets = index.starts
    for token in _blocks(text, body_start):
        first, last = token.map  # 0-based, last exclusive
        start = offsets[first]
        if token.type == "code_block" or token.type == "html_block":
            end = offsets[last] if last < len(offsets) else len(text)
            dead.append((start, end))
            continue
        closed = last - 1 > first and _closes(lines[last - 1], token.markup)
        opening = lines[first]
        indent = opening[:len(opening) - len(opening.lstrip(" \t"))]
        if not closed:
            fpath, fline, _, chain = where.at(start)
            problems.append(Diagnostic(fpath, fline, len(indent) + 1, "QMD003",
                                       f"code fence {token.markup} opened here is never closed"
                                       + included_note(chain)))
            end = len(text) if last >= len(lines) else offsets[last] - 1
        else:
            end = offsets[last - 1] + len(lines[last - 1].rstrip("\n"))
        dead.append((start, end))
        body = token.content
        fpath, fline, _, chain = where.at(start)
        info = token.info.strip()
        if _CELL_INFO.match(info):
            cell = CodeCell(fpath, len(cells), fline, body, {}, start, end, chain, indent)
            options = _cell_options(cell, problems)
            cells.append(CodeCell(fpath, cell.index, fline, body, options, start, end, chain,
                                  indent))
        else:
            fences.append(Fence(fpath, fline, info, body, start, end))
    return cells, fences, dead


def _live_refs(text: str, body_start: int, dead: Spans, cells: list[CodeCell], where: _Locator,
                index: LineIndex, problems: list[Diagnostic]) -> list[InlineRef]:
    """The inline references in prose; those that are never evaluated (in code spans Quarto
    leaves alone, in div attributes) are problems instead."""
    refs: list[InlineRef] = []
    for a, b in _complement(dead, len(text)):
        refs.extend(_inline_refs(text, a, b, where, problems))
    for kind, pos in _unrendered_spots(text, body_start, cells, index):
        fpath, fline, _, chain = where.at(pos)
        col = index.position(pos)[1]
        problems.append(Diagnostic(fpath, fline, col, "REF005",
                                   f"inline reference in {kind} is never evaluated; "
                                   "compute the text in a cell instead" + included_note(chain)))
    for r in [r for r in refs if _in_div_attributes(text, r.start)]:
        refs.remove(r)
        problems.append(Diagnostic(r.path, r.line, r.col, "REF005", "inline reference in a div "
                                   "attribute (such as fig-cap) is never evaluated; compute the "
                                   "text in a cell instead" + included_note(r.included_from)))
    return refs


class _Locator:
    """Offsets in the expanded text to the file, line and include chain they were written at."""

    def __init__(self, path: str, index: LineIndex, origins: tuple[Origin, ...] | list) -> None:
        self.path, self.index, self.origins = path, index, origins

    def at(self, offset: int) -> tuple[str, int, int, Chain]:
        line, col = self.index.position(offset)
        if self.origins and line <= len(self.origins):
            o = self.origins[line - 1]
            return o.path, o.line, col, o.chain
        return self.path, line, col, ()


def _closes(line: str, marker: str) -> bool:
    stripped = line.strip()
    return bool(marker) and len(stripped) >= len(marker) and set(stripped) == {marker[0]}


def _blocks(text: str, body_start: int):
    """Fences, indented code and HTML comment blocks, as markdown-it tokens with line maps."""
    # Blank the front matter (keeping its lines) so that line maps stay those of `text`.
    head = re.sub(r"[^\n]", " ", text[:body_start])
    for token in _block_parser().parse(head + text[body_start:]):
        if token.map is None:
            continue
        if token.type in ("fence", "code_block"):
            yield token
        elif token.type == "html_block" and token.content.lstrip().startswith("<!--"):
            yield token  # a comment: pandoc keeps it raw, Quarto evaluates nothing in it


@lru_cache(maxsize=1)
def _block_parser():
    """CommonMark's block structure only: inline parsing is left off (we scan code spans
    ourselves, with positions), which makes parsing several times faster."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark")
    md.core.ruler.disable(["inline", "text_join"])
    return md


def _complement(spans: list[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    out, pos = [], 0
    for a, b in sorted(spans):
        if a > pos:
            out.append((pos, a))
        pos = max(pos, b)
    if pos < length:
        out.append((pos, length))
    return out


def _expand(text: str, path: str, body_start: int, root: Path | None,
            problems: list[Diagnostic], files: dict[str, str],
            chain: Chain = (), stack: tuple[tuple[str, tuple[int, int]], ...] = (),
            real: tuple[str, tuple[int, int]] | None = None,
            budget: list[int] | None = None) -> tuple[str, list[Origin]]:
    """`text` with every `{{< include >}}` outside code and comments replaced by the file's text.
    `stack`: the including files (path, device and inode: a link is the file it names);
    `budget`: [includes, bytes] this chapter may still read."""
    pieces: list[str] = []
    origins: list[Origin] = []
    fence: str | None = None
    comment = False
    budget = budget if budget is not None else [MAX_INCLUDES, MAX_INCLUDED_BYTES]
    stack = stack + (real or (os.path.abspath(path), _identity(path)),)
    start_line = text.count("\n", 0, body_start)
    lines = newline_lines(text)
    for n, line in enumerate(lines, start=1):
        origin = Origin(path, n, chain)
        m = _FENCE_LINE.match(line) if line[:1] in " \t`~" else None
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                    and not line.strip().strip(fence[0]):
                fence = None
        elif m and not comment:
            fence = m.group(1)
        elif n > start_line and "{{<" in line and (inc := _INCLUDE.search(line)) \
                and not _commented(line, inc.start(), comment):
            text_in, origins_in = _include(inc, line, path, n, root, problems, files, chain, stack,
                                           budget)
            if text_in is not None:
                before, after = line[:inc.start()], line[inc.end():]
                if before.strip() or after.strip():  # an include inside a line: splice it in
                    pieces.append(before + text_in.rstrip("\n") + after)
                    origins.append(origin)
                    origins += origins_in[1:]
                else:
                    if text_in and not text_in.endswith("\n"):
                        text_in += "\n"
                    pieces.append(text_in)
                    origins += origins_in
                continue
        if fence is None and "--" in line:
            opened, closed = line.rfind("<!--"), line.rfind("-->")
            if opened > closed:
                comment = True
            elif closed >= 0:
                comment = False
        pieces.append(line)
        origins.append(origin)
    return "".join(pieces), origins


def newline_lines(text: str) -> list[str]:
    """`text`'s lines with their ends, split at newlines only, as markdown-it and LineIndex
    count them (str.splitlines also breaks at form feeds, U+2028 and other separators)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    return lines + [parts[-1]] if parts[-1] else lines


def _commented(line: str, pos: int, comment: bool) -> bool:
    """Whether `pos` in `line` lies inside an HTML comment (`comment`: one is open at its start)."""
    for mark in _COMMENT_MARK.finditer(line, 0, pos):
        comment = mark.group() == "<!--"
    return comment


_COMMENT_MARK = re.compile(r"<!--|-->")


def _include(m: re.Match, line: str, path: str, n: int, root: Path | None,
             problems: list[Diagnostic], files: dict[str, str], chain: Chain,
             stack: tuple[tuple[str, tuple[int, int]], ...],
             budget: list[int]) -> tuple[str | None, list[Origin]]:
    """The expanded text of one include shortcode, or None (and a problem) when it cannot be.

    Plain string paths (os.path), not pathlib: this runs once per include on every parse.
    """
    raw = m.group(1).strip("\"'")
    col = m.start() + 1
    absolute = raw.startswith("/") and root is not None
    target = os.path.join(str(root), raw.lstrip("/")) if absolute else \
        os.path.join(os.path.dirname(path), raw)
    note = included_note(chain)

    def problem(message: str) -> tuple[str, list[Origin]]:
        problems.append(Diagnostic(path, n, col, "QMD005", message + note))
        return "\n", [Origin(path, n, chain)]  # the shortcode line, left blank

    if min(budget) < 0:
        return "\n", [Origin(path, n, chain)]  # the budget ran out above, said there: read no more
    resolved = os.path.abspath(target)  # no symlink resolution: the inode below tells links
    data, ident, why = _read_included(resolved, budget)
    if why == "missing":
        return problem(f"included file '{raw}' not found (looked for {target}); fix the path "
                       "(a leading / is the project root)")
    seen = [p for p, i in stack if p == resolved or (ident is not None and i == ident)]
    if seen:
        at = next(k for k, (p, i) in enumerate(stack) if p == seen[0])
        names = " -> ".join(os.path.basename(p) for p, _ in stack[at:])
        return problem(f"include cycle: {names} -> {os.path.basename(resolved)}; remove one of "
                       "the includes")
    if why:
        return problem(f"cannot include '{raw}': {why}")
    shown = os.path.normpath(target)
    inner = _decode(data, shown, problems)
    files.setdefault(shown, inner)
    return _expand(inner, shown, 0, root, problems, files, ((path, n),) + chain, stack,
                   (resolved, ident), budget)


def _identity(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
        return (st.st_dev, st.st_ino)
    except OSError:
        return (0, 0)


def _read_included(path: str, budget: list[int]) -> tuple[bytes, tuple[int, int] | None, str]:
    """(bytes, (device, inode), why not) for an included file: a FIFO, a device or a folder is
    never read (reading one would hang or never end), nor past the chapter's budget."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO without writer opens at once
    except OSError:
        return b"", None, "missing"
    try:
        st = os.fstat(fd)
        ident = (st.st_dev, st.st_ino)
        if not stat.S_ISREG(st.st_mode):
            return b"", ident, "it is not a regular file (a folder, a pipe or a device)"
        budget[0] -= 1
        budget[1] -= st.st_size
        if budget[0] < 0 or budget[1] < 0:
            return b"", ident, (f"the chapter's includes exceed {MAX_INCLUDES:,} files or "
                                f"{MAX_INCLUDED_BYTES // 2**20} MB in all (an include bomb?)")
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read(st.st_size + 1), ident, ""
    finally:
        os.close(fd)


_FRONT_MATTER = re.compile(r"---[ \t]*\n(.*?\n)?(---|\.\.\.)[ \t]*(\n|$)", re.S)


def front_matter_end(text: str) -> int:
    """The offset just past the YAML front matter that opens `text` (0 when none does)."""
    m = _FRONT_MATTER.match(text)
    return m.end() if m else 0


def _front_matter(text: str, path: str, problems: list[Diagnostic]) -> tuple[dict, int]:
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, 0
    raw = m.group(1) or ""
    try:
        import yaml

        data = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except Exception as exc:  # yaml.YAMLError, but keep the import lazy
        line, col = yaml_position(exc, raw) or (0, 0)
        line, col = 2 + line, 1 + col
        problems.append(Diagnostic(path, line, col, "QMD002",
                                   f"invalid YAML front matter: {_yaml_problem(exc)}"))
        data = {}
    if expanded_size(data, MAX_YAML_VALUES) > MAX_YAML_VALUES:
        problems.append(Diagnostic(path, 1, 1, "QMD002", "the front matter holds more than "
                                   f"{MAX_YAML_VALUES:,} values once its aliases are expanded",
                                   "use fewer nested aliases (*name)"))
        data = {}
    return normalize(data), m.end()  # one shape per key (`format: html` as {html: {}})


def _yaml_problem(exc: Exception) -> str:
    """PyYAML's multi-line message as one line: the problem, and what it was inside."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    return f"{problem} ({context})" if context else problem


def _cell_options(cell: CodeCell, problems: list[Diagnostic]) -> dict[str, Any]:
    """Read the leading `#| key: value` lines as YAML, as Quarto does."""
    option_lines = []
    for line in cell.source.split("\n"):
        m = _OPTION.match(line.strip())
        if not m:
            break
        option_lines.append(m.group(1))
    if not option_lines:
        return {}
    import yaml

    try:
        data = yaml.load("\n".join(option_lines), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except Exception as exc:
        line = cell.first_line + (yaml_position(exc, "\n".join(option_lines)) or (0, 0))[0]
        problems.append(Diagnostic(cell.path, line, 1, "QMD002", f"invalid cell options in "
                                   f"{cell.describe()}: {_yaml_problem(exc)}"))
        return {}
    if not isinstance(data, dict):
        return {}
    if expanded_size(data, MAX_YAML_VALUES) > MAX_YAML_VALUES:
        problems.append(Diagnostic(cell.path, cell.first_line, 1, "QMD002", "the options of "
                                   f"{cell.describe()} hold more than {MAX_YAML_VALUES:,} values "
                                   "once their aliases are expanded",
                                   "use fewer nested aliases (*name)"))
        return {}
    label = data.get("label")
    what = f"cell '{label}'" if label is not None else cell.describe()
    source_lines = cell.source.split("\n")
    for key, value in data.items():
        expected = _wrong_option(key, value)
        if expected:
            n = next((i for i, text in enumerate(option_lines)
                      if re.match(rf"\s*{re.escape(str(key))}\s*:", text)), 0)
            col = source_lines[n].find(str(key)) + 1 or 1
            problems.append(Diagnostic(
                cell.path, cell.first_line + n, col, "QMD006",
                f"cell option '{key}' in {what} must be {expected}, not {value!r}",
                OPTION_HINTS.get(str(key), "Quarto rejects this value too; a misspelt true or "
                                 "false runs the cell as if the option were not there")))
    return data


# Quarto's types for the execution and code options it validates (src/resources/schema/
# cell-codeoutput.yml): a wrong one stops Quarto's render with a validation error.
_BOOL = {"type": "boolean"}
CELL_OPTION_TYPES: dict[str, tuple[dict, str]] = {
    "eval": (_BOOL, "true or false"),
    "include": (_BOOL, "true or false"),
    "error": (_BOOL, "true or false"),
    "warning": (_BOOL, "true or false"),
    "message": (_BOOL, "true or false"),
    "echo": ({"anyOf": [_BOOL, {"enum": ["fenced"]}]}, "true, false or fenced"),
    "output": ({"anyOf": [_BOOL, {"enum": ["asis"]}]}, "true, false or asis"),
    "code-fold": ({"anyOf": [_BOOL, {"enum": ["show"]}]}, "true, false or show"),
    "code-overflow": ({"enum": ["scroll", "wrap"]}, "scroll or wrap"),
    "code-summary": ({"type": "string"}, "a string"),
    "lock": (_BOOL, "true or false"),  # ours (numbers.lock): Quarto passes it through
}
# Why a wrong value matters, by option (the rest: a misspelt true or false).
OPTION_HINTS = {
    "label": "rename the label: letters, digits, - and _ (Quarto's labels are names too)",
    "lock": "lock is bookbuild's: false keeps the cell's numbers out of numbers.lock",
}


def _wrong_option(key: object, value: object) -> str | None:
    """What `key` must be, when `value` is not that (None when it is, or `key` is not typed)."""
    if key == "label":  # it names the cell's figure files: a path would write them elsewhere
        bad = isinstance(value, str) and any(c in value for c in "/\\\0")
        return "a name without / or \\ (it names the cell's figure files)" if bad else None
    typed = CELL_OPTION_TYPES.get(str(key))
    if typed is None:
        return None
    if isinstance(value, bool) and _BOOL in (typed[0], *typed[0].get("anyOf", ())):
        return None  # the common case, without importing jsonschema (check starts fast)
    return None if _validator(str(key)).is_valid(value) else typed[1]


@lru_cache(maxsize=32)
def _validator(key: str):
    from jsonschema import Draft202012Validator

    return Draft202012Validator(CELL_OPTION_TYPES[key][0])


def _inline_refs(text: str, a: int, b: int, where: _Locator,
                 problems: list[Diagnostic]) -> list[InlineRef]:
    """Find inline code spans in text[a:b] whose content starts with `{python}`.

    An HTML comment that opens before a code span hides it, as in CommonMark, where the
    leftmost of the two wins.
    """
    refs = []
    i = seen = a  # `seen`: text before it holds no comment opening still to consider
    while True:
        i = text.find("`", i, b)
        if i < 0:
            return refs
        hidden = _comment_end(text, seen, i, b)
        if hidden is not None:  # the backtick is inside a comment: go on after it
            i = seen = hidden
            continue
        if i > a and _escaped(text, i):
            i += 1
            continue
        n = i
        while n < b and text[n] == "`":
            n += 1
        ticks = n - i
        # A code span ends at the next run of exactly as many backticks, within the paragraph.
        para_end = _BLANK_LINE.search(text, n, b)
        limit = para_end.start() if para_end else b
        close = re.compile(rf"(?<!`)`{{{ticks}}}(?!`)").search(text, n, limit)
        content_start = n
        if close is None:
            if text.startswith(INLINE_ENGINE, n) or text.startswith(" " + INLINE_ENGINE, n):
                path, line, col, chain = where.at(i)
                problems.append(Diagnostic(path, line, col, "REF004",
                                           "unclosed inline code: `{python} ... has no closing "
                                           "backtick" + included_note(chain)))
            i = n
            continue
        content = text[content_start:close.start()]
        stripped = content.lstrip(" ")
        if stripped.startswith(INLINE_ENGINE):
            expr_offset = content_start + (len(content) - len(stripped)) + len(INLINE_ENGINE)
            raw_expr = text[expr_offset:close.start()]
            lead = len(raw_expr) - len(raw_expr.lstrip())
            expr = raw_expr.strip()
            path, line, col, chain = where.at(i)
            _, eline, ecol, _ = where.at(expr_offset + lead)
            refs.append(InlineRef(path, line, col, expr, eline, ecol, i, close.end(), chain))
        i = seen = close.end()


def _comment_end(text: str, a: int, i: int, b: int) -> int | None:
    """The end of an HTML comment that opens in text[a:i] and is still open at `i`, if any."""
    c = text.find("<!--", a, i)
    while c >= 0:
        closing = text.find("-->", c + 4, b)
        if closing < 0:
            return None  # never closed: plain text, as in CommonMark
        if closing + 3 > i:
            return closing + 3
        c = text.find("<!--", closing + 3, i)
    return None


def _escaped(text: str, i: int) -> bool:
    """Whether text[i] follows an odd number of backslashes."""
    n = 0
    while i - n - 1 >= 0 and text[i - n - 1] == "\\":
        n += 1
    return n % 2 == 1


def _unrendered_spots(text: str, body_start: int, cells: list[CodeCell],
                      index: LineIndex) -> list[tuple[str, int]]:
    """Inline references where they are never evaluated: YAML front matter and `#|` options."""
    spots = []
    marker = "`" + INLINE_ENGINE
    for m in re.finditer(re.escape(marker), text[:body_start]):
        spots.append(("the YAML front matter", m.start()))
    for cell in cells:
        offset = cell.start + len(text[cell.start:].split("\n", 1)[0]) + 1
        for line in newline_lines(cell.source):
            if not is_option_line(line):
                break
            k = line.find(marker)
            if k >= 0:
                key = _OPTION.match(line.strip()).group(1).split(":", 1)[0].strip()
                spots.append((f"cell option '{key}'", offset + len(cell.indent) + k))
            offset += len(line) + len(cell.indent)
    return spots


def _in_div_attributes(text: str, offset: int) -> bool:
    line_start = text.rfind("\n", 0, offset) + 1
    return text.startswith(":::", line_start) and "{" in text[line_start:offset]
