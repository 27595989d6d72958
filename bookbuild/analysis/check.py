"""`bookbuild check`: parse and resolve every chapter, report all problems at once."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from bookbuild.analysis import crossref
from bookbuild.analysis.names import ModuleNames, search_roots
from bookbuild.analysis.refs import CheckResult, check_document
from bookbuild.source.qmd import Document, parse_file
from bookbuild.system.errors import Diagnostic


def check_files(files: list[Path], project_root: Path | None,
                config: dict | None = None,
                parsed: dict[Path, Document] | None = None) -> list[CheckResult]:
    """Each file's problems, plus the cross-reference labels the files define twice;
    `parsed`, when given, receives each file's parsed document."""
    results, docs = [], []
    modules: dict[tuple, ModuleNames] = {}
    for f in files:
        doc = parse_file(f)
        docs.append((doc, False))
        if parsed is not None:
            parsed[f.resolve()] = doc
        roots = search_roots(str(f), project_root)
        names = modules.setdefault(tuple(roots), ModuleNames(roots))
        results.append(check_document(doc, project_root, names, config))
    # render refuses a repeated label; check says so first (only labels are read, no numbering)
    for d, result in zip(duplicates_per_file(docs, config=config), results, strict=True):
        result.diagnostics.extend(d)
    return results


def unresolved_cross_references(proj, checked: dict[Path, Document],
                                severity: str = "warning") -> list[str]:
    """`file:line: warning: unresolved cross-reference ...` for each reference the book's
    formats cannot resolve, as render prints them (the whole book is read for its labels)."""
    if proj.root is None:
        return []
    appendices, parts = proj.appendices(), frozenset(proj.part_files())
    docs = [(checked.get(p) or parse_file(p), p in appendices)
            for p in (c.resolve() for c in proj.chapters()) if p.is_file()]
    if not proj.is_book:  # documents: each resolves its references on its own
        return [line for d in docs if Path(d[0].path).resolve() in checked
                for line in _unresolved_lines(proj, [d], parts, checked, severity)]
    return _unresolved_lines(proj, docs, parts, checked, severity)


def shortcode_warnings(proj, checked: dict[Path, Document]) -> list[str]:
    """`file:line: warning: ...` for each shortcode render would warn of (a `{{< var >}}` that
    `_variables.yml` lacks, a `meta` key no metadata holds, an unknown shortcode)."""
    from bookbuild.source import shortcodes
    from bookbuild.system.errors import display_path

    out = []
    for path, doc in checked.items():
        ctx = shortcodes.context(proj.config, proj.root, doc.front_matter, "html",
                                 proj.variables)
        for p in shortcodes.problems(doc.text, ctx):
            out.append(f"{display_path(path)}:{p.line}: warning: {p.message}")
    return out


def _unresolved_lines(proj, docs: list[tuple[Document, bool]], parts: frozenset[Path],
                      checked: dict[Path, Document], severity: str) -> list[str]:
    indexes = crossref.format_indexes(docs, {}, proj.config, proj.formats, parts)
    unresolved = crossref.unresolved_explained(indexes, docs, {}, proj.config,
                                               proj.option("external-refs") or {},
                                               proj.formats, parts)
    return [crossref.unresolved_line(ref, why if proj.is_book else crossref.in_document(why),
                                     severity) for ref, why in unresolved if ref.source in checked]


def duplicates_per_file(docs: list[tuple[Document, bool]],
                        known: list[crossref.Defined | None] | None = None,
                        config: dict | None = None) -> list[list[Diagnostic]]:
    """crossref.duplicate_labels, grouped by the file that repeats the label."""
    found = crossref.duplicate_labels(docs, known, config)
    return [[d for d in found if d.path == str(doc.path)] for doc, _ in docs]


def report(results: list[CheckResult], out: TextIO) -> int:
    """Print one line per problem and a summary; return the exit code (1 on any error)."""
    diagnostics = sorted(d for r in results for d in r.diagnostics)
    for d in diagnostics:
        print(d.format(), file=out)
    refs = sum(r.refs for r in results)
    files = len(results)
    noun = "file" if files == 1 else "files"
    if diagnostics:
        n = len(diagnostics)
        print(f"{n} error{'s' if n != 1 else ''} in {files} {noun} ({refs} inline references checked)",
              file=out)
        return 1
    print(f"ok: {refs} inline references resolve in {files} {noun}", file=out)
    return 0
