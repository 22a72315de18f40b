"""Verification: does each claim say what its span of the abstract says?

This module is the one owner of that question, for every engine and every consumer: records, the
LLM engine's re-asks, Batch API ingest, review and eval all call it. A claim is verified when

1. its text is found in the abstract (exactly, or as people copy text: case, spacing between number
   and unit, LaTeX, dashes, quotes, trailing punctuation, a word more or less), at number
   boundaries ("2x" is never found inside "2.42x", "5%" never inside "25%"), at an occurrence no
   other claim holds;
2. the quantity at that place (the scanner's reading of the abstract, with its context rules, so a
   year or a model name is no quantity) re-parses from its own span;
3. value, range, unit and qualifier agree with the span, read tolerantly where the meaning is the
   same (a unit left out, "percent" for "%", 0.39 for 39%, -44 for a 44% decrease, 58,368 MB for
   57 GB, low = high = value for one number, "44%" as a string) and strictly where it is not.

The claim is then stored in canonical form (the span's text, value and unit) and the model's own
answer is kept beside it. A claim that fails is kept, `verified: false`, with `why`. Whether the
claim's metric is what its sentence says of that number is recorded apart, as `metric_supported`.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, Optional, cast

from . import taxonomy
from .document import Document
from .engines.base import ClaimDraft
from .lexicon import GENERIC_NAME_WORDS, NAME_DETERMINERS
from .limits import MAX_CLAIMS, MAX_SENTENCE
from .metrics import content_words, shared
from .quantities import MULTIPLIERS, QUALIFIER_ALTERNATION, WORD_HINTS, Quantity, balance_math, multiplier, parse_span
from .respectively import Pairing, pair
from .schema import Direction, HeadlineNumber, Kind, NameEvidence, Qualifier, UncoveredNumber
from .text import Normalized, has_markup, normalize_with_map, plain
from .units import canonical_unit, dimension, is_known, is_score, same_quantity, values_agree

__all__ = [
    "verify_claims",
    "verify_name",
    "check_name",
    "uncovered_numbers",
    "values_agree",
    "read_number",
    "reask_problems",
]


# --- reading what a claim says ------------------------------------------------------------------

_QUALIFIERS = ("exact", "up_to", "over", "at_least", "less_than", "at_most", "within", "approx", "average")
_QUALIFIER_WORDS = {
    "up to": "up_to",
    "upto": "up_to",
    "maximum": "up_to",
    "max": "up_to",
    "as much as": "up_to",
    "at most": "at_most",
    "no more than": "at_most",
    "more than": "over",
    "greater than": "over",
    "above": "over",
    "exceeding": "over",
    "at least": "at_least",
    "minimum": "at_least",
    "min": "at_least",
    "less than": "less_than",
    "below": "less_than",
    "under": "less_than",
    "fewer than": "less_than",
    "lower than": "less_than",
    "approximately": "approx",
    "about": "approx",
    "around": "approx",
    "roughly": "approx",
    "nearly": "approx",
    "almost": "approx",
    "approximate": "approx",
    "~": "approx",
    "mean": "average",
    "on average": "average",
    "avg": "average",
    "none": "exact",
    "": "exact",
    "null": "exact",
    "equal": "exact",
    "=": "exact",
    "precise": "exact",
}
# qualifiers that mean the same bound, so one can stand for another
_QUALIFIER_GROUP = {
    "up_to": "upper",
    "at_most": "upper",
    "less_than": "upper",
    "over": "lower",
    "at_least": "lower",
    "approx": "approx",
    "average": "average",
    "within": "within",
    "exact": "exact",
}
# words in a sentence that state a qualifier away from the number ("On average, X is 2.1x faster")
_QUALIFIER_CUES = {
    "up_to": ("up to", "as much as", "as high as", "maximum", "peak"),
    "average": ("average", "mean"),
    "approx": ("about", "approximately", "around", "roughly", "nearly", "almost", "~", "close to"),
    "over": ("over", "more than", "above", "exceed", "greater than"),
    "at_least": ("at least",),
    "less_than": ("less than", "under", "below", "fewer than", "<"),
    "at_most": ("at most", "no more than"),
    "within": ("within",),
}
_DIRECTIONS = {
    "increase": "increase",
    "increased": "increase",
    "increasing": "increase",
    "higher": "increase",
    "more": "increase",
    "up": "increase",
    "improvement": "increase",
    "improve": "increase",
    "improved": "increase",
    "faster": "increase",
    "speedup": "increase",
    "gain": "increase",
    "better": "increase",
    "greater": "increase",
    "larger": "increase",
    "positive": "increase",
    "+": "increase",
    "decrease": "decrease",
    "decreased": "decrease",
    "decreasing": "decrease",
    "reduction": "decrease",
    "reduce": "decrease",
    "reduced": "decrease",
    "lower": "decrease",
    "less": "decrease",
    "fewer": "decrease",
    "down": "decrease",
    "smaller": "decrease",
    "shorter": "decrease",
    "drop": "decrease",
    "saving": "decrease",
    "savings": "decrease",
    "negative": "decrease",
    "cut": "decrease",
    "-": "decrease",
    "none": "none",
    "": "none",
    "null": "none",
    "same": "none",
    "neutral": "none",
    "n/a": "none",
    "unchanged": "none",
    "flat": "none",
    "level": "none",
}
_KINDS = {
    "result": "result",
    "results": "result",
    "outcome": "result",
    "headline": "result",
    "main": "result",
    "context": "context",
    "background": "context",
    "prior": "context",
    "prior work": "context",
    "baseline": "context",
    "motivation": "context",
    "problem": "context",
    "setup": "setup",
    "set-up": "setup",
    "experimental setup": "setup",
    "experiment": "setup",
    "setting": "setup",
    "scale": "setup",
    "dataset": "setup",
    "configuration": "setup",
    "config": "setup",
}

_NUMBER_TEXT = re.compile(r"([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*)")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
# the qualifier a model may write into the value ("up to 44%", "over 2x", "by 37%"): the claim's
# qualifier is read from the abstract's span, so here it is only dropped
_VALUE_QUALIFIER = re.compile(
    r"(?:by\s+)?(?:" + QUALIFIER_ALTERNATION + r")\s+(?=[-+.\d])|(?:<=|>=|[<>≤≥])\s*|by\s+(?=[-+.\d])", re.I
)


def read_number(v: Any) -> tuple[Optional[float], Optional[str], Optional[str]]:
    """A value as a model writes it -> (number, unit written with it, problem).

    44, 44.0, "44", "44%", "8,054", "-44 %", "1.2e3", "10k", "1.5M requests", "up to 44%" read; None and "" are
    no value; "many", true, [44] are problems (the claim fails, never the paper)."""
    if v is None:
        return None, None, None
    if type(v) is float and math.isfinite(v):
        return v, None, None
    if isinstance(v, bool):
        return None, None, f"value {v!r} is not a number"
    if isinstance(v, (int, float)):
        f = float(v)
        if not math.isfinite(f):
            return None, None, f"value {v!r} is not a finite number"
        return f, None, None
    if isinstance(v, str):
        s = unicodedata.normalize("NFKC", v).strip().replace("−", "-").lstrip("~≈").strip()
        s = s[q.end() :] if (q := _VALUE_QUALIFIER.match(s)) else s
        if s.lower() in ("", "null", "none", "n/a", "na", "-"):
            return None, None, None
        s = _THOUSANDS.sub("", s).replace("\u2009", "").replace("_", "")
        m = _NUMBER_TEXT.fullmatch(s)
        if m:
            factor, rest = multiplier(s, m.end(1))  # "10k", "1.5M", "2 million", as the scanner reads them
            f = float(m.group(1)) * factor
            if math.isfinite(f):
                return f, (s[rest:].strip() or None), None
        return None, None, f"value {v!r} is not a number"
    return None, None, f"value {str(v)[:40]!r} is not a number"


_E_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?[eE][-+−]?\d+(?!\s*(?:-|–|—|to|~)\s*\d)")
_RANGE_TEXT = re.compile(r"(?P<a>[-+]?[\d.,]+\s*[^\d\s.,~–—-]{0,3})\s*(?:-|–|—|to|~)\s*(?P<b>[-+]?[\d.,].*)")


def read_range(v: Any) -> Optional[tuple[float, float, Optional[str]]]:
    """A range given as one value, as models write it: "1.5-2", "30%–50%", "1.8x to 2.4x",
    [1.5, 2] -> (low, high, unit written with it); None when `v` is not a range."""
    if isinstance(v, (list, tuple)) and len(v) == 2:
        (lo, _, p1), (hi, _, p2) = read_number(v[0]), read_number(v[1])
        return (lo, hi, None) if lo is not None and hi is not None and not (p1 or p2) else None
    if not isinstance(v, str):
        return None
    text = unicodedata.normalize("NFKC", v).strip().lstrip("~≈").strip()
    m = _RANGE_TEXT.fullmatch(text)
    if not m or _E_NUMBER.match(text):  # "3.2e-4" is one number
        return None
    (lo, u1, p1), (hi, u2, p2) = read_number(m.group("a")), read_number(m.group("b"))
    if lo is None or hi is None or p1 or p2 or (u1 and u2 and canonical_unit(u1) != canonical_unit(u2)):
        return None
    return lo, hi, u2 or u1


def _word_map(v: Any, table: dict[str, str], default: str) -> str:
    if not isinstance(v, str):
        return default
    if table.get(v) == v:
        return v  # already the canonical word
    key = " ".join(v.lower().replace("_", " ").split())
    return table.get(key, table.get(key.replace(" ", "_"), default))


def _qualifier(v: Any) -> Qualifier:
    if isinstance(v, str) and v in _QUALIFIERS:
        return cast(Qualifier, v)
    return cast(Qualifier, _word_map(v, {**_QUALIFIER_WORDS, **{q.replace("_", " "): q for q in _QUALIFIERS}}, "exact"))


def _text(v: Any) -> Optional[str]:
    if v is None:
        return None
    s = " ".join(str(v).split())
    return s or None


@dataclass
class _Said:
    """What a claim says, read from the engine's draft."""

    text: str
    value: Optional[float]
    low: Optional[float]
    high: Optional[float]
    unit: str  # canonical when known; as written otherwise
    unit_given: bool
    qualifier: Qualifier
    direction: Direction
    kind: Kind
    metric: Optional[str]
    metric_class: Optional[str]
    condition: Optional[str]
    baseline: Optional[str]
    problems: list[str]
    alt: Optional[_Said] = (
        None  # the other reading of a unit that starts like a multiplier ("K": kelvin, not thousands)
    )


