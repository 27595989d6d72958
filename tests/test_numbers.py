"""The numbers lock: drift is reported with its cause, accepted explicitly, never rewritten silently."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bookbuild.numbers import lock as numbers
from tests.conftest import ROOT, run_cli

CHAPTER = """# Bandwidth {#sec-bw}

```{python}
#| label: bw
from mlsysim.core.constants import *
from mlsysim.fmt import fmt


class Bw:
    hbm = H100_MEM_BW
    pcie = PCIE_GEN5_BW
    ratio_value = (hbm / pcie).m_as("")
    hbm_text = fmt(hbm, "GB/s", precision=0)
    ratio = fmt(ratio_value, precision=0)
    latency = fmt(LATENCY_HBM3, "ns", precision=0)
```

HBM moves `{python} Bw.hbm_text` GB/s, `{python} Bw.ratio` times PCIe.
The load latency is `{python} Bw.latency` ns. In math: $x = `{python} Bw.ratio`$.
"""


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """A one-chapter book with its own copy of mlsysim, so constants can be edited."""
    root = tmp_path / "book"
    root.mkdir()
    (root / "_quarto.yml").write_text("project:\n  type: book\nbook:\n  title: T\n  chapters:\n"
                                      "    - ch.qmd\n")
    (root / "ch.qmd").write_text(CHAPTER)
    shutil.copytree(ROOT / "mlsysim", root / "mlsysim", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def set_constant(root: Path, old: str, new: str) -> None:
    path = root / "mlsysim" / "core" / "constants.py"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_missing_lock_fails_and_accept_creates_it(book: Path) -> None:
    r = run_cli("numbers", "check", cwd=book)
    assert r.returncode == 1
    assert "no numbers.lock yet" in r.stdout
    assert not (book / "numbers.lock").exists()  # check never writes the lock
    r = run_cli("numbers", "accept", cwd=book)
    assert r.returncode == 0, r.stderr
    assert "wrote numbers.lock: 4 numbers in 1 chapter(s)" in r.stdout
    lock = (book / "numbers.lock").read_text()
    assert '  H100_MEM_BW: "3.35 TB/s"' in lock
    assert '  - {line: 18, expr: "Bw.hbm_text", text: "3,350"}' in lock
    r = run_cli("numbers", "check", cwd=book)
    assert r.returncode == 0, r.stdout
    assert "numbers.lock matches (4 numbers in 1 chapter(s)" in r.stdout


def test_changed_constant_names_itself_and_the_numbers_it_moved(book: Path) -> None:
    assert run_cli("numbers", "accept", cwd=book).returncode == 0
    before = (book / "numbers.lock").read_bytes()
    set_constant(book, '_c(3.35,  "TB/s"', '_c(3.9,   "TB/s"')
    r = run_cli("numbers", "check", cwd=book)
    assert r.returncode == 1
    out = r.stdout
    assert "drift: ch.qmd:18 Bw.hbm_text: 3,350 → 3,900  (moved by H100_MEM_BW)" in out
    assert "drift: ch.qmd:18 Bw.ratio: 52 → 61  (moved by H100_MEM_BW)" in out
    assert "drift: constant H100_MEM_BW: 3.35 TB/s → 3.9 TB/s" in out
    assert "    moved ch.qmd:18 Bw.hbm_text" in out
    assert "Bw.latency" not in out  # untouched by that constant
    assert (book / "numbers.lock").read_bytes() == before  # check leaves the lock alone

    render = run_cli("render", "--to", "html", cwd=book)
    assert render.returncode == 0  # drift in render is a warning...
    assert "warning: ch.qmd:18 Bw.hbm_text: 3,350 → 3,900" in render.stderr
    strict = run_cli("render", "--to", "html", "--strict", cwd=book)
    assert strict.returncode == 1  # ...and an error with --strict
    assert "error: ch.qmd:18 Bw.hbm_text" in strict.stderr
    assert (book / "numbers.lock").read_bytes() == before

    accepted = run_cli("numbers", "accept", cwd=book)
    assert accepted.returncode == 0
    assert "accepted: constant H100_MEM_BW: 3.35 TB/s → 3.9 TB/s" in accepted.stdout
    assert run_cli("numbers", "check", cwd=book).returncode == 0


def test_added_and_removed_references_are_reported(book: Path) -> None:
    assert run_cli("numbers", "accept", cwd=book).returncode == 0
    chapter = book / "ch.qmd"
    text = chapter.read_text()
    chapter.write_text(text.replace("The load latency is `{python} Bw.latency` ns.",
                                    "PCIe is `{python} Bw.pcie`."))
    r = run_cli("numbers", "check", cwd=book)
    assert r.returncode == 1
    assert "drift: ch.qmd:19 new reference Bw.pcie = 64 GB/s" in r.stdout
    assert "drift: ch.qmd:19 removed reference Bw.latency (was 300)" in r.stdout


def test_why_prints_the_chain_down_to_sourced_constants(book: Path) -> None:
    assert run_cli("numbers", "accept", cwd=book).returncode == 0
    r = run_cli("numbers", "why", "Bw.ratio", cwd=book)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "ch.qmd: Bw.ratio = 52"
    assert "  Bw.ratio = fmt(ratio_value, precision=0)" in lines
    assert "    Bw.ratio_value = (hbm / pcie).m_as('')" in lines
    assert any(line.startswith("        ← H100_MEM_BW = 3.35 TB/s (NVIDIA H100") for line in lines)
    assert any(line.startswith("        ← PCIE_GEN5_BW = 64 GB/s (PCI-SIG") for line in lines)
    assert lines[-1] == "  constants: H100_MEM_BW, PCIE_GEN5_BW"
    missing = run_cli("numbers", "why", "Nope.value", cwd=book)
    assert missing.returncode == 1 and "'Nope.value' is not defined" in missing.stderr


def test_html_carries_provenance_except_inside_math(book: Path) -> None:
    assert run_cli("render", "--to", "html", cwd=book).returncode == 0
    html = (book / "_book" / "ch.html").read_text()
    assert ('<span class="num" data-expr="Bw.hbm_text" data-constants="H100_MEM_BW" '
            'title="Bw.hbm_text ← H100_MEM_BW = 3.35 TB/s (NVIDIA H100') in html
    for math in html.split("<math")[1:]:
        assert "data-expr" not in math.split("</math>")[0]
    assert html.count('data-expr="Bw.ratio"') == 1  # the occurrence inside $...$ stays bare


def test_lock_format_round_trips_and_is_sorted(tmp_path: Path) -> None:
    lock = numbers.Lock({"B": "2 GB", "A": "1 ns"}, [
        numbers.Entry("z.qmd", 9, 'X.q', 'say "hi" $x$', 1),
        numbers.Entry("a.qmd", 3, "Y.b", "3,350", 1),
        numbers.Entry("a.qmd", 1, "Y.b", "1", 1),
    ])
    text = numbers.dump(lock)
    assert text.index("  A:") < text.index("  B:") and text.index("a.qmd") < text.index("z.qmd")
    path = tmp_path / "numbers.lock"
    path.write_text(text)
    again = numbers.load(path)
    assert numbers.dump(again) == text
    assert {e.text for e in again.entries} == {'say "hi" $x$', "3,350", "1"}


def test_unreadable_lock_is_a_clear_error(book: Path) -> None:
    (book / "numbers.lock").write_text("chapters: [unclosed\n")
    r = run_cli("numbers", "check", cwd=book)
    assert r.returncode == 1
    assert "numbers.lock:1:1: malformed line in the numbers lock: 'chapters: [unclosed'" in r.stderr
    assert "Traceback" not in r.stderr


def test_our_book_matches_its_lock() -> None:
    r = run_cli("numbers", "check", cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


def test_only_chapters_using_a_changed_constant_re_execute(book: Path) -> None:
    assert "executed" in run_cli("render", "--to", "md", cwd=book).stderr
    set_constant(book, '_c(4,       "ns"', '_c(5,       "ns"')  # LATENCY_L2_CACHE: unused here
    r = run_cli("render", "--to", "md", cwd=book)
    assert "cached, no kernel started" in r.stderr
    set_constant(book, '_c(300,     "ns"', '_c(250,     "ns"')  # LATENCY_HBM3: used
    r = run_cli("render", "--to", "md", cwd=book)
    assert "executed 1 cells" in r.stderr
    assert "The load latency is 250 ns." in (book / "_book" / "ch.md").read_text()


MEASURED = """
```{python}
#| label: measured
from mlsysim.core.measured import H100_MEASURED_HBM_BW


class Achieved:
    share = (H100_MEASURED_HBM_BW / H100_MEM_BW).m_as("") * 100
    text = fmt(share, precision=0)
```

