"""Every page of our book in chromium, light and dark: axe-core finds no serious or critical
violation, a keyboard reader can skip to the text, and landmarks and alt text are there."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli
from tests.test_browser import CHROMIUM_ARGS, chromium


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("a11y") / "_book"
    r = run_cli("render", "--to", "html", "--output-dir", str(out), cwd=ROOT)
    assert r.returncode == 0, r.stderr
    found = sorted(p for p in out.rglob("*.html") if "pagefind" not in p.parts)
    assert len(found) >= 6
    return found


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_serious_on_any_page(browser, pages, scheme) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe, found = Axe(), []
    context = browser.new_context(color_scheme=scheme)
    for path in pages:
        page = context.new_page()
        page.goto(path.as_uri())
        for v in axe.run(page).response["violations"]:
            if v["impact"] in ("serious", "critical"):
                found.append(f"{path.name}: {v['id']} ({v['impact']}) at "
                             f"{v['nodes'][0]['target']}: {v['help']}")
        page.close()
    context.close()
    assert not found, "\n".join(found)


def test_a_keyboard_reader_can_skip_to_the_text(browser, pages) -> None:
    page = browser.new_page()
    page.goto(next(p for p in pages if p.name == "models.html").as_uri())
    skip = page.locator("a.skip-link")
    assert skip.bounding_box()["y"] < 0  # out of sight until a keyboard reaches it
    page.keyboard.press("Tab")  # the first stop on the page
    link = page.locator(":focus")
    assert link.inner_text() == "Skip to main content"
    assert link.bounding_box()["y"] >= 0  # shown while it has the focus
    page.keyboard.press("Enter")
    assert page.url.endswith("#content")
    page.close()


def test_landmarks_and_alt_text(browser, pages) -> None:
    page = browser.new_page()
    for path in pages:
        page.goto(path.as_uri())
        roles = page.evaluate("""() => ({
          main: document.querySelectorAll('main').length,
          nav: [...document.querySelectorAll('nav[aria-label]')].map(n => n.getAttribute('aria-label')),
          noAlt: [...document.querySelectorAll('img')].filter(i => !i.alt).map(i => i.src)})""")
        assert roles["main"] == 1 and "Chapters" in roles["nav"], path.name
        assert roles["noAlt"] == [], path.name  # a figure's caption when it has no fig-alt
    page.close()