def _words_after(text: str, end: int) -> str:
    """The few words after a span, up to the end of its sentence."""
    after = text[end : end + 40]
    cut = re.search(r"[.;:!?](?:\s|$)", after)
    return after[: cut.start()] if cut else after


# a multiplier that a model writes as (the start of) the unit: 70 "billion parameters", 1.5 "M"; a
# bare "B" is bytes to canonical_unit, so "B" is a billion here only before a noun that counts things
_UNIT_MULTIPLIER = re.compile(
    r"\s*(?P<word>(?:thousand|million|billion|trillion|bn|[kKM])\b|B(?=\s+(?:parameters?|params|tokens?|"
    r"models?|LLMs?|words?|keys?|requests?|rows?|records?|edges?|vertices|nodes|entries|documents?|samples?)\b))"
    r"\s*"
)
_UNIT_FACTOR = {**MULTIPLIERS, "bn": 1e9}  # the scanner's own multipliers, and "bn"


def _unit_multiplier(raw_unit: str) -> tuple[float, str]:
    """(the factor a unit starts with, the rest of the unit): "billion parameters" -> (1e9,
    "parameters"), "M" -> (1e6, ""), "ms" -> (1.0, "ms")."""
    m = _UNIT_MULTIPLIER.match(raw_unit)
    if not m:
        return 1.0, raw_unit
    return _UNIT_FACTOR[m.group("word")], raw_unit[m.end() :]


