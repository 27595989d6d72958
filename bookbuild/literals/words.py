"""Words as evidence: the words around a literal against the words of attribute names.

`NumbersToKnow.dc_mobile_ratio` reads as {datacenter, mobile} plus a ratio marker; the
caption "Datacenter is ~28x more powerful than mobile" carries both words and a multiplier.
Unit words (ns, GB, TFLOPS) say which dimension, not which value, so they never count as
distinctive; names without any distinctive word are never associated by words.
"""

from __future__ import annotations

import re

# Short forms authors use in names, read as the words prose uses.
ABBREVIATIONS = {
    "bw": "bandwidth", "lat": "latency", "mem": "memory", "cap": "capacity", "dc": "datacenter",
    "net": "network", "ib": "infiniband", "util": "utilization", "req": "request",
    "reqs": "request", "perf": "performance", "calc": "calculation", "num": "number",
    "reg": "register", "tx": "transmission", "rx": "reception", "freq": "frequency",
    "temp": "temperature", "avg": "average", "approx": "approximate", "param": "parameter",
    "params": "parameter", "concurrency": "concurrent", "gpus": "gpu", "tok": "token",
    "seq": "sequence", "len": "length", "dim": "dimension", "acc": "accuracy",
    "thru": "throughput", "tput": "throughput", "intensity": "intensity",
}
STOP = {
    "a", "an", "the", "of", "to", "in", "on", "at", "for", "and", "or", "is", "are", "be", "by",
    "as", "it", "its", "this", "that", "with", "from", "than", "per", "into", "not", "no", "so",
    "value", "values", "str", "raw", "val", "var", "tmp", "out", "result", "res", "total", "n",
    "x", "y", "s", "p", "d", "w", "l", "t", "e", "k", "m", "i", "j", "v", "f", "b", "c", "r", "g",
    "setup", "example", "ref", "reference", "numbers", "number", "know", "namespace", "data",
    "minus", "plus", "fmt", "md", "eq", "pct", "percent", "more", "less", "only", "about",
    "roughly", "approximately", "we", "you", "your", "our", "which", "what", "how", "all",
    "each", "every", "can", "will", "would", "should", "may", "one", "two", "three", "show",
    "goal", "context", "exports", "imports", "inline", "prose", "cell",
}
# Words that mark a ratio in a name: they match a literal's multiplier (×).
RATIO_WORDS = {"vs", "ratio", "ratios", "speedup", "factor", "over", "x", "times", "fold"}
UNITS = {
    "ns", "us", "µs", "μs", "ms", "s", "sec", "second", "seconds", "minute", "minutes", "hour",
    "hours", "day", "days", "week", "weeks", "month", "months", "year", "years",
    "b", "kb", "mb", "gb", "tb", "pb", "kib", "mib", "gib", "tib", "byte", "bytes", "bit",
    "bits", "gbps", "mbps", "tbps", "gbs", "tbs",
    "flop", "flops", "tflop", "tflops", "pflop", "pflops", "gflop", "gflops", "op", "ops",
    "top", "tops", "pj", "nj", "uj", "mj", "j", "w", "kw", "mw", "watt", "watts", "km", "cm",
    "mm", "m", "nm", "qps", "rps", "tps", "hz", "ghz", "mhz", "cycle", "cycles", "token",
    "tokens",
}
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*|\d+")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def normal(word: str) -> str:
    w = word.lower()
    w = ABBREVIATIONS.get(w, w)
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    return ABBREVIATIONS.get(w, w)


def same(a: str, b: str) -> bool:
    """Equal, or one an inflection of the other (compute/computing, achieve/achieved)."""
    if a == b:
        return True
    if a.isdigit() or b.isdigit():
        return False
    k = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        k += 1
    return k >= 5 and k >= min(len(a), len(b)) - 2


def text_words(text: str) -> list[str]:
    return [normal(w) for w in _WORD.findall(text)]


def split_name(name: str) -> list[str]:
    """`dc_mobile_ratio` -> [datacenter, mobile, ratio]; `AmdahlExample` -> [amdahl, example]."""
    parts = []
    for chunk in re.split(r"[_.\s]+", name):
        parts += _CAMEL.findall(chunk) if chunk and not chunk.islower() else [chunk]
    return [normal(p) for p in parts if p]


class NameWords:
    """A value's name read as evidence: distinctive words, unit words, ratio marker."""

    def __init__(self, key: str) -> None:
        attr = key.split(".")[-1]
        owner = key.split(".")[0] if "." in key else ""
        words = split_name(attr)
        self.units = {w for w in words if w in UNITS}
        if {"pct", "percent"} & set(words):
            self.units.add("%")
        self.ratio = any(w in RATIO_WORDS for w in words)
        self.distinctive = [w for w in dict.fromkeys(words)
                            if w not in STOP and w not in UNITS and w not in RATIO_WORDS]
        self.owner = [w for w in split_name(owner) if w not in STOP] if owner else []

    @property
    def alphabetic(self) -> list[str]:
        return [w for w in self.distinctive if not w.isdigit()]

    def matched(self, context) -> list[str]:
        ctx = context if isinstance(context, Words) else Words(context)
        return [w for w in self.distinctive if ctx.has(w)]

    def unit_matches(self, unit: str) -> bool:
        if unit == "×":
            return self.ratio
        if unit == "%":
            return "%" in self.units
        words = {normal(w) for w in re.split(r"[/\s^-]+", unit) if w}
        return bool(words) and words <= {normal(u) for u in self.units}


class Words:
    """A bag of context words with fast `same()` lookups (exact, then by a 5-letter prefix)."""

    def __init__(self, words) -> None:
        self.exact = set(words)
        self.by_prefix: dict[str, list[str]] = {}
        for w in self.exact:
            if len(w) >= 5 and not w.isdigit():
                self.by_prefix.setdefault(w[:5], []).append(w)

    def has(self, word: str) -> bool:
        if word in self.exact:
            return True
        return len(word) >= 5 and any(same(word, c) for c in self.by_prefix.get(word[:5], ()))

    def __iter__(self):
        return iter(self.exact)
