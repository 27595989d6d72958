"""HTML and PDF output of executed chapters: cross-references, TikZ, pandoc, page shell."""

from __future__ import annotations

import dataclasses
import json
import os
import posixpath
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

from bookbuild.analysis import crossref
from bookbuild.model import Chapter, relative_output
from bookbuild.publish import (
    codecopy,
    downloads,
    highlight,
    pagecache,
    pandocworker,
    resources,
    search,
    siteopts,
    texerrors,
    tikz,
    userfilters,
)
from bookbuild.publish.pages import Book, NavEntry, PageWriter, plain_title, title_block
from bookbuild.publish.pandoc_run import (
    FILTERS,
    TEMPLATES,
    Literal,
    PandocError,
    epub_book,
    html_fragment,
    latex_book,
)
from bookbuild.publish.substitute import provenance_html, substitute
from bookbuild.source import includes, shapes, shortcodes
from bookbuild.source.metadata import bibliography, document_metadata, format_options
from bookbuild.source.project import WEBSITE, Project
from bookbuild.source.qmd import Document, front_matter_end, parse_file
from bookbuild.system.errors import BuildError, display_path
from bookbuild.system.quarto_rules import rules

DEFAULT_PREAMBLE = FILTERS / "tikz-preamble.tex"
# What only citeproc reads: dropped from a page that does not need it (and from its cache key).
CITEPROC_META = ("bibliography", "csl", "citation-style", "link-citations", "nocite",
                 "suppress-bibliography", "reference-section-title", "link-bibliography")
LIBS = "site_libs"  # scripts pages share (plotly.js), as Quarto names the folder
CALLOUT_TYPES = tuple(rules()["callout-types"])  # Quarto's, as filters/callouts.lua draws them
# `::: {.callout-TYPE ...}` on a fence line (the appearance/title classes are not types)
CALLOUT_CLASS = re.compile(r"^:{3,}\s*\{[^}\n]*?\.callout-([A-Za-z][\w-]*)", re.M)