def _plain_number(v: Any) -> bool:
    """A value given as a bare number, so a multiplier in the unit applies to it (not "70B")."""
    if isinstance(v, str):
        return re.fullmatch(r"\s*[-+]?[\d.,]+\s*", v) is not None
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _read_draft(d: ClaimDraft) -> _Said:
    problems: list[str] = []
    unit_hint = None
    nums = []
    given = {"value": d.value, "low": d.low, "high": d.high}
    rng = read_range(d.value) if d.low is None and d.high is None else None
    if rng:  # "1.5-2x" or [1.5, 2] as the value: the range's ends
        given = {"value": None, "low": rng[0], "high": rng[1]}
        unit_hint = rng[2]
    for field in ("value", "low", "high"):
        n, hint, problem = read_number(given[field])
        if problem:
            problems.append(problem if field == "value" else problem.replace("value", field, 1))
        unit_hint = unit_hint or hint
        nums.append(n)
    raw_unit = d.unit if isinstance(d.unit, str) else ("" if d.unit is None else str(d.unit))
    if not raw_unit.strip() and unit_hint:
        raw_unit = unit_hint  # "44%" as the value: the unit came with it
    factor, rest = _unit_multiplier(raw_unit)
    unscaled = (list(nums), raw_unit)
    if factor != 1.0:  # 70 with the unit "billion parameters": 70e9 parameters
        raw_unit = rest
        nums = [n * factor if n is not None and _plain_number(given[f]) else n for n, f in zip(nums, given)]
    direction = cast(Direction, _word_map(d.direction, _DIRECTIONS, "none"))
    said = _Said(
        text=_text(d.text) or "",
        value=nums[0],
        low=nums[1],
        high=nums[2],
        unit=canonical_unit(raw_unit),
        unit_given=bool(raw_unit.strip()),
        qualifier=_qualifier(d.qualifier),
        direction=direction,
        kind=cast(Kind, _word_map(d.kind, _KINDS, "result")),
        metric=_text(d.metric),
        metric_class=_text(d.metric_class),
        condition=_text(d.condition),
        baseline=_text(d.baseline),
        problems=problems,
    )
    if factor != 1.0 and is_known(canonical_unit(unscaled[1])):
        from dataclasses import replace

        (v, lo, hi), u = unscaled
        said.alt = replace(said, value=v, low=lo, high=hi, unit=canonical_unit(u), unit_given=True)
    return said


# --- finding the span ------------------------------------------------------------------------------

_WRAPPING = "\"'`“”‘’«»()[] "
_TRAILING = ".,;:!?"


def _strip_wrapping(t: str) -> str:
    """The claim text without what a model puts around a copied span: quotes, brackets, trailing
    punctuation ("“44%”.", "(up to 44%)")."""
    t = t.strip()
    while True:
        u = t.strip(_WRAPPING).rstrip(_TRAILING)
        if u == t or not u:
            return t
        t = u


def _find_all(hay: str, needle: str) -> list[int]:
    out = []
    i = hay.find(needle)
    while i >= 0 and needle:
        out.append(i)
        i = hay.find(needle, i + 1)
    return out


def _in_normalized(norm: Normalized, needle: str, source: str) -> list[tuple[int, int]]:
    return [balance_math(source, *norm.span(i, i + len(needle))) for i in _find_all(norm.text, needle)]


def _phrases(text: str) -> Iterator[str]:
    """Shorter and shorter word windows of a claim text that still hold a number: a model's
    "reduction of up to 44%" is found as "up to 44%", "44%"."""
    words = text.split()
    n = len(words)
    if n < 2 or n > 40:
        return
    for size in range(n - 1, 0, -1):
        for i in range(0, n - size + 1):
            window = " ".join(words[i : i + size])
            if any(c.isdigit() for c in window) or _WORD_HINT.search(window):
                yield window


_WORD_HINT = re.compile(r"(?i)\b(?:" + "|".join(re.escape(h) for h in WORD_HINTS) + ")")


def _candidates(
    doc: Document, text: str, hint: Optional[int], respelled_spans: set[tuple[int, int]]
) -> Iterator[tuple[int, int]]:
    """Each place the claim's text may stand, most faithful first: at the engine's offset, as
    written, normalised, without spaces, then shorter word windows of it, then the quantities that
    state its number spelled another way (added to `respelled_spans`)."""
    a = doc.text
    if hint is not None and a[hint : hint + len(text)] == text:
        yield hint, hint + len(text)
    core = _strip_wrapping(text)
    seen: set[tuple[int, int]] = set()

    def fresh(spans):
        for s, e in spans:
            if (s, e) not in seen and e > s:
                seen.add((s, e))
                yield s, e

    for t in dict.fromkeys((text, core)):
        yield from fresh((i, i + len(t)) for i in _find_all(a, t))
    folded = unicodedata.normalize("NFKC", core)
    needle = normalize_with_map(folded).text.strip()
    yield from fresh(_in_normalized(doc.normalized, needle, a))
    yield from fresh(_in_normalized(doc.loose, normalize_with_map(folded, spaces=False).text, a))
    for phrase in _phrases(needle):
        yield from fresh(_in_normalized(doc.normalized, phrase, a))
        yield from fresh(_in_normalized(doc.loose, phrase.replace(" ", ""), a))
    respelled = list(fresh(_respelled(doc, folded)))
    if respelled:
        respelled_spans.update(respelled)
        yield from respelled


