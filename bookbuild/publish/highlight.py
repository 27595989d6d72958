"""The CSS that colours highlighted code, as pandoc writes it for a `highlight-style`.

Pandoc marks code tokens with classes (`span.kw`, `span.st`, ...) in every page; the colours
come from the style, which pandoc only writes into a standalone page. We ask pandoc for one
and keep its syntax-highlighting rules, so pages look as Quarto's do with that style.
"""

from __future__ import annotations

import subprocess
from functools import lru_cache
from pathlib import Path

DEFAULT = "pygments"  # pandoc's own default: Quarto's `arrow` theme is Quarto's file, not pandoc's
MARK = "/* CSS for syntax highlighting */"


def style_of(config: dict | None, root: Path | None) -> str:
    """The book's `highlight-style` for HTML (a pandoc style name, or a .theme file made
    absolute against the project root); `none` turns highlighting off."""
    config = config if isinstance(config, dict) else {}
    formats = config.get("format") if isinstance(config.get("format"), dict) else {}
    html = formats.get("html") if isinstance(formats.get("html"), dict) else {}
    style = str(html.get("highlight-style") or config.get("highlight-style") or DEFAULT)
    if style.endswith(".theme") and root is not None:
        return str((root / style).resolve())
    return style


@lru_cache(maxsize=4)
def highlight_css(style: str, timeout: int = 60) -> str:
    """pandoc's syntax-highlighting CSS for `style`, or "" when there is none or pandoc fails
    (the page is still readable: its code is just not coloured)."""
    if style == "none":
        return ""
    from bookbuild.publish.pandoc import pandoc_path

    try:
        r = subprocess.run([str(pandoc_path()), "-f", "markdown", "-t", "html", "--standalone",
                            f"--syntax-highlighting={style}", "-M", "title=-"],
                           input="```python\npass\n```\n", capture_output=True, text=True,
                           timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    start = r.stdout.find(MARK)
    if r.returncode != 0 or start < 0:
        return ""
    end = r.stdout.find("</style>", start)
    css = r.stdout[start:end if end >= 0 else len(r.stdout)]
    return "\n".join(line.strip() for line in css.splitlines() if line.strip()) + "\n"
