"""Light and dark (`theme: {light: …, dark: …}`) in chromium: the system's scheme first, Quarto's
toggle, the reader's choice remembered, figures legible on dark."""

from __future__ import annotations

from pathlib import Path

import pytest

from bookbuild.publish.pages import Book, NavEntry, PageWriter
from tests.conftest import ROOT, run_cli
from tests.test_browser import CHROMIUM_ARGS, chromium

ARTIFACTS = ROOT / "test-artifacts"
CONFIG = """project:
  type: book
book:
  title: "Night Sky"
  chapters:
    - index.qmd
format:
  html:
    theme:
      light: flatly
      dark: darkly
"""
STAR = ('<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60">'
        '<path d="M10 50 L60 10 L110 50" stroke="black" fill="none" stroke-width="3"/></svg>')
STATE = """() => ({
  html: document.documentElement.className, body: document.body.className,
  bg: getComputedStyle(document.body).backgroundColor,
  figure: getComputedStyle(document.querySelector('figure img')).backgroundColor,
  pressed: document.querySelector('.quarto-color-scheme-toggle').getAttribute('aria-pressed'),
  stored: localStorage.getItem('quarto-color-scheme')})"""
DARK_BG, WHITE = "rgb(13, 17, 23)", "rgb(255, 255, 255)"


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("night")
    (root / "_quarto.yml").write_text(CONFIG, encoding="utf-8")
    (root / "star.svg").write_text(STAR, encoding="utf-8")
    (root / "index.qmd").write_text("# Stars\n\n![A line drawn in black](star.svg){#fig-star}\n",
                                    encoding="utf-8")
    r = run_cli("render", cwd=root)
    assert r.returncode == 0, r.stderr
    return root / "_book" / "index.html", r.stderr


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_a_dark_system_gets_the_dark_scheme_and_figures_on_a_light_card(browser, book) -> None:
    index, stderr = book
    assert "theme" not in stderr  # light and dark are done: no "not supported" note
    context = browser.new_context(color_scheme="dark")
    page = context.new_page()
    page.goto(index.as_uri())
    state = page.evaluate(STATE)
    assert "quarto-dark" in state["html"] and "quarto-dark" in state["body"]
    assert state["bg"] == DARK_BG and state["figure"] == WHITE
    assert state["pressed"] == "true" and state["stored"] is None  # followed, not chosen
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dark.png"))
    context.close()


def test_the_toggle_switches_and_the_choice_is_remembered(browser, book) -> None:
    index, _ = book
    context = browser.new_context(color_scheme="light")
    page = context.new_page()
    page.goto(index.as_uri())
    assert page.evaluate(STATE)["bg"] == WHITE
    page.locator("nav.sidebar .quarto-color-scheme-toggle").click()
    state = page.evaluate(STATE)
    assert "quarto-dark" in state["body"] and state["bg"] == DARK_BG
    assert state["stored"] == "dark" and state["pressed"] == "true"
    page.reload()
    assert page.evaluate(STATE)["bg"] == DARK_BG  # remembered over the system's light
    page.locator(".quarto-color-scheme-toggle").click()
    state = page.evaluate(STATE)
    assert "quarto-light" in state["body"] and state["bg"] == WHITE and state["stored"] == "light"
    context.close()


def test_without_a_dark_theme_there_is_no_toggle(tmp_path: Path) -> None:
    PageWriter(Book("Day", "", [NavEntry("index.html", "Day")])).write(tmp_path, "index.html",
                                                                       "<p>x</p>", "")
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "quarto-color-scheme" not in page
