"""Page cache under `.bookbuild/cache/pages/`: each chapter's pandoc result, keyed on its inputs.

The key hashes everything that determines what pandoc returns for one page: the markdown it
reads (substituted, with shortcodes expanded), the metadata, the contents of the files the
metadata names (bibliography, TikZ preamble, CSL, ...), our Lua filters and fragment template,
the author's filters, the pandoc binary, whether citeproc runs, and the cross-reference entries
the page uses (its own labels and those its markdown names), never the whole book's index.
pandoc receives that same filtered index, so a cached page is exactly what pandoc would make.
Entries are checksummed and written atomically; an unreadable or damaged entry is a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from bookbuild.publish.pandoc_run import FILTERS, LUA, TEMPLATES, Fragment, Literal, pandoc_version
from bookbuild.publish.userfilters import Effect, UserFilters, side_effects
from bookbuild.system.cachesweep import touch
from bookbuild.system.store import file_digest, sealed, store, unsealed

FORMAT = 1
INDEX_KEY = "crossref-index"  # a temporary file: the key holds the entries it carries


def tool_digest() -> dict[str, object]:
    """Our filters (every file beside them: they may `require` each other), the fragment
    template and the pandoc binary."""
    from bookbuild.publish.pandoc import pandoc_path

    exe = pandoc_path()
    filters = {p.relative_to(FILTERS).as_posix(): file_digest(p)
               for p in sorted(FILTERS.rglob("*")) if p.is_file()}
    filters |= {f"bookbuild/lua/{p.name}": file_digest(p) for p in sorted(LUA.glob("*.lua"))}
    st = Path(exe).stat()
    return {"format": FORMAT, "filters": filters,
            "template": file_digest(TEMPLATES / "fragment.html"),
            "pandoc": [str(exe), st.st_size, st.st_mtime_ns, list(pandoc_version())]}


def used_labels(labels: Iterable[str], own: set[str], markdown: str) -> list[str]:
    """The labels of the book that a page can use: its own and every label whose id (or
    capitalised id, `@Fig-x`) occurs in its markdown."""
    return LabelFinder(labels).used(own, markdown)


class LabelFinder:
    """The book's labels grouped by their first characters, built once per build: a page is
    then scanned once per group (`sec-`, `fig-`, ...), not once per label of the book, with the
    same answer as looking for each label's text in the page."""

    PREFIX = 4

    def __init__(self, labels: Iterable[str]) -> None:
        self.order = {label: i for i, label in enumerate(labels)}
        # first characters -> length -> text looked for -> the labels it stands for
        self.groups: dict[str, dict[int, dict[str, list[str]]]] = {}
        self.always: set[str] = set()  # an empty id occurs in every page
        for label in self.order:
            for form in dict.fromkeys([label, label[:1].upper() + label[1:]]):
                if not form:
                    self.always.add(label)
                    continue
                by_length = self.groups.setdefault(form[:self.PREFIX], {})
                by_length.setdefault(len(form), {}).setdefault(form, []).append(label)

    def used(self, own: set[str], markdown: str) -> list[str]:
        """The labels a page can use, in the book's order."""
        found = {label for label in own if label in self.order} | self.always
        for prefix, by_length in self.groups.items():
            at = markdown.find(prefix)
            while at != -1:
                for length, forms in by_length.items():
                    found.update(forms.get(markdown[at:at + length], ()))
                at = markdown.find(prefix, at + 1)
        return sorted(found, key=self.order.__getitem__)


def _meta_material(meta: dict, cwd: Path) -> dict:
    """The metadata as key material, with the contents of every file it names."""
    out: dict[str, object] = {}
    for k, v in meta.items():
        if k == INDEX_KEY:
            continue
        out[k] = v
        items = v if isinstance(v, list) else [v]
        files = {}
        for item in items:
            if isinstance(item, str) and item and len(item) < 4096 and "\n" not in item:
                path = Path(item) if isinstance(item, Literal) else cwd / item
                digest = file_digest(path)
                if digest is not None:
                    files[item] = digest
        if files:
            out[f"{k} (contents)"] = files
    return out


