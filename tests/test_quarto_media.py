"""Players, interactive figures and rich outputs as Quarto shows them: `{{< video >}}`, plotly
figures that arrive as bare JSON, math from `text/latex`, Quarto's MIME choice, and a wide data
frame in print. One HTML render and one PDF render of the fixture book `media`."""

from __future__ import annotations

import re
import shutil
import subprocess
from importlib.util import find_spec
from pathlib import Path

import pytest

from tests.quarto_helpers import Elements, book, pdf_text, render


@pytest.fixture(scope="module")
def html_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    root = book("media", tmp_path_factory.mktemp("media-html"))
    r = render(root, "--to", "html")
    assert r.returncode == 0, r.stderr
    return root, r


@pytest.fixture(scope="module")
def source(html_run) -> str:
    root, _ = html_run
    return (root / "_book" / "media.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def page(source) -> Elements:
    return Elements(source)


def _one(page: Elements, tag: str, **attrs: str) -> dict:
    found = [e for e in page.find(tag) if all(e["attrs"].get(k) == v for k, v in attrs.items())]
    assert len(found) == 1, (tag, attrs, [e["attrs"] for e in page.find(tag)])
    return found[0]


def test_youtube_and_vimeo_players_are_quarto_iframes(page: Elements) -> None:
    tube = _one(page, "iframe", src="https://www.youtube.com/embed/dQw4w9WgXcQ?start=42")
    assert tube["attrs"]["title"] == "Opening talk"
    assert "allowfullscreen" in tube["attrs"]
    # no size given: Quarto's responsive 16:9 box
    assert tube["ancestors"][-1]["classes"] == {"quarto-video", "ratio", "ratio-16x9"}
    vimeo = _one(page, "iframe", src="https://player.vimeo.com/video/76979871")
    assert (vimeo["attrs"]["width"], vimeo["attrs"]["height"]) == ("400", "300")  # from 4x3
    assert vimeo["ancestors"][-1]["classes"] == {"quarto-video"}


def test_local_video_is_a_player_and_its_file_is_copied(html_run, page: Elements) -> None:
    root, _ = html_run
    video = _one(page, "video", title="Lab recording")
    assert {"video-js", "vjs-fluid"} <= video["classes"]
    assert "controls" in video["attrs"]
    assert video["attrs"]["id"] == "video_shortcode_videojs_video1"
    assert [s["attrs"]["src"] for s in page.find("source")] == ["media/clip.mp4"]
    assert (root / "_book" / "media" / "clip.mp4").read_bytes() == \
        (root / "media" / "clip.mp4").read_bytes()


def test_video_without_a_source_is_a_located_warning(html_run, source: str) -> None:
    _, r = html_run
    assert "media.qmd:72: warning: {{< video >}} needs a source" in r.stderr
    assert "Traceback" not in r.stderr
    assert source.count("{{&lt; video") + source.count("{{< video") == 1  # only the bad one


def test_plotly_json_becomes_a_drawn_figure(html_run, page: Elements, source: str) -> None:
    root, _ = html_run
    plots = [e for e in page.find("div") if "plotly-graph-div" in e["classes"]]
    assert len(plots) == 4  # three from JSON, one plotly wrote as HTML (kept as it is)
    ids = [p["attrs"]["id"] for p in plots]
    assert len(set(ids)) == 4 and "own-html" in ids
    assert re.search(r'Plotly\.newPlot\("' + ids[0] + r'", \[\{"type":"bar","x":\["north","south"\],'
                     r'"y":\[3,5\]\}\], \{"title":\{"text":"Two regions"\},"height":360\}', source)
    assert '"name":"<\\/script>trace"' in source  # data cannot close its script early
    # Quarto's kernel gives every plotly template narrow margins
    assert '{"template":{"layout":{"font":{"size":13},"margin":{"t":30,"r":0,"b":0,"l":0}}}}' \
        in source
    assert plots[0]["ancestors"][-1]["attrs"]["style"].startswith("height:360px")
    # the labelled one is a numbered figure with its caption
    assert "Figure 1.1: Bars drawn by plotly" in re.sub(r"<[^>]+>|\s+", " ", source)


def test_plotly_js_loads_once_before_the_first_figure(html_run, page: Elements,
                                                      source: str) -> None:
    root, _ = html_run
    libraries = [s["attrs"]["src"] for s in page.find("script") if "plotly" in
                 s["attrs"].get("src", "")]
    assert len(libraries) == 1
    assert source.index(libraries[0]) < source.index("Plotly.newPlot")
    if find_spec("plotly") is not None:  # plotly's own copy: the page works offline
        assert libraries[0] == "site_libs/plotly/plotly.min.js"
        assert (root / "_book" / libraries[0]).stat().st_size > 1_000_000
    else:
        assert libraries[0].startswith("https://cdn.plot.ly/plotly-")


def test_mime_choice_and_math_as_quarto(page: Elements, source: str) -> None:
    assert [s["text"] for s in page.find("strong")] == ["Chosen over the picture"]
    imgs = [i["attrs"]["src"] for i in page.find("img")]
    assert imgs == [], imgs  # markdown won over the png; plotly's png stays out of the page
    math = [m for m in page.find("annotation")]
    assert any("a^{2} + b^{2}" in m["text"] for m in math)  # text/latex math, not a**2 + b**2
    assert "a**2 + b**2" not in source


@pytest.fixture(scope="module")
def pdf_run(tmp_path_factory) -> tuple[Path, str]:
    root = book("media", tmp_path_factory.mktemp("media-pdf"))
    r = render(root, "--to", "pdf", timeout=600)
    assert r.returncode == 0, r.stderr
    return root, pdf_text(root / "_book" / "book.pdf")


def test_videos_print_as_links(pdf_run) -> None:
    _, text = pdf_run
    for src in ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "https://vimeo.com/76979871",
                "media/clip.mp4"):
        assert src in text
    assert text.count("{{<") == 1  # only the one without a source stays as written


