"""`bookbuild check --literals`: hand-typed numbers against the chapter's computed values.

Every route (cell comment/docstring, same sentence, table row, caption ratio, name words) has a
stale case and a fair one in fixtures/literals/stale.qmd; clean.qmd holds numbers that are
never findings. Each fixture runs in a real kernel once (the second run is served by the cache).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, UPSTREAM, run_cli

LIT = FIXTURES / "literals"


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("literals")
    for f in LIT.glob("*.qmd"):
        shutil.copy(f, d / f.name)
    return d


@pytest.fixture(scope="module")
def stale(book: Path):
    r = run_cli("check", "--literals", "stale.qmd", cwd=book)
    return r, r.stdout.splitlines()


def _finding(lines: list[str], where: str) -> str:
    hits = [line for line in lines if line.startswith(where)]
    assert hits, f"no finding at {where}:\n" + "\n".join(lines)
    return hits[0]


def test_cell_comment_contradiction_names_value_and_evidence(stale) -> None:
    _, lines = stale
    line = _finding(lines, "stale.qmd:9:19:")
    assert line.endswith("'~90 FLOP/byte' contradicts the computed Chip.ridge_txt = 60 [LIT001]")
    i = lines.index(line)
    assert lines[i + 1].strip().startswith("value: Chip.ridge_txt = f\"{ridge:.0f}\" = 60 (line 15)")
    assert "the comment of the cell that assigns Chip.ridge_txt" in lines[i + 2]


def test_cell_docstring_contradiction(stale) -> None:
    _, lines = stale
    assert "'~4×' contradicts the computed Chip.big_over_small = 2.5 [LIT001]" in \
        _finding(lines, "stale.qmd:8:34:")


def test_fair_rounding_in_a_comment_is_not_flagged(stale) -> None:
    _, lines = stale
    assert not [line for line in lines if "'~300 TFLOP/s'" in line]  # peak is 300


def test_same_sentence_stale_and_could_be_computed(stale) -> None:
    _, lines = stale
    assert "'75 FLOP/byte' contradicts the computed Chip.ridge_txt = 60 [LIT001]" in \
        _finding(lines, "stale.qmd:26:")
    could = _finding(lines, "stale.qmd:28:")
    assert could.endswith("'~2.5×' could be computed: it equals Chip.big_over_small = 2.5 [LIT002]")
    assert "help: write `{python} Chip.big_over_small` instead" in lines[lines.index(could) + 3]


def test_table_row_contradiction_and_unrelated_row(stale) -> None:
    _, lines = stale
    line = _finding(lines, "stale.qmd:32:38:")
    assert "'4.0' contradicts the computed Chip.big_bw = 5" in line
    assert "row 'big', column 'Bandwidth (TB/s)' of tbl-chips" in lines[lines.index(line) + 2]
    assert not [x for x in lines if x.startswith("stale.qmd:33:")]  # no small_bw: no finding


def test_caption_ratio_contradiction_and_fair_caption(stale) -> None:
    _, lines = stale
    line = _finding(lines, "stale.qmd:42:")
    assert "'~5×' contradicts the ratio of the values in its table, 3 [LIT001]" in line
    assert "Card.fast_gbps / Card.slow_gbps = 900 / 300" in lines[lines.index(line) + 1]
    assert not [x for x in lines if x.startswith("stale.qmd:49:")]  # ~3× is the ratio
    above = _finding(lines, "stale.qmd:57:")  # a caption written before its table
    assert "'~4×' contradicts the ratio of the values in its table, 3 [LIT001]" in above
    assert "caption of tbl-cards-above" in lines[lines.index(above) + 2]


def test_name_words_stale_fair_and_hypothetical(stale) -> None:
    _, lines = stale
    assert "'~150 km/ms' contradicts the computed speed_of_light_km_ms = 200 [LIT001]" in \
        _finding(lines, "stale.qmd:51:")
    assert "could be computed: it equals speed_of_light_km_ms = 200 [LIT002]" in \
        _finding(lines, "stale.qmd:53:")
    assert not [x for x in lines if x.startswith("stale.qmd:55:")]  # a question is not a claim


def test_summary_and_exit_code(stale) -> None:
    r, lines = stale
    assert r.returncode == 1
    assert lines[-1].startswith("literals: 7 LIT001 stale, 2 LIT002 could be computed in 1 file")
    assert "Traceback" not in r.stderr


def test_never_findings_exit_zero(book: Path) -> None:
    r = run_cli("check", "--literals", "clean.qmd", cwd=book)
    assert r.returncode == 0, r.stdout
    assert r.stdout.splitlines()[-1].startswith("ok: literals: 0 LIT001 stale, 0 LIT002")


def test_the_same_number_as_plain_prose_is_a_finding(book: Path) -> None:
    """Control for the test above: its words do tie 208 to a100_ridge_point; only the
    context (section, code, math, URL, range...) keeps those 208s from being findings."""
    text = (book / "clean.qmd").read_text(encoding="utf-8")
    (book / "control.qmd").write_text(text + "\nThe A100 ridge point is 208 FLOP/byte.\n",
                                      encoding="utf-8")
    r = run_cli("check", "--literals", "control.qmd", cwd=book)
    findings = [x for x in r.stdout.splitlines() if x.endswith("]")]
    last = len(text.splitlines()) + 2
    assert findings == [f"control.qmd:{last}:25: '208 FLOP/byte' contradicts the computed "
                        "a100_ridge_point = 153 [LIT001]"]


def test_silencing_comment_drops_one_finding_and_is_counted(book: Path, stale) -> None:
    text = (book / "stale.qmd").read_text(encoding="utf-8")
    quiet = book / "quiet.qmd"
    quiet.write_text(text.replace(
        "| Big | `{python} Chip.big_tflops` | 4.0 |",
        "| Big | `{python} Chip.big_tflops` | 4.0 | <!-- bookbuild: ignore LIT001 -->").replace(
        "for the big chip; peak ~300 TFLOP/s.",
        "for the big chip; peak ~300 TFLOP/s.  # bookbuild: ignore LIT001"),
        encoding="utf-8")
    r = run_cli("check", "--literals", "quiet.qmd", cwd=book)
    out = r.stdout.splitlines()
    assert not [x for x in out if x.startswith(("quiet.qmd:32:", "quiet.qmd:9:"))]
    assert [x for x in out if x.startswith("quiet.qmd:26:")]  # LIT001 elsewhere stays
    assert out[-1].startswith(
        "literals: 5 LIT001 stale, 2 LIT002 could be computed, 2 silenced in 1 file")


def test_without_the_flag_check_runs_nothing_and_ignores_literals(book: Path) -> None:
    r = run_cli("check", "stale.qmd", cwd=book)
    assert r.returncode == 0
    assert "LIT00" not in r.stdout


def _upstream() -> Path:
    """../shared beside the repository; from a git worktree, beside the main checkout."""
    if UPSTREAM.is_file():
        return UPSTREAM
    import subprocess

    common = subprocess.run(["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
                            cwd=LIT, capture_output=True, text=True, timeout=30).stdout.strip()
    return Path(common).parent.parent / "shared" / "upstream" / UPSTREAM.name if common else UPSTREAM


def test_upstream_appendix_reports_exactly_its_four_contradictions(tmp_path: Path) -> None:
    upstream = _upstream()
    if not upstream.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{upstream} is required in CI")
        pytest.skip(f"{upstream} not present (it lives in ../shared beside the repository)")
    r = run_cli("check", "--literals", str(upstream), cwd=tmp_path)
    stale = sorted(line.split(": ", 1)[0].rsplit("/", 1)[-1]
                   for line in r.stdout.splitlines() if line.endswith("[LIT001]"))
    assert stale == ["appendix_machine.qmd:245:50", "appendix_machine.qmd:326:22",
                     "appendix_machine.qmd:327:50", "appendix_machine.qmd:531:12"]
    assert "'~28×' contradicts the computed NumbersToKnow.dc_mobile_ratio = 19" in r.stdout
    assert "'~208 FLOP/byte' contradicts the computed AppendixMachineSetup.ridge_point = 153" \
        in r.stdout
    assert "'~0.12%' contradicts the computed AppendixMachineSetup.relu_util_str = 0.16" in r.stdout
    assert "'~7.5×' contradicts the computed AmdahlExample.amdahl_8_str = 5.9" in r.stdout
    assert r.returncode == 1


def test_second_run_is_served_by_the_cache(tmp_path: Path) -> None:
    """A cell that leaves a mark each time it runs: two lints, one execution."""
    marks = tmp_path / "runs.txt"
    (tmp_path / "once.qmd").write_text(
        "```{python}\n"
        f"open({str(marks)!r}, 'a').write('ran\\n')\n"
        "class Link:\n    gbps = 400\n```\n\n"
        "The link carries `{python} Link.gbps` Gbps.\n", encoding="utf-8")
    for _ in range(2):
        r = run_cli("check", "--literals", "once.qmd", cwd=tmp_path)
        assert r.returncode == 0, r.stdout + r.stderr
    assert marks.read_text().splitlines() == ["ran"]


def test_a_failing_cell_is_located_and_exits_one(tmp_path: Path) -> None:
    (tmp_path / "bad.qmd").write_text(
        "```{python}\nclass Bad:\n    ratio = 1 / 0\n```\n\nIt is `{python} Bad.ratio`.\n",
        encoding="utf-8")
    r = run_cli("check", "--literals", "bad.qmd", cwd=tmp_path)
    assert r.returncode == 1
    assert "bad.qmd:3: ZeroDivisionError in cell #1: division by zero" in r.stderr
    assert "Traceback (most recent call last)" not in r.stderr


def test_one_word_name_with_its_unit_already_quoted_is_could_be_computed(tmp_path: Path) -> None:
    (tmp_path / "pct.qmd").write_text(
        "```{python}\nclass Job:\n    serial = 0.05\n    serial_pct = f\"{serial * 100:.0f}\"\n"
        "```\n\nWith a serial part of `{python} Job.serial_pct`%, the limit is twenty.\n\n"
        "A 5% serial part caps the speedup.\n\nA 7% serial part is another job.\n",
        encoding="utf-8")
    r = run_cli("check", "--literals", "pct.qmd", cwd=tmp_path)
    assert r.stdout.splitlines()[1] == \
        "pct.qmd:9:3: '5%' could be computed: it equals Job.serial_pct = 5 [LIT002]"
    assert "pct.qmd:11:" not in r.stdout  # 7% equals nothing computed: no finding
    assert r.returncode == 1


def test_the_books_execute_options_hold_as_in_render(tmp_path: Path) -> None:
    """`execute: {error: true}` in _quarto.yml: the cell's exception belongs in the page, so
    render succeeds; `check --literals` executes the chapter the same way and lints it."""
    from tests.test_render_md import _project

    chapter = ("# Ch\n\n```{python}\nclass Link:\n    gbps = 400\n"
               "raise RuntimeError('shown in the page')\n```\n\n"
               "The link carries `{python} Link.gbps` Gbps.\n\nA 400 Gbps link is fast.\n")
    root = _project(tmp_path / "b", {"ch.qmd": chapter}, settings="execute:\n  error: true\n")
    assert run_cli("render", "--to", "md", cwd=root).returncode == 0
    r = run_cli("check", "--literals", cwd=root)
    assert "RuntimeError" not in r.stderr, r.stderr
    assert r.stdout.splitlines()[-1].startswith("ok: literals: 0 LIT001 stale"), r.stdout
    assert "against 2 computed values" in r.stdout  # Link.gbps and the inline value
    assert r.returncode == 0


@pytest.fixture(scope="module")
def restated(book: Path):
    r = run_cli("check", "--literals", "restated.qmd", cwd=book)
    return r, r.stdout.splitlines()


def test_a_ratio_of_two_quoted_values_written_by_hand_could_be_computed(restated) -> None:
    _, lines = restated
    line = _finding(lines, "restated.qmd:14:")
    assert line.endswith("'7×' could be computed: it equals Node.hbm_gbs / Node.link_gbs = 7.44 "
                         "[LIT002]")
    assert "value: Node.hbm_gbs / Node.link_gbs = 3350 / 450" in lines[lines.index(line) + 1]


def test_a_hand_typed_ratio_that_disagrees_with_the_quoted_values_is_stale(restated) -> None:
    _, lines = restated
    line = _finding(lines, "restated.qmd:17:")
    assert line.endswith("'25×' contradicts the ratio of the values quoted just before it, "
                         "32.1 [LIT001]")
    assert "Node.link_gbs / Node.disk_gbs = 450 / 14 = 32.1" in lines[lines.index(line) + 1]


def test_a_hedged_or_bare_restatement_a_sentence_later_could_be_computed(restated) -> None:
    _, lines = restated
    assert _finding(lines, "restated.qmd:19:").endswith(
        "'~300' could be computed: it equals Node.nodes = 296 [LIT002]")
    assert _finding(lines, "restated.qmd:21:").endswith(
        "'296' could be computed: it equals Node.nodes = 296 [LIT002]")


def test_other_multiples_and_questions_are_not_findings(restated) -> None:
    r, lines = restated
    assert not [x for x in lines if x.startswith(("restated.qmd:23:", "restated.qmd:25:"))]
    assert r.returncode == 1
