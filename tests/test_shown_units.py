"""The numbers a cell's output shows and the keys they are locked under (no kernel)."""

from __future__ import annotations

from bookbuild.numbers.shown import cell_numbers, normal


def printed(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def shown(mime: str, payload: str) -> dict:
    return {"output_type": "execute_result", "data": {mime: payload, "text/plain": "<table>"}}


def keyed(outputs: list[dict], asis: bool = False) -> dict[str, str]:
    return {key: number for key, number, _, _ in cell_numbers(outputs, asis)}


def test_formatting_noise_is_one_spelling() -> None:
    assert normal("1,234.500") == normal("1234.5") == "1234.5"
    assert normal("−0.0") == normal("0") == "0"
    assert normal("2.50E+03") == "2.5e3"
    assert normal("100") == "100"  # trailing zeros of an integer are its value
    before = keyed([printed("<Frame at 0x7f3a2c1b9e50> read 2024-05-01 10:12:03: total 1,234.50 t\n")])
    after = keyed([printed("<Frame at 0x55d0aa01c2f0> read 2026-12-07 22:30:00: total   1234.5 t\n")])
    assert before == after == {"<Frame at …> read …: total {} t": "1234.5"}


def test_a_line_is_keyed_by_its_words_so_an_added_print_moves_nothing_after_it() -> None:
    first = keyed([printed("mean 2.5\nmax 7 of 9\n")])
    later = keyed([printed("rows 12\nmean 2.5\nmax 7 of 9\n")])
    assert first == {"mean {}": "2.5", "max {} of #": "7", "max # of {}": "9"}
    assert {k: v for k, v in later.items() if k != "rows {}"} == first


def test_html_tables_by_row_and_column_labels_with_spans() -> None:
    html = """<style>td {width: 10px}</style><table class="dataframe">
    <thead><tr><th></th><th colspan="2">yield</th></tr>
           <tr><th></th><th>2024</th><th>2025</th></tr></thead>
    <tbody><tr><th rowspan="2">north</th><td>1,200</td><td>1.50</td></tr>
           <tr><td>7</td><td>8</td></tr></tbody></table>"""
    assert keyed([shown("text/html", html)]) == {
        "table 1 [row 'north', column 'yield / 2024']": "1200",
        "table 1 [row 'north', column 'yield / 2025']": "1.5",
        "table 1 [row 'north', column 'yield / 2024'] (2)": "7",
        "table 1 [row 'north', column 'yield / 2025'] (2)": "8",
    }


def test_a_moved_row_keeps_its_keys() -> None:
    rows = ["<tr><th>a</th><td>1</td></tr>", "<tr><th>b</th><td>2</td></tr>"]
    head = "<table><thead><tr><th></th><th>n</th></tr></thead><tbody>"
    one = keyed([shown("text/html", head + "".join(rows) + "</tbody></table>")])
    other = keyed([shown("text/html", head + "".join(reversed(rows)) + "</tbody></table>")])
    assert one == other == {"table 1 [row 'a', column 'n']": "1", "table 1 [row 'b', column 'n']": "2"}


def test_markdown_and_asis_pipe_tables_and_what_is_not_shown() -> None:
    table = "| Name | Value |\n|:--|--:|\n| `K` | 3,000 |\n| 12 | 4 |\n"
    expected = {"table 1 [row 'K', column 'Value']": "3000",
                "table 1 [row 'row 2', column 'Name']": "12",
                "table 1 [row 'row 2', column 'Value']": "4"}
    assert keyed([shown("text/markdown", table)]) == expected
    assert keyed([printed(table)], asis=True) == expected
    hidden = [{"output_type": "stream", "name": "stderr", "text": "warn.py:12: Warning\n"},
              {"output_type": "display_data", "data": {"image/png": "iVBOR", "text/plain": "<Figure 640x480>"}},
              {"output_type": "error", "ename": "E", "evalue": "3", "traceback": ["line 3"]}]
    assert keyed(hidden) == {}