def test_plotly_prints_its_image_or_a_note(pdf_run) -> None:
    root, text = pdf_run
    # two bare JSON figures and one in plotly's HTML; the third JSON one has its png
    assert text.count("An interactive Plotly figure is here in the HTML version") == 3
    assert "Figure 1.1: Bars drawn by plotly" in text
    exe = shutil.which("pdfimages")
    assert exe, "pdfimages is missing: apt-get install poppler-utils (make test installs it)"
    listed = subprocess.run([exe, "-list", str(root / "_book" / "book.pdf")],
                            capture_output=True, text=True, timeout=60).stdout
    sizes = [tuple(line.split()[3:5]) for line in listed.splitlines()[2:]]
    assert ("40", "20") in sizes  # the static image given with the third figure


def test_wide_data_frame_prints_its_values(pdf_run) -> None:
    _, text = pdf_run
    assert "[TABLE]" not in text
    for value in ("17002", "9001", "1002"):
        assert value in text


def test_a_document_keeps_plotly_js_in_its_own_files_folder(tmp_path: Path) -> None:
    """A lone document writes only doc.html and doc_files/ beside it, as Quarto does."""
    (tmp_path / "doc.qmd").write_text(
        '```{python}\ndisplay({"application/vnd.plotly.v1+json": {"data": [{"y": [1, 2]}]}}, '
        "raw=True)\n```\n", encoding="utf-8")
    r = render(tmp_path, "--to", "html", "doc.qmd")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == \
        ["doc.html", "doc.qmd", "doc_files"]
    page = Elements((tmp_path / "doc.html").read_text(encoding="utf-8"))
    [library] = [s["attrs"]["src"] for s in page.find("script") if "plotly" in s["attrs"].get("src", "")]
    if find_spec("plotly") is not None:
        assert library == "doc_files/libs/plotly/plotly.min.js"
        assert (tmp_path / library).is_file()
    else:
        assert library.startswith("https://cdn.plot.ly/")


def test_require_js_comes_before_the_first_output_that_calls_it(html_run, page: Elements,
                                                                source: str) -> None:
    """Quarto gives a page whose outputs carry scripts require.js and jQuery (old plotly and
    widgets call `require([...])`); once, and only pages that call it need it."""
    loaders = [s["attrs"]["src"] for s in page.find("script") if "requirejs" in s["attrs"].get("src", "")]
    assert loaders == ["https://cdn.jsdelivr.net/npm/requirejs@2.3.6/require.min.js"]
    assert source.index(loaders[0]) < source.index("require(['jquery']") < source.index("amd-2")
    # outputs that call no require() (a data frame's table, plotly 6+) do not bring it
    assert source.index("measure_17") < source.index(loaders[0])
    root, _ = html_run
    assert "requirejs" not in (root / "_book" / "index.html").read_text(encoding="utf-8")


def test_tbl_colwidths_on_a_caption_and_a_cell_set_the_columns(page: Elements,
                                                               source: str) -> None:
    """Quarto's `tbl-colwidths`: applied as the columns' widths, never printed."""
    widths = {}
    for table in page.find("table"):
        cols = [c["attrs"].get("style") for c in page.within(table, "col")]
        heads = [h["text"].strip() for h in page.within(table, "th")]
        widths[heads[0]] = cols
    assert widths["region"] == ["width: 75%", "width: 25%"]
    assert widths["kind"] == ["width: 30%", "width: 70%"]
    assert "tbl-colwidths" not in source
    assert "Table 1.1: Shares by region" in re.sub(r"<[^>]+>|\s+", " ", source)
