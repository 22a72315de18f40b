"""Grounding: align every claimed number and name to a verbatim span of the abstract.

One code path for every engine. A number is verified only if its text is found in the abstract
(exactly, or after normalising whitespace, case, LaTeX and dashes), the offsets are those of the
source text, and the value and unit re-parsed from that span equal the claimed ones. Anything
else is kept and flagged with `why`; nothing is dropped.
"""

from __future__ import annotations

import math
import re
from typing import Iterable, Literal, Optional

from .quantities import balance_math, canonical_unit, parse_span
from .schema import HeadlineNumber, NameEvidence
from .text import Normalized, normalize_with_map, sentence_at, split_sentences, plain


def _close(a: Optional[float], b: Optional[float]) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def _fmt(v: Optional[float]) -> str:
    return "null" if v is None else f"{v:g}"


class Aligner:
    """Finds spans in one abstract; built once per record and reused for all its claims."""

    def __init__(self, abstract: str):
        self.abstract = abstract
        self._norm: Optional[Normalized] = None
        self._used: list[tuple[int, int]] = []

    @property
    def norm(self) -> Normalized:
        if self._norm is None:
            self._norm = normalize_with_map(self.abstract)
        return self._norm

    def _pick(self, starts: Iterable[tuple[int, int]], hint: Optional[int]) -> Optional[tuple[int, int]]:
        cands = list(starts)
        if not cands:
            return None
        free = [c for c in cands if c not in self._used] or cands
        if hint is not None:
            return min(free, key=lambda c: abs(c[0] - hint))
        return free[0]

    def align(self, text: str, hint: Optional[int] = None) -> tuple[Optional[tuple[int, int]], Optional[str]]:
        """Return ((start, end), "exact"|"normalized") or (None, None)."""
        a = self.abstract
        if not text or not text.strip():
            return None, None
        if hint is not None and a[hint:hint + len(text)] == text:
            span = (hint, hint + len(text))
            self._used.append(span)
            return span, "exact"
        exact = [(m.start(), m.end()) for m in re.finditer(re.escape(text), a)]
        found = self._pick(exact, hint)
        if found:
            self._used.append(found)
            return found, "exact"
        needle = normalize_with_map(text).text.strip()
        if not needle:
            return None, None
        n = self.norm
        hits = []
        i = n.text.find(needle)
        while i >= 0:
            hits.append(balance_math(a, n.start(i), n.end(i + len(needle) - 1)))
            i = n.text.find(needle, i + 1)
        found = self._pick(hits, hint)
        if found:
            self._used.append(found)
            return found, "normalized"
        return None, None


def verify_number(num: HeadlineNumber, aligner: Aligner, sentences=None) -> HeadlineNumber:
    """Align `num` to the abstract, re-parse its value from the span, and set verified/why."""
    a = aligner.abstract
    upd: dict = {"unit": canonical_unit(num.unit)}
    span, how = aligner.align(num.text, num.start)
    if span is None:
        upd.update(start=None, end=None, verified=False, why="text not found in abstract", alignment=None)
        return _set(num, upd)
    text = a[span[0]:span[1]]
    if sentences is None:
        sentences = split_sentences(a)
    sent = sentence_at(sentences, span[0])
    upd.update(start=span[0], end=span[1], text=text, alignment=how, sentence=sent.text if sent else None)
    parsed, err = parse_span(text)
    if parsed is None:
        upd.update(verified=False, why=f"span {text!r}: {err}")
        return _set(num, upd)
    problems = []
    if parsed.value is not None or num.value is not None:
        if not _close(parsed.value, num.value):
            problems.append(f"value {_fmt(num.value)} != {_fmt(parsed.value)} parsed from span")
    if parsed.low is not None or num.low is not None or num.high is not None:
        if not (_close(parsed.low, num.low) and _close(parsed.high, num.high)):
            problems.append(
                f"range {_fmt(num.low)}-{_fmt(num.high)} != {_fmt(parsed.low)}-{_fmt(parsed.high)} parsed from span"
            )
    if parsed.unit != upd["unit"]:
        problems.append(f"unit {upd['unit']!r} != {parsed.unit!r} parsed from span")
    upd.update(verified=not problems, why="; ".join(problems) or None)
    return _set(num, upd)


def _set(num: HeadlineNumber, upd: dict) -> HeadlineNumber:
    # Every value here was computed by this module with the right type; writing the model's
    # __dict__ skips pydantic's per-attribute __setattr__, which is the verifier's hot spot.
    num.__dict__.update(upd)
    return num


def verify_numbers(nums: list[HeadlineNumber], abstract: str) -> list[HeadlineNumber]:
    if not nums:
        return []  # nothing to split the abstract into sentences for
    aligner = Aligner(abstract)
    sentences = split_sentences(abstract)
    return [verify_number(n, aligner, sentences) for n in nums]


def verify_name(name: Optional[str], title: str, abstract: str) -> tuple[Optional[bool], Optional[NameEvidence]]:
    """A system name is verified when it stands as a word in the title or the abstract."""
    if not name or not name.strip():
        return None, None
    name = name.strip()
    where: tuple[tuple[Literal["abstract", "title"], str], ...] = (("abstract", abstract), ("title", title))
    for field, text in where:
        i = text.find(name)  # a plain substring search first: it is the common, fast case
        while i >= 0:
            j = i + len(name)
            if not (i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")) and \
                    not (j < len(text) and (text[j].isalnum() or text[j] == "_")):
                return True, NameEvidence(field=field, start=i, end=j)
            i = text.find(name, i + 1)
    rx = re.compile(r"(?<![\w])" + re.escape(name) + r"(?![\w])")
    # LaTeX-wrapped names (\textsc{ClawVM}) are found above; plain() covers other markup
    for field, text in where:
        if rx.search(plain(text)):
            al = Aligner(text).align(name)
            if al[0]:
                return True, NameEvidence(field=field, start=al[0][0], end=al[0][1])
    return False, None