Measured copies reach `{python} Achieved.text` % of the datasheet bandwidth.
"""


def test_measured_constants_are_causes_in_why_drift_and_tooltips(book: Path) -> None:
    (book / "ch.qmd").write_text(CHAPTER + MEASURED)
    assert run_cli("numbers", "accept", cwd=book).returncode == 0
    assert '  H100_MEASURED_HBM_BW: "3.015 TB/s"' in (book / "numbers.lock").read_text()
    r = run_cli("numbers", "why", "Achieved.text", cwd=book)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "ch.qmd: Achieved.text = 90"
    assert any(line.strip().startswith("← H100_MEASURED_HBM_BW = 3.015 TB/s (Measured on H100")
               for line in r.stdout.splitlines())
    assert r.stdout.splitlines()[-1] == "  constants: H100_MEASURED_HBM_BW, H100_MEM_BW"
    probe = book / "mlsysim" / "data" / "h100_probe.json"
    probe.write_text(probe.read_text().replace('"hbm_copy_TBps_rw": 3.015', '"hbm_copy_TBps_rw": 2.68'))
    r = run_cli("numbers", "check", cwd=book)
    assert r.returncode == 1
    assert "Achieved.text: 90 → 80  (moved by H100_MEASURED_HBM_BW)" in r.stdout
    assert "drift: constant H100_MEASURED_HBM_BW: 3.015 TB/s → 2.68 TB/s" in r.stdout
    assert run_cli("render", "--to", "html", cwd=book).returncode == 0
    html = (book / "_book" / "ch.html").read_text()
    assert ('data-expr="Achieved.text" data-constants="H100_MEASURED_HBM_BW H100_MEM_BW" '
            'title="Achieved.text ← H100_MEASURED_HBM_BW = 2.68 TB/s (Measured on H100') in html


def test_numbers_reuse_a_render_of_one_format_and_only_when_the_same_cells_run(book: Path) -> None:
    # The numbers commands plan for every format in _quarto.yml; a render of one format made
    # other images but the same values, so a check right after it starts no kernel. A format
    # whose cells run under other rules (here the PDF lets errors through) is not reused.
    config = book / "_quarto.yml"
    config.write_text(config.read_text() + "format:\n  html: default\n  pdf:\n    execute:\n"
                      "      error: true\n")
    assert run_cli("render", "--to", "html", cwd=book).returncode == 0
    r = run_cli("numbers", "accept", cwd=book)
    assert r.returncode == 0, r.stderr
    assert "executed" not in r.stderr and "ch.qmd: cached" in r.stderr
    shutil.rmtree(book / ".bookbuild")
    assert run_cli("render", "--to", "pdf", cwd=book).returncode == 0
    r = run_cli("numbers", "check", cwd=book)
    assert r.returncode == 0, r.stderr
    assert "ch.qmd: executed" in r.stderr
