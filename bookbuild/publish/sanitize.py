"""HTML tables from cell outputs, rebuilt as pandoc tables (to carry a caption, or for print).

Quarto puts a cell's HTML output on the page as it is, scripts and all (a map or widget needs
them), so pages get it unchanged. Where a format cannot show HTML, Quarto reads only the
`<table>` elements of it into the document and drops the rest; so do we, after nh3 strips
what pandoc should never see (ammonia's allow-list).
"""

from __future__ import annotations

import re
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


# A <table> up to its close: the first </table>, then any further ones met before another
# <table> opens (those close the table a nested one sat in).
TABLE = re.compile(r"<table\b.*?</table\s*>(?:(?:(?!<table\b).)*?</table\s*>)*", re.S | re.I)


GRID_COLUMNS = 100_000  # room for any data frame's widest row


def html_table_markdown(html: str, timeout: int = 60) -> str | None:
    """The tables of `html` as pandoc grid tables, the rest of it left out (so a table can
    carry a caption and go to print), or None when there is no table."""
    tables = [m.group(0) for m in TABLE.finditer(html)]
    if not tables:
        return None
    from bookbuild.publish.pandoc import pandoc_path

    try:
        r = subprocess.run([str(pandoc_path()), "-f", "html", "-t",
                            "markdown-raw_html-native_divs-native_spans-fenced_divs-bracketed_spans"
                            "-simple_tables-multiline_tables-pipe_tables",
                            # a grid table wider than --columns comes out as "[TABLE]"
                            "--wrap=none", f"--columns={GRID_COLUMNS}"],
                           input=clean_html("\n".join(tables)),
                           capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout.strip() or None if r.returncode == 0 else None
