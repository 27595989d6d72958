"""More readers that must invalidate: a value a module hands out through a module-level
`__getattr__` (PEP 562) changes when anything in that module changes."""

from __future__ import annotations

from pathlib import Path

from tests.faults.conftest import bb

CONSTS = '''\
_TABLE = {"SPEED": 3.0}
UNRELATED = 1


def __getattr__(name):
    if name in _TABLE:
        return _TABLE[name] * 2
    raise AttributeError(name)
'''


def test_a_value_from_a_module_getattr_is_never_served_stale(book: Path) -> None:
    # beside its chapter: cells run in their chapter's folder (Quarto's execute-dir: file)
    (book / "part" / "consts.py").write_text(CONSTS)
    (book / "part" / "speed.qmd").write_text(
        "# Speed\n\n```{python}\nfrom consts import SPEED\n```\n\nSpeed `{python} SPEED`.\n")
    assert bb("render", "--to", "md", cwd=book).returncode == 0
    page = book / "_book" / "part" / "speed.md"
    assert "Speed 6.0." in page.read_text()
    assert bb("numbers", "accept", cwd=book).returncode == 0
    (book / "part" / "consts.py").write_text(CONSTS.replace("3.0", "4.0"))  # only the table
    r = bb("render", "--to", "md", cwd=book)
    assert r.returncode == 0, r.stderr
    assert "Speed 8.0." in page.read_text()  # was 6.0, served from the cache
    r = bb("numbers", "check", cwd=book)
    assert r.returncode == 1 and "6.0 → 8.0" in r.stdout, r.stdout
