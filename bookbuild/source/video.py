"""Quarto's `{{< video >}}` shortcode: a YouTube, Vimeo or Brightcove player (an iframe) or a
local file (a `<video>`), with Quarto's markup and class names in HTML; a link elsewhere."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

NAMED = re.compile(r"[A-Za-z][\w-]*=")
RATIOS = {"1x1", "4x3", "16x9", "21x9"}  # Quarto's aspect-ratio values (Bootstrap's .ratio-*)
YOUTUBE_EMBED = "https://www.youtube.com/embed/"
YOUTUBE_PREFIXES = (YOUTUBE_EMBED, "https://www.youtube.com/shorts/",
                    "https://www.youtube-nocookie.com/embed/", "https://youtu.be/")
IFRAME_ALLOW = {
    "youtube": ' frameborder="0" allow="accelerometer; autoplay; clipboard-write; '
               'encrypted-media; gyroscope; picture-in-picture" allowfullscreen',
    "vimeo": ' frameborder="0" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen',
    "brightcove": ' allowfullscreen="" allow="encrypted-media"',
}


@dataclass
class Video:
    """The shortcode's arguments, as Quarto reads them."""

    src: str
    width: str | None = None
    height: str | None = None
    title: str | None = None
    start: str | None = None
    aspect: str | None = None
    aria: str | None = None

    @classmethod
    def of(cls, args: list[str]) -> Video | None:
        """From `URL key=value ...` (or `src=URL`); None without a source."""
        # `key=value` only for a name-like key: `watch?v=ID` in a URL is the source
        pairs = [a.partition("=") for a in args if NAMED.match(a)]
        named = {k: v for k, _, v in pairs if v}
        plain = [a for a in args if not NAMED.match(a)]
        src = named.get("src") or (plain[0] if plain else "")
        if not src:
            return None
        aspect = (named.get("aspect-ratio") or named.get("aspectRatio") or "").strip("'\"")
        return cls(src, named.get("width"), named.get("height"), named.get("title"),
                   named.get("start"), aspect or None, named.get("aria-label"))


def _youtube(src: str) -> str | None:
    """The YouTube video id of `src` (embed, shorts, youtu.be or `watch?v=` links)."""
    for prefix in YOUTUBE_PREFIXES:
        if src.startswith(prefix):
            return src[len(prefix):]
    m = re.search(r"\?v=([^&]*)", src)
    return m.group(1) if m else None


def _vimeo(src: str) -> str | None:
    """The player URL of a vimeo.com link (`/ID`, or `/ID/HASH` for an unlisted video)."""
    if not src.startswith("https://vimeo.com/"):
        return None
    rest = src[len("https://vimeo.com/"):]
    if "/" not in rest:
        return f"https://player.vimeo.com/video/{rest}"
    video_id, _, hashed = rest.split("?", 1)[0].partition("/")
    return f"https://player.vimeo.com/video/{video_id}?h={hashed.split('/')[0]}"


def _sized(v: Video) -> tuple[str | None, str | None]:
    """Width and height, the missing one computed from `aspect-ratio` as Quarto does."""
    width, height = v.width, v.height
    if v.aspect and bool(width) != bool(height):
        try:
            w, h = (float(n) for n in v.aspect.split("x", 1))
            if height:
                width = str(int(float(height) * w / h + 0.5))
            else:
                height = str(int(float(width) * h / w + 0.5))
        except ValueError:
            pass  # not a WxH ratio: sizes stay as given
    return width, height


def video_html(v: Video, next_id: Callable[[], int]) -> str:
    """The markup Quarto writes for the player: `<div class="quarto-video ...">`; responsive
    (Bootstrap's `.ratio`) when neither width nor height is given."""
    width, height = _sized(v)
    common = "".join(f' {k}="{html.escape(val)}"' for k, val in (("width", width), ("height", height))
                     if val)
    title = f' title="{html.escape(v.title or "")}"'
    aria = f' aria-label="{html.escape(v.aria)}"' if v.aria else ""
    kind, src = "", v.src
    if (vid := _youtube(v.src)) is not None:
        kind, src = "youtube", YOUTUBE_EMBED + vid + (f"?start={v.start}" if v.start else "")
    elif "https://players.brightcove.net" in v.src:
        kind = "brightcove"
    elif (player := _vimeo(v.src)) is not None:
        kind, src = "vimeo", player
    responsive = not (width or height)
    if kind:
        player_tag = (f'<iframe data-external="1" src="{html.escape(src)}"{common}{title}{aria}'
                      f"{IFRAME_ALLOW[kind]}></iframe>")
        ratio = v.aspect if v.aspect in RATIOS else "16x9"
        classes = f"quarto-video ratio ratio-{ratio}" if responsive else "quarto-video"
    else:  # a file: Quarto's video.js markup, which plays as a plain HTML5 video here
        fluid = "vjs-fluid" if responsive else ""
        player_tag = (f'<video id="video_shortcode_videojs_video{next_id()}"{common} class="video-js '
                      f'vjs-default-skin vjs-big-play-centered {fluid}" controls preload="auto" '
                      f"data-setup='{{}}'{title}{aria}><source src=\"{html.escape(src)}\"></video>")
        classes = "quarto-video"
    return f'<div class="{classes}">{player_tag}</div>'


def video_markdown(v: Video, fmt: str, block: str | None, next_id: Callable[[], int]) -> str:
    """The shortcode's replacement: raw HTML for pages (a block, at the indent `block`, when
    it stands alone on its line), a link to the source elsewhere (Quarto's print fallback)."""
    if fmt != "html":
        target = v.src.replace(" ", "%20").replace(")", "%29")
        text = re.sub(r"([\\`*_\[\]<>])", r"\\\1", v.src)
        return f"[{text}]({target})"
    markup = video_html(v, next_id)
    if block is not None:
        return f"\n{block}```{{=html}}\n{block}{markup}\n{block}```\n"
    return f"`{markup}`{{=html}}"