_DIGIT = re.compile(r"\d")


def _respelled(doc: Document, text: str) -> Iterator[tuple[int, int]]:
    """The abstract's quantities that state the claim's own number spelled another way: "2.5x" for
    "2.5 times", "10000 QPS" for "10,000 QPS", "44.0%" for "44%", "1.2k" for "1,200", "30-50%" for
    "30%–50%", "500 µs" for "0.5 ms". Both must be written in digits with the same quantity (the same
    value and unit, or a physical unit converted), so no number is read from a word ("2x" is not
    "halves") and none from inside another (the whole quantity must agree)."""
    parsed, _ = parse_span(text)
    if parsed is None or not _DIGIT.search(text):
        return
    for q in doc.claimable:
        if not _DIGIT.search(doc.text[q.num_start : q.digits_end]):
            continue  # a word quantity: "halves", "an order of magnitude"
        if parsed.unit and parsed.unit != q.unit and not q.unit_shared:
            if not _convertible(parsed.unit, q.unit):
                continue
            agree = same_quantity  # "500 µs" for "0.5 ms"
        else:
            agree = _same_value
        if all(
            agree(mine, parsed.unit, theirs, q.unit)  # both None agree
            for mine, theirs in ((parsed.value, q.value), (parsed.low, q.low), (parsed.high, q.high))
        ):
            yield q.start, q.end


def _same_value(value: Optional[float], unit: str, other: Optional[float], other_unit: str) -> bool:
    """`same_quantity` for two spellings of one unit (or a unit the abstract writes once for both)."""
    return values_agree(value, other)


def _convertible(unit: str, other: str) -> bool:
    """Two physical units of one kind (times, sizes, rates), which `same_quantity` converts."""
    kind = dimension(unit)
    return kind in ("time", "size", "rate") and kind == dimension(other)


def _cuts(text: str, s: int, e: int) -> bool:
    """Whether text[s:e] starts or ends inside a number or a word ("2x" in "2.42x", "5%" in "25%")."""
    first, last = text[s], text[e - 1]
    if s > 0:
        p = text[s - 1]
        if first.isalnum() and (p.isalnum() or p == "_"):
            return True
        if first.isdigit() and p in ".," and s > 1 and text[s - 2].isdigit():
            return True
    if e < len(text):
        n = text[e]
        if last.isdigit() and (n.isdigit() or (n in ".," and e + 1 < len(text) and text[e + 1].isdigit())):
            return True
        if last.isalpha() and (n.isalpha() or n == "_"):
            return True
    return False


def _readings(doc: Document, s: int, e: int) -> tuple[list[Quantity], bool]:
    """The readings whose number lies inside text[s:e] (Document.claimable: quantities, numbers that
    modify a noun, the ends of a range), and whether the span cuts into a number with none of them
    inside it ("2x" of "2.42x")."""
    inside, cutting = [], []
    for q in doc.claimable:
        if q.start >= e:
            break
        if q.end <= s:
            continue
        if s <= q.num_start and q.digits_end <= e:
            inside.append(q)  # the whole number (its unit may be left out: "44" for "44%")
        elif q.num_start < e and q.digits_end > s:
            cutting.append(q)
    # a range the span cuts is no cut when one of its ends is wholly inside ("64 KB" of "64 KB and 4 MB");
    # a range wholly inside is read whole, not by its ends ("20-100x" is no claim of 20)
    cut = any(not any(c.start <= q.start and q.end <= c.end for q in inside) for c in cutting)
    whole = [q for q in inside if q.first_end >= 0 or q.part == "pair"]
    if whole:
        inside = [
            q
            for q in inside
            if not (q.part in ("low", "high") and any(w.start <= q.start and q.end <= w.end for w in whole))
        ]
    return inside, cut


# --- comparing ---------------------------------------------------------------------------------------


def _fmt(v: Optional[float]) -> str:
    return "null" if v is None else f"{v:g}"


def _unit_text(u: str) -> str:
    return f" {u}" if u and u not in ("%", "x") else u


def _agrees(v: float, unit: str, span_value: float, span_unit: str, direction: str) -> bool:
    """Whether a claimed number is the span's number, in any of the ways people write it."""
    if same_quantity(v, unit, span_value, span_unit):
        return True
    if v < 0 and direction in ("decrease", "none") and _agrees(-v, unit, span_value, span_unit, "decrease"):
        return True  # -44 for "reduces by 44%"
    if span_unit == "%" and unit == "%" and values_agree(v * 100, span_value):
        return True  # 0.39 for 39%
    if span_unit == "" and unit == "B" and values_agree(v * 1e9, span_value):
        return True  # 70 "B" for "a 70B model": the billion suffix taken for a unit
    if span_unit == "x":
        f = span_value
        if unit == "x" and v > 0 and direction != "increase" and values_agree(1 / v, f):
            return True  # 0.5x for "halve" (a factor of 2 down)
        if unit == "%" and f > 0:
            if direction != "decrease" and values_agree(v, (f - 1) * 100):
                return True  # 100% more for "double"
            if direction != "increase" and values_agree(v, (1 - 1 / f) * 100):
                return True  # 50% less for "halve", 90% less for "an order of magnitude"
    return False


_NAMING = re.compile(r"[A-Za-z][\w'’\- ]*")


def _count_noun(said: _Said, span_unit: str) -> bool:
    """A model's unit that names what is counted or scored ("GPUs" for "8,054 GPUs", "$" for
    "\\$1.2M", "F1" for "an F1 of 0.712", "Jain's index" for "a Jain's index of 0.93"): the span
    is a bare number, and the unit names it."""
    if not said.unit_given:
        return False
    if is_score(said.unit):
        return span_unit in ("", "pp", said.unit)
    noun = bool(_NAMING.fullmatch(said.unit.lstrip("$€£¥"))) or said.unit in ("$", "€", "£", "¥")
    return span_unit == "" and not is_known(said.unit) and noun


