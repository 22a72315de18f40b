"""Comparing a claim with its span: value, range, unit and qualifier, tolerant where the meaning is the
same (a unit left out, 0.39 for 39%, -44 for a 44% decrease) and strict where it is not.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Optional, cast

from ..analysis.document import Document
from ..analysis.quantities import Quantity
from ..analysis.text import normalize_with_map
from ..analysis.units import is_known, is_score, same_quantity, values_agree
from ..schema import Qualifier
from .said import _QUALIFIER_CUES, _QUALIFIER_GROUP, _Said


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
