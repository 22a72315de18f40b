"""Verifying an answer to a user field, from any engine: the evidence quote must be text of the
abstract (or title); a number is re-read from its quote; a choice must be one of the list; list
items must occur in the abstract. What does not verify is kept and flagged, never dropped.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from ..analysis.quantities import scan
from ..analysis.units import values_agree
from ..fields import FieldSpec, keyword_hits
from ..schema import FieldValue
from .said import read_number


# -- verification ----------------------------------------------------------------------------------
def _find(text: str, quote: str) -> Optional[tuple[int, int]]:
    """The quote in `text`: exactly, or with case, spacing, quotes and a trailing period ignored."""
    q = quote.strip().strip("\"'“”‘’").rstrip(".").strip()
    if not q:
        return None
    i = text.find(q)
    if i >= 0:
        return i, i + len(q)
    words = q.split()
    pat = r"\s+".join(re.escape(w).replace("'", "['’]").replace('"', '["“”]') for w in words)
    m = re.search(pat, text, re.I)
    return (m.start(), m.end()) if m else None


def read_bool(v: Any) -> Optional[bool]:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in ("true", "yes", "y", "1"):
        return True
    if isinstance(v, str) and v.strip().lower() in ("false", "no", "n", "0"):
        return False
    return None


def verify_field(title: str, abstract: str, spec: FieldSpec, answer: Any) -> FieldValue:
    if not isinstance(answer, dict):  # a bare value
        answer = {"value": answer, "evidence": None}
    raw_value, evidence = answer.get("value"), answer.get("evidence")
    given = {k: answer.get(k) for k in ("value", "evidence")}
    fv = FieldValue(
        type=spec.type, value=raw_value, evidence=evidence if isinstance(evidence, str) else None, model_answer=given
    )
    if isinstance(raw_value, str) and raw_value.strip().lower() in ("", "null", "none", "n/a", "unknown"):
        raw_value = None
    if raw_value is None or raw_value == []:
        fv.value, fv.verified = None, None
        fv.why = answer.get("why") or "the abstract does not say"
        return fv
    problems = []
    # the value, read as the declared type
    if spec.type == "number":
        v, _, problem = read_number(raw_value)
        fv.value = v
        if problem:
            problems.append(problem)
    elif spec.type == "boolean":
        b = read_bool(raw_value)
        fv.value = b if b is not None else raw_value
        if b is None:
            problems.append(f"value {raw_value!r} is not true or false")
    elif spec.type == "choice":
        canon = {c.lower(): c for c in spec.choices}
        got = canon.get(str(raw_value).strip().lower())
        fv.value = got or raw_value
        if got is None:
            problems.append(f"{str(raw_value)[:60]!r} is not one of: {', '.join(spec.choices)}")
    elif spec.type == "list":
        items = raw_value if isinstance(raw_value, list) else [x for x in str(raw_value).split(",")]
        fv.value = [str(x).strip() for x in items if str(x).strip()]
    else:
        fv.value = str(raw_value).strip()
    # the evidence, in the abstract (or the title)
    span = None
    if fv.evidence and fv.evidence.strip():
        span = _find(abstract, fv.evidence)
        if span is not None:
            fv.start, fv.end = span
            fv.evidence = abstract[span[0] : span[1]]
        elif _find(title, fv.evidence) is None:
            problems.append(f"evidence {fv.evidence[:80]!r} is not in the abstract")
    elif spec.evidence:
        problems.append("no evidence quote")
    # what the evidence says
    if span is not None and spec.type == "number" and isinstance(fv.value, float):
        qs = scan(fv.evidence or "")
        nums = [x for q in qs for x in (q.value, q.low, q.high) if x is not None]
        if not any(values_agree(fv.value, x) for x in nums):
            read = ", ".join(f"{x:g}" for x in nums) or "no number"
            problems.append(f"value {fv.value:g} is not what the evidence says ({read})")
    if spec.type == "list" and isinstance(fv.value, list):
        missing = [x for x in fv.value if _find(abstract, x) is None and not _keyword_says(spec, x, abstract)]
        if missing:
            problems.append(f"not in the abstract: {', '.join(missing[:5])}")
    fv.verified = not problems
    fv.why = "; ".join(problems) or None
    return fv


def _keyword_says(spec: FieldSpec, value: str, abstract: str) -> bool:
    """A declared value whose keywords occur in the abstract ("GPU" for "8,054 GPUs")."""
    words = next((w for k, w in spec.keywords.items() if k.lower() == value.lower()), None)
    return bool(words and keyword_hits(abstract, words))


def verify_fields(title: str, abstract: str, specs: list[FieldSpec], answers: Any) -> dict[str, FieldValue]:
    """Every declared field, verified; a field the engine left out is null, said so."""
    answers = answers if isinstance(answers, dict) else {}
    out = {}
    for s in specs:
        if s.name in answers:
            out[s.name] = verify_field(title, abstract, s, answers[s.name])
        else:
            out[s.name] = FieldValue(type=s.type, why="the engine gave no answer for this field")
    return out
