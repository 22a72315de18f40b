"""Find and parse quantity claims in abstract text: "by up to 44%", "4.07x", "20-100x", "<5%".

Written by hand on purpose: the tested parsers do poorly on abstract claims (quantulum3 drops
qualifiers, merges "from 12.3% to 8.1%" into one value and reads "+2.3 F1" as farads; Pint
rejects "4.07x"), and neither returns the character offsets the verifier needs.

`scan(text)` finds every claim in a whole abstract, with context rules that reject years,
version numbers, model names, citation markers and list enumerators. `parse_span(text)` re-parses
one claimed span for the verifier, with no context rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator, Optional

from .text import has_special, lower_same_length, normalize_with_map

# A cheap pattern to find digit runs (Python's re is fast only when a pattern starts with a
# plain character class); comma grouping is checked in Python afterwards.
_DIGITS_RE = re.compile(r"\d[\d,]*(?:\.\d+)?")
_ASCII_DIGITS_RE = re.compile(r"[0-9][0-9,]*(?:\.[0-9]+)?")  # the same on ASCII text, ~35% faster
_GROUPED_RE = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
NUM_RE = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


_DIGIT_MARKS = bytes(48 if 48 <= c <= 57 else 32 for c in range(256))  # ASCII digits -> "0", the rest -> " "


def _digit_runs(text: str, pos: int = 0) -> Iterator[re.Match[str]]:
    """_ASCII_DIGITS_RE.finditer(text, pos) for ASCII text. The pattern starts with a character
    class, which Python's re tests at every position (a large part of the scanner's time); here
    the digits are marked with bytes.translate and found with bytes.find (memchr speed), and the
    pattern runs only where a number starts."""
    marks = text.encode("ascii").translate(_DIGIT_MARKS)
    i = marks.find(b"0", pos)
    while i >= 0:
        m = _ASCII_DIGITS_RE.match(text, i)
        assert m is not None  # it starts with a digit
        yield m
        i = marks.find(b"0", m.end())


def _numbers(text: str, pos: int = 0):
    """Yield (start, end) of each number: "8,054", "4.07", "2020"; "1,2" is two numbers."""
    for m in (_digit_runs(text, pos) if text.isascii() else _DIGITS_RE.finditer(text, pos)):
        s = m.start()
        raw = m.group(0).rstrip(",")
        if "," not in raw or _GROUPED_RE.fullmatch(raw):
            yield s, s + len(raw)
            continue
        for part in re.finditer(r"\d+(?:\.\d+)?", raw):
            yield s + part.start(), s + part.end()

# canonical unit -> source spellings (regex). Order matters: longer spellings first.
_UNITS: list[tuple[str, str]] = [
    ("pp", r"pp\b|p\.p\.|percentage[\s-]points?\b"),
    ("%", r"%|percent\b"),
    ("x", r"[xX](?![A-Za-z0-9])|times\b(?!\s+(?:a|an|per|each|the|in|of|as many)\b)|-?fold\b"),
    ("ns", r"ns\b|nanoseconds?\b"),
    ("µs", r"[µμu]s\b|microseconds?\b|usecs?\b"),
    ("ms", r"ms\b|milliseconds?\b|msecs?\b"),
    ("min", r"minutes?\b|mins?\b"),
    ("h", r"hours?\b|hrs?\b|h\b"),
    ("d", r"days?\b"),
    ("s", r"seconds?\b|secs?\b|s\b"),
    ("Gbps", r"Gbps\b|Gb/s\b"),
    ("Mbps", r"Mbps\b|Mb/s\b"),
    ("Tbps", r"Tbps\b|Tb/s\b"),
    ("GB/s", r"GB/s\b|GBps\b"),
    ("MB/s", r"MB/s\b|MBps\b"),
    ("TiB", r"TiB\b"),
    ("GiB", r"GiB\b"),
    ("MiB", r"MiB\b"),
    ("KiB", r"KiB\b"),
    ("TB", r"TB\b|terabytes?\b"),
    ("GB", r"GB\b|gigabytes?\b"),
    ("MB", r"MB\b|megabytes?\b"),
    ("KB", r"KB\b|kB\b|kilobytes?\b"),
    ("B", r"bytes\b"),
    ("tokens/s", r"tokens?/s\b|tok/s\b"),
    ("ops/s", r"ops/s\b|op/s\b"),
    ("req/s", r"req/s\b|requests/s\b|RPS\b"),
    ("QPS", r"QPS\b"),
    ("IOPS", r"IOPS\b"),
    ("TFLOPS", r"TFLOPS\b|TFLOP/s\b"),
    ("GFLOPS", r"GFLOPS\b|GFLOP/s\b"),
    ("GHz", r"GHz\b"),
    ("MHz", r"MHz\b"),
    ("kWh", r"kWh\b"),
    ("kW", r"kW\b"),
    ("MW", r"MW\b"),
    ("mW", r"mW\b"),
    ("W", r"W\b|watts?\b"),
    ("J", r"J\b|joules?\b"),
    ("°C", r"°C\b"),
    ("mm2", r"mm2\b|mm²"),
    ("nm", r"nm\b"),
    ("µm2", r"[µμu]m2\b|[µμu]m²"),
    ("cycles", r"cycles\b|CC\b"),
]
_UNIT_RE = re.compile(r"[ ]?(?:" + "|".join(f"(?P<u{i}>{p})" for i, (_, p) in enumerate(_UNITS)) + ")")
_UNIT_NAMES = [u for u, _ in _UNITS]


def _first_chars(patterns: list[str]) -> frozenset[str] | None:
    """The characters a match of any of these unit spellings can start with (None: unknown shape)."""
    out: set[str] = set()
    for p in patterns:
        for alt in p.split("|"):
            if alt.startswith("-?"):
                out.update({"-", alt[2]})
            elif alt.startswith("["):
                out.update(alt[1:alt.index("]")])
            elif alt[0].isalnum() or alt[0] in "%°":
                out.add(alt[0])
            else:
                return None
    return frozenset(out)


_UNIT_FIRST = _first_chars([p for _, p in _UNITS])
_UNIT_BY_GROUP = {f"u{i}": name for i, name in enumerate(_UNIT_NAMES)}

# Unit conversions, only to bring both ends of a range ("512 MB-2 GB") to one unit.
_SCALE = {
    "ns": ("time", 1e-9), "µs": ("time", 1e-6), "ms": ("time", 1e-3), "s": ("time", 1.0),
    "min": ("time", 60.0), "h": ("time", 3600.0), "d": ("time", 86400.0),
    "B": ("size", 1.0), "KB": ("size", 1e3), "MB": ("size", 1e6), "GB": ("size", 1e9), "TB": ("size", 1e12),
    "KiB": ("size", 2.0**10), "MiB": ("size", 2.0**20), "GiB": ("size", 2.0**30), "TiB": ("size", 2.0**40),
}

_MULT_RE = re.compile(r"(?:[ ](?P<word>thousand|million|billion|trillion)\b|(?P<sfx>[KMB])(?![A-Za-z0-9]))")
_MULT_FIRST = frozenset("KMB")  # _MULT_RE matches only after one of these, or " t", " m", " b"
_MULT_SPACED = frozenset((" t", " m", " b"))
_MULT = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "K": 1e3, "M": 1e6, "B": 1e9}

_QUAL_WORDS = {
    "up to": "up_to", "upto": "up_to", "as much as": "up_to", "as high as": "up_to", "sub-": "less_than",
    "over": "over", "more than": "over", "greater than": "over", "higher than": "over",
    "above": "over", "exceeding": "over", "in excess of": "over",
    "at least": "at_least", "no less than": "at_least", ">=": "at_least",
    "less than": "less_than", "fewer than": "less_than", "lower than": "less_than",
    "under": "less_than", "below": "less_than", "<": "less_than",
    "at most": "at_most", "no more than": "at_most", "<=": "at_most",
    "within": "within",
    "about": "approx", "approximately": "approx", "approx.": "approx", "around": "approx",
    "nearly": "approx", "roughly": "approx", "almost": "approx", "close to": "approx",
    "~": "approx", "≈": "approx",
    "an average of": "average", "average of": "average", "on average": "average",
    ">": "over",
}
_QUAL_RE = re.compile(
    r"(?:(?<![A-Za-z])(?P<w>"
    + "|".join(re.escape(w) for w in sorted((k for k in _QUAL_WORDS if k[0].isalpha()), key=len, reverse=True))
    + r")(?: an?)?|(?P<s><=|>=|<|>|~|≈))[ ]?$",
    re.I,
)

# what the text before a number must end with (lower-cased, spaces stripped) for _QUAL_RE to match
_QUAL_SUFFIXES = tuple(
    {k for k in _QUAL_WORDS if k[0].isalpha()} | {k + " a" for k in _QUAL_WORDS if k[0].isalpha()}
    | {k + " an" for k in _QUAL_WORDS if k[0].isalpha()} | {"<=", ">=", "<", ">", "~", "≈"}
)


def _qualifier_before(text: str, s: int):
    """_QUAL_RE.search over the 16 characters before `s`, skipped when no qualifier can end there:
    a suffix test costs a fraction of the case-insensitive regex, which runs for every number."""
    lo = max(0, s - 16)
    tail = text[lo:s]
    if tail.isascii() and not tail.lower().rstrip(" ").endswith(_QUAL_SUFFIXES):
        return None
    return _QUAL_RE.search(text, lo, s)


_RANGE_SEP_RE = re.compile(r"[ ]?-[ ]?|[ ]to[ ]")
_BETWEEN_RE = re.compile(r"\bbetween[ ]$", re.I)
_FROM_RE = re.compile(r"\bfrom\b[^.;:]{0,40}$", re.I)

# (substring hints, pattern on lower-cased text, value); a pattern runs only when a hint occurs
_WORD_QUANTITIES = [
    (("magnitude",), re.compile(r"\b(?:(?P<n>an?|one|two|three|four|several)[ -]+)?orders?[ -]of[ -]magnitude\b"), None),
    (("doubl", "twice"), re.compile(
        r"\b(?:doubles|doubled|doubling|double|twice)\b(?![-])"
        r"(?! (?:precision|buffer|buffering|free|pointer|counting|spending|the number of times)\b)"), 2.0),
    (("tripl", "thrice", "threefold"), re.compile(r"\b(?:triples|tripled|tripling|triple|thrice|threefold)\b(?![-])"), 3.0),
    (("halv",), re.compile(r"\b(?:halves|halved|halving|halve)\b"), 2.0),  # a factor of 2, down
    (("factor of",), re.compile(r"\b(?:an? )?factor of (?P<w>two|three|four|five|six|seven|eight|nine|ten)\b"), "word"),
]
_SMALL = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_MAGNITUDE_N = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4}

_YEAR_OK_NEXT = re.compile(r"[ ](?:[a-z]+s|[A-Z][A-Za-z]*s)\b")
_SENT_START_PREV = re.compile(r"(?:^|[.!?:;(\[\"]\s*)$")
# Capitalised words that commonly precede a plain count and are not names.
_CAP_OK = {
    "on", "across", "with", "over", "under", "about", "nearly", "only", "of", "for", "in", "at",
    "by", "from", "to", "approximately", "roughly", "around", "each", "all", "using", "among",
    "and", "than", "just", "within", "up", "after", "before", "we", "our", "its", "their", "n",
}



@dataclass
class Quantity:
    start: int
    end: int
    value: Optional[float]
    low: Optional[float]
    high: Optional[float]
    unit: str
    qualifier: str
    num_start: int  # where the number itself starts (after any qualifier)
    num_end: int
    digits_end: int = -1  # where the digits of the (last) number end: the unit follows ("207" of "207um2")
    listed: bool = False  # a member of a list after the first ("44%" in "30%, 44% and 31%")
    unit_shared: bool = False  # the unit is written once, after a later number ("from 51 to 21 minutes")


def _to_float(s: str) -> float:
    return float(s.replace(",", ""))


def _match_unit(text: str, pos: int) -> tuple[str, int] | None:
    if pos >= len(text) or text[pos] in ",;:)]." :
        return None  # the common case, decided without running the unit alternation
    if _UNIT_FIRST is not None:  # no unit can start here: skip the alternation
        c = text[pos + 1:pos + 2] if text[pos] == " " else text[pos]
        if c not in _UNIT_FIRST:
            return None
    m = _UNIT_RE.match(text, pos)
    if not m:
        return None
    return _UNIT_BY_GROUP[m.lastgroup], m.end()  # type: ignore[index]


def _read_quantity(text: str, s: int, e: int) -> tuple[float, str, int]:
    """Read number text[s:e] with any multiplier and unit; return (value, unit, end)."""
    value = _to_float(text[s:e])
    pos = e
    nxt = text[pos:pos + 2]
    mm = _MULT_RE.match(text, pos) if nxt[:1] in _MULT_FIRST or nxt in _MULT_SPACED else None
    if mm:
        value *= _MULT[mm.group("word") or mm.group("sfx")]
        pos = mm.end()
    u = _match_unit(text, pos)
    if u:
        return value, u[0], u[1]
    return value, "", pos


def _convert(value: float, unit: str, to: str) -> float | None:
    a, b = _SCALE.get(unit), _SCALE.get(to)
    if not a or not b or a[0] != b[0]:
        return None
    return value * a[1] / b[1]


_CITE_OPEN = re.compile(r"\[[\d,\s\-–]*$")
_CITE_CLOSE = re.compile(r"[\d,\s\-–]*\]")
_OPERATOR_BEFORE = re.compile(r"[<>=~]\s*$")
_WORD_BEFORE = re.compile(r"([A-Za-z][\w.\-]*)\)? $")  # "Sonnet 4", "(CXL) 3.0"
_OPERAND_BEFORE = re.compile(r"(?:\b[A-Za-z]|\d[A-Za-z])\s*[+*/]\s*$")
_FACTOR_RE = re.compile(r"(?:\ban? )?factor of $", re.I)
# "8x NVIDIA B300 GPUs", "4x A100 GPUs": a count of devices written with an x
_HARDWARE_COUNT = re.compile(
    r"\s+(?:[A-Z][\w\-]*\s+){0,3}(?:GPUs?|CPUs?|TPUs?|NPUs?|nodes?|servers?|machines?|cores?|accelerators?|"
    r"cards?|devices?|instances?|VMs?)\b")


def _word_before(text: str, s: int) -> tuple[int, int] | None:
    """The span of group 1 of _WORD_BEFORE.search(text, max(0, s - 40), s) (a word, maybe with a
    closing parenthesis, then one space, right before `s`), found by walking back instead of trying
    the pattern at each of the 40 positions."""
    lo = max(0, s - 40)
    if s - lo < 2:
        return None
    if text[s - 1] != " ":
        if text[s - 1] == "\n":  # `$` also matches before a final newline: leave that to the pattern
            m = _WORD_BEFORE.search(text, lo, s)
            return m.span(1) if m else None
        return None
    te = s - 2 if text[s - 2] == ")" else s - 1  # where the word ends
    i = te
    while i > lo and (text[i - 1].isalnum() or text[i - 1] in "_.-"):
        i -= 1
    for p in range(i, te):  # the pattern's leftmost start: the first ASCII letter of the run
        if text[p] in _ASCII_LETTERS:
            return p, te
    return None


_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _excluded_by_context(
    text: str, s: int, end: int, value: Optional[float], unit: str, raw: str, range_end: bool = False
) -> bool:
    prev = "" if s == 0 or range_end else text[s - 1]
    if prev and (prev.isalpha() or prev in "_^/=@#"):
        return True  # o4, V2, x^2, path/2, k=5
    if prev == "-" and text[s - 2].isalpha() and not text[max(0, s - 4):s].lower() == "sub-":
        return True  # GPT-5, Llama-3 (but "sub-0.5 us" is a claim)
    if prev == "." and text[s - 2].isdigit():
        return True  # tail of a version number
    nxt = text[end] if end < len(text) else ""
    if nxt == "-" and not text[end + 1:end + 2].isdigit():
        return True  # compound modifiers: "64-bit", "2-round", "32-row", "2-, 8-, and 16-row"
    window = text[max(0, s - 6):s]
    if ("+" in window or "*" in window or "/" in window) and _OPERAND_BEFORE.search(text, max(0, s - 6), s):
        return True  # arithmetic: "f+1", "H + 1", "2*n"
    if nxt.isalnum() or nxt == "_":
        return True  # 3.13t, 21st, 2D, 1990s (after "s" unit check below)
    if nxt == "." and end + 1 < len(text) and text[end + 1].isdigit():
        return True  # 3.13.1
    if unit == "s" and re.fullmatch(r"1[89]\d0|20\d0", raw) and text[end - 1] == "s" and text[end - 2] != " ":
        return True  # the 1990s
    if unit in ("", "s") and "," not in raw and "." not in raw and len(raw) == 4 and value is not None \
            and 1900 <= value <= 2099:
        if unit == "s" or not _YEAR_OK_NEXT.match(text, end):
            return True  # a year
    if prev in "[, -" and "[" in text[max(0, s - 20):s] and _CITE_OPEN.search(text, max(0, s - 20), s) \
            and _CITE_CLOSE.match(text, s, s + 20):
        return True  # citation marker [12], [3, 4]
    if unit == "" and nxt == ")" and len(raw) <= 2 and not _OPERATOR_BEFORE.search(text, max(0, s - 3), s):
        after = text[end:end + 3]
        if (s == 0 or text[s - 1] == " ") and len(after) == 3 and after[1] == " " and after[2].isalpha():
            return True  # enumerator "1) an NPU-aware ..." (but not "(2, 4, and 32), data")
        if text[s - 1] == "(":
            after = text[end + 1:end + 3]
            if after.startswith(" ") and after[1:2].isalpha():
                return True  # enumerator "(1) a new ..."
    if unit == "":
        wb = _word_before(text, s)
        if wb is not None:
            p, te = wb
            word = text[p:te]
            if word[0].isupper() and word.lower() not in _CAP_OK:
                head = text[:p]
                if text[s - 2:s] == ") " and head.endswith("("):
                    head = head[:-1]  # "(CXL) 3.0": the parenthesis is not a sentence start
                if not _SENT_START_PREV.search(head):
                    return True  # Sonnet 4, Table 3, Llama 2
    return False


def _scan_words(text: str, low: Optional[str] = None) -> list[Quantity]:
    """`low`: `text` lower-cased with offsets kept, when the caller has it."""
    out: list[Quantity] = []
    if low is None:
        low = lower_same_length(text)  # offsets must not shift
    for hints, rx, val in _WORD_QUANTITIES:
        for h in hints:  # substring tests are far cheaper than a regex pass
            if h in low:
                break
        else:
            continue
        for m in rx.finditer(low):
            v: Optional[float]
            if val == "word":
                v, unit, qual = float(_SMALL[m.group("w")]), "x", "exact"
            elif val is None:
                n = _MAGNITUDE_N.get(m.group("n") or "a")
                v = 10.0 ** n if n else None
                unit, qual = "x", "approx"
            else:
                v, unit, qual = float(val), "x", "exact"
            out.append(Quantity(m.start(), m.end(), v, None, None, unit, qual, m.start(), m.end(), m.end()))
    return out


def _scan_plain(text: str, context: bool) -> list[Quantity]:
    found: list[Quantity] = []
    consumed = 0
    for s, e in _numbers(text):
        if s < consumed:
            continue
        raw = text[s:e]
        value: Optional[float]
        value, unit, end = _read_quantity(text, s, e)
        digits_end = e
        low: Optional[float] = None
        high: Optional[float] = None
        # ranges: "20-100x", "0.993%-51.82%", "5-80 minutes", "512 MB-2 GB", "between 2 and 4"
        sep = _RANGE_SEP_RE.match(text, end)
        between = "between" in text[max(0, s - 9):s] and _BETWEEN_RE.search(text, max(0, s - 9), s)
        if between:
            sep = re.compile(r"[ ]and[ ]").match(text, end)
        if sep and not (sep.group(0).strip() == "to" and _FROM_RE.search(text, max(0, s - 48), s)):
            m2 = NUM_RE.match(text, sep.end())
            if m2:
                v2, unit2, end2 = _read_quantity(text, m2.start(), m2.end())
                lo: Optional[float] = value
                ok = True
                if unit and unit2 and unit != unit2:
                    lo = _convert(value, unit, unit2)  # "512 MB-2 GB" -> 0.512-2 GB
                    ok = lo is not None
                elif unit and not unit2:
                    ok = False  # "5% - 3 workloads" is not a range
                if ok:
                    excluded = context and _excluded_by_context(
                        text, m2.start(), end2, v2, unit2 or unit, m2.group(0), range_end=True
                    )
                    if not excluded:
                        low, high, value = lo, v2, None
                        unit, end, digits_end = unit2 or unit, end2, m2.end()
        if context and _excluded_by_context(text, s, end, value if value is not None else high, unit, raw):
            consumed = max(consumed, end)
            continue
        if unit == "x" and low is None and "." not in raw and _HARDWARE_COUNT.match(text, end):
            unit, end = "", e  # "8x NVIDIA B300 GPUs": eight GPUs, not a factor
        qs, qual = s, "exact"
        if not unit and value is not None:
            fm = _FACTOR_RE.search(text, max(0, s - 14), s)
            if fm:  # "by a factor of 3"
                unit, qs = "x", fm.start()
                found.append(Quantity(qs, end, value, low, high, unit, qual, s, end, digits_end))
                consumed = max(consumed, end)
                continue
        qm = _qualifier_before(text, s)
        if qm:
            word = (qm.group("w") or qm.group("s")).lower()
            if word == "~" and qm.start() > 0 and text[qm.start() - 1].isalpha():
                word = ""  # LaTeX non-breaking space "Fig.~3"
            if word:
                qual, qs = _QUAL_WORDS[word], qm.start()
        found.append(Quantity(qs, end, value, low, high, unit, qual, s, end, digits_end))
        consumed = max(consumed, end)
    return found


def scan(text: str, context: bool = True, low: Optional[str] = None) -> list[Quantity]:
    """All quantity claims in `text`, in order, with offsets into `text`. `low`:
    lower_same_length(text), if the caller has it."""
    if not has_special(text):
        qs = _scan_plain(text, context) + _scan_words(text, low)
        qs.sort(key=lambda q: q.start)
        return _mark_lists(text, qs)
    norm = normalize_with_map(text, casefold=False)
    qs = _scan_plain(norm.text, context) + _scan_words(norm.text)
    qs.sort(key=lambda q: q.start)
    math = _math_regions(text) if context and "$" in text else []
    out = []
    for q in qs:
        s, e = norm.start(q.start), norm.end(q.end - 1)
        ns, ne = norm.start(q.num_start), norm.end(q.num_end - 1)
        if math and not _claim_in_math(text, ns, ne, math):
            continue
        s, e = balance_math(text, s, e)
        out.append(Quantity(s, e, q.value, q.low, q.high, q.unit, q.qualifier, ns, ne, norm.end(q.digits_end - 1)))
    return _mark_lists(text, out)


_LIST_SEP = re.compile(r"^(?:,\s*|\s+and\s+|,\s+and\s+|\s*/\s*|\s+or\s+)$")


_FROM_BEFORE = re.compile(r"\bfrom\s+$", re.I)


def _mark_lists(text: str, qs: list[Quantity]) -> list[Quantity]:
    """Mark the members of a list ("30%, 26%, 21%, and 14%") after the first; a member with no
    qualifier of its own shares the one before it ("by up to 44% and 31%": "up to" covers both),
    and one with no unit shares the unit written after the last ("2, 4 and 8 ms", "from 51 to 21
    minutes")."""
    for prev, q in zip(qs, qs[1:]):
        if _LIST_SEP.match(text[prev.end:q.start]):
            q.listed = True
            if q.qualifier == "exact":
                q.qualifier = prev.qualifier
    for i in range(len(qs) - 2, -1, -1):
        a, b = qs[i], qs[i + 1]
        if a.unit or not b.unit or a.low is not None:
            continue
        from_to = text[a.end:b.start] == " to " and _FROM_BEFORE.search(text, max(0, a.num_start - 8), a.num_start)
        if b.listed or from_to:
            a.unit, a.unit_shared = b.unit, True
    return qs


_MATH_DECOR = re.compile(r"^(?:\s|\\times|\\%|\\approx|\\sim|\\leq?|\\geq?|[<>~,]|\\,)*$")
_MATH_LEAD = re.compile(r"(?:\\approx|\\sim|=|<|>|\\leq?|\\geq?)\s*$")


_DOLLAR = re.compile(r"(?<!\\)\$")


def _math_regions(text: str) -> list[tuple[int, int]]:
    """Spans inside $...$ pairs."""
    marks = [m.start() for m in _DOLLAR.finditer(text)]
    return [(marks[i] + 1, marks[i + 1]) for i in range(0, len(marks) - 1, 2)]


def _claim_in_math(text: str, ns: int, ne: int, regions: list[tuple[int, int]]) -> bool:
    """Inside LaTeX math a number is a claim only when the group is just the number with
    decoration ($2.7\\times$) or it is the value a formula is approximately equal to
    ($\\frac{1}{\\varphi} \\approx 0.618$); the digits of the formula itself are not claims."""
    for a, b in regions:
        if a <= ns < b:
            rest = text[a:ns] + text[ne:b]
            if _MATH_DECOR.match(rest):
                return True
            return bool(_MATH_LEAD.search(text, a, ns)) and not text[ne:b].strip()
    return True


def balance_math(text: str, s: int, e: int) -> tuple[int, int]:
    """Take a LaTeX math group whole: "$2.7\\times$", "up to 2.1$\\times$", "over $3\\times$"."""
    if s > 0 and text[s - 1] == "$" and e < len(text) and text[e] == "$" and text.count("$", s, e) % 2 == 0:
        return s - 1, e + 1
    if text.count("$", s, e) % 2 == 1:
        if e < len(text) and text[e] == "$":
            return s, e + 1
        if s > 0 and text[s - 1] == "$":
            return s - 1, e
    return s, e


@dataclass(frozen=True)
class Parsed:
    value: Optional[float]
    low: Optional[float]
    high: Optional[float]
    unit: str
    qualifier: str


@lru_cache(maxsize=4096)  # spans repeat across abstracts ("10%", "2x"); the result is immutable
def parse_span(span: str) -> tuple[Parsed | None, str | None]:
    """Re-parse one claimed span. Returns (parsed, None) or (None, reason)."""
    qs = scan(span, context=False)
    if not qs:
        return None, "no number in span"
    if len(qs) > 1:
        return None, f"span holds {len(qs)} numbers"
    q = qs[0]
    return Parsed(q.value, q.low, q.high, q.unit, q.qualifier), None
