"""What a claim says: an engine's fields read as people write them ("44%", "8,054", "20-100x",
"up to", "percent"), into one reading (`_Said`) the verifier compares with the span.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Optional, cast

from ..analysis.quantities import MULTIPLIERS, QUALIFIER_ALTERNATION, multiplier
from ..analysis.units import canonical_unit, is_known
from ..contract import ClaimDraft
from ..schema import Direction, Kind, Qualifier

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
