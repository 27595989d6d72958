"""`tbl-subcap` on a cell with several tables: one numbered table whose parts read (a), (b)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import run_cli

CHAPTER = """\
# Tables

```{python}
#| label: tbl-pair
#| tbl-cap: "Two small tables"
#| tbl-subcap: ["Left side", "Right side"]
#| echo: false
import pandas as pd
display(pd.DataFrame({"alpha": [1, 2]}))
display(pd.DataFrame({"beta": [3, 4]}))
```

See @tbl-pair and @tbl-pair-2.
"""


def test_sub_tables_are_lettered_under_one_caption(tmp_path: Path) -> None:
    pytest.importorskip("pandas", reason="pandas is a test dependency: make setup installs it")
    (tmp_path / "_quarto.yml").write_text("project:\n  type: book\nbook:\n  title: T\n"
                                          "  chapters:\n    - t.qmd\n")
    (tmp_path / "t.qmd").write_text(CHAPTER)
    r = run_cli("render", "--to", "html", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "_book" / "t.html").read_text()
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "Table 1.1: Two small tables" in text
    assert text.index("(a) Left side") < text.index("alpha") < text.index("(b) Right side") \
        < text.index("beta")
    assert "See Table 1.1 and Table 1.1 (b)" in text.replace("\xa0", " ").replace(" .", ".")
    assert text.count("Table 1.2") == 0  # the parts are not tables of their own
