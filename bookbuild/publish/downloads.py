"""Quarto's book tools on every page: `book.downloads` (the PDF and EPUB written in the same
run) in the sidebar, and `repo-url` + `repo-actions` (edit, source, issue) beside the contents."""

from __future__ import annotations

from dataclasses import dataclass

# Quarto's names for what a book can offer for download (book-config.ts), in its wording.
DOWNLOADABLE = {"pdf": "PDF", "epub": "ePub"}
ACTIONS = {"edit": "Edit this page", "source": "View source", "issue": "Report an issue"}


@dataclass(frozen=True)
class Link:
    text: str
    href: str  # a download: relative to the output root; an action: absolute
    kind: str  # pdf, epub; edit, source, issue


def _site(config: dict, key: str) -> object:
    """`book.<key>`, else `website.<key>` (a book takes website options)."""
    for holder in ("book", "website"):
        value = (config.get(holder) or {}).get(key)
        if value is not None:
            return value
    return None


def _listed(value: object) -> list[str]:
    if value is None or value is False:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def downloads(config: dict, written: list[str], stem: str) -> tuple[list[Link], list[str]]:
    """The download links for the formats this run writes, and a note for each one listed
    that it does not write (or that no book can be downloaded as)."""
    links, notes = [], []
    for fmt in _listed(_site(config, "downloads")):
        if fmt not in DOWNLOADABLE:
            notes.append(f"book.downloads: '{fmt}' is not a format bookbuild writes as one file "
                         f"({', '.join(DOWNLOADABLE)}); left out")
        elif fmt not in written:
            notes.append(f"book.downloads: this render does not write the {DOWNLOADABLE[fmt]} "
                         f"(formats: {', '.join(written)}); its link is left out")
        else:
            links.append(Link(f"Download {DOWNLOADABLE[fmt]}", f"{stem}.{fmt}", fmt))
    return links, notes


def repo_actions(config: dict, source: str) -> list[Link]:
    """Quarto's repository links for the page made from `source` (posix, relative to the
    project): none without `repo-url`, except the issue link to `issue-url`."""
    actions = [a for a in _listed(_site(config, "repo-actions")) if a in ACTIONS]
    issue_url = _site(config, "issue-url")
    if issue_url and "issue" not in actions:
        actions.append("issue")
    repo = _site(config, "repo-url")
    if not repo:
        return [Link(ACTIONS["issue"], str(issue_url), "issue")] if issue_url and actions else []
    base = str(repo).rstrip("/") + "/"
    branch = str(_site(config, "repo-branch") or "main")
    subdir = str(_site(config, "repo-subdir") or "").strip("/")
    path = f"{subdir}/{source}" if subdir else source
    urls = {"edit": f"{base}edit/{branch}/{path}", "source": f"{base}blob/{branch}/{path}",
            "issue": str(issue_url or f"{base}issues/new")}
    return [Link(ACTIONS[a], urls[a], a) for a in dict.fromkeys(actions)]