class Publisher:
    """Turns executed chapters into the HTML book and the PDF; `prepare()` runs first."""

    def __init__(self, proj: Project, chapters: list[Chapter], strict: bool = False,
                 extra_body: str = "", use_cache: bool = True,
                 parse: Callable[[Path], Document] = parse_file,
                 formats: list[str] | None = None) -> None:
        self.proj = proj
        # one document numbered on its own, beside its source: no chapters, no book navigation
        self.document = not proj.is_book
        # a website's page: numbered as a document, written at its place under the site
        self.website = proj.kind == WEBSITE
        self.notes_seen: set[str] = set()  # a website's pages share one set: each note once
        self.site_map = None  # a website's pages share its navigation, read once per build
        # those being written (None: every one); others are not checked. EPUB is XHTML: its
        # content and numbers are the HTML pages'.
        self.written = list(formats or [])  # as asked: the sidebar links to their files
        self.formats = None if formats is None else list(dict.fromkeys(
            "html" if f == "epub" else f for f in formats))
        self.parse = parse  # the build's parse cache: unchanged chapters are not parsed again
        # --no-cache renders every page afresh (and stores the results)
        self.page_cache = pagecache.PageCache(proj.cache_entries, read=use_cache)
        self.chapters = chapters
        self.strict = strict
        self.extra_body = extra_body
        self.base = proj.root or Path.cwd()
        preamble = proj.path_setting(proj.option("tikz-preamble")) or DEFAULT_PREAMBLE
        if not preamble.is_file():
            raise BuildError(f"tikz-preamble {preamble} does not exist (set bookbuild.tikz-preamble "
                             "in _quarto.yml)")
        self.preamble_path = preamble
        self.preamble = preamble.read_text(encoding="utf-8")
        self.external = proj.option("external-refs") or {}
        self.callouts = proj.option("callouts") or {}
        self.bibliography = [str(self.base / b) for b in bibliography(proj.config, "html")]
        self.pdf_bibliography = [str(self.base / b) for b in bibliography(proj.config, "pdf")]
        self.tikz_cache = proj.cache_dir / "tikz"
        self.user_filters = self._filters(self.proj.config, self.base,
                                          self.base / "_quarto.yml")
        self.pdf_filters = self._filters(self.proj.config, self.base,
                                         self.base / "_quarto.yml", "pdf")

    # --- shared preparation ---------------------------------------------------------------
    def book_docs(self) -> list[tuple[Document, bool]]:
        """Every chapter of the book in order (flagged if an appendix), so that numbers and
        references stay right when only some chapters are rendered."""
        rendered = {ch.source.resolve(): ch.doc for ch in self.chapters}
        if self.document:
            return [(doc, False) for doc in rendered.values()]
        book = [p.resolve() for p in self.proj.chapters() if p.is_file()]
        order = book if set(rendered) <= set(book) else list(rendered)
        appendices = self.proj.appendices()
        return [(rendered.get(p) or self.parse(p), p in appendices) for p in order]

    def prepare(self, chapters: list[Chapter] | None = None) -> None:
        """Index the book's cross-references and check them; `chapters`: the executed ones."""
        if chapters is not None:
            self.chapters = chapters
        self.docs = self.book_docs()
        # each format numbers what it shows (conditional content); the PDF reads pdf_index
        settings, config = self._crossref_settings(), self.proj.config
        shown = self.formats or list(crossref.FORMAT_NAMES)  # the formats being written
        # HTML's index always (the pages read it), the PDF's only when the PDF is written
        parts = frozenset(self.proj.part_files())
        indexes = crossref.format_indexes(self.docs, settings, config, ["html", *shown], parts,
                                          self.document)
        repeated = [d for fmt in indexes if fmt in shown for d in indexes[fmt].duplicates]
        if repeated:
            raise BuildError("\n".join(dict.fromkeys(repeated)))
        unresolved = crossref.unresolved_explained(indexes, self.docs, settings, config,
                                                   self.external, self.formats, parts)
        self.index, self.pdf_index = indexes["html"], indexes.get("pdf")
        for ref, why in unresolved:
            why = crossref.in_document(why) if self.document else why
            print(crossref.unresolved_line(ref, why, "error" if self.strict else "warning"),
                  file=sys.stderr)
        if unresolved and self.strict:
            raise BuildError(f"{len(unresolved)} unresolved cross-reference(s) with --strict")
        self._report(self._quarto_problems())
        for note in self._callout_notes():
            print(note, file=sys.stderr)
        self.svgs, errors = self._figures_done()
        if errors:
            raise BuildError("\n".join(errors))

    def _crossref_settings(self) -> dict:
        """`crossref`, `number-depth`, `number-sections` at the book's top level (each format's
        own, `format: pdf: number-depth: 2`, crossref.build_index lays over them)."""
        config = self.proj.config
        found = {k: config[k] for k in ("crossref", "number-depth", "number-sections") if k in config}
        if self.document:  # a document's sections are numbered only when it asks (Quarto)
            found.setdefault("number-sections", False)
        return found

    def _filters(self, holder: dict, base: Path, source: Path,
                 fmt: str = "html") -> userfilters.UserFilters:
        """The `filters:` listed in `_quarto.yml` or a chapter's front matter (top level, then
        the format's, as Quarto concatenates them), resolved."""
        entries = [*(holder.get("filters") or []),
                   *(format_options(holder, fmt).get("filters") or [])]
        if not entries:
            return userfilters.UserFilters()
        text = source.read_text(encoding="utf-8") if source.is_file() else ""
        where = f"{display_path(source)}:{resources.line_of(text, 'filters:')}"
        try:
            return userfilters.resolve(entries, base, self.base, where)
        except userfilters.FilterError as exc:
            raise BuildError(str(exc)) from None

    def _chapter_filters(self, ch: Chapter, fmt: str = "html") -> userfilters.UserFilters:
        own = self._filters(ch.doc.front_matter, ch.source.resolve().parent, ch.source, fmt)
        return (self.user_filters if fmt == "html" else self.pdf_filters) + own

    def _quarto_problems(self) -> list[str]:
        """Located problems with shortcodes, images and resources of the rendered chapters."""
        found = []
        for ch in self.chapters:
            ctx = shortcodes.context(self.proj.config, self.proj.root, ch.doc.front_matter, "html")
            found += shortcodes.located(display_path(ch.source), ch.doc.text, ctx)
        return found

    def _callout_notes(self) -> list[str]:
        """One `note:` per `.callout-x` class that is no callout type, at its first place:
        Quarto leaves such a div a plain div, and so do we (valid Quarto, so no warning)."""
        known = {*CALLOUT_TYPES, *self.callouts}
        notes: dict[str, str] = {}
        for ch in self.chapters:
            for m in CALLOUT_CLASS.finditer(ch.doc.text):
                name = m.group(1)
                if name not in known and name not in notes:
                    line = ch.doc.text.count("\n", 0, m.start()) + 1
                    notes[name] = (f"note: {display_path(ch.source)}:{line}: '.callout-{name}' is not "
                                   f"a Quarto callout type ({', '.join(CALLOUT_TYPES)}), "
                                   "so it is a plain div; to draw it as a callout, declare it under "
                                   "bookbuild.callouts in _quarto.yml")
        return list(notes.values())

    def _report(self, problems: list[str]) -> None:
        """Print located problems as warnings, or stop the build with them under --strict."""
        level = "error" if self.strict else "warning"
        for p in problems:
            path, line, message = p.split(":", 2)
            print(f"{path}:{line}: {level}:{message}", file=sys.stderr)
        if problems and self.strict:
            raise BuildError(f"{len(problems)} problem(s) above with --strict")

    def _expand(self, md: str, ch: Chapter, fmt: str) -> str:
        ctx = shortcodes.context(self.proj.config, self.proj.root, ch.doc.front_matter, fmt)
        return shortcodes.expand(md, ctx)

    def start_figures(self) -> None:
        """Compile the TikZ figures in a background thread; `prepare()` waits for it."""
        import threading

        self._figure_result: tuple[dict, list[str]] | None = None
        self._figure_thread = threading.Thread(target=self._compile_figures, daemon=True)
        self._figure_thread.start()

    def _compile_figures(self) -> None:
        figures = [f for ch in self.chapters for f in tikz.figures(ch.doc)]
        if not figures:
            self._figure_result = ({}, [])
            return
        started = time.perf_counter()
        try:
            svgs, errors = tikz.compile_all(figures, self.preamble, self.tikz_cache,
                                            self.proj.settings.jobs, self.proj.settings.timeout)
        except tikz.TikzError as exc:
            self._figure_result = ({}, [str(exc)])
            return
        if not errors:
            print(f"tikz: {len(figures)} figure(s) ready ({time.perf_counter() - started:.1f} s)",
                  file=sys.stderr)
        self._figure_result = (svgs, errors)

    def _figures_done(self) -> tuple[dict, list[str]]:
        if getattr(self, "_figure_thread", None) is None:
            self._compile_figures()
        else:
            self._figure_thread.join()
        assert self._figure_result is not None
        return self._figure_result

    def _meta(self, chapter_numbers: list[str], index_file: Path | None, tikz_link: str,
              pdf: bool = False) -> dict:
        meta = document_metadata(self.proj.config, "pdf" if pdf else "html")
        meta |= {
            "crossref-chapters": chapter_numbers,
            "crossref-external": self.external,
            "callout-types": self.callouts,
            "tikz-preamble": Literal(self.preamble_path),
            "tikz-cache": Literal(self.tikz_cache),
            "tikz-link": Literal(tikz_link),
            "reference-section-title": "References",
        }
        if self.svgs:
            meta["tikz-engine"] = Literal(tikz.engine_id())
        if index_file is not None:
            meta["crossref-index"] = Literal(index_file)
        if self.document:
            meta["crossref-document"] = True
        if self.website:  # links.lua: a link to `notes.md` goes to the page it became
            meta["bookbuild-md-pages"] = True
        bib = self.pdf_bibliography if pdf else self.bibliography
        if bib:
            # (link-citations without a bibliography leaves \citeproc undefined in LaTeX)
            meta["bibliography"] = [Literal(b) for b in bib]
            meta["link-citations"] = True
        elif pdf:  # the author's own `link-citations: true` would do the same
            meta.pop("link-citations", None)
        if pdf:
            self._pdf_meta(meta)
            pdf_format = (self.proj.config.get("format") or {}).get("pdf") or {}
            if isinstance(pdf_format, dict):
                meta.update({k: v for k, v in pdf_format.items() if k in (
                    "documentclass", "papersize", "fontsize", "geometry", "mainfont", "sansfont", "monofont",
                    "classoption")})
            meta.setdefault("documentclass", "scrartcl" if self.document else "scrreprt")
            # Latin Modern lacks ≈, μ, ≪ and arrows that the prose uses; DejaVu has them.
            meta.setdefault("mainfont", "DejaVu Serif")
            meta.setdefault("sansfont", "DejaVu Sans")
            meta.setdefault("monofont", "DejaVu Sans Mono")
            meta.setdefault("colorlinks", True)
        if "author" in meta:  # a mapping would print as "true"
            meta["author"] = shapes.author_names(meta["author"])
        for key, value in self._crossref_settings().items():  # crossref.lua reads them
            meta.setdefault(key, value)
        return meta

    def _pdf_meta(self, meta: dict) -> None:
        """The title page's title, subtitle, author and date: the book's, or a document's own
        front matter with its PDF options (the PDF is written from its body alone)."""
        if not self.document:
            book = self.proj.config.get("book") or {}
            meta.update({k: book[k] for k in ("title", "subtitle", "author", "date") if k in book})
            meta.setdefault("title", self.proj.book_title)
            return
        front = self.chapters[0].doc.front_matter or {}
        own = {**front, **format_options(front, "pdf")}
        meta.update({k: v for k, v in own.items() if k in (
            "title", "subtitle", "author", "date", "toc", "documentclass", "papersize", "fontsize",
            "geometry", "mainfont", "sansfont", "monofont", "classoption")})

    # --- HTML -----------------------------------------------------------------------------
    def pages(self) -> dict[Path, Path]:
        """Output page of every chapter of the book, keyed by its resolved source path."""
        # a document's page: beside it; a website's: at its place below the root
        root = self.proj.root if self.website or not self.document else None
        return {Path(doc.path).resolve(): relative_output(root, Path(doc.path), ".html")
                for doc, _ in self.docs}

    def write_html(self, stage: Path) -> None:
        pages = self.pages()
        infos = {info.source: info for info in self.index.chapters}
        fronts = {Path(doc.path).resolve(): doc.front_matter for doc, _ in self.docs}
        part_titles = self.proj.part_titles()
        nav = [NavEntry(pages[info.source].as_posix(), plain_title(shortcodes.expand(
                   info.title, shortcodes.context(self.proj.config, self.proj.root,
                                                  fronts.get(info.source, {}), "html"))),
                        info.number, part_titles.get(info.source, ""), info.part)
               for info in self.index.chapters]
        writer = self._writer(stage, nav)
        work = Path(tempfile.mkdtemp(prefix="bookbuild-html-"))
        # Traced here, before the threads: CPython 3.11's ast.parse is not safe to run in
        # several threads at once ("AST constructor recursion depth mismatch").
        notes = self._notes()
        # A chapter with `::: {#refs}` holds the book's one bibliography (Quarto's references.qmd).
        refs = crossref.refs_chapter(self.docs) if self.bibliography else None
        cited = " ".join(f"@{{{k}}}" for k in crossref.citation_keys(self.docs)) if refs else ""
        own: dict[Path, set[str]] = {}
        for label in self.index.labels.values():
            own.setdefault(label.source, set()).add(label.id)
        tools = pagecache.tool_digest()
        labels = pagecache.LabelFinder(self.index.labels)  # once: each page is one scan
        rendered: list[Path] = []

        def one(ch: Chapter) -> str:
            started = time.perf_counter()
            source = ch.source.resolve()
            page = pages[source]
            assets_name = f"{page.stem}_files"
            assets = stage / page.parent / assets_name
            # a book's pages share site_libs/; a document keeps to its own doc_files/ (Quarto)
            libs = (assets / "libs", f"{assets_name}/libs") if self.document else (
                stage / LIBS, posixpath.relpath(LIBS, page.parent.as_posix() or "."))
            md = substitute(ch.doc, ch.result, assets, assets_name, fmt="html",
                            config=self.proj.config, provenance=notes[id(ch)], libs=libs)
            if not self.document:  # a document's title is its page's title block
                md = crossref.with_title(ch.doc, md, frozenset(self.callouts))
            md = self._expand(md, ch, "html")
            md = shapes.without_nulls(md, front_matter_end(md), ch.doc.inherited)
            # Only the entries this page uses: its key then changes only when they do.
            used = labels.used(own.get(source, set()), md)
            entries = crossref.index_for_page(dataclasses.replace(
                self.index, labels={k: self.index.labels[k] for k in used}), source, pages)
            index_file = work / f"{abs(hash(page.as_posix()))}.json"
            index_file.write_text(json.dumps(entries), encoding="utf-8")
            info = infos[source]
            meta = self._meta(info.filter_chapters(), index_file, assets_name)
            meta |= self._toc_depth(ch)
            if refs is not None and source == refs:
                meta["nocite"] = cited
            elif refs is not None:  # citeproc links each work; the list it adds here goes
                meta["bookbuild-refs-page"] = quote(posixpath.relpath(
                    pages[refs].as_posix(), page.parent.as_posix() or "."))
                meta.pop("reference-section-title", None)
            # The references page lists what any chapter cites, from any chapter's own list.
            self._own_bibliography(meta, *([d for d, _ in self.docs] if source == refs else [ch.doc]))
            user = self._chapter_filters(ch)
            citeproc = needs_citeproc(md, meta, source == refs, refs is not None)
            if not citeproc:  # then pandoc ignores them: out of the key, out of the call
                for k in CITEPROC_META:
                    meta.pop(k, None)
            key = pagecache.page_key(md, meta, source.parent, entries, user, citeproc, tools,
                                      ch.doc.front_matter)
            frag = self.page_cache.get(key)
            if frag is None:
                try:
                    frag = html_fragment(md, meta, source.parent, display_path(ch.source), user,
                                         citeproc)
                except PandocError as exc:
                    raise BuildError(f"{display_path(ch.source)}: {exc}") from None
                self.page_cache.put(key, frag)
                rendered.append(source)
            for svg in {self.svgs[f] for f in tikz.figures(ch.doc)}:
                assets.mkdir(parents=True, exist_ok=True)
                shutil.copy(svg, assets / svg.name)
            missing = resources.copy_images(frag.body, source.parent, stage / page.parent, stage)
            self._report([f"{display_path(ch.source)}:{resources.line_of(ch.doc.text, src)}: "
                          f"image '{src}' not found beside the chapter" for src in missing])
            body = provenance_html(frag.body, notes[id(ch)]) if notes[id(ch)] else frag.body
            inc = self._includes("html", ch)
            toc = frag.toc if self._wants_toc(ch) else ""
            writer.write(stage, page.as_posix(), body, toc,
                         head=inc.text("include-in-header"),
                         before_body=inc.text("include-before-body"),
                         after_body=inc.text("include-after-body"),
                         stylesheets=self._chapter_css(ch, stage / page.parent, stage),
                         actions=self._repo_actions(ch))
            for w in frag.warnings:
                print(f"{display_path(ch.source)}: pandoc: {w}", file=sys.stderr)
            how = ("pandoc" if source in rendered else "page cache") + (", citeproc" if citeproc
                                                                        else "")
            return (f"html: {display_path(ch.source)} -> {page.as_posix()} "
                    f"({how}, {time.perf_counter() - started:.1f} s)")

        try:
            with ThreadPoolExecutor(max_workers=max(1, self.proj.settings.jobs)) as pool:
                for line in pool.map(one, self.chapters):
                    print(line, file=sys.stderr, flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
            pandocworker.after_build()
        print(f"html: pandoc rendered {len(rendered)} page(s), "
              f"{len(self.chapters) - len(rendered)} from the page cache", file=sys.stderr)
        self._report(self._includes("html", *self.chapters).problems)
        if self.proj.root is not None and self.proj.config_file is not None:
            globs = resources.resource_globs(self.proj.config)
            self._report([f"{self._at(g)}: resources '{g}' matches no file" for g in
                          resources.copy_resources(globs, self.proj.root, stage)])
        if not self.document and "index.html" not in {p.as_posix() for p in pages.values()}:
            writer.write_index(stage)
        writer.write_assets(stage, highlight.highlight_css(
            highlight.style_of(self.proj.config, self.proj.root)))

    def _toc_depth(self, ch: Chapter) -> dict:
        """The page's `toc-depth`: the chapter's own (front matter, its format.html) over the
        book's; pandoc_run.toc_depth reads it from the page's metadata."""
        depth = document_metadata(self.proj.config, "html", ch.doc.front_matter).get("toc-depth")
        return {} if depth is None else {"toc-depth": depth}

    def write_search(self, stage: Path, previous: Path) -> bool:
        """The search index of every page of the book: this build's pages from `stage`, the
        others from the `previous` output (preview rebuilds one page). False when it is off."""
        if self.document or not search.enabled(self.proj.config):
            return False
        pages = {}
        for name in sorted({p.as_posix() for p in self.pages().values()} | {"index.html"}):
            found = [f / name for f in (stage, previous) if (f / name).is_file()]
            if found:
                pages[name] = found[0]
        print(search.index(pages, stage), file=sys.stderr, flush=True)
        return True

    def _wants_toc(self, ch: Chapter) -> bool:
        """A book's pages have contents unless `toc: false`; a document only with `toc: true`."""
        toc = document_metadata(self.proj.config, "html", ch.doc.front_matter).get("toc")
        return toc is True if self.document else toc is not False

    def _writer(self, stage: Path, nav: list[NavEntry]) -> PageWriter:
        """The page shell: the book's (sidebar, previous/next), or a document's (title block)."""
        site = self._site(stage)
        code_copy = codecopy.mode(self.proj.config)
        if self.document:
            front = self.chapters[0].doc.front_matter or {}
            stem = Path(self.chapters[0].source).stem
            title = plain_title(str(front.get("title") or stem))
            nav = self._site_nav(front)
            return PageWriter(Book((nav or {}).get("title_text") or title, "", []),
                              extra_body=self.extra_body, code_copy=code_copy,
                              site=site, title_block=title_block(front, self.proj.config),
                              assets="site_libs/bookbuild" if nav else f"{stem}_files/libs/bookbuild",
                              nav=nav, page_title=title)
        book = self.proj.config.get("book") or {}
        links, notes = downloads.downloads(self.proj.config, self.written,
                                           str(book.get("output-file") or "book"))
        if notes:
            config_file, line = self.proj.where("book", "downloads")
            for note in notes:
                print(f"note: {display_path(config_file)}:{line}: {note}", file=sys.stderr)
        return PageWriter(Book(self.proj.book_title, str(book.get("subtitle") or ""), nav),
                          extra_body=self.extra_body, code_copy=code_copy, site=site,
                          search=search.enabled(self.proj.config), downloads=links,
                          dark=siteopts.has_dark_theme(self.proj.config))

    def _at(self, value: str) -> str:
        """`file:line` of `value` in the configuration: `_quarto.yml`, a profile's or a metadata
        file's, wherever the merged configuration took it from."""
        file, line = self.proj.locate(value)
        return f"{display_path(file)}:{line}"

    def _repo_actions(self, ch: Chapter) -> list[downloads.Link]:
        """Quarto's edit/source/issue links of a chapter's page (a book's, not a document's)."""
        if self.document or self.proj.root is None:
            return []
        source = ch.source.resolve().relative_to(self.proj.root.resolve()).as_posix()
        return downloads.repo_actions(self.proj.config, source)

    def _site_nav(self, front: dict) -> dict | None:
        """A website page's navigation (None for a document or a book)."""
        if self.proj.kind != WEBSITE or self.proj.root is None:
            return None
        from bookbuild.publish import site_nav
        from bookbuild.source import website

        site = self.site_map = self.site_map or website.read(self.proj.root, self.proj.config)
        source = self.chapters[0].source.resolve().relative_to(self.proj.root).as_posix()
        nav = site_nav.page_nav(site, self.proj.root, source, front)
        nav["title_text"] = plain_title(site.title) if site.title else ""
        problems = [f"{self._at(target)}: website navigation links '{target}', which is not a "
                    "page of the site (fix the path, or remove the entry)"
                    for target in nav["missing"]]
        self._report([p for p in problems if p not in self.notes_seen])
        self.notes_seen.update(problems)
        return nav

    def _site(self, stage: Path) -> siteopts.Site:
        """The book's css, favicon, footer and language for every page (files copied into
        `stage`); one note for each HTML option Quarto has and bookbuild does not."""
        config_file = self.base / "_quarto.yml"
        config_text = config_file.read_text(encoding="utf-8") if config_file.is_file() else ""
        holders = [(display_path(config_file), config_text, self.proj.config)]
        holders += [(display_path(Path(d.path)), d.text, d.front_matter) for d, _ in self.docs]
        for note in siteopts.unsupported(holders):
            if note not in self.notes_seen:
                self.notes_seen.add(note)
                print(note, file=sys.stderr)
        lang = document_metadata(self.proj.config, "html").get("lang")
        site, missing = siteopts.site(self.proj.config, lang, self.base, stage)
        self._report([f"{display_path(config_file)}:{resources.line_of(config_text, name)}: "
                      f"file '{name}' not found (css or favicon)" for name in missing])
        return site

    def _chapter_css(self, ch: Chapter, page_dir: Path, stage: Path) -> list[str]:
        """The chapter's own `css:` copied beside its page; links relative to the page."""
        hrefs, missing = siteopts.copy_beside(siteopts.stylesheets(ch.doc.front_matter),
                                              ch.source.resolve().parent, page_dir, stage)
        self._report([f"{display_path(ch.source)}:{resources.line_of(ch.doc.text, name)}: "
                      f"css file '{name}' not found" for name in missing])
        return hrefs

    def _own_bibliography(self, meta: dict, *docs: Document) -> None:
        """Add the `bibliography:` of the chapters' front matter to the book's, as Quarto merges
        a document's list with the project's (`-M` would otherwise hide the chapter's own)."""
        own = []
        for doc in docs:
            for b in bibliography(doc.front_matter, "html"):
                own.append(Literal(Path(doc.path).resolve().parent / str(b)))
        if own:
            meta["bibliography"] = list(dict.fromkeys([*meta.get("bibliography", []), *own]))
            meta["link-citations"] = True

    @property
    def _annotations_file(self) -> Path:
        return self.page_cache.dir.parent / "provenance.json"

    def _notes(self) -> dict[int, list[dict] | None]:
        """Every chapter's provenance notes by `id`, kept for the next build (a no-op traces
        nothing)."""
        from bookbuild.numbers import provenance

        notes = {id(ch): self._provenance(ch) for ch in self.chapters}
        if getattr(self, "_constants", None):  # --no-cache: stored, not read (as pages)
            provenance.save_annotations(self._annotations_file, self.proj.root, self._constants)
        return notes

    def _provenance(self, ch: Chapter) -> list[dict] | None:
        """Expression and constants of each inline value, for the page's tooltips."""
        from bookbuild.numbers import provenance

        if not hasattr(self, "_constants"):
            self._constants = provenance.constants_of(self.chapters)
        if not self._constants:
            return None
        return provenance.chapter_annotations(ch, self.proj.root, self._constants,
                                              self._annotations_file if self.page_cache.read else None)

    def _includes(self, fmt: str, *chapters: Chapter) -> includes.Includes:
        """The project's include-* for `fmt`, then those of the chapters' front matter."""
        found = includes.collect(self.proj.config, fmt, self.base, self.base / "_quarto.yml",
                                 display_path(self.base / "_quarto.yml"))
        for ch in chapters:
            found = found + includes.collect(ch.doc.front_matter, fmt, ch.source.resolve().parent,
                                             ch.source, display_path(ch.source))
        return found

    def _tex_sources(self, inc: includes.Includes) -> list[texerrors.Source]:
        """Where the text of the book's LaTeX came from: chapters first, then the includes."""
        sources = [texerrors.Source(display_path(ch.source), ch.doc.text) for ch in self.chapters]
        for key in includes.KEYS:
            sources += [texerrors.Source(display_path(i.origin) if i.origin else
                                         display_path(self.base / "_quarto.yml"), i.text)
                        for i in inc.parts[key]]
        return sources

    # --- PDF ------------------------------------------------------------------------------
    def _missing_in_pdf(self, warnings: list[str]) -> list[str]:
        """pandoc's "Could not fetch resource X" as `chapter.qmd:line: image 'X' not found`."""
        found = []
        for w in warnings:
            m = re.search(r"Could not fetch resource '?([^':]+?)'?(?::|$)", w)
            if not m:
                continue
            src = m.group(1).strip()
            owner = next((ch for ch in self.chapters if src in ch.doc.text), None)
            where = (f"{display_path(owner.source)}:{resources.line_of(owner.doc.text, src)}"
                     if owner else "pdf:0")
            found.append(f"{where}: image '{src}' not found beside the chapter")
        return found

    def pdf_name(self) -> str:
        if self.document:
            return f"{Path(self.chapters[0].source).stem}.pdf"
        book = self.proj.config.get("book") or {}
        name = book.get("output-file") or "book"
        return f"{name}.pdf"

    def write_pdf(self, stage: Path) -> None:
        started = time.perf_counter()
        work = Path(tempfile.mkdtemp(prefix="bookbuild-pdf-"))
        try:
            parts, numbers = [], []
            part_titles = self.proj.part_titles()
            for ch in self.chapters:
                rel = relative_output(self.proj.root, ch.source, "")
                assets_name = f"{rel.name}_files"
                assets = work / rel.parent / assets_name
                link = (rel.parent / assets_name).as_posix()
                md = substitute(ch.doc, ch.result, assets, link, fmt="pdf",
                                config=self.proj.config)
                if not self.document:
                    md = crossref.with_title(ch.doc, md, frozenset(self.callouts))
                md = self._expand(md, ch, "latex")
                part = part_titles.get(ch.source.resolve())
                if part:  # a part given by its title alone opens before its first chapter
                    parts.append(f"```{{=latex}}\n\\part{{{_latex_text(part)}}}\n```\n")
                parts.append(_chapter_scope(_strip_front_matter(md), ch.doc.front_matter))
                numbers += [info.filter_chapters() for info in self.pdf_index.chapters
                            if info.source == ch.source.resolve()][0]
            index = {label.id: label.entry(f"#{label.id}")
                     for label in self.pdf_index.labels.values()}
            index_file = work / "crossref-index.json"
            index_file.write_text(json.dumps(index), encoding="utf-8")
            meta = self._meta(numbers, index_file, "tikz", pdf=True)
            self._own_bibliography(meta, *(ch.doc for ch in self.chapters))
            inc = self._includes("pdf", *self.chapters)
            self._report(inc.problems)
            for key, field in (("include-in-header", "header-includes"),
                               ("include-before-body", "include-before"),
                               ("include-after-body", "include-after")):
                if inc.parts[key]:
                    meta[field] = [f"```{{=latex}}\n{i.text}\n```\n" for i in inc.parts[key]]
            pdf = work / self.pdf_name()
            # Images are relative to their chapter, as in Quarto: every chapter's folder.
            chapter_dirs = dict.fromkeys(str(ch.source.resolve().parent) for ch in self.chapters)
            env_path = os.pathsep.join([str(work), str(self.base), *chapter_dirs])
            try:
                user = self.pdf_filters
                for ch in self.chapters:
                    user = user + self._chapter_filters(ch, "pdf")
                warnings = latex_book("\n\n".join(parts), meta, work, pdf,
                                      resource_path=env_path, user=user,
                                      division="section" if self.document else "chapter")
            except PandocError as exc:
                raise BuildError(texerrors.locate(str(exc), self._tex_sources(inc)) or str(exc)) from None
            self._report(self._missing_in_pdf(warnings))
            for w in warnings:
                if w.startswith("[WARNING]") and "[makePDF]" not in w and "fetch resource" not in w:
                    print(f"pdf: pandoc: {w}", file=sys.stderr)  # TeX's chatter stays out
            shutil.copy(pdf, stage / pdf.name)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(f"pdf: {self.pdf_name()} ({time.perf_counter() - started:.1f} s)", file=sys.stderr)


    # --- EPUB -----------------------------------------------------------------------------
    def epub_name(self) -> str:
        book = self.proj.config.get("book") or {}
        return f"{book.get('output-file') or 'book'}.epub"

    def write_epub(self, stage: Path) -> None:
        """The whole book as one EPUB 3, numbered as the HTML pages are (EPUB is XHTML)."""
        started = time.perf_counter()
        work = Path(tempfile.mkdtemp(prefix="bookbuild-epub-"))
        try:
            parts, numbers = [], []
            for ch in self.chapters:
                rel = relative_output(self.proj.root, ch.source, "")
                link = (rel.parent / f"{rel.name}_files").as_posix()
                md = substitute(ch.doc, ch.result, work / link, link, fmt="html",
                                config=self.proj.config)
                md = self._expand(crossref.with_title(ch.doc, md), ch, "html")
                parts.append(_chapter_scope(_strip_front_matter(md), ch.doc.front_matter))
                numbers += [info.filter_chapters() for info in self.index.chapters
                            if info.source == ch.source.resolve()][0]
            index_file = work / "crossref-index.json"
            index_file.write_text(json.dumps({label.id: label.entry(f"#{label.id}")
                                              for label in self.index.labels.values()}),
                                  encoding="utf-8")
            # TikZ figures from the cache the HTML pages use, embedded by pandoc
            meta = self._meta(numbers, index_file, str(self.tikz_cache))
            self._pdf_meta(meta)  # the book's title, subtitle, author, date
            meta.setdefault("lang", self._site_lang())
            self._own_bibliography(meta, *(ch.doc for ch in self.chapters))
            css = work / "book.css"
            css.write_text(epub_css(), encoding="utf-8")
            chapter_dirs = dict.fromkeys(str(ch.source.resolve().parent) for ch in self.chapters)
            epub = work / self.epub_name()
            user = self.user_filters
            for ch in self.chapters:
                user = user + self._chapter_filters(ch)
            try:
                warnings = epub_book("\n\n".join(parts), meta, work, epub, os.pathsep.join(
                    [str(work), str(self.base), *chapter_dirs]), css, user)
            except PandocError as exc:
                raise BuildError(str(exc)) from None
            for w in warnings:
                print(f"epub: pandoc: {w}", file=sys.stderr)
            shutil.copy(epub, stage / epub.name)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(f"epub: {self.epub_name()} ({time.perf_counter() - started:.1f} s)", file=sys.stderr)

    def _site_lang(self) -> str:
        return str(document_metadata(self.proj.config, "html").get("lang") or "en")


def epub_css() -> str:
    """The pages' stylesheet without its layout-grid `:has` rules, then the EPUB's own."""
    pages = (TEMPLATES / "book.css").read_text(encoding="utf-8").splitlines()
    kept = [line for line in pages if ":has(" not in line]
    return "\n".join(kept) + "\n" + (TEMPLATES / "epub.css").read_text(encoding="utf-8")


def _latex_text(text: str) -> str:
    """Plain text made safe inside a LaTeX argument."""
    special = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
               "#": r"\#", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}",
               "^": r"\textasciicircum{}"}
    return "".join(special.get(c, c) for c in text)


