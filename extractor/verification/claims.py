"""Verifying an engine's claims against the abstract, putting the other parts together, and what
follows from it: the claims to re-ask, the abstract's numbers that no claim covers.
"""

from __future__ import annotations

import json
from typing import Literal, Optional, cast

from ..analysis import taxonomy
from ..analysis.document import Document
from ..analysis.quantities import Quantity, parse_span
from ..analysis.text import normalize_with_map
from ..analysis.units import is_known, values_agree
from ..contract import ClaimDraft
from ..core.limits import MAX_CLAIMS, MAX_SENTENCE
from ..schema import HeadlineNumber, Qualifier, UncoveredNumber
from .compare import _compare, _qualifier_problem, _quotes_unit, _quotes_whole, _unit_left_out
from .said import _read_draft, _Said, _words_after
from .span import _DIGIT, _candidates, _cuts, _readings, _strip_wrapping
from .support import metric_support


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
