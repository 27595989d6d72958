"""`{{< video >}}`: every link form Quarto's shortcode accepts, and its sizes, without a render."""

from __future__ import annotations

import re

import pytest

from bookbuild.source import shortcodes


def expand(text: str, fmt: str = "html") -> tuple[str, list[str]]:
    found: list[str] = []
    out = shortcodes.expand(text, shortcodes.Context({}, {}, fmt), lambda p: found.append(
        f"{p.line}: {p.message}"))
    return out, found


def src_of(markup: str) -> str:
    return re.search(r'<(?:iframe|source)[^>]* src="([^"]+)"', markup).group(1)


@pytest.mark.parametrize("link, embed", [
    ("https://youtu.be/abc_12", "https://www.youtube.com/embed/abc_12"),
    ("https://www.youtube.com/shorts/s9", "https://www.youtube.com/embed/s9"),
    ("https://www.youtube-nocookie.com/embed/nc1", "https://www.youtube.com/embed/nc1"),
    ("https://www.youtube.com/watch?v=w1&t=5s", "https://www.youtube.com/embed/w1"),
    ("https://vimeo.com/123", "https://player.vimeo.com/video/123"),
    ("https://vimeo.com/123/f00d?share=copy", "https://player.vimeo.com/video/123?h=f00d"),
    ("https://players.brightcove.net/1/default_default/index.html?videoId=9",
     "https://players.brightcove.net/1/default_default/index.html?videoId=9"),
])
def test_each_link_form_becomes_its_player(link: str, embed: str) -> None:
    out, problems = expand(f"{{{{< video {link} >}}}}")
    assert problems == []
    assert src_of(out) == embed
    assert '<div class="quarto-video ratio ratio-16x9"><iframe' in out


def test_sizes_aspect_ratio_and_escaping() -> None:
    out, _ = expand('{{< video src="https://youtu.be/x" height=210 aspect-ratio="21x9" '
                    'title=\'Say "hi"\' aria-label="A clip" >}}')
    assert 'width="490" height="210"' in out
    assert '<div class="quarto-video"><iframe' in out  # sized: no responsive box
    assert 'title="Say &quot;hi&quot;" aria-label="A clip"' in out
    out, _ = expand("{{< video https://youtu.be/x aspect-ratio=4x3 >}}")
    assert "ratio ratio-4x3" in out


def test_local_files_get_numbered_players_and_inline_use_stays_inline() -> None:
    out, _ = expand("See {{< video a.mp4 >}} and\n\n{{< video b.webm width=320 >}}\n")
    assert out.startswith("See `<div class=\"quarto-video\"><video id=\"video_shortcode_videojs_video1\"")
    assert "`{=html} and" in out
    assert '\n```{=html}\n<div class="quarto-video"><video id="video_shortcode_videojs_video2" ' \
           'width="320" class="video-js vjs-default-skin vjs-big-play-centered "' in out


def test_print_links_to_the_source_and_a_missing_source_is_reported() -> None:
    out, problems = expand("{{< video https://youtu.be/x title=Talk >}}\n\n{{< video >}}", "latex")
    assert out.startswith("[https://youtu.be/x](https://youtu.be/x)")
    assert problems == ["3: {{< video >}} needs a source, e.g. {{< video https://youtu.be/ID >}} "
                        "or {{< video media/clip.mp4 >}}"]


def test_a_player_in_a_list_item_stays_in_it() -> None:
    import subprocess

    from bookbuild.publish.pandoc import pandoc_path

    out, _ = expand("- first\n\n    {{< video https://youtu.be/x >}}\n\n- second\n")
    page = subprocess.run([str(pandoc_path()), "-f", "markdown", "-t", "html"], input=out,
                          capture_output=True, text=True, timeout=60).stdout
    first = page.split("<li>")[1]
    assert "youtube.com/embed/x" in first and "second" not in first
    assert page.count("<ul>") == 1
