"""`bookbuild render`: the orchestrator. Check, execute (cached), compare with the lock, publish.

Data flows one way: parse -> check -> execute -> substitute -> write. Any error stops the
build before the output folder is touched.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bookbuild.analysis.checkcache import static_check
from bookbuild.commands.steps import start_check_finish
from bookbuild.execution.service import errors_of, executed
from bookbuild.model import Chapter, relative_output
from bookbuild.numbers import drift as drift_mod
from bookbuild.numbers.lock import LockError
from bookbuild.source import website
from bookbuild.source.parsecache import ParseCache
from bookbuild.source.project import WEBSITE, Project
from bookbuild.system import cachesweep
from bookbuild.system.errors import BuildError, UsageError, display_path
from bookbuild.system.output import check_placeable, check_safe, document_outputs, placed, staged


def build(proj: Project, files: list[Path], formats: list[str] | None = None,
          output_dir: Path | None = None, use_cache: bool = True, strict: bool = False,
          whole_book: bool = False, extra_body: str = "", inputs: set[Path] | None = None,
          adopt_output: bool = False) -> int:
    """Render `files`; return 0 or raise BuildError (located in the `.qmd`, ready to print).

    `extra_body` is HTML appended to every page (preview's reload script; never in render).
    `whole_book` replaces this format's output of the previous build; otherwise other chapters'
    output stays. `inputs`, when given, receives the files the chapters were made from: each
    chapter, what it includes, and what its kernel read (preview's watcher asks it).
    `adopt_output`: write into a non-empty output folder bookbuild did not make.
    """
    if proj.kind == WEBSITE:  # pages numbered each on its own, into one site folder
        return build_website(proj, files, formats, output_dir, use_cache, strict, whole_book,
                             extra_body, adopt_output)
    if not proj.is_book:  # documents: each on its own, written beside its source
        return build_documents(proj, files, formats, output_dir, use_cache, strict, extra_body)
    return _build_book(proj, files, formats, output_dir, use_cache, strict, whole_book,
                       extra_body, inputs, adopt_output)


def _build_book(proj: Project, files: list[Path], formats: list[str] | None,
                output_dir: Path | None, use_cache: bool, strict: bool, whole_book: bool,
                extra_body: str, inputs: set[Path] | None, adopt_output: bool) -> int:
    """The book's chapters into its output folder, swapped in whole (see `build`)."""
    _note_other_kind(proj)
    started = cachesweep.build_started()  # entries used from here on are this build's
    formats = formats or proj.formats
    out = (output_dir or proj.output_dir).resolve()
    # Refuse an unsafe output folder before any kernel starts; the message names _quarto.yml
    # only when the folder came from there.
    where = None if output_dir is not None else proj.config_file
    check_safe(out, proj.root, proj.sources(), where, adopt_output)
    parsed = ParseCache(proj.cache_entries, use_cache)
    chapters = [Chapter(f, parsed.parse_file(f)) for f in files]
    publisher = _publisher(proj, chapters, formats, strict, extra_body, use_cache, parsed)
    results = start_check_finish(proj, chapters, lambda: static_check(
        files, proj.root, "render", {ch.source: ch.doc for ch in chapters}, proj.cache_entries,
        use_cache, proj.config), use_cache, formats,
        explicit=frozenset() if whole_book else frozenset(files), strict=strict)
    errors = errors_of(results)
    if errors:
        raise BuildError("\n".join(errors) + f"\nrender failed: {len(errors)} chapter(s) with "
                         "errors; previous output left as it was")
    chapters = executed(chapters, results)
    parsed.flush()  # the check passed: remember the parsed chapters
    if inputs is not None:
        inputs.update(_made_from(chapters))
    if proj.root is not None:  # every format: `--strict` means the same for each
        _compare_with_lock(proj, chapters, strict, whole_book)
        if publisher is None:  # HTML and PDF check cross-references as they number them
            _check_cross_references(proj, chapters, strict)

    # The search index covers every page, so each HTML build replaces the last one's whole.
    with staged(out, proj.root, formats=formats, whole_book=whole_book, chapters=proj.sources(),
                config_file=where, adopt=adopt_output,
                replaces=["search"] if "html" in formats else []) as stage:
        if "md" in formats:
            write_markdown(proj, chapters, stage.path)
            stage.wrote("md")
        if publisher is not None:
            publisher.prepare(chapters)
            for fmt, write in (("html", publisher.write_html), ("pdf", publisher.write_pdf),
                               ("epub", publisher.write_epub)):
                if fmt in formats:
                    write(stage.path)
                    stage.wrote(fmt)
            if "html" in formats and publisher.write_search(stage.path, out):
                stage.wrote("search")
    parsed.flush()  # the other chapters the cross-reference index read
    print(f"wrote {', '.join(formats)} for {len(chapters)} chapter(s) to {display_path(out)}",
          file=sys.stderr)
    if whole_book:  # it used every entry the book can: the caches may shrink to that
        cachesweep.sweep(proj.cache_entries, started)
    return 0


def _made_from(chapters: list[Chapter]) -> set[Path]:
    """Each chapter, what it includes, and what its kernel read (preview watches them)."""
    read = [p for ch in chapters
            for p in (*ch.doc.sources, *(ch.result.dependencies if ch.result else []))]
    return {Path(p).resolve() for p in read}


def _note_other_kind(proj: Project) -> None:
    """One note when `project.type` names a kind bookbuild does not make: a book."""
    kind = (proj.config.get("project") or {}).get("type")
    if kind in (None, "book") or proj.config_file is None:
        return
    file, line = proj.where("project", "type")  # a profile may set it
    print(f"note: {display_path(file)}:{line}: project type '{kind}' is not "
          "supported by bookbuild yet; rendered as a book", file=sys.stderr)


def build_documents(proj: Project, files: list[Path], formats: list[str] | None,
                    output_dir: Path | None, use_cache: bool, strict: bool,
                    extra_body: str = "") -> int:
    """Render documents as Quarto renders a lone `doc.qmd` or a `type: default` project: each
    numbered on its own, `doc.html` and `doc_files/` (`doc.pdf`, `doc.md`) beside its source or
    in the output folder, never over a file bookbuild did not write."""
    formats = [f for f in formats or proj.formats if f != "epub"] or ["html"]  # EPUB: books only
    folders = {f: _document_folder(proj, f, output_dir) for f in files}
    for f, folder in folders.items():  # before any kernel starts
        check_placeable(folder, document_outputs(f.stem, formats))
    parsed, chapters = _each_alone(proj, files, use_cache, formats, "document(s)")
    _compare_with_lock(proj, chapters, strict, whole_book=False)
    for ch in chapters:
        publisher = _publisher(proj, [ch], formats, strict, extra_body, use_cache, parsed)
        if publisher is None:
            _check_cross_references(proj, [ch], strict)
        with placed(folders[ch.source], ch.source.stem) as stage:
            if "md" in formats:
                write_markdown(proj, [ch], stage.path, beside=True)
                stage.wrote("md")
            if publisher is not None:
                publisher.prepare([ch])
                for fmt, write in (("html", publisher.write_html), ("pdf", publisher.write_pdf)):
                    if fmt in formats:
                        write(stage.path)
                        stage.wrote(fmt)
        written = ", ".join(display_path(folders[ch.source] / n)
                            for n in document_outputs(ch.source.stem, formats) if "_files" not in n)
        print(f"wrote {written}", file=sys.stderr)
    return 0


def _each_alone(proj: Project, files: list[Path], use_cache: bool, formats: list[str],
                what: str) -> tuple[ParseCache, list[Chapter]]:
    """Documents or a website's pages parsed, each checked on its own (a label may be defined
    in two of them, as Quarto allows) and executed; BuildError naming `what` failed."""
    parsed = ParseCache(proj.cache_entries, use_cache)
    chapters = [Chapter(f, parsed.parse_file(f)) for f in files]
    docs = {ch.source: ch.doc for ch in chapters}
    results = start_check_finish(proj, chapters, lambda: [*{line: None for f in files for line in (
        static_check([f], proj.root, "render", docs, proj.cache_entries, use_cache, proj.config))}],
        use_cache, formats)
    errors = errors_of(results)
    if errors:
        raise BuildError("\n".join(errors) + f"\nrender failed: {len(errors)} {what} with "
                         "errors; previous output left as it was")
    chapters = executed(chapters, results)
    parsed.flush()
    return parsed, chapters


WEBSITE_FORMATS = ("html", "md")  # what a website's pages are written as


def build_website(proj: Project, files: list[Path], formats: list[str] | None,
                  output_dir: Path | None, use_cache: bool, strict: bool, whole_site: bool,
                  extra_body: str = "", adopt_output: bool = False) -> int:
    """Render a website's pages as Quarto does: each checked and numbered on its own, all
    written into one output folder (`_site/`) swapped in whole, with the site's navigation."""
    asked = formats or proj.formats
    formats = [f for f in asked if f in WEBSITE_FORMATS]
    others = [f for f in asked if f not in WEBSITE_FORMATS]
    if not formats and asked is not proj.formats:  # `--to pdf` alone: nothing it can write
        raise UsageError(f"bookbuild: a website's pages are written as html or md, not "
                         f"{', '.join(others)}; use --to html")
    if others:
        print(f"note: {', '.join(others)} of a website's pages is not supported by bookbuild yet; "
              f"writing {', '.join(formats or ['html'])}", file=sys.stderr)
    formats = formats or ["html"]
    out = (output_dir or proj.output_dir).resolve()
    where = None if output_dir is not None else proj.config_file
    parsed, chapters = _each_alone(proj, files, use_cache, formats, "page(s)")
    _compare_with_lock(proj, chapters, strict, whole_book=whole_site)
    notes: set[str] = set()
    site = website.read(proj.root, proj.config)  # every page's navigation: the site's pages
    with staged(out, proj.root, formats=formats, whole_book=whole_site, chapters=proj.sources(),
                config_file=where, adopt=adopt_output) as stage:
        if "md" in formats:
            write_markdown(proj, chapters, stage.path)
            stage.wrote("md")
        if "html" in formats:
            for ch in chapters:
                publisher = _publisher(proj, [ch], ["html"], strict, extra_body, use_cache, parsed)
                publisher.notes_seen, publisher.site_map = notes, site
                publisher.prepare([ch])
                publisher.write_html(stage.path)
            if site.site_url:  # Quarto's sitemap.xml at the site's root
                from bookbuild.publish import site_nav

                (stage.path / "sitemap.xml").write_text(site_nav.sitemap(site, proj.root),
                                                        encoding="utf-8")
            stage.wrote("html")
    print(f"wrote {', '.join(formats)} for {len(chapters)} page(s) to {display_path(out)}",
          file=sys.stderr)
    return 0


def _document_folder(proj: Project, source: Path, output_dir: Path | None) -> Path:
    """Where a document's outputs go: `--output-dir` or `project.output-dir` (mirroring its
    place in the project), else its own folder."""
    base = output_dir or proj.documents_output
    if base is None:
        return source.resolve().parent
    here = source.resolve().parent
    if proj.root is not None and here.is_relative_to(proj.root):
        return (base / here.relative_to(proj.root)).resolve()
    return base.resolve()


def _publisher(proj: Project, chapters: list[Chapter], formats: list[str], strict: bool,
               extra_body: str, use_cache: bool, parsed: ParseCache):
    """The HTML/PDF publisher, with TikZ figures compiling while the kernels run; None for md."""
    if not {"html", "pdf", "epub"} & set(formats):
        return None
    from bookbuild.publish.publisher import Publisher  # pandoc and jinja2 only when they are needed

    publisher = Publisher(proj, chapters, strict=strict, extra_body=extra_body,
                          use_cache=use_cache, parse=parsed.parse_file, formats=formats)
    if "html" in formats:
        publisher.start_figures()
    return publisher


def _compare_with_lock(proj: Project, chapters: list[Chapter], strict: bool, whole_book: bool) -> None:
    """Warn about drift from numbers.lock; with --strict any lock problem stops the build."""
    severity = "error" if strict else "warning"
    try:
        locked, now, drift, causes = drift_mod.drift_of(proj.root, chapters, whole_book,
                                                           proj.config)
    except LockError as exc:
        if strict:
            raise BuildError(f"{exc}\nrender failed: numbers.lock is malformed (--strict); "
                             "previous output left as it was") from None
        print(f"{exc}\nwarning: numbers.lock is malformed: drift is not checked", file=sys.stderr)
        return
    if locked is None and not any(ch.doc.refs for ch in chapters) and not now.shown:
        return  # no number to lock
    if locked is None:
        print(f"{severity if strict else 'note'}: no numbers.lock yet: review the numbers, then run "
              "`bookbuild numbers accept`", file=sys.stderr)
        if strict:
            raise BuildError("render failed: no numbers.lock (--strict); previous output left as it was")
        return
    if drift:
        lines = [*drift_mod.report(drift, causes, severity), drift_mod.summary(drift)]
        print("\n".join(lines), file=sys.stderr)
        if strict:
            raise BuildError("render failed: numbers drifted from numbers.lock (--strict); previous "
                             "output left as it was")


def _check_cross_references(proj: Project, chapters: list[Chapter], strict: bool) -> None:
    """Warn about references no label in the book answers; with --strict they stop the build."""
    from bookbuild.analysis.check import unresolved_cross_references

    lines = unresolved_cross_references(proj, {ch.source.resolve(): ch.doc for ch in chapters},
                                        "error" if strict else "warning")
    if lines:
        print("\n".join(lines), file=sys.stderr)
    if lines and strict:
        raise BuildError(f"{len(lines)} unresolved cross-reference(s) with --strict; previous "
                         "output left as it was")


def write_markdown(proj: Project, chapters: list[Chapter], stage: Path,
                   beside: bool = False) -> None:
    """Each chapter as markdown (`beside`: a document's, named after it alone)."""
    from bookbuild.publish.substitute import substitute

    for ch in chapters:
        rel = relative_output(None if beside else proj.root, ch.source, ".md")
        assets_name = f"{rel.stem}_files"
        md = substitute(ch.doc, ch.result, stage / rel.parent / assets_name, assets_name,
                        fmt="md", config=proj.config)
        target = stage / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(md, encoding="utf-8")
