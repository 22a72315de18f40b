"""Verification: does each claim say what its span of the abstract says?

This package is the one owner of that question, for every engine and every consumer: records, the
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

The package, by job: what a claim says (`said`), finding its span (`span`), comparing the two
(`compare`), whether the sentence supports its metric (`support`), putting them together for a
record's claims (`claims`), system names (`names`), and the user's own fields (`fields`).
"""

from __future__ import annotations

from ..analysis.units import values_agree
from .claims import metric_class, reask_problems, uncovered_numbers, verify_claims
from .names import check_name, generic_name, verify_name
from .said import read_number, read_range
from .support import metric_support

__all__ = [
    "verify_claims",
    "verify_name",
    "check_name",
    "generic_name",
    "uncovered_numbers",
    "values_agree",
    "read_number",
    "read_range",
    "reask_problems",
    "metric_support",
    "metric_class",
]
