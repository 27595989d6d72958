"""Quarto's shortcodes: expanded in text, links, attributes, headings and math; unknown ones
are located warnings (errors with --strict)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.quarto_helpers import Elements, book, render, text

ENV = {"BOOKBUILD_TEST_USER": "ada"}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, object]:
    root = book("features", tmp_path_factory.mktemp("shortcodes"))
    r = render(root, "--to", "html", "shortcodes.qmd", env=ENV)
    assert r.returncode == 0, r.stderr
    return root, r


@pytest.fixture(scope="module")
def page(rendered) -> Elements:
    root, _ = rendered
    return Elements((root / "_book" / "shortcodes.html").read_text())


def test_meta_and_var_in_text_heading_links_attributes_and_math(page: Elements) -> None:
    h1 = page.find("h1")[0]
    assert "Codes for Orion" in text(h1["text"])
    assert any(a["attrs"].get("id") == "sec-codes" for a in h1["ancestors"])  # id kept
    nav = [text(a["text"]) for a in page.find("a") if a["attrs"].get("aria-current") == "page"]
    assert nav == ["2 Codes for Orion"]
    first = text(page.find("p")[0]["text"])
    assert "The cluster Orion runs release 4.2" in first
    assert 'in the book "Features Book"' in first.replace("“", '"').replace("”", '"')
    hrefs = {text(a["text"]): a["attrs"]["href"] for a in page.find("a")}
    assert hrefs["manual"] == "https://example.org/docs/setup.html"
    assert hrefs["home"] == "https://example.org/orion"
    assert page.find("span", "machine")[0]["attrs"]["data-name"] == "Orion"
    math = [m for m in page.find("math")]
    assert any("8" in m["text"] and "n" in m["text"] for m in math)
    assert "{{<" not in "".join(text(p["text"]) for p in page.find("p")[:-3])


def test_env_kbd_pagebreak_and_escape(page: Elements) -> None:
    body = " ".join(text(p["text"]) for p in page.find("p"))
    assert "The operator is ada; the shell is sh." in body
    kbd = page.find("kbd")
    assert [text(k["text"]) for k in kbd] == ["Ctrl-Shift-P"]
    assert "Write {{< var release >}} to show a shortcode literally." in body
    assert page.find("div", "pagebreak")


def test_unknown_shortcode_and_missing_key_are_located_warnings(rendered) -> None:
    _, r = rendered
    assert "shortcodes.qmd:24: warning: unknown shortcode 'frobnicate'" in r.stderr
    assert "shortcodes.qmd:24: warning: var 'no-such-key' is not defined in _variables.yml" in r.stderr
    assert "Traceback" not in r.stderr


def test_strict_makes_an_unknown_shortcode_an_error(tmp_path: Path) -> None:
    root = book("features", tmp_path)
    r = render(root, "--to", "html", "--strict", "shortcodes.qmd", env=ENV)
    assert r.returncode == 1
    assert "shortcodes.qmd:24: error: unknown shortcode 'frobnicate'" in r.stderr
    assert not (root / "_book" / "shortcodes.html").exists()
    assert "Traceback" not in r.stderr
