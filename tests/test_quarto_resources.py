"""Images and `resources:` copied into the HTML book; `filters:` run where Quarto runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.quarto_helpers import Elements, book, render, text


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = book("features", tmp_path_factory.mktemp("resources"))
    r = render(root, "--to", "html", "resources.qmd")
    assert r.returncode == 0, r.stderr
    return root, r, Elements((root / "_book" / "resources.html").read_text())


def test_referenced_images_and_resource_globs_are_copied(built) -> None:
    root, _, page = built
    srcs = [img["attrs"]["src"] for img in page.find("img")]
    assert "img/disk.png" in srcs
    copied = root / "_book" / "img" / "disk.png"
    assert copied.read_bytes() == (root / "img" / "disk.png").read_bytes()
    assert (root / "_book" / "data" / "latency.csv").read_text().startswith("device,latency_us")


def test_an_image_in_raw_html_is_copied_however_its_src_is_written(built) -> None:
    """`<img src = 'x.png'>` (spaces, single quotes) is valid HTML, and Quarto copies it."""
    root, _, _ = built
    copied = root / "_book" / "img" / "ring.png"
    assert copied.read_bytes() == (root / "img" / "ring.png").read_bytes()


def test_a_missing_image_is_a_located_warning(built) -> None:
    _, r, _ = built
    assert "resources.qmd:16: warning: image 'img/nowhere.png' not found" in r.stderr


def test_project_and_chapter_filters_run_around_ours(built) -> None:
    _, _, page = built
    box = page.find("div", "callout-note")[0]
    assert box["attrs"].get("data-seen-by") == "before"  # saw the callout as written
    assert box["attrs"].get("data-rendered-when-seen") == "yes"  # after `quarto`: saw ours
    assert "turns WHISPER into a shout" in text(box["text"])


def test_strict_stops_on_a_missing_image_and_a_missing_filter_is_located(tmp_path: Path) -> None:
    root = book("features", tmp_path)
    r = render(root, "--to", "html", "--strict", "resources.qmd")
    assert r.returncode == 1
    assert "resources.qmd:16: error: image 'img/nowhere.png' not found" in r.stderr
    (root / "lua" / "whisper.lua").unlink()
    r = render(root, "--to", "html", "resources.qmd")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "resources.qmd:2: filter 'lua/whisper.lua' not found" in r.stderr


def test_a_resource_glob_matching_nothing_is_a_located_warning(tmp_path: Path) -> None:
    root = book("features", tmp_path)
    config = root / "_quarto.yml"
    config.write_text(config.read_text().replace("    - data/*.csv\n",
                                                 "    - data/*.csv\n    - tables/*.parquet\n"))
    r = render(root, "--to", "html", "callouts.qmd")
    assert r.returncode == 0, r.stderr
    assert "_quarto.yml:5: warning: resources 'tables/*.parquet' matches no file" in r.stderr
    assert (root / "_book" / "data" / "latency.csv").is_file()
