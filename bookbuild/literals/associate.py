"""Associate each literal with the computed values an author evidently meant, and judge it.

Routes, strongest first: the cell whose comment or docstring holds the literal (names assigned
there); the table a caption describes (its values and the ratios between its rows); the table
row and column of a cell; inline references in the same sentence; the words around the
literal against the words of names. A literal that agrees at its own precision with the value
it is tied to is fine in a comment and LIT002 in prose; one that disagrees (and is of the same
order, so it could be a stale copy) is LIT001.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from bookbuild.literals.cells import CellSpot
from bookbuild.literals.precision import agrees, distance, plausible
from bookbuild.literals.prose import Spot, Table, sentence_before
from bookbuild.literals.scan import Literal
from bookbuild.literals.values import Value
from bookbuild.literals.words import STOP, UNITS, NameWords, Words, normal, text_words
from bookbuild.source.qmd import Document, InlineRef

_REF_UNIT = re.compile(r"\s?(\$\s*\\times\s*\$|×|%|\\%|x(?![A-Za-z])|[A-Za-zµμ][\w/µμ]*)")
_HYPOTHETICAL = re.compile(r"^\W*(?:if|suppose|imagine|assume|say)\b", re.I)


@dataclass
class Finding:
    """One LIT001/LIT002 at a `.qmd` position, with the value and the evidence behind it."""

    line: int
    col: int
    code: str
    message: str
    details: list[str] = field(default_factory=list)


@lru_cache(maxsize=4096)
def _name(key: str) -> NameWords:
    return NameWords(key)


def _content(words: list[str]) -> list[str]:
    return [w for w in words if w not in STOP and w not in UNITS]


class Judge:
    """Holds the chapter's values and judges each literal of its text and cells."""

    def __init__(self, doc: Document, values: list[Value], view: str) -> None:
        from bookbuild.source.qmd import LineIndex

        self.doc, self.view = doc, view
        self.index = LineIndex(doc.text)
        by_key: dict[str, Value] = {}
        for v in values:
            by_key.setdefault(v.key, v)
        self.values = list(by_key.values())
        self.by_key = by_key
        self.by_cell: dict[int, list[Value]] = {}
        for v in self.values:
            if v.cell is not None:
                self.by_cell.setdefault(v.cell, []).append(v)
        self.by_line = {v.line: v for v in self.values if v.cell is not None}
        self.ref_starts = [r.start for r in doc.refs]
        self.by_word: dict[str, list[Value]] = {}
        for v in self.values:
            for w in _name(v.key).distinctive:
                self.by_word.setdefault(w if w.isdigit() or len(w) < 5 else w[:5], []).append(v)
        self._tables: dict[int, list] = {}

    # --- cell comments and docstrings -------------------------------------------------
    def cell(self, sp: CellSpot) -> Finding | None:
        lit = sp.lit
        context = Words(_without(sp.clause, lit))
        cands = self.by_cell.get(sp.cell, [])
        tied = [v for v in cands if _name(v.key).matched(context)]
        if sp.assigned_line is not None and sp.assigned_line in self.by_line:
            tied.append(self.by_line[sp.assigned_line])
        if any(agrees(lit, v.number) for v in tied + cands):
            return None
        if any(agrees(lit, v.number) for v in self.values
               if _name(v.key).distinctive
               and len(_name(v.key).matched(context)) == len(_name(v.key).distinctive)):
            return None  # restates a value computed in another cell
        scored = [(len(_name(v.key).matched(context)), v.quoted, -distance(lit, v.number), v)
                  for v in tied if plausible(lit, v.number)]
        if not scored:
            return None
        best = max(scored, key=lambda s: s[:3])[3]
        words = _name(best.key).matched(context)
        where = "docstring" if sp.kind == "docstring" else "comment"
        evidence = (f"the {where} of the cell that assigns {best.key}"
                    + (f"; words: {', '.join(words)}" if words else "")
                    + ("" if not best.quoted else "; the chapter quotes it inline"))
        return self._stale(sp.line, sp.col, lit, best, evidence)

    # --- markdown ------------------------------------------------------------------------
    # Each route returns a Finding, None (judged: nothing to report) or False (no evidence
    # on this route: try the next one).
    def prose(self, sp: Spot) -> Finding | None:
        lit = sp.lit
        line, col = self.index.position(lit.mark_start)
        may_suggest = not sp.in_attribute and sp.kind in ("prose", "table", "caption")
        sentence = self._text(sp)
        if sp.kind == "caption" and sp.table is not None:
            found = self._caption(sp, sentence, line, col, may_suggest)
            if found is not False:
                return found
        if sp.kind == "table" and sp.table is not None:
            found = self._row(sp, line, col)
            if found is not False:
                return found
        found = self._sentence_refs(sp, sentence, line, col, may_suggest)
        if found is not False:
            return found
        if sp.paragraph is not None and may_suggest:
            found = self._restated(sp, sentence, line, col)
            if found is not False:
                return found
        return self._name_words(sp, sentence, line, col, may_suggest)

    def _text(self, sp: Spot) -> str:
        a, b = sp.sentence
        if sp.in_attribute:
            from bookbuild.literals.scan import masked

            return masked(self.doc.text[a:b])
        return self.view[a:b]

    def _local(self, sp: Spot) -> Literal:
        from dataclasses import replace

        a = sp.sentence[0]
        return replace(sp.lit, start=sp.lit.start - a, end=sp.lit.end - a,
                       mark_start=sp.lit.mark_start - a)

    def _caption(self, sp: Spot, sentence: str, line: int, col: int, may_suggest: bool):
        lit, table = sp.lit, sp.table
        context = Words(_without(sentence, self._local(sp)))
        cells = self._table_values(table)
        label = f"caption of {table.label}" if table.label else "a table caption"
        for v, r, c in cells:
            a, b = table.rows[r][c]
            units = {_unit_after(self.doc.text, ref.end) for ref in self._refs(a, b)}
            if agrees(lit, v.number) and (lit.unit in units or not lit.unit and not units - {""}):
                if may_suggest:
                    return self._could(line, col, lit, v, f"{label}; the table quotes {v.key}")
                return None
        ratios = self._ratios(cells, table, context) if lit.unit == "×" else []
        if any(agrees(lit, r) for r, _ in ratios):
            return None
        named = self._named(lit, context, need=2)
        if named is not None:
            v, words = named
            if agrees(lit, v.number):
                return self._could(line, col, lit, v, f"{label}; words: {', '.join(words)}") \
                    if may_suggest else None
            if plausible(lit, v.number):
                evidence = f"{label}; words: {', '.join(words)}"
                near = min(ratios, key=lambda r: abs(r[0] - v.number), default=None)
                if near is not None:
                    evidence += f"; table ratio {near[1]} = {near[0]:.3g}"
                return self._stale(line, col, lit, v, evidence)
        same_column = [(r, how) for r, how in ratios if "(same column)" in how]
        close = [(r, how) for r, how in same_column if plausible(lit, r)]
        if close and not any(agrees(lit, r) for r, _ in ratios):
            r, how = min(close, key=lambda x: abs(x[0] - lit.number))
            return Finding(line, col, "LIT001",
                           f"'{lit.shown}' contradicts the ratio of the values in its table, "
                           f"{r:.3g}", [f"value: {how} = {r:.3g}", f"evidence: {label}",
                                        "help: compute the ratio in a cell and quote it inline"])
        return False

    def _sharing(self, context: Words) -> list[Value]:
        """Values whose name shares at least one word with `context` (in chapter order)."""
        hits: dict[str, Value] = {}
        for w in context:
            for v in self.by_word.get(w if w.isdigit() or len(w) < 5 else w[:5], ()):
                hits[v.key] = v
        return list(hits.values())

    def _refs(self, a: int, b: int) -> list[InlineRef]:
        from bisect import bisect_left

        i, j = bisect_left(self.ref_starts, a), bisect_left(self.ref_starts, b)
        return list(self.doc.refs[i:j])

    def _table_values(self, table: Table) -> list[tuple[Value, int, int]]:
        """(value, row, column) for every inline reference in the table's body."""
        if id(table) in self._tables:
            return self._tables[id(table)]
        out = []
        for r, cells in enumerate(table.rows):
            for c, (a, b) in enumerate(cells):
                for ref in self._refs(a, b):
                    v = self.by_key.get(ref.expr)
                    if v is not None:
                        out.append((v, r, c))
        self._tables[id(table)] = out
        return out

    def _row_words(self, table: Table, r: int) -> list[str]:
        a, b = table.rows[r][0] if table.rows[r] else (0, 0)
        return _content(text_words(self.view[a:b]))

    def _ratios(self, cells, table: Table, context: list[str]) -> list[tuple[float, str]]:
        """Ratios between values of rows the caption names by different words."""
        rows: dict[int, set[str]] = {}
        for r in range(len(table.rows)):
            row = Words(self._row_words(table, r))
            hit = {c for c in context if row.has(c)}
            if hit:
                rows[r] = hit
        out = []
        for v1, r1, c1 in cells:
            for v2, r2, c2 in cells:
                if r1 in rows and r2 in rows and rows[r1] - rows[r2] and rows[r2] - rows[r1] \
                        and v2.number > 0 and v1.number >= v2.number:
                    how = f"{v1.key} / {v2.key} = {v1.text} / {v2.text}"
                    out.append((v1.number / v2.number,
                                how + (" (same column)" if c1 == c2 else "")))
        return out

    def _row(self, sp: Spot, line: int, col: int):
        table, lit = sp.table, sp.lit
        if sp.column is None or sp.row is None or sp.column == 0:
            return False
        header = _content(text_words(table.header[sp.column])) if sp.column < len(table.header) \
            else []
        label = self._row_words(table, sp.row)
        column_names = [v.key for v, r, c in self._table_values(table) if c == sp.column]
        pattern: list[str] = []
        if len(column_names) >= 2:
            common = set(_name(column_names[0]).distinctive)
            for k in column_names[1:]:
                common &= set(_name(k).distinctive)
            pattern = sorted(common)
        found = []
        label_w, side_w, all_w = Words(label), Words(header + pattern), Words(label + header + pattern)
        for v in self._sharing(label_w):
            nw = _name(v.key)
            if not nw.distinctive or not nw.matched(label_w) or not nw.matched(side_w):
                continue
            if len(nw.matched(all_w)) < len(nw.distinctive):
                continue
            if nw.units and not nw.unit_matches(lit.unit):
                continue  # another dimension, or a bare multiple where the name has a unit
            found.append(v)
        if not found:
            return False
        where = f"row '{' '.join(label)}', column '{table.header[sp.column].strip()}'"
        if table.label:
            where += f" of {table.label}"
        agreeing = [v for v in found if agrees(lit, v.number)]
        if agreeing:
            v = max(agreeing, key=lambda v: v.quoted)
            return self._could(line, col, lit, v, f"table {where}")
        close = [v for v in found if plausible(lit, v.number)]
        if close:
            v = min(close, key=lambda v: distance(lit, v.number))
            return self._stale(line, col, lit, v, f"table {where}")
        return None

    def _sentence_refs(self, sp: Spot, sentence: str, line: int, col: int, may_suggest: bool):
        lit = sp.lit
        a, b = sp.sentence
        local = self._local(sp)
        near = _content(_window(sentence, local))
        tied = []
        for ref in self._refs(a, b):
            v = self.by_key.get(ref.expr)
            if v is None:
                continue
            unit = _unit_after(self.doc.text, ref.end)
            words = _name(v.key).matched(near)
            if lit.unit and _same_unit(lit.unit, unit) and words:
                tied.append((v, words))
        if not tied:
            return False
        for v, words in tied:
            if agrees(lit, v.number):
                if may_suggest:
                    return self._could(line, col, lit, v, "the same sentence quotes "
                                       f"{v.key} (words: {', '.join(words)})")
                return None
        close = [(v, w) for v, w in tied if plausible(lit, v.number)]
        if not close:
            return None
        v, words = min(close, key=lambda t: distance(lit, t[0].number))
        return self._stale(line, col, lit, v, f"the same sentence quotes {v.key} "
                           f"(words: {', '.join(words)}, unit {lit.unit})")

    def _quoted_near(self, sp: Spot) -> list[tuple[Value, str]]:
        """(value, unit written after it) of the inline references in the literal's sentence
        and the sentence before it, in the same paragraph."""
        before = sentence_before(self.view, sp.paragraph, sp.sentence[0])
        a = before[0] if before else sp.sentence[0]
        out = []
        for ref in self._refs(a, sp.sentence[1]):
            v = self.by_key.get(ref.expr)
            if v is not None and v.number is not None:
                out.append((v, _unit_after(self.doc.text, ref.end)))
        return out

    def _restated(self, sp: Spot, sentence: str, line: int, col: int):
        """A number that restates values quoted just before it in other words: their ratio
        ("7× what the link offers") or one of them ("about 40" a sentence later)."""
        lit = sp.lit
        quoted = self._quoted_near(sp)
        if lit.unit == "×":
            pairs = [(v1.number / v2.number, v1, v2) for v1, u1 in quoted for v2, u2 in quoted
                     if v1.key != v2.key and v2.number > 0 and v1.number >= v2.number
                     and u1 not in ("×", "%") and _same_unit(u1, u2)]
            for ratio, v1, v2 in pairs:
                if agrees(lit, ratio):
                    return Finding(line, col, "LIT002", f"'{lit.shown}' could be computed: it "
                                   f"equals {v1.key} / {v2.key} = {ratio:.3g}", [
                                       f"value: {v1.key} / {v2.key} = {v1.text} / {v2.text}",
                                       "evidence: both are quoted inline just before it",
                                       "help: compute the ratio in a cell and quote it inline"])
            hypothetical = sentence.rstrip().endswith("?") or _HYPOTHETICAL.match(sentence)
            if len(pairs) == 1 and plausible(lit, pairs[0][0]) and not hypothetical:
                ratio, v1, v2 = pairs[0]
                return Finding(line, col, "LIT001", f"'{lit.shown}' contradicts the ratio of the "
                               f"values quoted just before it, {ratio:.3g}", [
                                   f"value: {v1.key} / {v2.key} = {v1.text} / {v2.text} = "
                                   f"{ratio:.3g}",
                                   "evidence: the only two values in that unit quoted inline in "
                                   "this sentence and the one before",
                                   "help: compute the ratio in a cell and quote it inline"])
        # A small bare number equals too much by chance ("2 of them", "10 steps").
        significant = len(lit.digits.replace(",", "").replace(".", "").strip("0"))
        if not lit.unit and lit.number < 20 and significant < 2:
            return False
        for v, unit in quoted:
            if _fits(lit.unit, unit) and agrees(lit, v.number):
                return self._could(line, col, lit, v, f"{v.key} is quoted inline just before it, "
                                   "in the same unit")
        return False

    def _named(self, lit: Literal, context: list[str], need: int):
        """The value all of whose distinctive name words appear in `context`, with at least
        `need` of them alphabetic, and whose unit (if any) is the literal's (strongest first)."""
        best = None
        for v in self._sharing(context):
            nw = _name(v.key)
            if len(nw.alphabetic) < need:
                continue
            words = nw.matched(context)
            if len(words) < len(nw.distinctive):
                continue
            if nw.units and not nw.unit_matches(lit.unit):
                continue  # another dimension, or a bare number where the name has a unit
            if lit.unit == "×" and not nw.ratio and nw.units:
                continue
            score = (len(words), agrees(lit, v.number), v.quoted, v.cell is not None)
            if best is None or score > best[0]:
                best = (score, v, words)
        return None if best is None else (best[1], best[2])

    def _name_words(self, sp: Spot, sentence: str, line: int, col: int, may_suggest: bool):
        lit = sp.lit
        context = Words(_content(_window(sentence, self._local(sp))))
        named = self._named(lit, context, need=2)
        if named is None:
            return self._one_word(lit, context, line, col) if may_suggest else None
        v, words = named
        if agrees(lit, v.number):
            if may_suggest:
                return self._could(line, col, lit, v, f"words: {', '.join(words)}")
            return None
        hypothetical = sentence.rstrip().endswith("?") or _HYPOTHETICAL.match(sentence)
        if plausible(lit, v.number) and not hypothetical:
            return self._stale(line, col, lit, v, f"words: {', '.join(words)}")
        return None

    def _one_word(self, lit: Literal, context: Words, line: int, col: int) -> Finding | None:
        """LIT002 only: a one-word name whose unit the literal shares and which the chapter
        already quotes inline (`serial_pct` for "a 5% serial fraction")."""
        if not lit.unit or lit.unit == "×":
            return None
        for v in self._sharing(context):
            nw = _name(v.key)
            if v.quoted and v.cell is not None and len(nw.alphabetic) == 1 \
                    and len(nw.distinctive) == 1 and nw.matched(context) \
                    and nw.unit_matches(lit.unit) and agrees(lit, v.number):
                return self._could(line, col, lit, v, f"words: {nw.distinctive[0]}, unit "
                                   f"{lit.unit}; the chapter quotes {v.key} inline")
        return None

    # --- findings --------------------------------------------------------------------------
    def _describe(self, v: Value) -> str:
        chain, seen, cur = [], set(), v
        owner = v.key.rpartition(".")[0]
        while cur is not None and cur.key not in seen and len(chain) < 3:
            seen.add(cur.key)
            chain.append(cur.expr)
            nxt = f"{owner}.{cur.expr}" if owner else cur.expr
            cur = self.by_key.get(nxt) if re.fullmatch(r"\w+", cur.expr) else None
        expr = " = ".join(chain)
        shown = f"{v.key} = {expr}" if expr and expr not in (v.key, v.text) else v.key
        return f"{shown} = {v.text} (line {v.line})"

    def _stale(self, line: int, col: int, lit: Literal, v: Value, evidence: str) -> Finding:
        return Finding(line, col, "LIT001",
                       f"'{lit.shown}' contradicts the computed {v.key} = {v.text}",
                       [f"value: {self._describe(v)}", f"evidence: {evidence}",
                        f"help: quote it inline as `{{python}} {v.key}`, or correct the number"])

    def _could(self, line: int, col: int, lit: Literal, v: Value, evidence: str) -> Finding | None:
        if lit.number in (0, 1) and not lit.unit:
            return None  # a bare 0 or 1 is an identity (the reference row), not a copied value
        return Finding(line, col, "LIT002",
                       f"'{lit.shown}' could be computed: it equals {v.key} = {v.text}",
                       [f"value: {self._describe(v)}", f"evidence: {evidence}",
                        f"help: write `{{python}} {v.key}` instead"])


def _without(text: str, lit: Literal) -> list[str]:
    return text_words(text[:lit.mark_start] + " " + text[lit.end:])


def _window(text: str, lit: Literal, radius: int = 12) -> list[str]:
    before = text_words(text[:lit.mark_start])[-radius:]
    after = text_words(text[lit.end:])[:radius]
    return before + after


def _unit_after(text: str, offset: int) -> str:
    m = _REF_UNIT.match(text, offset)
    if not m:
        return ""
    u = m.group(1)
    if u in ("×", "x") or "times" in u:
        return "×"
    return "%" if u in ("%", "\\%") else u


def _fits(lit_unit: str, unit: str) -> bool:
    """A literal's unit against the word after a quoted value: the same unit, or for a bare
    number, a value followed by no unit (a count of things: "296 nodes", "296 of them")."""
    if lit_unit:
        return _same_unit(lit_unit, unit)
    return not unit or not (unit in ("×", "%") or "/" in unit or normal(unit) in UNITS)


def _same_unit(a: str, b: str) -> bool:
    if a in ("×", "%") or b in ("×", "%"):
        return a == b
    return normal(a) == normal(b) or a.lower() == b.lower()
