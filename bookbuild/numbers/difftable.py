"""The numbers that moved between two locks, as rows, and those rows as plain text, a markdown
table for a pull-request comment, or JSON with stable keys for tools."""

from __future__ import annotations

import json
import re

from bookbuild.numbers.drift import cause_names
from bookbuild.numbers.lock import Drift, Entry
from bookbuild.numbers.shown import Shown

_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?")
ROW_KEYS = ("change", "chapter", "line", "where", "cell", "row", "column", "what", "old", "new",
            "relative", "causes")


def relative(old: str | None, new: str | None) -> str:
    """`+16.4%` when both texts are one number in the same words and units, else ``."""
    if old is None or new is None:
        return ""
    a, b = _NUMBER.findall(old), _NUMBER.findall(new)
    if len(a) != 1 or len(b) != 1 or _NUMBER.sub("#", old) != _NUMBER.sub("#", new):
        return ""
    x, y = float(a[0].replace(",", "")), float(b[0].replace(",", ""))
    if x == 0:
        return ""
    return f"{(y - x) / abs(x) * 100:+.1f}%"


def _row(change: str, e: Entry | Shown, old: str | None, new: str | None,
         causes: list[str]) -> dict:
    shown = isinstance(e, Shown)
    return {"change": change, "chapter": e.chapter, "line": e.line, "where": e.place(),
            "cell": e.cell if shown else None, "row": (e.row or None) if shown else None,
            "column": (e.column or None) if shown else None,
            "what": e.at if shown else e.expr, "old": old, "new": new,
            "relative": relative(old, new), "causes": causes}


def rows(drift: Drift, causes: dict[tuple, set[str]]) -> list[dict]:
    """One row per moved, new or removed number, in chapter and line order."""
    named = cause_names(drift, causes)
    out = [_row("moved", now, was.text, now.text, named.get(now.key, []))
           for was, now in drift.moved]
    out += [_row("new", e, None, e.text, []) for e in drift.added]
    out += [_row("removed", e, e.text, None, []) for e in drift.removed]
    return sorted(out, key=lambda r: (r["chapter"], r["line"], r["change"], r["what"]))


def inputs(drift: Drift) -> list[dict]:
    """Each constant, data file and package that differs, old and new."""
    def short(v):
        return None if v is None else v if isinstance(v, str) else f"{v[0]} bytes, sha256 {v[1][:12]}"
    out = [{"kind": "constant", "name": n, "old": a, "new": b} for n, a, b in drift.constants]
    out += [{"kind": "data file", "name": p, "old": short(a), "new": short(b)}
            for p, a, b in drift.files]
    out += [{"kind": "package", "name": n, "old": a, "new": b} for n, a, b in drift.packages]
    return out


def by_chapter(table: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in table:
        out.setdefault(r["chapter"], []).append(r)
    return out


def _what(r: dict) -> str:
    return f"[{r['cell']}] {r['what']}" if r["cell"] else r["what"]


def _cause(r: dict) -> str:
    if r["change"] != "moved":
        return r["change"]
    return ", ".join(r["causes"]) or "no changed input: code changed"


def _arrow(r: dict) -> str:
    return f"{r['old'] if r['old'] is not None else '—'} → {r['new'] if r['new'] is not None else '—'}"


def summary(table: list[dict], changed: list[dict]) -> str:
    counts = {c: sum(r["change"] == c for r in table) for c in ("moved", "new", "removed")}
    return (f"{counts['moved']} moved, {counts['new']} new, {counts['removed']} removed; "
            f"{len(changed)} input(s) changed")


def plain(table: list[dict], changed: list[dict], title: str, command: str = "numbers diff") -> str:
    lines = [title]
    for chapter, chapter_rows in by_chapter(table).items():
        cols = [("where", [r["where"] for r in chapter_rows]),
                ("what", [_what(r) for r in chapter_rows]),
                ("old → new", [_arrow(r) for r in chapter_rows]),
                ("change", [r["relative"] for r in chapter_rows]),
                ("cause", [_cause(r) for r in chapter_rows])]
        widths = [max(len(h), *(len(v) for v in vals)) for h, vals in cols]
        lines += ["", chapter, ("  " + "  ".join(h.ljust(w) for (h, _), w
                                                in zip(cols, widths, strict=True))).rstrip()]
        for i in range(len(chapter_rows)):
            lines.append(("  " + "  ".join(vals[i].ljust(w) for (_, vals), w
                                           in zip(cols, widths, strict=True))).rstrip())
    if changed:
        lines += ["", "inputs that changed:"]
        lines += [f"  {c['kind']} {c['name']}: {c['old'] or 'absent'} → {c['new'] or 'absent'}"
                  for c in changed]
    lines += ["", f"{command}: " + summary(table, changed)]
    return "\n".join(lines)


def _cell(text: str) -> str:
    """A markdown table cell: pipes escaped, code spans for what is code."""
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(table: list[dict], changed: list[dict], title: str) -> str:
    lines = [f"### {title}", "", summary(table, changed) + "."]
    for chapter, chapter_rows in by_chapter(table).items():
        lines += ["", f"#### `{chapter}`", "", "| where | what | old → new | change | cause |",
                  "|---|---|---|---:|---|"]
        lines += [f"| `{_cell(r['where'])}` | `{_cell(_what(r))}` | {_cell(_arrow(r))} | "
                  f"{r['relative']} | {_cell(_cause(r))} |" for r in chapter_rows]
    if changed:
        lines += ["", "| input | old | new |", "|---|---|---|"]
        lines += [f"| {c['kind']} `{_cell(c['name'])}` | {_cell(c['old'] or 'absent')} | "
                  f"{_cell(c['new'] or 'absent')} |" for c in changed]
    return "\n".join(lines)


def as_json(table: list[dict], changed: list[dict], old: str, new: str) -> str:
    chapters = [{"chapter": c, "numbers": rs} for c, rs in by_chapter(table).items()]
    counts = {c: sum(r["change"] == c for r in table) for c in ("moved", "new", "removed")}
    return json.dumps({"from": old, "to": new, "summary": {**counts, "inputs": len(changed)},
                       "chapters": chapters, "inputs": changed}, indent=2, ensure_ascii=False)
