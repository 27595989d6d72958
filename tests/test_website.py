"""A `project: type: website` renders as Quarto renders one: every page under `_site/` at its
own path, each numbered on its own, with the site's navbar, sidebar, footer and previous/next
links (tests/fixtures/quarto/website: four pages, a sidebar section, a navbar menu)."""

from __future__ import annotations

import posixpath
import re
import subprocess
from pathlib import Path

import pytest

from bookbuild.publish import site_nav
from bookbuild.source import website
from tests.quarto_helpers import Elements, book, render, text

PAGES = ["about.html", "guide/anemones.html", "guide/crabs.html", "index.html"]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The fixture website, rendered once for this module."""
    root = book("website", tmp_path_factory.mktemp("site"))
    r = render(root)
    assert r.returncode == 0, r.stderr
    return root, r


def _page(root: Path, rel: str) -> Elements:
    return Elements((root / "_site" / rel).read_text(encoding="utf-8"))


def _links(page: Elements, tag: str, *classes: str) -> list[tuple[str, str]]:
    return [(text(e["text"]), e["attrs"]["href"]) for e in page.find(tag, *classes)]


def test_every_page_is_written_under_site_at_its_own_path(site) -> None:
    root, r = site
    written = sorted(p.relative_to(root / "_site").as_posix()
                     for p in (root / "_site").rglob("*.html"))
    assert written == PAGES  # `_draft.qmd` is no page; `crabs.md` is
    assert not (root / "_book").exists()
    assert "not supported" not in r.stderr
    assert (root / "_site" / "images" / "crab.svg").is_file()  # `../images/crab.svg` of a guide/ page


def test_every_navigation_link_leads_to_a_written_page(site) -> None:
    root, _ = site
    checked = 0
    for rel in PAGES:
        page = _page(root, rel)
        for e in page.find("a"):
            href = e["attrs"].get("href", "")
            inside = any("navbar" in a["classes"] or "sidebar-navigation" in a["classes"]
                         or "page-navigation" in a["classes"] or "footer" in a["classes"]
                         for a in e["ancestors"])
            if not inside or href.startswith(("http", "#")):
                continue
            target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), href))
            assert (root / "_site" / target).is_file(), f"{rel}: {href}"
            checked += 1
    assert checked >= 4 * 8


@pytest.mark.parametrize(("rel", "prev", "next_"), [
    ("index.html", None, ("Anemones", "guide/anemones.html")),
    ("guide/anemones.html", ("Tide Pool Notes", "../index.html"), ("Shore crabs", "crabs.html")),
    ("guide/crabs.html", ("Anemones", "anemones.html"), ("About these notes", "../about.html")),
    # the sidebar's last entry is an external URL: no page follows
    ("about.html", ("Shore crabs", "guide/crabs.html"), None),
])
def test_previous_and_next_follow_the_sidebar(site, rel: str, prev, next_) -> None:
    page = _page(site[0], rel)
    before = [(text(a["text"]), a["attrs"]["href"]) for a in page.find("a", "pagination-link")
              if any("nav-page-previous" in x["classes"] for x in a["ancestors"])]
    after = [(text(a["text"]), a["attrs"]["href"]) for a in page.find("a", "pagination-link")
             if any("nav-page-next" in x["classes"] for x in a["ancestors"])]
    assert before == ([prev] if prev else [])
    assert after == ([next_] if next_ else [])


def test_the_current_page_is_marked_in_the_sidebar_and_the_navbar(site) -> None:
    root, _ = site
    crabs = _page(root, "guide/crabs.html")
    assert _links(crabs, "a", "sidebar-link", "active") == [("Shore crabs", "crabs.html")]
    assert _links(crabs, "a", "dropdown-item", "active") == [("Shore crabs", "crabs.html")]
    assert _links(crabs, "a", "nav-link", "active") == []
    about = _page(root, "about.html")
    assert _links(about, "a", "nav-link", "active") == [("About", "about.html")]
    assert _links(about, "a", "sidebar-link", "active") == [("About these notes", "about.html")]
    # a section shows its title and nests its pages
    section = about.find("li", "sidebar-item-section")
    assert len(section) == 1 and text(section[0]["text"]).startswith("Field guide")
    assert [text(a["text"]) for a in about.within(section[0], "a", "sidebar-link")] == [
        "Anemones", "Shore crabs"]


def test_each_page_numbers_its_own_figures_and_leaves_sections_unnumbered(site) -> None:
    root, _ = site
    captions = {rel: [text(e["text"]) for e in _page(root, rel).find("figcaption")]
                for rel in ("guide/anemones.html", "guide/crabs.html")}
    assert captions == {
        "guide/anemones.html": ["Figure 1: A beadlet anemone, closed",
                                "Figure 2: A snakelocks anemone, open"],
        "guide/crabs.html": ["Figure 1: A green shore crab under weed"]}
    anemones = _page(root, "guide/anemones.html")
    assert anemones.find("span", "header-section-number") == []
    assert "We counted them in 7 pools." in text(anemones.find("main")[0]["text"])
    refs = [text(a["text"]) for a in anemones.find("a") if a["attrs"].get("href") == "#fig-beadlet"]
    assert refs == ["Figure 1"]
    about = _page(root, "about.html")  # `number-sections: true` in its front matter
    assert [text(e["text"]) for e in about.find("span", "header-section-number")] == ["1", "2"]


def test_a_reference_to_another_page_s_label_is_unresolved_as_in_quarto(site) -> None:
    root, r = site
    assert ("guide/crabs.md:11: warning: unresolved cross-reference 'fig-beadlet' "
            "(not in this document)") in r.stderr
    assert "?@fig-beadlet" in text(_page(root, "guide/crabs.html").find("main")[0]["text"])


def test_links_in_the_text_to_page_sources_go_to_the_pages(site) -> None:
    page = _page(site[0], "index.html")
    links = [(text(a["text"]), a["attrs"]["href"]) for a in page.within(page.find("main")[0], "a")
             if "pagination-link" not in a["classes"]]
    assert links == [("anemones", "guide/anemones.html"),
                     ("crabs", "guide/crabs.html#green-shore-crab")]


def test_title_navbar_footer_and_site_url(site) -> None:
    root, _ = site
    page = _page(root, "guide/anemones.html")
    assert [text(e["text"]) for e in page.find("title")] == ["Anemones – Tide Pool Notes"]
    assert _links(page, "a", "navbar-brand") == [("Tide Pool Notes", "../index.html")]
    assert _links(page, "a", "nav-link")[:2] == [("Home", "../index.html"),
                                                 ("About", "../about.html")]
    icon = page.find("i", "bi", "bi-github")
    assert icon and icon[0]["attrs"]["aria-label"] == "Source code"
    assert [text(e["text"]) for e in page.find("div", "nav-footer-left")] == [
        "Notes kept by the shore club"]
    assert _links(page, "a", "nav-link")[-1] == ("Contact", "../about.html")
    canonical = [e["attrs"]["href"] for e in page.find("link") if e["attrs"].get("rel") == "canonical"]
    assert canonical == ["https://tidepools.example.org/guide/anemones.html"]
    assert (root / "_site" / "site_libs" / "bookbuild" / "book.css").is_file()
    sitemap = (root / "_site" / "sitemap.xml").read_text(encoding="utf-8")
    assert re.findall(r"<loc>(.*?)</loc>", sitemap) == [
        f"https://tidepools.example.org/{p}" for p in PAGES]


def test_check_and_numbers_work_on_a_website(site) -> None:
    root, _ = site
    from tests.conftest import run_cli

    r = run_cli("check", cwd=root)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines() == [
        "ok: 1 inline references resolve in 4 files",
        "guide/crabs.md:11: warning: unresolved cross-reference 'fig-beadlet' (not in this document)"]
    r = run_cli("numbers", "accept", cwd=root)
    assert r.returncode == 0, r.stderr
    lock = (root / "numbers.lock").read_text(encoding="utf-8")
    assert "  guide/anemones.qmd:\n  - {line: 19, expr: \"Survey.pools\", text: \"7\"}" in lock
    assert "  guide/crabs.md:" in lock
    assert run_cli("numbers", "check", cwd=root).returncode == 0


def test_one_page_rendered_alone_keeps_the_rest_of_the_site(site) -> None:
    root, _ = site
    r = render(root, "guide/crabs.md")
    assert r.returncode == 0, r.stderr
    written = sorted(p.relative_to(root / "_site").as_posix()
                     for p in (root / "_site").rglob("*.html"))
    assert written == PAGES
    assert _links(_page(root, "guide/crabs.html"), "a", "sidebar-link", "active") == [
        ("Shore crabs", "crabs.html")]


def _write(root: Path, files: dict[str, str]) -> None:
    for name, body in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(body, encoding="utf-8")


def test_sidebar_auto_makes_a_section_per_folder_titled_by_its_index(tmp_path: Path) -> None:
    _write(tmp_path, {"index.qmd": "---\ntitle: Home\n---\n", "notes/b.qmd": "# Bee\n",
                      "notes/index.qmd": "---\ntitle: All notes\n---\n", "notes/a.md": "# Ant\n",
                      "_hidden.qmd": "", "README.md": "# read me\n"})
    config = {"website": {"sidebar": {"contents": "auto"}, "page-navigation": True}}
    site = website.read(tmp_path, config)
    assert site.pages == ("index.qmd", "notes/a.md", "notes/b.qmd", "notes/index.qmd")
    nav = site_nav.page_nav(site, tmp_path, "notes/a.md", {})
    top = nav["sidebar"]["entries"]
    assert [(e.text, e.href, e.section) for e in top] == [
        ("Home", "../index.html", False), ("All notes", "index.html", True)]
    assert [(e.text, e.href, e.active) for e in top[1].contents] == [
        ("Ant", "a.html", True), ("Bee", "b.html", False)]
    assert (nav["prev"].text, nav["next"].text) == ("All notes", "Bee")


def test_a_page_shows_the_sidebar_that_lists_it(tmp_path: Path) -> None:
    _write(tmp_path, {"index.qmd": "# Home\n", "a/one.qmd": "# One\n", "b/two.qmd": "# Two\n"})
    config = {"website": {"sidebar": [
        {"id": "a", "title": "Part A", "contents": ["a/*.qmd"]},
        {"id": "b", "title": "Part B", "contents": [{"section": "Bees", "contents": ["b/two.qmd"]}]},
    ]}}
    site = website.read(tmp_path, config)
    assert site_nav.page_nav(site, tmp_path, "b/two.qmd", {})["sidebar"]["title"] == "Part B"
    assert site_nav.page_nav(site, tmp_path, "a/one.qmd", {})["sidebar"]["title"] == "Part A"
    assert site_nav.page_nav(site, tmp_path, "index.qmd", {"sidebar": "b"})["sidebar"][
        "title"] == "Part B"
    assert site_nav.page_nav(site, tmp_path, "index.qmd", {})["sidebar"] is None


def test_a_malformed_website_key_is_one_located_line(tmp_path: Path) -> None:
    _write(tmp_path, {"_quarto.yml": "project:\n  type: website\nwebsite:\n  navbar:\n"
                                     "    left: Home\n", "index.qmd": "# Home\n"})
    r = render(tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip() == ("_quarto.yml:5: website.navbar.left: expected a list, got 'Home' "
                                "[CFG001]")
    assert not (tmp_path / "_site").exists()


def test_navigation_the_site_cannot_draw_is_named_where_it_is_written(tmp_path: Path) -> None:
    _write(tmp_path, {"_quarto.yml": "project:\n  type: website\nwebsite:\n  sidebar:\n"
                                     "    contents:\n      - index.qmd\n      - gone.qmd\n"
                                     "    style: docked\n  navbar:\n    type: dark\n",
                      "index.qmd": "# Home\n"})
    r = render(tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("note: _quarto.yml:8: 'sidebar.style' is not supported by bookbuild "
                          "yet; ignored") == 1
    assert "note: _quarto.yml:10: 'navbar.type' is not supported" in r.stderr  # not project's type
    assert not (tmp_path / "_site" / "sitemap.xml").exists()  # no site-url
    line = ("_quarto.yml:7: warning: website navigation links 'gone.qmd', which is not a page of "
            "the site (fix the path, or remove the entry)")
    assert r.stderr.count(line) == 1
    r = render(tmp_path, "--strict")
    assert r.returncode != 0 and "_quarto.yml:7: error: website navigation links 'gone.qmd'" in r.stderr


def test_preview_serves_the_site_and_rebuilds_an_edited_page(tmp_path: Path) -> None:
    from tests.test_preview import Preview, edit

    root = book("website", tmp_path)
    p = Preview(root, port=4790)
    try:
        status, html = p.get("/guide/crabs.html")
        assert status == 200
        page = Elements(html)
        assert _links(page, "a", "sidebar-link", "active") == [("Shore crabs", "crabs.html")]
        assert p.get("/site_libs/bookbuild/book.css")[0] == 200
        edit(root / "guide" / "crabs.md", "only one out", "only crab out")
        p.next_event(("reload",))
        page = Elements(p.get("/guide/crabs.html")[1])
        assert "was the only crab out in daylight" in text(page.find("main")[0]["text"])
        assert _links(page, "a", "pagination-link")[0] == ("Anemones", "anemones.html")
        assert "preview: building guide/crabs.md" in "".join(p.log)
    finally:
        p.stop()


def test_a_website_asked_for_pdf_alone_says_what_it_writes(tmp_path: Path) -> None:
    _write(tmp_path, {"_quarto.yml": "project:\n  type: website\n", "index.qmd": "# Home\n"})
    r = render(tmp_path, "--to", "pdf")
    assert r.returncode == 2
    assert r.stderr.strip() == ("bookbuild: a website's pages are written as html or md, not pdf; "
                                "use --to html")
    assert not (tmp_path / "_site").exists()


def test_a_page_whose_name_has_a_space_is_linked_by_its_encoded_name(tmp_path: Path) -> None:
    _write(tmp_path, {"index.qmd": "# Home\n", "notes/tide times.qmd": "# Tide times\n"})
    site = website.read(tmp_path, {"website": {"navbar": {"left": ["notes/tide times.qmd"]}}})
    nav = site_nav.page_nav(site, tmp_path, "index.qmd", {})
    assert [(i.text, i.href) for i in nav["navbar"]["left"]] == [
        ("Tide times", "notes/tide%20times.html")]