def _compare(
    said: _Said, span: str, value: Optional[float], low: Optional[float], high: Optional[float], unit: str
) -> list[str]:
    """What the claim says that the span does not (in either reading of a unit like "K")."""
    problems = _compare_one(said, span, value, low, high, unit)
    if problems and said.alt is not None and not _compare_one(said.alt, span, value, low, high, unit):
        return []
    return problems


def _compare_one(
    said: _Said, span: str, value: Optional[float], low: Optional[float], high: Optional[float], unit: str
) -> list[str]:
    cu = unit if (not said.unit_given or said.unit == "" or _count_noun(said, unit)) else said.unit
    if said.unit_given and said.unit == "" and unit not in ("", "%", "x"):
        cu = unit  # "" given for a physical unit: left out, read from the span
    where = f"the span {span!r} says"
    if value is not None:  # one number
        if said.low is not None and said.high is not None and not values_agree(said.low, said.high):
            return [f"range {_fmt(said.low)}-{_fmt(said.high)} but {where} one number, {_fmt(value)}{_unit_text(unit)}"]
        claimed = next((x for x in (said.value, said.low, said.high) if x is not None), None)
        if claimed is None or _agrees(claimed, cu, value, unit, said.direction):
            return []
        return [f"value {_fmt(claimed)}{_unit_text(cu)} but {where} {_fmt(value)}{_unit_text(unit)}"]
    if low is None or high is None:  # a span that states no number: "several orders of magnitude"
        claimed = next((x for x in (said.value, said.low, said.high) if x is not None), None)
        if claimed is None:
            return []
        return [f"value {_fmt(claimed)}{_unit_text(cu)} but {where} no number"]
    # a range
    said_ends = [x for x in (said.low, said.high) if x is not None]
    if not said_ends:
        if said.value is None:
            return []
        return [f"value {_fmt(said.value)} but {where} a range, {_fmt(low)}-{_fmt(high)}{_unit_text(unit)}"]
    lo, hi = min(said_ends), max(said_ends)
    if not (_agrees(lo, cu, low, unit, said.direction) and _agrees(hi, cu, high, unit, said.direction)):
        return [f"range {_fmt(lo)}-{_fmt(hi)}{_unit_text(cu)} but {where} {_fmt(low)}-{_fmt(high)}{_unit_text(unit)}"]
    v = said.value
    if v is not None and not any(_agrees(v, cu, x, unit, said.direction) for x in (low, high, (low + high) / 2)):
        return [f"value {_fmt(v)} is neither end nor the middle of the range {_fmt(low)}-{_fmt(high)} {where}"]
    return []


def _loose(text: str) -> str:
    return normalize_with_map(unicodedata.normalize("NFKC", text), spaces=False).text


def _quotes_unit(claimed: str, doc: Document, q: Quantity) -> bool:
    """Whether a claim's text holds the span's number with its unit as the abstract writes it
    ("up to 7.5x" holds "7.5x"): the span is then the authority for the unit."""
    number = doc.text[q.num_start : q.end]
    return bool(number) and _loose(number) in _loose(claimed)


def _quotes_whole(claimed: str, doc: Document, q: Quantity) -> bool:
    """Whether a claim's text holds the whole span, its qualifier's words included."""
    return _loose(doc.text[q.start : q.end]) in _loose(claimed)


def _unit_left_out(said: _Said) -> _Said:
    from dataclasses import replace

    return replace(said, unit="", unit_given=False)


def _qualifier_problem(said: _Said, q: Quantity, doc: Document) -> tuple[Qualifier, Optional[str]]:
    """(the qualifier to store, a problem or None)."""
    claimed, stated = said.qualifier, cast(Qualifier, q.qualifier)
    if claimed == stated or claimed == "exact" or _QUALIFIER_GROUP[claimed] == _QUALIFIER_GROUP[stated]:
        return stated, None
    if q.outer and (claimed == q.outer or _QUALIFIER_GROUP[claimed] == _QUALIFIER_GROUP.get(q.outer)):
        return claimed, None  # "up to ~12X": both are said
    if stated == "exact":
        # "On average, ... 2.1x": an average may be said anywhere in the sentence; another qualifier
        # between the number before this one and this one ("up to, on most workloads, 44%")
        sent = doc.sentence_at(q.start)
        s0, s1 = (sent.start, sent.end) if sent else (0, len(doc.text))
        if claimed == "average":
            where = doc.lower[s0:s1]
        else:
            prev_end = max([p.end for p in doc.quantities if s0 <= p.end <= q.start], default=s0)
            where = doc.lower[prev_end : q.start]
        if any(cue in where for cue in _QUALIFIER_CUES[claimed]):
            return claimed, None
    return stated, f"qualifier {claimed} but the span says {stated.replace('_', ' ')}"


# --- metrics ---------------------------------------------------------------------------------------


def _pairing(doc: Document, si: int) -> Optional[Pairing]:
    memo = doc.memo.setdefault("pairings", {})
    if si not in memo:
        sent = doc.sentences[si]
        qs = [
            (q.start - sent.start, q.end - sent.start, q.listed)
            for q in doc.quantities
            if sent.start <= q.start < sent.end
        ]
        memo[si] = pair(sent.text, qs)
    return memo[si]


def _local_metrics(doc: Document) -> dict[int, tuple[list[str], Optional[str]]]:
    """What the offline reading of each sentence says each number measures (start -> its words,
    the phrase)."""
    memo = doc.memo.get("local_metrics")
    if memo is None:
        from .engines.offline import read_numbers  # the one reading of a sentence's numbers

        memo = {n.start: (content_words(n.metric), n.metric) for n in read_numbers(doc) if n.start is not None}
        doc.memo["local_metrics"] = memo
    return memo


