"""Our book as an EPUB 3 (`format: epub`): a valid package whose links all land, with the
chapters, cross-references, footnotes, citations, MathML, figures and callouts of the pages."""

from __future__ import annotations

import posixpath
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.conftest import ROOT, run_cli

OPF = "{http://www.idpf.org/2007/opf}"
CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
XHTML = "{http://www.w3.org/1999/xhtml}"
MATHML = "{http://www.w3.org/1998/Math/MathML}"


@pytest.fixture(scope="module")
def epub(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("epub") / "_book"
    r = run_cli("render", "--to", "epub", "--output-dir", str(out), cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^epub: machine-foundations\.epub \(", r.stderr, re.M)
    return out / "machine-foundations.epub"


@pytest.fixture(scope="module")
def book(epub) -> dict[str, bytes]:
    with zipfile.ZipFile(epub) as z:
        return {name: z.read(name) for name in z.namelist()}


@pytest.fixture(scope="module")
def package(book) -> tuple[str, ElementTree.Element]:
    container = ElementTree.fromstring(book["META-INF/container.xml"])
    path = container.find(f".//{CONTAINER}rootfile").get("full-path")
    return path, ElementTree.fromstring(book[path])


def chapters(book, package) -> dict[str, str]:
    """The spine's documents in reading order: zip name -> text."""
    path, opf = package
    items = {i.get("id"): i.get("href") for i in opf.iter(f"{OPF}item")}
    base = posixpath.dirname(path)
    return {posixpath.join(base, items[r.get("idref")]):
            book[posixpath.join(base, items[r.get("idref")])].decode("utf-8")
            for r in opf.iter(f"{OPF}itemref")}


def test_mimetype_comes_first_and_is_stored(epub) -> None:
    with zipfile.ZipFile(epub) as z:
        first = z.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert z.read("mimetype") == b"application/epub+zip"


def test_the_package_lists_every_file_and_a_nav(book, package) -> None:
    path, opf = package
    base = posixpath.dirname(path)
    assert opf.get("version") == "3.0"
    items = list(opf.iter(f"{OPF}item"))
    for item in items:
        assert posixpath.join(base, item.get("href")) in book, item.get("href")
    assert [i for i in items if "nav" in (i.get("properties") or "").split()]
    ids = {i.get("id") for i in items}
    assert all(r.get("idref") in ids for r in opf.iter(f"{OPF}itemref"))
    title = opf.find(".//{http://purl.org/dc/elements/1.1/}title").text
    assert title == "Machine Foundations"


def test_every_link_lands_on_a_file_and_an_id_in_it(book) -> None:
    docs = {n: ElementTree.fromstring(b) for n, b in book.items() if n.endswith(".xhtml")}
    ids = {n: {e.get("id") for e in d.iter() if e.get("id")} for n, d in docs.items()}
    checked = 0
    for name, doc in docs.items():
        for el in doc.iter():
            ref = el.get("href") if el.tag == f"{XHTML}a" else el.get("src")
            if not ref or re.match(r"[a-z]+:", ref):
                continue  # the web, mail
            target, _, frag = ref.partition("#")
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), target)) \
                if target else name
            assert target in book, f"{name}: {ref}"
            assert not frag or frag in ids.get(target, set()), f"{name}: {ref}"
            checked += 1
    assert checked > 50


def test_chapters_carry_what_the_pages_show(book, package) -> None:
    docs = chapters(book, package)
    text = "\n".join(docs.values())
    heads = re.findall(r"<h1[^>]*>(.*?)</h1>", text)
    assert any("Numbers to Carry Around" in h and ">A<" in h for h in heads)  # lettered
    # a cross-reference into another chapter's file, numbered as on the pages
    assert re.search(r'<a href="ch\d+\.xhtml#sec-models-roofline"[^>]*>Section\sB\.1</a>', text)
    assert 'epub:type="noteref"' in text and 'epub:type="footnotes"' in text
    assert re.search(r'<a href="ch\d+\.xhtml#ref-[^"]+"[^>]*>Williams\set\sal\.\s2009</a>', text)
    assert "<math" in text and MATHML[1:-1] in text  # MathML, not TeX
    tikz = re.findall(r'<img src="([^"]+\.svg)" class="tikz" alt="([^"]+)"', text)
    assert len(tikz) == 3 and all(alt for _, alt in tikz)
    assert re.search(r'class="callout callout-style-default callout-perspective', text)
    css = "\n".join(b.decode() for n, b in book.items() if n.endswith(".css"))
    assert ".callout-header" in css and "--callout-color" in css  # callouts styled


def test_epubcheck_finds_nothing_wrong(epub) -> None:
    exe, java = shutil.which("epubcheck"), shutil.which("java")
    if exe is None or java is None:
        pytest.fail("epubcheck is missing: apt-get install epubcheck (make test installs it)")
    # Debian's /usr/bin/epubcheck is the jar itself, run through binfmt_misc, which a container
    # may lack: java runs it directly.
    r = subprocess.run([java, "-jar", str(Path(exe).resolve()), str(epub)], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 fatals / 0 errors / 0 warnings" in r.stdout