# Folders a filter's `require` never reaches for: tools' and outputs' trees.
NOT_LUA_HOMES = {"node_modules", "site-packages", "venv", "_book", "_site"}


def lua_beside(filter_path: Path) -> list[list[str | None]]:
    """Every Lua file in a user filter's folder and below it, hashed: pandoc puts the filter's
    folder on `package.path`, so the modules it `require`s live there."""
    found = []
    top = Path(filter_path).parent
    for folder, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in NOT_LUA_HOMES)
        found += [[os.path.join(folder, f), file_digest(os.path.join(folder, f))]
                  for f in sorted(files) if f.endswith(".lua")]
    return found


def page_key(markdown: str, meta: dict, cwd: Path, entries: dict[str, dict],
             user: UserFilters, citeproc: bool, tools: dict, front: dict | None = None) -> str:
    """`tools`: `tool_digest()`, taken once per build; `front`: the chapter's front matter,
    whose values travel in `markdown` but whose named files (a `csl:`) do not. For a page whose
    filters act outside the document, an `Uncached` key: the page cache never serves it."""
    filters = [p for p in [*user.before, *user.after] if p is not None]
    effects = side_effects(filters)
    material = {
        "markdown": markdown,
        "meta": _meta_material(meta, cwd),
        "front": _meta_material(front or {}, cwd),
        "cwd": str(cwd),
        "index": entries,
        "user-filters": [[str(p), file_digest(p)] for p in [*user.before, None, *user.after]
                         if p is not None] + [len(user.before)],
        "user-filter-modules": {str(p): lua_beside(p) for p in filters
                                if str(p).endswith(".lua")},
        "citeproc": citeproc,
        "tools": tools,
    }
    key = hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()
    return Uncached(key, effects) if effects else key


class Uncached(str):
    """The key of a page whose filters have effects outside the document (a log they append
    to, a program they run): Quarto runs filters on every render, so pandoc must run each
    time; the key says why, for the progress note."""

    effects: tuple[Effect, ...]

    def __new__(cls, key: str, effects: list[Effect]) -> Uncached:
        made = super().__new__(cls, key)
        made.effects = tuple(effects)
        return made


class PageCache:
    """Verified pandoc results by page key (`read=False`: store only, as `--no-cache`)."""

    def __init__(self, cache_dir: Path, read: bool = True) -> None:
        self.dir = cache_dir / "pages"
        self.read = read
        self.noted: set[str] = set()

    def get(self, key: str) -> Fragment | None:
        if isinstance(key, Uncached):
            self._note(key.effects)
            return None
        if not self.read:
            return None
        try:
            path = self.dir / f"{key}.json"
            entry = unsealed(path.read_text(encoding="utf-8"))
            if entry is None or entry["key"] != key:
                return None  # damaged or edited: a miss, never a wrong page
            frag = Fragment(entry["toc"], entry["body"], list(entry["warnings"]))
            if not all(isinstance(x, str) for x in (frag.toc, frag.body, *frag.warnings)):
                return None
            touch(path)  # used: the last to be swept (cachesweep)
            return frag
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _note(self, effects: tuple[Effect, ...]) -> None:
        """Say once per build why pages using a filter are not cached."""
        from bookbuild.system.errors import display_path

        for effect in effects:
            line = effect.note(display_path)
            if line not in self.noted:
                self.noted.add(line)
                print(line, file=sys.stderr, flush=True)

    def put(self, key: str, frag: Fragment) -> None:
        if isinstance(key, Uncached):
            return  # never served: not worth a file
        entry = {"key": key, "toc": frag.toc, "body": frag.body, "warnings": frag.warnings}
        store(self.dir / f"{key}.json", sealed(entry))