def metric_support(doc: Document, q: Quantity, metric: Optional[str]) -> tuple[Optional[bool], Optional[str]]:
    """Whether the sentence of quantity `q` says that `q` measures `metric`: True, False (with the
    reason) or None when it cannot tell (no metric given, or only words like "performance").

    False when none of the metric's words are in the sentence (or the one before it), when a
    "respectively" list pairs the number with another item the metric names, when the metric is
    named only in the sentence before, or only outside the number's clause, while that clause says
    what the number measures, or when the metric is what the sentence says another number (not on
    the same list) measures and not this one."""
    words = content_words(metric)
    if not words:
        return None, None
    local = _local_metrics(doc)
    if local.get(q.start, ([], None))[1] == metric:
        return True, None  # what the offline reading of the sentence says, word for word
    si = doc.sentence_index(q.start)
    if si is None:
        return None, None
    sent = doc.sentences[si]
    number = doc.text[q.start : q.end]
    pairing = _pairing(doc, si)
    rel = q.start - sent.start
    if pairing is not None and rel in pairing.numbers:
        k = pairing.numbers.index(rel)
        if shared(words, list(pairing.keys[k])):
            return True, None
        rivals = [j for j, key in enumerate(pairing.keys) if j != k and shared(words, list(key))]
        if rivals:
            return False, (
                f"metric {metric!r}: 'respectively' pairs {number} with "
                f"{pairing.items[k]!r}, not {pairing.items[rivals[0]]!r}"
            )
    here = content_words(sent.text)
    before = content_words(doc.sentences[si - 1].text[-200:]) if si > 0 else []
    if not shared(words, here + before):
        return False, f"metric {metric!r}: none of its words are in the sentence of {number}"
    own, own_phrase = local.get(q.start, ([], None))
    mine = shared(words, own)
    if not mine and own and not shared(words, here):
        # the metric is named only in the sentence before, and this number's own sentence says
        # what it measures ("... reduced the p99 latency by 40%" given "system call invocations")
        return False, f"metric {metric!r} is named only in the sentence before; {number} measures {own_phrase!r}"
    if mine:
        return True, None
    if own and not shared(words, content_words(_clause_of(sent.text, rel, q.end - sent.start))):
        # the sentence names the metric elsewhere, and the number's own clause says what it measures
        # ("reduces SLO violations by 21.2% ..., while training throughput stays high" given "training
        # throughput")
        return False, f"metric {metric!r} is not in the clause of {number}, which measures {own_phrase!r}"
    group = _list_of(doc, q)
    for other in doc.quantities:
        if other.start in group or not (sent.start <= other.start < sent.end):
            continue
        theirs = local.get(other.start, ([], None))[0]
        if theirs and shared(words, theirs) > mine:
            return False, (
                f"metric {metric!r} is what the sentence says of {doc.text[other.start : other.end]}, not of {number}"
            )
    return True, None


def _clause_of(sent: str, rel_s: int, rel_e: int) -> str:
    """The clause of the number at sent[rel_s:rel_e], as the offline reading bounds it."""
    from .engines.offline.claims import after_end, clause_bounds  # the one definition of a clause

    b0, _ = clause_bounds(sent, rel_s)
    return sent[b0 : after_end(sent, rel_e)]


def _list_of(doc: Document, q: Quantity) -> set[int]:
    """Start offsets of the members of the list `q` is on (just `q` when it is on none)."""
    qs = doc.quantities
    i = next((i for i, x in enumerate(qs) if x.start == q.start), None)
    if i is None:
        return {q.start}  # a modifier or a range's end: on no list of the scanner's
    a = i
    while a > 0 and qs[a].listed:
        a -= 1
    b = i
    while b + 1 < len(qs) and qs[b + 1].listed:
        b += 1
    return {x.start for x in qs[a : b + 1]}


# --- putting it together ---------------------------------------------------------------------------


def _sentence_text(doc: Document, s: int, e: int) -> Optional[str]:
    sent = doc.sentence_at(s)
    if sent is None:
        return None
    if len(sent.text) <= MAX_SENTENCE:
        return sent.text
    # an unbroken text is no sentence: keep a window around the claim
    half = (MAX_SENTENCE - len(doc.text[s:e])) // 2
    a, b = max(sent.start, s - half), min(sent.end, e + half)
    return ("…" if a > sent.start else "") + doc.text[a:b] + ("…" if b < sent.end else "")


def _unverified(said: _Said, d: ClaimDraft, why: str) -> HeadlineNumber:
    cls, class_why = metric_class(said)
    return HeadlineNumber(
        text=said.text,
        start=None,
        end=None,
        value=said.value,
        low=said.low,
        high=said.high,
        unit=said.unit if is_known(said.unit) else said.unit[:40],
        qualifier=said.qualifier,
        kind=said.kind,
        metric=said.metric,
        metric_class=cls.key,
        better=taxonomy.better(cls, said.direction, said.qualifier),
        condition=said.condition,
        direction=said.direction,
        baseline=said.baseline,
        sentence=None,
        verified=False,
        why="; ".join([why] + ([class_why] if class_why else [])),
        alignment=None,
        model_answer=d.answer,
    )


