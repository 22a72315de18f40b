"""Finding a claim's span in the abstract: exactly, or as people copy text (case, spacing, LaTeX,
dashes, quotes, a word more or less), at number boundaries, and the scanner's readings of it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Optional

from ..analysis.document import Document
from ..analysis.quantities import WORD_HINTS, Quantity, balance_math, parse_span
from ..analysis.text import Normalized, normalize_with_map
from ..analysis.units import dimension, same_quantity, values_agree

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
