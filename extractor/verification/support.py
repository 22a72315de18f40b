"""Whether a claim's metric is what its sentence says of that number (`metric_support`): the text
analysis's reading of the sentence, its clauses, its "respectively" lists.
"""

from __future__ import annotations

from typing import Optional

from ..analysis.document import Document
from ..analysis.metrics import content_words, shared
from ..analysis.quantities import Quantity
from ..analysis.reading import after_end, clause_bounds, read_numbers  # the one reading, the one clause
from ..analysis.respectively import Pairing, pair


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
