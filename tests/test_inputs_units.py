"""Which files a chapter read the lock keeps, with size and hash (no kernel)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bookbuild.numbers.inputs import data_files


def test_data_files_keep_the_books_inputs_not_code_caches_or_package_metadata(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, cache, elsewhere = tmp_path / "book", tmp_path / "cache", tmp_path / "shared"
    for folder in (root / "data", root / "pkg.egg-info", root / "pkg", cache / "fonts", elsewhere):
        folder.mkdir(parents=True)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    files = {root / "data" / "a.csv": b"x,y\n1,2\n", elsewhere / "b.csv": b"z\n",
             root / "pkg" / "m.py": b"K = 1\n", root / "pkg.egg-info" / "entry_points.txt": b"[x]\n",
             cache / "fonts" / "list.json": b"{}"}
    for path, data in files.items():
        path.write_bytes(data)
    read = [str(p) for p in files] + [str(root / "data"), str(root / "missing.csv")]
    assert data_files(root, read) == {
        "data/a.csv": (8, hashlib.sha256(b"x,y\n1,2\n").hexdigest()),
        (elsewhere / "b.csv").as_posix(): (2, hashlib.sha256(b"z\n").hexdigest()),
    }
