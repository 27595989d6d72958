"""HTML and PDF output of executed chapters: cross-references, TikZ, pandoc, page shell."""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bookbuild import crossref, tikz
from bookbuild.chapters import Chapter, relative_output
from bookbuild.errors import BuildError, display_path
from bookbuild.markdown import FOR_PRINT, provenance_html, substitute
from bookbuild.pages import Book, NavEntry, PageWriter, plain_title
from bookbuild.project import Project
from bookbuild.qmd import Document, parse_file
from bookbuild.render import FILTERS, PandocError, html_fragment, latex_book

DEFAULT_PREAMBLE = FILTERS / "tikz-preamble.tex"


class Publisher:
    """Turns executed chapters into the HTML book and the PDF; `prepare()` runs first."""

    def __init__(self, proj: Project, chapters: list[Chapter], strict: bool = False,
                 extra_body: str = "") -> None:
        self.proj = proj
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
        bib = self.proj.config.get("bibliography")
        self.bibliography = [str(self.base / b) for b in ([bib] if isinstance(bib, str) else bib or [])]
        self.tikz_cache = proj.cache_dir / "tikz"

    # --- shared preparation ---------------------------------------------------------------
    def book_docs(self) -> list[tuple[Document, bool]]:
        """Every chapter of the book in order (flagged if an appendix), so that numbers and
        references stay right when only some chapters are rendered."""
        rendered = {ch.source.resolve(): ch.doc for ch in self.chapters}
        book = [p.resolve() for p in self.proj.chapters() if p.is_file()]
        order = book if set(rendered) <= set(book) else list(rendered)
        appendices = self.proj.appendices()
        return [(rendered.get(p) or parse_file(p), p in appendices) for p in order]

    def prepare(self) -> None:
        self.docs = self.book_docs()
        self.index = crossref.build_index(self.docs, self._crossref_settings())
        if self.index.duplicates:
            raise BuildError("\n".join(self.index.duplicates))
        unresolved = self.index.unresolved(self.external)
        for ref in unresolved:
            print(f"{display_path(ref.source)}:{ref.line}: {'error' if self.strict else 'warning'}: "
                  f"unresolved cross-reference '{ref.label}' (not in this book; map it under "
                  "bookbuild.external-refs in _quarto.yml)", file=sys.stderr)
        if unresolved and self.strict:
            raise BuildError(f"{len(unresolved)} unresolved cross-reference(s) with --strict")
        self.svgs, errors = self._figures_done()
        if errors:
            raise BuildError("\n".join(errors))

    def _crossref_settings(self) -> dict:
        """`crossref`, `number-depth`, `number-sections` of the book (top level or format.html)."""
        config = self.proj.config
        html = (config.get("format") or {}).get("html")
        found = {k: config[k] for k in ("crossref", "number-depth", "number-sections") if k in config}
        if isinstance(html, dict):
            found.update({k: html[k] for k in ("crossref", "number-depth", "number-sections") if k in html})
        return found

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
        meta = {
            "crossref-chapters": chapter_numbers,
            "crossref-external": self.external,
            "callout-types": self.callouts,
            "tikz-preamble": str(self.preamble_path),
            "tikz-cache": str(self.tikz_cache),
            "tikz-link": tikz_link,
            "reference-section-title": "References",
        }
        if self.svgs:
            meta["tikz-engine"] = tikz.engine_id()
        if index_file is not None:
            meta["crossref-index"] = str(index_file)
        if self.bibliography:
            # (link-citations without a bibliography leaves \citeproc undefined in LaTeX)
            meta["bibliography"] = self.bibliography
            meta["link-citations"] = True
        if pdf:
            book = self.proj.config.get("book") or {}
            meta.update({k: book[k] for k in ("title", "subtitle", "author", "date") if k in book})
            meta.setdefault("title", self.proj.book_title)
            pdf_format = (self.proj.config.get("format") or {}).get("pdf") or {}
            if isinstance(pdf_format, dict):
                meta.update({k: v for k, v in pdf_format.items() if k in (
                    "documentclass", "papersize", "fontsize", "geometry", "mainfont", "sansfont", "monofont",
                    "classoption")})
            meta.setdefault("documentclass", "scrreprt")
            # Latin Modern lacks ≈, μ, ≪ and arrows that the prose uses; DejaVu has them.
            meta.setdefault("mainfont", "DejaVu Serif")
            meta.setdefault("sansfont", "DejaVu Sans")
            meta.setdefault("monofont", "DejaVu Sans Mono")
            meta.setdefault("colorlinks", True)
        for key, value in self._crossref_settings().items():  # crossref.lua reads them
            meta.setdefault(key, value)
        return meta

    # --- HTML -----------------------------------------------------------------------------
    def pages(self) -> dict[Path, Path]:
        """Output page of every chapter of the book, keyed by its resolved source path."""
        return {Path(doc.path).resolve(): relative_output(self.proj.root, Path(doc.path), ".html")
                for doc, _ in self.docs}

    def write_html(self, stage: Path) -> None:
        pages = self.pages()
        infos = {info.source: info for info in self.index.chapters}
        nav = [NavEntry(pages[info.source].as_posix(), plain_title(info.title), info.number)
               for info in self.index.chapters]
        writer = PageWriter(Book(self.proj.book_title,
                                 str((self.proj.config.get("book") or {}).get("subtitle") or ""), nav),
                            extra_body=self.extra_body)
        work = Path(tempfile.mkdtemp(prefix="bookbuild-html-"))
        # Traced here, before the threads: CPython 3.11's ast.parse is not safe to run in
        # several threads at once ("AST constructor recursion depth mismatch").
        notes = {id(ch): self._provenance(ch) for ch in self.chapters}
        # A chapter with `::: {#refs}` holds the book's one bibliography (Quarto's references.qmd).
        refs = crossref.refs_chapter(self.docs) if self.bibliography else None
        cited = " ".join(f"@{{{k}}}" for k in crossref.citation_keys(self.docs)) if refs else ""

        def one(ch: Chapter) -> str:
            started = time.perf_counter()
            source = ch.source.resolve()
            page = pages[source]
            assets_name = f"{page.stem}_files"
            assets = stage / page.parent / assets_name
            md = substitute(ch.doc, ch.result, assets, assets_name, echo=self.proj.settings.echo,
                            provenance=notes[id(ch)])
            md = crossref.with_title(ch.doc, md)
            index_file = work / f"{abs(hash(page.as_posix()))}.json"
            index_file.write_text(json.dumps(crossref.index_for_page(self.index, source, pages)),
                                  encoding="utf-8")
            info = infos[source]
            meta = self._meta(info.filter_chapters(), index_file, assets_name)
            if refs is not None:
                meta.update({"nocite": cited} if source == refs else {"suppress-bibliography": True})
            try:
                frag = html_fragment(md, meta, ch.source.resolve().parent, display_path(ch.source))
            except PandocError as exc:
                raise BuildError(f"{display_path(ch.source)}: {exc}") from None
            for svg in {self.svgs[f] for f in tikz.figures(ch.doc)}:
                assets.mkdir(parents=True, exist_ok=True)
                shutil.copy(svg, assets / svg.name)
            body = provenance_html(frag.body, notes[id(ch)]) if notes[id(ch)] else frag.body
            if refs is not None and source != refs:  # citations link to the bibliography's page
                there = posixpath.relpath(pages[refs].as_posix(), page.parent.as_posix() or ".")
                body = crossref.link_citations(body, there)
            writer.write(stage, page.as_posix(), body, frag.toc)
            for w in frag.warnings:
                print(f"{display_path(ch.source)}: pandoc: {w}", file=sys.stderr)
            return f"html: {display_path(ch.source)} -> {page.as_posix()} ({time.perf_counter() - started:.1f} s)"

        try:
            with ThreadPoolExecutor(max_workers=max(1, self.proj.settings.jobs)) as pool:
                for line in pool.map(one, self.chapters):
                    print(line, file=sys.stderr, flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if "index.html" not in {p.as_posix() for p in pages.values()}:
            writer.write_index(stage)
        writer.write_assets(stage)

    def _provenance(self, ch: Chapter) -> list[dict] | None:
        """Expression and constants of each inline value, for the page's tooltips."""
        from bookbuild import provenance

        if not hasattr(self, "_constants"):
            self._constants = provenance.constants_of(self.chapters)
        if not self._constants:
            return None
        tracer = provenance.tracer(ch.doc, self.proj.root, set(self._constants))
        return provenance.annotations(ch, tracer, self._constants)

    # --- PDF ------------------------------------------------------------------------------
    def pdf_name(self) -> str:
        book = self.proj.config.get("book") or {}
        name = book.get("output-file") or "book"
        return f"{name}.pdf"

    def write_pdf(self, stage: Path) -> None:
        started = time.perf_counter()
        work = Path(tempfile.mkdtemp(prefix="bookbuild-pdf-"))
        try:
            parts, numbers = [], []
            for ch in self.chapters:
                rel = relative_output(self.proj.root, ch.source, "")
                assets_name = f"{rel.name}_files"
                assets = work / rel.parent / assets_name
                link = (rel.parent / assets_name).as_posix()
                md = substitute(ch.doc, ch.result, assets, link, echo=self.proj.settings.echo,
                                images=FOR_PRINT)
                parts.append(_strip_front_matter(crossref.with_title(ch.doc, md)))
                numbers += [info.filter_chapters() for info in self.index.chapters
                            if info.source == ch.source.resolve()][0]
            index = {label.id: {"kind": label.kind, "number": label.number, "href": f"#{label.id}"}
                     for label in self.index.labels.values()}
            index_file = work / "crossref-index.json"
            index_file.write_text(json.dumps(index), encoding="utf-8")
            meta = self._meta(numbers, index_file, "tikz", pdf=True)
            pdf = work / self.pdf_name()
            env_path = os.pathsep.join([str(work), str(self.base)])
            try:
                warnings = latex_book("\n\n".join(parts), meta, work, pdf,
                                      resource_path=env_path)
            except PandocError as exc:
                raise BuildError(str(exc)) from None
            for w in warnings:
                if w.startswith("[WARNING]") and "[makePDF]" not in w:  # TeX's chatter stays out
                    print(f"pdf: pandoc: {w}", file=sys.stderr)
            shutil.copy(pdf, stage / pdf.name)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(f"pdf: {self.pdf_name()} ({time.perf_counter() - started:.1f} s)", file=sys.stderr)


def _strip_front_matter(md: str) -> str:
    if md.startswith("---"):
        end = md.find("\n---", 3)
        if end > 0:
            return md[md.find("\n", end + 1) + 1:]
    return md
