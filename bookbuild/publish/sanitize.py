"""HTML from cell outputs, made safe for a book page: tables and text kept, scripts dropped.

A cell's `_repr_html_` is arbitrary HTML; the page is served offline and without scripts, so
only what a book page needs passes (ammonia's allow-list, via nh3).
"""

from __future__ import annotations

import subprocess

TAGS = {
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col",
    "div", "span", "p", "br", "hr", "b", "i", "em", "strong", "code", "pre", "small", "sub",
    "sup", "ul", "ol", "li", "a", "img", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
    "dl", "dt", "dd", "abbr", "kbd", "mark", "figure", "figcaption",
}
ATTRIBUTES = {
    "*": {"class", "id", "title", "align", "style"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "table": {"border"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
}


def clean_html(html: str) -> str:
    """`html` with scripts, event handlers, forms, frames and javascript: links removed."""
    import nh3

    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES,
                     url_schemes={"http", "https", "mailto", "data"}, link_rel=None,
                     strip_comments=True)


def html_table_markdown(html: str, timeout: int = 60) -> str | None:
    """The first table of `html` as a pandoc grid table (so it can carry a caption and go to
    print), or None when there is no table."""
    if "<table" not in html.lower():
        return None
    from bookbuild.publish.pandoc import pandoc_path

    try:
        r = subprocess.run([str(pandoc_path()), "-f", "html", "-t",
                            "markdown-raw_html-native_divs-native_spans-fenced_divs-bracketed_spans"
                            "-simple_tables-multiline_tables-pipe_tables",
                            "--wrap=none"], input=clean_html(html), capture_output=True,
                           text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout.strip() or None if r.returncode == 0 else None