def _verify_one(doc: Document, d: ClaimDraft, used: list[tuple[int, int]]) -> HeadlineNumber:
    said = _read_draft(d)
    if not said.text:
        return _unverified(said, d, "; ".join(said.problems + ["no text given"]))
    a = doc.text
    good = first = None
    taken = cut_only = no_claim = False
    respelled: set[tuple[int, int]] = set()
    for s, e in _candidates(doc, said.text, d.start, respelled):
        if _cuts(a, s, e):
            cut_only = True
            continue
        inside, cut = _readings(doc, s, e)
        if cut or not inside:
            cut_only = cut_only or cut
            no_claim = no_claim or not cut
            continue
        free = [q for q in inside if not any(q.start < ue and us < q.end for us, ue in used)]
        if not free:
            taken = True
            continue
        match = next((q for q in free if _value_matches(said, q)), None)
        if match is not None:
            good = match
            break
        if first is None:
            first = free[0]
    chosen = good or first
    if chosen is None:
        if taken:
            why = "the span is already another claim's (a number claimed twice)"
        elif cut_only:
            why = f"{said.text!r} occurs only inside a longer number or word"
        elif no_claim and _DIGIT.search(said.text):
            why = f"{said.text!r} is in the abstract but is no quantity claim there (a year, a version, a name ...)"
        elif no_claim:
            why = f"{said.text!r} is in the abstract but states no number"
        else:
            why = "text not found in abstract"
        return _unverified(said, d, "; ".join(said.problems + [why]))
    q = chosen
    used.append((q.start, q.end))
    span = a[q.start : q.end]
    problems = list(said.problems)
    value, low, high, unit = q.value, q.low, q.high, q.unit
    # the span must say the same on its own: re-parsed with no context (but the words after it, which
    # tell "64B cache lines" from "a 64B model"), it gives the same number. (A reading made of the
    # scanner's own quantities, a modifier or a range's end, is that reading already.)
    parsed, err = parse_span(span, _words_after(a, q.end))
    if not (q.modifier or q.part) and (
        parsed is None
        or not (
            values_agree(parsed.value, value)
            and values_agree(parsed.low, low)
            and values_agree(parsed.high, high)
            and (parsed.unit == unit or q.unit_shared)
        )
    ):
        problems.append(f"span {span!r} re-parses differently ({err or parsed})")
    if chosen is not good:  # a matching place was not found: say what the span says instead
        authority = _quotes_unit(said.text, doc, q)
        mismatch = _compare(said, span, value, low, high, unit)
        if mismatch and authority and not _compare(_unit_left_out(said), span, value, low, high, unit):
            mismatch = []  # the claim quotes the span's unit: the span says which unit the number has
        problems += mismatch
    qualifier, qproblem = _qualifier_problem(said, q, doc)
    if qproblem and _quotes_whole(said.text, doc, q):
        qualifier, qproblem = cast(Qualifier, q.qualifier), None  # the claim quotes the span's qualifier
    if qproblem:
        problems.append(qproblem)
    direction = said.direction
    if direction == "none" and any(x is not None and x < 0 for x in (said.value, said.low, said.high)):
        direction = "decrease"  # -44 said "reduces by 44%"
    supported, metric_why = metric_support(doc, q, said.metric)
    cls, class_why = metric_class(said)
    notes = problems + [w for w in (metric_why, class_why) if w]
    return HeadlineNumber(
        text=span,
        start=q.start,
        end=q.end,
        value=value,
        low=low,
        high=high,
        unit=unit,
        qualifier=qualifier,
        kind=said.kind,
        metric=said.metric,
        metric_class=cls.key,
        better=taxonomy.better(cls, direction, qualifier),
        condition=said.condition,
        direction=direction,
        baseline=said.baseline,
        sentence=_sentence_text(doc, q.start, q.end),
        verified=not problems,
        why="; ".join(notes) or None,
        alignment="normalized" if (q.start, q.end) in respelled else _alignment(said.text, span),
        metric_supported=supported,
        model_answer=d.answer,
    )


def metric_class(said: _Said) -> tuple[taxonomy.Classification, Optional[str]]:
    """The claim's class in the taxonomy: the engine's when it names one of the taxonomy's
    (its better direction read from the metric's words: "GPU utilization loss" is better lower),
    else the class of the metric's words, with a note saying the engine's was not one."""
    given = (said.metric_class or "").strip().lower().replace(" ", "_").replace("-", "_")
    if given and taxonomy.valid(given):
        return taxonomy.classify(said.metric, said.unit, key=given), None
    words = taxonomy.classify(said.metric, said.unit)
    if not given:
        return words, None
    return (
        words,
        f"metric_class {said.metric_class!r} is not in the taxonomy; classed as {words.key!r} from the metric's words",
    )


def _alignment(claimed: str, span: str) -> Literal["exact", "normalized", "partial"]:
    """How the claim's text relates to its span: the same characters, the same after normalising
    (case, spacing, LaTeX, dashes, quotes, punctuation around it), or a part or a superset. (A
    span found by its number spelled another way, `_respelled`, is "normalized" too.)"""
    if claimed == span:
        return "exact"
    core = _strip_wrapping(claimed)
    loose, loose_span = normalize_with_map(core, spaces=False).text, normalize_with_map(span, spaces=False).text
    if core == span or loose == loose_span:
        return "normalized"
    return "partial"


def _value_matches(said: _Said, q: Quantity) -> bool:
    """Whether the claim's number is this quantity's (to choose among places its text occurs)."""
    return not _compare(said, "", q.value, q.low, q.high, q.unit)


def verify_claims(doc: Document, drafts: list[ClaimDraft]) -> list[HeadlineNumber]:
    """Verify each claim against the abstract, in the engine's order; each claim gets its own
    occurrence of the text, never overlapping another claim's."""
    used: list[tuple[int, int]] = []
    return [_verify_one(doc, d, used) for d in drafts[:MAX_CLAIMS]]


def reask_problems(numbers: list[HeadlineNumber]) -> list[str]:
    """What to tell a model about the claims that did not verify and that it can fix: each claim and
    what its span says. A doubt about a metric, or the scanner reading a span two ways, is nothing a
    model can change by answering again."""
    out = []
    for n in numbers:
        if not n.verified:
            parts = [
                p
                for p in (n.why or "").split("; ")
                if p and "re-parses differently" not in p and not p.startswith("metric ")
            ]
            if parts:
                given = n.model_answer.get("text") if n.model_answer else n.text
                out.append(f"{json.dumps(given, ensure_ascii=False)}: {'; '.join(parts)}")
    return out


