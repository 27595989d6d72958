"""Hand-typed numbers in a piece of text: what they claim (value, precision, marks, unit).

Years, section and step numbers, list numbering, versions, ranges, bounds, numbers glued to
names (H100, GPT-4, n_8), numbers in formulas, math, code, URLs and cross-references are
never literals: a lint that cries wolf gets turned off.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# Same-length masks: what they cover becomes spaces, so offsets stay those of the source.
_MASKS = [
    re.compile(r"<!--.*?-->", re.S),
    re.compile(r"\{\{<.*?>\}\}|\{\{%.*?%\}\}", re.S),  # Quarto shortcodes
    re.compile(r"\$\$.+?\$\$", re.S),
    re.compile(r"(?<![\\$])\$(?![\s$])(?:[^$\\]|\\.)+?(?<!\s)\$(?!\d)"),
    re.compile(r"\\\(.+?\\\)|\\\[.+?\\\]", re.S),
    re.compile(r"`+[^`]*`+"),
    re.compile(r"<[a-z][^>\s]*:[^>\s]*>|</?[A-Za-z][^>]*>"),
    re.compile(r"\]\([^)\s]*(?:\s+\"[^\"]*\")?\)"),
    re.compile(r"\b(?:https?|ftp)://\S+|\bwww\.\S+|\b[\w.-]+@[\w-]+\.\w+"),
    re.compile(r"\[\^[^\]]*\]|\[?-?@[A-Za-z][\w:.#$%&\-+?<>~/]*\]?"),
    re.compile(r"\\[A-Za-z]+\{[^}]*\}"),
    re.compile(r"\{[#.][^}]*\}|\{\s*\.[^}]*\}|\{\s*#[^}]*\}"),
]
# Marks written in math that say something about the number next to them.
_TIMES_MATH = re.compile(r"\$\s*\\times\s*\$")
_SIM_MATH = re.compile(r"\$\s*\\(?:sim|approx)\s*\$")

_NUMBER = re.compile(r"(?<![\w.\\:])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+(?![\w.]))?")
_SKIP_BEFORE = re.compile(
    r"(?:\b(?:step|section|sec\.|chapter|ch\.|figure|fig\.|table|tbl\.|equation|eq\.|principle|"
    r"appendix|part|page|p\.|pp\.|no\.|version|v|rev|gen|release|python|level|phase|item|"
    r"rule|lesson|exercise|question|listing|line|lines|c\.|ca\.)\s*|§\s*|#\s*|\bn\s*=\s*)$",
    re.I)
_BOUND_BEFORE = re.compile(r"(?:[<>≤≥≪≫]|\bup to|\bat least|\bat most|\bover|\bunder|"
                           r"\bmore than|\bless than|\bfewer than|\bbelow|\babove|\bbeyond|"
                           r"\bexceeds?|\bexceeding)\s*[~≈]?\s*$", re.I)
_RANGE_AFTER = re.compile(r"^\s*\S{0,12}?\s*(?:–|—|--|-|to|and|or)\s*[~≈]?\s*\$?\d")
_RANGE_BEFORE = re.compile(r"\d\s*\S{0,12}?\s*(?:–|—|--|-|to|or|between)\s*[~≈]?\s*$")
# "IEEE 754", "NVLink 4.0", "PCIe 5": a number after an acronym or a product name names it.
_NAMED_BEFORE = re.compile(r"\b(?:[A-Z]{2,}[A-Za-z]*|[A-Za-z]+[A-Z][A-Za-z]*)\s$")
_OPERATOR_AFTER = re.compile(r"^\s*(?:[/*+^=]|\)\s*/)")
_OPERATOR_BEFORE = re.compile(r"(?:[/*+^(]|\d\s*-)\s*$")
_UNIT_AFTER = re.compile(r"^(\s*)(×|x(?![A-Za-z])|X(?![A-Za-z])|%|\\%|-?[A-Za-zµμ°][\w/µμ°^-]*)")
_MULTIPLIER_WORDS = {"×", "x", "X", "times", "fold"}
_YEAR = re.compile(r"(1[89]|20)\d\d")
_APPROX_BEFORE = re.compile(r"([~≈∼]|\\sim|\b(?:about|roughly|approximately|approx\.|around|"
                            r"nearly|almost|circa|some))\s*$", re.I)


@dataclass(frozen=True)
class Literal:
    """A hand-typed number: where it is in its text, what it says, how precise it claims to be."""

    start: int  # offsets of the digits in the text scanned
    end: int
    mark_start: int  # offset of an approximation mark before it, else == start
    digits: str  # as written, e.g. "1,365" or "0.12"
    number: float
    approx: bool
    unit: str  # "×", "%", a unit word such as "ns" or "GB/s", or ""

    @property
    def step(self) -> float:
        """The unit of the last digit the literal commits to (600 -> 100, 0.12 -> 0.01)."""
        plain = self.digits.replace(",", "")
        if "e" in plain.lower():
            mantissa, _, exp = plain.lower().partition("e")
            decimals = len(mantissa.partition(".")[2])
            return 10.0 ** (int(exp) - decimals)
        if "." in plain:
            return 10.0 ** -len(plain.partition(".")[2])
        zeros = len(plain) - len(plain.rstrip("0"))
        return 10.0 ** min(zeros, len(plain) - 1)

    @property
    def shown(self) -> str:
        mark = "~" if self.approx else ""
        unit = self.unit if self.unit in ("×", "%") else (" " + self.unit if self.unit else "")
        return f"{mark}{self.digits}{unit}"


def masked(text: str) -> str:
    """`text` with math, code, URLs, cross-references and attributes blanked (same length)."""
    text = _TIMES_MATH.sub(lambda m: "×" + " " * (len(m.group()) - 1), text)
    text = _SIM_MATH.sub(lambda m: " " * (len(m.group()) - 1) + "~", text)
    for pattern in _MASKS:
        text = pattern.sub(_blank, text)
    return text


def _blank(m: re.Match) -> str:
    return re.sub(r"[^\n]", " ", m.group())


def literals(text: str) -> list[Literal]:
    """The literals in an already masked text, in order."""
    out = []
    for m in _NUMBER.finditer(text):
        lit = _literal(text, m)
        if lit is not None:
            out.append(lit)
    return out


def _literal(text: str, m: re.Match) -> Literal | None:
    s, e, digits = m.start(), m.end(), m.group()
    before, after = text[max(0, s - 40):s], text[e:e + 40]
    if _not_a_claim(text, s, before, after):
        return None
    plain = digits.replace(",", "")
    number = float(plain)
    unit = _unit(after)
    if unit is None or math.isinf(number):
        return None
    if not unit and (_NAMED_BEFORE.search(before) or _YEAR.fullmatch(plain)):
        return None  # "IEEE 754", "NVLink 4.0"; a year
    approx, mark_start = False, s
    a = _APPROX_BEFORE.search(before)
    if a:
        approx, mark_start = True, s - (len(before) - a.start())
    return Literal(s, e, mark_start, digits, number, approx, unit)


def _not_a_claim(text: str, s: int, before: str, after: str) -> bool:
    """Numbers that name, count off or bound something rather than state a value."""
    if s >= 2 and text[s - 1] == "-" and (text[s - 2].isalnum() or text[s - 2] == "_"):
        return True  # GPT-4, n-1, sec-2529
    if after[:1] in ".:" and after[1:2].isdigit():
        return True  # 1.2.3 is a version, 10:30 a time or a ratio of parts
    if re.match(r"^[.)]\s", after) and not before.strip(" \t│┌├└─*#>|-"):
        return True  # list numbering at the start of a line: "1. ", "2) "
    if re.match(r"^(?:st|nd|rd|th)\b", after) or after[:1] == "+":
        return True  # ordinals; 64+
    if after[:1] == "s" and not after[1:2].isalpha():
        return True  # the 1990s
    return bool(_SKIP_BEFORE.search(before) or _BOUND_BEFORE.search(before)
                or _RANGE_AFTER.match(after) or _RANGE_BEFORE.search(before)
                or _OPERATOR_AFTER.match(after) or _OPERATOR_BEFORE.search(before))


def _unit(after: str) -> str | None:
    """The unit written after the digits: ×, %, a unit word, "" for none; None when the
    digits are glued to an identifier (4B100, 2x3)."""
    u = _UNIT_AFTER.match(after)
    if not u:
        return ""
    word = u.group(2).lstrip("-").rstrip(".,;:")
    glued = u.group(1) == "" or u.group(2).startswith("-")
    if word in _MULTIPLIER_WORDS:
        return "×"
    if word in ("%", "\\%", "percent"):
        return "%"
    if glued and word[-1:].isdigit():
        return None
    if len(u.group(1)) <= 1 and (glued or "/" in word or _is_unit(word)):
        return "×" if word.lower() in ("times", "fold") else word
    return ""


def _is_unit(word: str) -> bool:
    from bookbuild.literals.words import UNITS, normal

    return word.lower() in UNITS or normal(word) in UNITS
