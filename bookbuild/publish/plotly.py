"""Plotly figures from cell outputs. Quarto sets plotly's renderer to `notebook(_connected)`, so
a figure arrives as the HTML plotly writes; our kernels keep plotly's default, a bare
`application/vnd.plotly.v1+json` bundle, which we turn into that same HTML here. The page loads
plotly.js once: a copy of the installed plotly's own file (works offline), else plotly's CDN."""

from __future__ import annotations

import html
import json
import re
import shutil
from importlib.util import find_spec
from pathlib import Path

MIME = "application/vnd.plotly.v1+json"
CDN = "https://cdn.plot.ly/plotly-3.0.1.min.js"  # when plotly is not installed beside us
LIBRARY = "plotly.min.js"
QUARTO_MARGIN = {"t": 30, "r": 0, "b": 0, "l": 0}
DEFAULT_HEIGHT = 525  # plotly's notebook renderer: a figure without a layout height
# What marks plotly's own HTML: a figure, or the library it loads (as Quarto recognises it).
FIGURE_HTML = re.compile(r'class="plotly-graph-div"|Plotly\.newPlot')
PRINT_NOTE = ("*An interactive Plotly figure is here in the HTML version; give it a static "
              "image (plotly's `png` renderer, with kaleido) to print it.*")


def installed_library() -> Path | None:
    """plotly.js as the installed plotly package ships it (None when plotly is absent)."""
    spec = find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "package_data" / LIBRARY
        if path.is_file():
            return path
    return None


def library_tag(libs: Path, link: str) -> str:
    """The `<script>` that loads plotly.js, copying the installed file into `libs` (once)."""
    source = installed_library()
    if source is None:
        src = CDN
    else:
        target = libs / "plotly" / LIBRARY
        if not target.is_file() or target.stat().st_size != source.stat().st_size:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        src = f"{link}/plotly/{LIBRARY}"
    return ("<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>\n"
            f'<script charset="utf-8" src="{html.escape(src)}"></script>')


def figure_html(spec: dict, div_id: str) -> str:
    """The figure as plotly's notebook renderer writes it: a sized div and a newPlot call."""
    layout = _quarto_margins(spec.get("layout") if isinstance(spec.get("layout"), dict) else {})
    config = {"responsive": True, **(spec.get("config") or {})}
    height = layout.get("height") if isinstance(layout.get("height"), (int, float)) else None
    width = layout.get("width") if isinstance(layout.get("width"), (int, float)) else None
    size = (f"height:{height or DEFAULT_HEIGHT}px; "
            f"width:{f'{width}px' if width else '100%'};")
    args = ", ".join(_script_json(v) for v in (spec.get("data") or [], layout, config))
    return (f'<div style="{size}"><div id="{div_id}" class="plotly-graph-div" '
            'style="height:100%; width:100%;"></div>\n<script type="text/javascript">\n'
            "window.PLOTLYENV = window.PLOTLYENV || {};\n"
            f'if (document.getElementById("{div_id}")) {{ Plotly.newPlot("{div_id}", {args}); }}\n'
            "</script></div>")


def _quarto_margins(layout: dict) -> dict:
    """The layout with Quarto's narrow template margins (its kernel setup gives every plotly
    template t=30, r=b=l=0); a margin the figure sets itself still wins."""
    template = layout.get("template")
    if not isinstance(template, dict):
        return layout
    inner = template.get("layout") if isinstance(template.get("layout"), dict) else {}
    return {**layout, "template": {**template, "layout": {**inner, "margin": QUARTO_MARGIN}}}


def _script_json(value: object) -> str:
    """JSON safe inside a `<script>`: no `</` can close it early."""
    return json.dumps(value, separators=(",", ":")).replace("</", "<\\/")


def is_figure(data: dict) -> bool:
    """Whether an output bundle is a plotly figure (its JSON, or plotly's own HTML)."""
    if MIME in data:
        return True
    page = data.get("text/html")
    page = "".join(page) if isinstance(page, list) else page
    return isinstance(page, str) and bool(FIGURE_HTML.search(page))