def uncovered_numbers(doc: Document, numbers: list[HeadlineNumber]) -> list[UncoveredNumber]:
    """Quantities in the abstract that no verified claim covers (what a model left out)."""
    spans = [(n.start, n.end) for n in numbers if n.verified and n.start is not None and n.end is not None]
    exact = set(spans)
    out = []
    for q in doc.quantities:
        if (q.start, q.end) in exact or any(q.start < e and s < q.end for s, e in spans):
            continue
        out.append(
            UncoveredNumber(
                text=doc.text[q.start : q.end],
                start=q.start,
                end=q.end,
                value=q.value,
                low=q.low,
                high=q.high,
                unit=q.unit,
                qualifier=q.qualifier,  # type: ignore[arg-type]
                sentence=_sentence_text(doc, q.start, q.end),
            )
        )
    return out


# --- names ---------------------------------------------------------------------------------------------


def generic_name(name: str) -> bool:
    """A common word or phrase is not a name: "we", "system", "the framework", "LLM", "our approach"."""
    words = [w for w in re.findall(r"[\w\-]+", name.lower()) if w not in NAME_DETERMINERS]
    return not words or all(w in GENERIC_NAME_WORDS or w.rstrip("s") in GENERIC_NAME_WORDS for w in words)


# what a model writes around a name: "**Nexus**", "Nexus (a serverless hypervisor)", "Nexus: a
# hypervisor", "Nexus - a hypervisor", "the Nexus hypervisor" (trailing lower-case words)
_NAME_MARKUP = re.compile(r"^[*_`]+|[*_`]+$")
_NAME_TAIL = (
    re.compile(r"\s*\([^()]*\)?$"),  # the closing bracket went with the wrapping
    re.compile(r"\s*(?::|\s[-–—])\s.*$"),
    re.compile(r"(?:\s+[a-z][a-z\-]*){1,3}$"),
)


def _name_variants(name: str) -> Iterator[str]:
    """Shorter readings of a model's name, in order, none of them a common word."""
    t = _strip_wrapping(_NAME_MARKUP.sub("", name.replace("**", "").replace("`", "")))
    if t != name:
        yield t
    for tail in _NAME_TAIL:
        u = _strip_wrapping(_NAME_MARKUP.sub("", tail.sub("", t)))
        if u != t and u and not generic_name(u):
            yield u


def _name_spaced(name: str) -> Optional[re.Pattern]:
    """The name with its separators free: "NEXUS 2", "Nexus2" and "nexus_2" for "NEXUS-2"."""
    chunks = re.findall(r"[A-Za-z]+|\d+", name)
    if len(chunks) < 2 or re.sub(r"[\s_\-]", "", name) != "".join(chunks):
        return None
    return re.compile(r"(?<![\w\-])" + r"[\s_\-]?".join(map(re.escape, chunks)) + r"(?![\w\-])", re.I)


def verify_name(
    name: Optional[str], title: str, abstract: str
) -> tuple[Optional[bool], Optional[NameEvidence], Optional[str]]:
    """(verified, evidence, why): a name is verified when it stands as a word in the abstract or
    the title and is not a common word; a model's decoration of it (emphasis, a description in
    parentheses or after a colon, a trailing common noun, another separator) is not held against it,
    and the evidence is the name as the paper writes it."""
    ok, evidence, why, _ = check_name(name, title, abstract)
    return ok, evidence, why


def check_name(
    name: Optional[str], title: str, abstract: str
) -> tuple[Optional[bool], Optional[NameEvidence], Optional[str], Optional[str]]:
    """verify_name's answer and the name to store: the paper's spelling of it, or (where the paper
    writes it with markup, "vmcache$^n$") the model's name without its decoration."""
    if not name or not name.strip():
        return None, None, None, name
    name = _strip_wrapping(name.strip())
    if generic_name(name):
        return False, None, f"{name!r} is a common word, not a name", name
    found, matched = _find_name(name, title, abstract), name
    if found is None:
        for matched in _name_variants(name):
            found = _find_name(matched, title, abstract)
            if found is not None:
                break
    if found is None and (rx := _name_spaced(name)) is not None:
        for field, text in (("abstract", abstract), ("title", title)):
            if m := rx.search(text):
                found, matched = NameEvidence(field=field, start=m.start(), end=m.end()), m.group(0)  # type: ignore[arg-type]
                break
    if found is None:
        return False, None, "not in the title or abstract", name
    written = (abstract if found.field == "abstract" else title)[found.start : found.end]
    return True, found, None, (matched if has_markup(written) else written)


def _find_name(name: str, title: str, abstract: str) -> Optional[NameEvidence]:
    where: tuple[tuple[str, str], ...] = (("abstract", abstract), ("title", title))
    for field, text in where:
        for i in _find_all(text, name):
            j = i + len(name)
            if not (i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")) and not (
                j < len(text) and (text[j].isalnum() or text[j] == "_")
            ):
                return NameEvidence(field=field, start=i, end=j)  # type: ignore[arg-type]
    rx = re.compile(r"(?<![\w])" + re.escape(name) + r"(?![\w])")
    needle = normalize_with_map(name).text
    for field, text in where:  # LaTeX-wrapped (\textsc{ClawVM}) or typographic variants
        if rx.search(plain(text)) or needle in normalize_with_map(text).text:
            norm = normalize_with_map(text)
            for s, e in _in_normalized(norm, needle, text):
                if not _cuts(text, s, e):
                    return NameEvidence(field=field, start=s, end=e)  # type: ignore[arg-type]
    return None
