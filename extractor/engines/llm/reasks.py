"""The re-ask policy: an answer checked as its record will be, and what a re-ask would tell the
model. A re-ask is paid for, so only what the model can fix counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

from ...analysis.document import Document
from ...verification import generic_name, reask_problems, uncovered_numbers, verify_claims
from .protocol import Answer


def problems_with(doc: Document, answer: Answer, uncovered: str = "no", fields: Optional[list] = None) -> Optional[str]:
    """What to tell the model about an answer that reads but does not hold up, or None."""
    return review(doc, answer, uncovered, fields).problem


@dataclass
class Review:
    """An answer checked as its record will be: what a re-ask would tell the model (None: nothing the
    model can fix), how many claims verify, the failing claims (to tell a repeat), and the claims
    as verified (the record takes them rather than verify again)."""

    problem: Optional[str]
    verified: int
    failing: frozenset
    numbers: list


def review(doc: Document, answer: Answer, uncovered: str = "no", fields: Optional[list] = None) -> Review:
    """Check an answer. A re-ask is paid for, so only what the model can fix counts: a claim whose
    text is not in the abstract, whose value (or unit, when its text does not quote the span's)
    the span contradicts, that states no quantity or takes another claim's span; a field that does
    not hold up; a common word for a name. `uncovered`: whether to name the abstract's numbers that
    no claim covers: "no", "with" (only beside another problem) or "alone" (a reason by itself)."""
    numbers = verify_claims(doc, answer.numbers)
    parts = []
    bad = reask_problems(numbers)
    if bad:
        parts.append(
            "these headline_numbers do not match the abstract: "
            + "; ".join(bad[:10])
            + ". Copy each claim's text exactly from the abstract (one number per text), with the "
            "value and unit the text states, or drop the claim."
        )
    if fields:
        from ...verification.fields import verify_fields

        checked = verify_fields(doc.title, doc.text, fields, answer.fields)
        wrong = [f"{name}: {fv.why}" for name, fv in checked.items() if fv.verified is False]
        if wrong:
            parts.append(
                "these fields do not hold up: "
                + "; ".join(wrong[:10])
                + ". Quote the abstract's own words as evidence, use one of the listed choices, or give null."
            )
    name = answer.system_name
    if isinstance(name, str) and name.strip() and generic_name(name):
        parts.append(
            f"system_name {name!r} is a common word, not a name: give the name of the system the paper "
            "proposes as written, or null"
        )
    if uncovered == "alone" or (uncovered == "with" and parts):
        missed = uncovered_numbers(doc, numbers)
        if missed:
            parts.append(
                "these numbers in the abstract are in no claim: "
                + ", ".join(json.dumps(m.text) for m in missed[:10])
                + ". Add each that is a quantity claim; leave out the ones that are not."
            )
    failing = frozenset(
        (str((n.model_answer or {}).get("text", n.text)), n.value, n.low, n.high, n.unit)
        for n in numbers
        if not n.verified
    )
    return Review(" ".join(parts) or None, sum(1 for n in numbers if n.verified), failing, numbers)
