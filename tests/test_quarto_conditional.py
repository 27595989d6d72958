"""`.content-visible` / `.content-hidden` by format and metadata, as Quarto documents them."""

from __future__ import annotations

from pathlib import Path

from tests.quarto_helpers import Elements, book, render, text


def test_html_shows_only_what_its_conditions_allow(tmp_path: Path) -> None:
    root = book("features", tmp_path)
    r = render(root, "--to", "html", "conditional.qmd")
    assert r.returncode == 0, r.stderr
    page = Elements((root / "_book" / "conditional.html").read_text())
    shown = " ".join(text(p["text"]) for p in page.find("p"))
    assert "Only readers of the web page see this sentence." in shown
    assert "A reviewer's note shown while the draft flag is on." in shown.replace("’", "'")
    assert "The status is draft." in shown
    for absent in ("printed book", "kept in print", "word-processor", "Everywhere but print",
                   "published edition", "final"):
        assert absent not in shown
    assert not page.find(None, "content-visible") and not page.find(None, "content-hidden")
