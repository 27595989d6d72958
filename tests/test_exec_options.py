"""Where options come from: format-level settings, figure dpi and format, per output format."""

from __future__ import annotations

import struct
from pathlib import Path

from tests.test_render_md import _project

PLOT = ("```{python}\n#| label: fig-dot\nimport matplotlib.pyplot as plt\n"
        "plt.plot([0, 1], [0, 1])\nplt.show()\n```\n")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_fig_format_dpi_and_size_from_the_format_block(cli, tmp_path: Path) -> None:
    settings = ("format:\n  md:\n    fig-format: png\n    fig-dpi: 50\n    fig-width: 4\n"
                "    fig-height: 3\n    echo: false\n")
    root = _project(tmp_path / "b", {"ch.qmd": "# Ch\n\n" + PLOT}, settings=settings)
    r = cli("render", "--to", "md", cwd=root)
    assert r.returncode == 0, r.stderr
    files = sorted((root / "_book" / "ch_files").iterdir())
    assert [f.name for f in files] == ["fig-dot-1.png"]
    width, height = png_size(files[0])
    assert 120 < width <= 4 * 50 and 90 < height <= 3 * 50  # 4 x 3 in at 50 dpi (tight bbox)
    md = (root / "_book" / "ch.md").read_text()
    assert "![](ch_files/fig-dot-1.png){#fig-dot}" in md
    assert "plt.plot" not in md  # echo: false from the format block

    # the chapter's own format block wins over the project's
    chapter = "---\nformat:\n  md:\n    fig-dpi: 100\n    echo: true\n---\n\n# Ch\n\n" + PLOT
    (root / "ch.qmd").write_text(chapter)
    assert cli("render", "--to", "md", cwd=root).returncode == 0
    width, _ = png_size(root / "_book" / "ch_files" / "fig-dot-1.png")
    assert 240 < width <= 4 * 100
    assert "plt.plot" in (root / "_book" / "ch.md").read_text()


def test_cell_options_beat_the_chapter_and_the_project(cli, tmp_path: Path) -> None:
    chapter = ("---\nexecute:\n  output: false\n---\n\n# Ch\n\n"
               "```{python}\nprint('chapter-says-no-output')\n```\n\n"
               "```{python}\n#| output: true\nprint('cell-says-output')\n```\n")
    root = _project(tmp_path / "b", {"ch.qmd": chapter},
                    settings="execute:\n  echo: false\n  output: true\n")
    r = cli("render", "--to", "md", cwd=root)
    assert r.returncode == 0, r.stderr
    md = (root / "_book" / "ch.md").read_text()
    assert "\ncell-says-output\n" in md
    assert "chapter-says-no-output" not in md  # neither its output nor (echo: false) its code