def needs_citeproc(md: str, meta: dict, holds_refs: bool, book_refs: bool) -> bool:
    """Whether citeproc can change this page: it holds the book's bibliography, lists inline
    `references`, has a `nocite` of its own (no references chapter), or cites something
    (a cross-reference such as @sec-x is no citation; erring towards citeproc is harmless)."""
    if holds_refs or "references" in meta or ("nocite" in meta and not book_refs):
        return True
    for m in crossref.CITATION.finditer(md):
        kind, dash, _ = (m.group(1) or m.group(2)).partition("-")
        if not dash or kind.lower() not in crossref.KINDS:
            return True
    return False


def _strip_front_matter(md: str) -> str:
    return md[front_matter_end(md):]


def _chapter_scope(md: str, front_matter: dict) -> str:
    """The chapter wrapped with the metadata flags its own conditional content tests
    (`when-meta`), which the book's single PDF document would otherwise lose."""
    flags: dict[bool, list[str]] = {True: [], False: []}

    def walk(prefix: str, data: dict) -> None:
        for k, v in data.items():
            if isinstance(v, bool):
                flags[v].append(prefix + str(k))
            elif isinstance(v, dict):
                walk(f"{prefix}{k}.", v)

    walk("", front_matter)
    if not flags[True] and not flags[False]:
        return md
    fence = ":" * 12
    return (f'{fence} {{.chapter-meta true-meta="{" ".join(flags[True])}" '
            f'false-meta="{" ".join(flags[False])}"}}\n{md}\n\n{fence}\n')
