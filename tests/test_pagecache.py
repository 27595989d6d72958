"""The page cache: a render runs pandoc only on the pages whose inputs changed (real pandoc).

The fixture book: alpha cites a source and holds sec-alpha-details, beta references it, gamma
references beta, and references.qmd holds the bibliography. A user filter rewrites "STAMP.".
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_cli

PAGES = ["alpha", "beta", "gamma", "references"]


@pytest.fixture
def book(tmp_path: Path) -> Path:
    root = tmp_path / "book"
    shutil.copytree(FIXTURES / "pagecache", root)
    return root


def render(root: Path, *extra: str) -> set[str]:
    """Render to HTML; the pages pandoc ran on, read from the progress lines a user sees."""
    r = run_cli("render", "--to", "html", *extra, cwd=root)
    assert r.returncode == 0, r.stderr
    ran = set(re.findall(r"^html: (\w+)\.qmd -> \S+ \(pandoc, ", r.stderr, re.M))
    cached = set(re.findall(r"^html: (\w+)\.qmd -> \S+ \(page cache, ", r.stderr, re.M))
    assert ran | cached == set(PAGES) and not ran & cached, r.stderr
    assert f"html: pandoc rendered {len(ran)} page(s), {len(cached)} from the page cache" in r.stderr
    return ran


def page(root: Path, name: str) -> str:
    return (root / "_book" / f"{name}.html").read_text(encoding="utf-8")


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ")


def edit(path: Path, old: str, new: str) -> None:
    body = path.read_text(encoding="utf-8")
    assert old in body
    path.write_text(body.replace(old, new), encoding="utf-8")


def test_second_render_runs_pandoc_on_no_page_and_writes_the_same_pages(book: Path) -> None:
    assert render(book) == set(PAGES)
    first = {name: page(book, name) for name in PAGES}
    assert render(book) == set()
    assert {name: page(book, name) for name in PAGES} == first
    assert "Section 1.1" in text(first["beta"])
    assert "stamped-one." in text(first["alpha"])


def test_prose_edit_renders_that_page_only_with_the_new_text(book: Path) -> None:
    render(book)
    edit(book / "beta.qmd", "Beta prose that the tests edit.", "Beta prose, freshly rewritten.")
    assert render(book) == {"beta"}
    assert "Beta prose, freshly rewritten." in text(page(book, "beta"))
    assert "Beta prose that the tests edit." not in text(page(book, "beta"))


def test_heading_edit_renders_the_pages_whose_references_into_it_changed(book: Path) -> None:
    render(book)
    # A new section before sec-alpha-details moves it from 1.1 to 1.2: beta refers to it,
    # gamma refers only to beta and stays cached.
    edit(book / "alpha.qmd", "## Alpha details", "## Alpha first {#sec-alpha-first}\n\nNew.\n\n"
         "## Alpha details")
    assert render(book) == {"alpha", "beta"}
    assert "Section 1.2" in text(page(book, "beta"))
    assert "Chapter 2" in text(page(book, "gamma"))  # beta's heading: a whole chapter


def test_heading_text_edit_without_a_number_change_renders_only_its_page(book: Path) -> None:
    render(book)
    edit(book / "alpha.qmd", "## Alpha details", "## Alpha particulars")
    assert render(book) == {"alpha"}
    assert "Alpha particulars" in text(page(book, "alpha"))


def test_filter_edit_renders_every_page_with_the_new_filter(book: Path) -> None:
    render(book)
    edit(book / "stamp.lua", '"stamped-one."', '"stamped-two."')
    assert render(book) == set(PAGES)
    assert "stamped-two." in text(page(book, "alpha"))


def test_bibliography_edit_renders_the_pages_that_show_it(book: Path) -> None:
    render(book)
    edit(book / "sources.bib", "A Document Preparation System", "A Typesetting Companion")
    assert render(book) == {"alpha", "references"}  # beta and gamma cite nothing
    assert "A Typesetting Companion" in text(page(book, "references"))


def citeproc_ran(root: Path) -> set[str]:
    r = run_cli("render", "--to", "html", "--no-cache", cwd=root)
    assert r.returncode == 0, r.stderr
    return set(re.findall(r"^html: (\w+)\.qmd -> \S+ \(pandoc, citeproc, ", r.stderr, re.M))


def test_citeproc_runs_only_on_citing_pages_and_the_references_page(book: Path) -> None:
    assert citeproc_ran(book) == {"alpha", "references"}
    alpha = page(book, "alpha")
    # each work links to its entry on the references page, as citeproc links it on one page
    assert re.search(r'\(<a href="references\.html#ref-lamport94"[^>]*>Lamport 1994</a>\)', alpha), alpha
    assert "A Document Preparation System" in text(page(book, "references"))
    assert "Section 1.1" in text(page(book, "beta"))  # a cross-reference is no citation


def test_without_a_references_chapter_the_citing_page_lists_its_sources(book: Path) -> None:
    edit(book / "_quarto.yml", "    - references.qmd\n", "")
    assert citeproc_ran(book) == {"alpha"}
    alpha = text(page(book, "alpha"))
    assert "Lamport 1994" in alpha and "A Document Preparation System" in alpha


def test_corrupt_entries_are_misses_and_the_pages_come_out_right(book: Path) -> None:
    render(book)
    first = {name: page(book, name) for name in PAGES}
    entries = sorted((book / ".bookbuild" / "cache" / "pages").glob("*.json"))
    assert len(entries) == len(PAGES)
    # one entry's body altered (checksum no longer holds), one cut short, one emptied
    raw = entries[0].read_text(encoding="utf-8")
    entries[0].write_text(raw.replace("Alpha", "Omega").replace("Beta", "Omega").replace(
        "Gamma", "Omega").replace("References", "Omega"), encoding="utf-8")
    entries[1].write_text(entries[1].read_text(encoding="utf-8")[:40], encoding="utf-8")
    entries[2].write_text("", encoding="utf-8")
    assert len(render(book)) == 3
    assert {name: page(book, name) for name in PAGES} == first
    assert "Omega" not in "".join(first.values())


def test_no_cache_renders_every_page(book: Path) -> None:
    render(book)
    assert render(book, "--no-cache") == set(PAGES)


def test_a_chapters_own_bibliography_adds_to_the_books(book: Path) -> None:
    # Quarto merges a document's `bibliography:` list with the project's.
    (book / "extra.bib").write_text("@article{hopper52,\n  author = {Grace Hopper},\n  title = "
                                    "{The Education of a Computer},\n  journal = {Proceedings "
                                    "of the ACM},\n  year = {1952}\n}\n", encoding="utf-8")
    gamma = book / "gamma.qmd"
    text = gamma.read_text(encoding="utf-8")
    body = text.split("---\n", 2)[2] if text.startswith("---\n") else text
    gamma.write_text("---\nbibliography: extra.bib\n---\n" + body +
                     "\nCompilers began with @hopper52.\n", encoding="utf-8")
    assert "gamma" in render(book)
    shown = re.sub(r"<[^>]+>", "", page(book, "gamma"))
    assert "Hopper (1952)" in shown and "?hopper52" not in shown
    # The book's references page lists it, as it lists what every chapter cites.
    assert "The Education of a Computer" in re.sub(r"<[^>]+>", "", page(book, "references"))


def test_the_label_index_finds_what_looking_for_each_label_finds() -> None:
    """Indexed once per build, the labels a page uses are those whose id (or capitalised id)
    occurs in it, plus its own: the same list, in the book's order, as a scan of every label."""
    import random

    from bookbuild.publish.pagecache import LabelFinder

    def each_label(labels: list[str], own: set[str], md: str) -> list[str]:
        return [x for x in labels if x in own or x in md or x[:1].upper() + x[1:] in md]

    book = ["sec-ch1", "sec-ch10", "fig-a", "tbl-x", "eq", "fig-ab", "Sec-up", "sec-up"]
    finder = LabelFinder(book)
    assert finder.used(set(), "see @sec-ch10 and @Fig-a.") == ["sec-ch1", "sec-ch10", "fig-a"]
    assert finder.used({"eq", "not-a-label"}, "@tbl-x") == ["tbl-x", "eq"]
    assert finder.used(set(), "@Sec-up") == ["Sec-up", "sec-up"]
    assert LabelFinder(["aaaab"]).used(set(), "aaaaab") == ["aaaab"]  # overlapping starts
    rng = random.Random(7)
    chars = "sfc-1a2S:"
    for _ in range(2000):
        labels = list(dict.fromkeys("".join(rng.choice(chars) for _ in range(rng.randint(0, 7)))
                                    for _ in range(rng.randint(0, 12))))
        md = "".join(rng.choice(chars + " @") for _ in range(rng.randint(0, 60)))
        own = set(rng.sample(labels, min(2, len(labels)))) | {"zz"}
        assert LabelFinder(labels).used(own, md) == each_label(labels, own, md), (labels, md)
