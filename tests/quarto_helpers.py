"""Helpers for the Quarto-semantics tests: copy a fixture book, render it, read the page."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

from tests.conftest import FIXTURES, bookbuild_exe

QUARTO = FIXTURES / "quarto"


def book(name: str, dest: Path) -> Path:
    """A copy of the fixture book `tests/fixtures/quarto/<name>` inside `dest`."""
    target = dest / name
    shutil.copytree(QUARTO / name, target)
    return target


def render(root: Path, *args: str, env: dict | None = None,
           timeout: int = 300) -> subprocess.CompletedProcess:
    full = dict(os.environ, NO_COLOR="1", COLUMNS="200", **(env or {}))
    return subprocess.run([bookbuild_exe(), "render", *args], cwd=root, capture_output=True,
                          text=True, timeout=timeout, env=full)


def rendered_book(name: str, dest: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    """Copy the fixture book `name` into `dest` and render it (every format); it must succeed."""
    r = render(book(name, dest), timeout=timeout)
    assert r.returncode == 0, r.stderr
    return r


class Elements(HTMLParser):
    """Every element of a page as (tag, attributes, text inside), for structure assertions."""

    VOID = {"br", "img", "input", "meta", "link", "hr", "col", "source", "wbr"}

    def __init__(self, text: str) -> None:
        super().__init__()
        self.all: list[dict] = []
        self._open: list[dict] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        el = {"tag": tag, "attrs": dict(attrs), "text": "",
              "classes": set((dict(attrs).get("class") or "").split()),
              "ancestors": [e for e in self._open]}
        self.all.append(el)
        if tag not in self.VOID:
            self._open.append(el)

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i]["tag"] == tag:
                del self._open[i:]
                break

    def handle_data(self, data):
        for el in self._open:
            el["text"] += data

    def find(self, tag: str | None = None, *classes: str) -> list[dict]:
        return [e for e in self.all if (tag is None or e["tag"] == tag)
                and set(classes) <= e["classes"]]

    def within(self, outer: dict, tag: str | None = None, *classes: str) -> list[dict]:
        return [e for e in self.find(tag, *classes) if any(a is outer for a in e["ancestors"])]

    def scripts_besides_search(self) -> list[dict]:
        """The page's scripts less the sidebar search box's (Pagefind's, on by default in a
        book as in Quarto): what a feature that must work without script would have added."""
        return [e for e in self.find("script") if "pagefind" not in e["attrs"].get("src", "")
                and "PagefindUI" not in e["text"]]


def text(s: str) -> str:
    return re.sub(r"\s+", " ", s.replace("\xa0", " ")).strip()


def pdf_text(pdf: Path) -> str:
    exe = shutil.which("pdftotext")
    assert exe, "pdftotext is missing: apt-get install poppler-utils (make test installs it)"
    out = subprocess.run([exe, "-layout", str(pdf), "-"], capture_output=True, text=True,
                         timeout=60)
    return re.sub(r"\s+", " ", out.stdout)
