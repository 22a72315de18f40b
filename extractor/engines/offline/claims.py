"""What each number says: from the words of its clause, the metric ("cold-start latency"), the
direction (increase / decrease / none), the baseline ("than llama.cpp") and the kind (the paper's
own result, context, or the experiment's setup). Every quantity of the abstract becomes a claim;
members of a list ("1.75x, 1.18x and 1.15x speedups over A, B and C") share what one of them says.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Optional

from ...document import Document
from ...quantities import Quantity
from ...text import lower_same_length, plain
from ..base import ClaimDraft
from . import lexicon as lx

_WORD = re.compile(r"[A-Za-z][\w\-/'.]*[\w]|[A-Za-z]")
_CUE = (lx.INCREASE | lx.DECREASE).pattern()  # on lower-cased text
_CUES = lx.INCREASE | lx.DECREASE
_CONTEXT = re.compile(r"\b(?:" + "|".join(re.escape(c) for c in lx.CONTEXT_CUES) + r")\b")
_RESULT_VERB = re.compile(
    r"\b(?:" + "|".join(lx.RESULT_VERBS.alternatives() + [re.escape(p) for p in lx.RESULT_VERB_PHRASES]) + r")\b"
)
_FOUND = lx.FOUND.pattern()
_OWN = re.compile(r"\b(?:" + "|".join(lx.OWN_WORK) + r")\b")
_COUNT_RESULT_NEXT = re.compile(r"^\s+(?:\w+\s+)?(?:" + "|".join(lx.COUNT_RESULT_NEXT) + r")\b")
_COMPARE = re.compile(
    r"\b(?:" + "|".join(re.escape(c).replace(r"\ ", r"\s+") for c in lx.COMPARISONS) + r")\s+(?P<b>[^,;.()]+)"
)
_LEAD_COMPARE = re.compile(
    r"^(?:" + "|".join(re.escape(c).replace(r"\ ", r"\s+") for c in lx.LEADING_COMPARISONS) + r")\s+(?P<b>[^,;]+),"
)
_BASELINE_END = re.compile(r"\s+(?:" + "|".join(lx.BASELINE_ENDS) + r"|and\s+\d)\b.*$")
_AFTER_END = re.compile(r"[,;:()]|\.\s|\.$")
_TRAILING_BY = re.compile(r"\s+(?:by|of|reaching)\s*$")
_PASSIVE = re.compile(r"\b(?:is|are|was|were|be|been)\s+\w+ed$")
_OF_BASELINE = re.compile(r"\s+of\s+(?P<b>[^;.()]+)")
_OUTPERFORM = re.compile(r"outperform\w*\s+(?P<b>.+?)\s+by\s*$", re.I)
_UP_DOWN = re.compile(r"\b(?:speeds?|scales?)\s+(up|down)\b")


def _words(s: str) -> list[str]:
    return _WORD.findall(s)


def clause_bounds(sent_text: str, rel: int) -> tuple[int, int]:
    """Where the clause before offset `rel` starts and ends in the sentence."""
    before = sent_text[:rel]
    end = rel
    if before.rstrip().endswith("(") and not (before.endswith("(") and not before.endswith(" (")):
        before = before.rstrip()[:-1]  # "a modest increase (4%)": the clause before the parenthesis
        end = len(before)
    cut = max(before.rfind(","), before.rfind(";"), before.rfind(":"), before.rfind("("))
    return (cut + 1 if cut >= 0 else 0), end


def after_end(sent_text: str, rel_end: int) -> int:
    """Where the clause after offset `rel_end` ends in the sentence."""
    m = _AFTER_END.search(sent_text, rel_end)
    return m.start() if m else len(sent_text)


def take_np(words: list[str], limit: int = 6) -> list[str]:
    """The words of a noun phrase, up to a function word."""
    out: list[str] = []
    for w in words:
        if len(out) >= limit or w in lx.STOP:
            break
        out.append(w)
    return out


def np_before(before: str) -> list[str]:
    """The noun phrase that ends `before`, walking back to a verb or a function word."""
    np: list[str] = []
    for w in reversed(_words(before)):
        if (w in lx.STOP and w.lower() != "and") or w in lx.RESULT_VERBS or len(np) >= 7:
            break
        np.insert(0, w)
    while np and (np[0] in lx.DETERMINERS or np[0].lower() == "and"):
        np.pop(0)
    return np


def np_after(words: list[str]) -> list[str]:
    while words and words[0] in lx.DETERMINERS:
        words = words[1:]
    return take_np(words)


def direction(q: Quantity, before: str, after: str, word: str) -> str:
    """increase / decrease / none, from the words after the number, else the last cue before it
    (`before` and `after` lower-cased)."""
    if q.qualifier == "within":
        return "none"
    w = word.lower()
    if w.startswith(("doubl", "twice", "tripl", "thrice", "threefold")):
        return "increase"
    if w.startswith("halv"):
        return "decrease"
    head = " ".join(take_np(after.split(None, 4), 4))  # "2.1x and reduces latency": stop at "and"
    m = _CUE.search(head)
    if m:
        return "decrease" if m.group(0) in lx.DECREASE else "increase"
    cues = [c.group(0) for c in _CUE.finditer(before)]
    if cues and cues[-1] in ("up", "down") and cues[-1] not in _UP_DOWN.findall(before):
        cues.pop()  # "up" counts only in "speeds up", "scales up"
    if cues:
        return "decrease" if cues[-1] in lx.DECREASE else "increase"
    return "none"


def metric(before: str, after: str, q: Quantity) -> Optional[str]:
    """What the number measures: "reduces cold-start latency by up to", "throughput gains of up
    to", "keeping throughput within", "a 7.8X reduction in tail latency"."""
    b = before.rstrip()
    trailing = _TRAILING_BY.sub("", b) if b.endswith(("by", "of", "reaching")) else b
    passive = trailing.endswith("ed") and _PASSIVE.search(trailing)  # "is limited by ~8x overhead": no metric
    if (trailing != b or q.qualifier == "within") and q.unit != "" and not passive:
        np = np_before(trailing)
        if np:
            return " ".join(np)
    aw = _words(after)
    if aw and aw[0] in lx.RESULT_HEADS:
        rest = aw[1:]
        if rest and rest[0].lower() in ("in", "of", "for"):
            rest = rest[1:]
        np = np_after(rest)
        if np:
            return " ".join(np)
        if aw[0].lower().startswith(("speedup", "speed-up")):
            return aw[0]
    if aw and aw[0].lower() in ("of", "for"):
        np = np_after(aw[1:])
        if np:
            return " ".join(np)
    if aw and aw[0] not in lx.STOP and aw[0] not in _CUES:
        np = np_after(aw)
        while np and np[-1] in lx.RESULT_HEADS:
            np.pop()
        if np and (q.unit != "" or len(np) <= 4):
            return " ".join(np)
    return None


def baseline(
    sent_text: str, sent_low: str, rel_end: int, before: str, q: Quantity, stop: Optional[int] = None
) -> Optional[str]:
    """What the number is compared with: "than X", "compared to X", "Compared to X, ...",
    "outperforms X by", "within 5% of X"."""
    rest = sent_text[rel_end:stop]
    rest_low = sent_low[rel_end:stop]
    cand = None
    if q.qualifier == "within":
        m = _OF_BASELINE.match(rest)
        if m:
            cand = m.group("b")
    if cand is None:
        m = _COMPARE.search(rest_low)
        if m:
            cand = rest[m.start("b") : m.end("b")]
    if cand is None:
        m2 = _LEAD_COMPARE.match(sent_low)
        if m2:
            cand = sent_text[m2.start("b") : m2.end("b")]
    if cand is None:
        m3 = _OUTPERFORM.search(before)
        if m3:
            cand = m3.group("b")
    if not cand:
        return None
    cand = cand.split(",")[0]
    cut = _BASELINE_END.search(lower_same_length(cand))
    cand = (cand[: cut.start()] if cut else cand).strip()
    if not cand or len(cand.split()) > 14:
        return None
    return plain(cand)


class SentenceFacts:
    """What the kind of a number asks about its sentence, each found once per sentence."""

    def __init__(self, sent: str, sent_low: str, name: Optional[str]):
        self.sent, self.low, self.name = sent, sent_low, name

    @cached_property
    def own(self) -> bool:
        """The sentence speaks of the paper's own work ("we", "our", the system's name)."""
        return bool((self.name and self.name in self.sent) or _OWN.search(self.low))

    @cached_property
    def context(self) -> bool:
        return bool(_CONTEXT.search(self.low))

    @cached_property
    def result_verb(self) -> bool:
        return bool(_RESULT_VERB.search(self.low))


def kind(q: Quantity, s_idx: int, intro: Optional[int], facts: SentenceFacts, before: str, after: str) -> str:
    """result (the paper's own outcome), context (the problem, prior work) or setup (the size of
    the experiments)."""
    if q.unit == "":
        if (_COUNT_RESULT_NEXT.match(after) and facts.result_verb) or (facts.own and _FOUND.search(before)):
            return "result"  # "a 2,170 GPU save", "we discovered 12 previously unknown bugs"
        return "setup"
    if intro is not None and s_idx < intro:
        return "context"
    if intro is not None and s_idx == intro and q.unit not in ("%", "x", "pp"):
        return "setup"
    if _CONTEXT.search(before) or (not facts.own and facts.context and not facts.result_verb):
        return "context"
    return "result"


def read_claims(doc: Document, name: Optional[str], intro: Optional[int]) -> list[ClaimDraft]:
    """Every quantity of the abstract as a claim, with what its sentence says about it."""
    a, sentences, low = doc.text, doc.sentences, doc.lower
    qs = doc.quantities
    numbers: list[ClaimDraft] = []
    facts: dict[int, SentenceFacts] = {}
    prev: Optional[ClaimDraft] = None
    prev_sent: Optional[str] = None
    si = 0
    for i, q in enumerate(qs):
        while si < len(sentences) - 1 and q.start >= sentences[si].end:
            si += 1
        sent = sentences[si] if sentences else None
        s0, sent_text = (sent.start, sent.text) if sent else (0, a)
        rel_s, rel_e = q.start - s0, q.end - s0
        if q.unit == "" and a[q.end : q.end + 1] in ("x", "×"):
            rel_e += 1  # "8x NVIDIA B300 GPUs": the count's x is no word of what is counted
        # the clause around the number, in the sentence and in its lower-cased copy (same offsets)
        b0, b1 = clause_bounds(sent_text, rel_s)
        a1 = after_end(sent_text, rel_e)
        before, after = sent_text[b0:b1], sent_text[rel_e:a1]
        sent_low = low[s0 : s0 + len(sent_text)]
        before_low, after_low = sent_low[b0:b1], sent_low[rel_e:a1]
        j = i + 1
        while j < len(qs) and qs[j].listed:
            j += 1  # the baseline may follow the whole list, but not the next claim
        stop = qs[j].start - s0 if j < len(qs) and sent and qs[j].start < sent.end else None
        listed = q.listed and prev is not None
        word = a[q.start : q.end]
        dirn = direction(q, before_low, after_low, word)
        what = metric(before, after, q)
        base = baseline(sent_text, sent_low, qs[j - 1].end - s0, before, q, stop) if q.unit else None
        if what and base and what in base:
            what = None  # "outperforms the state-of-the-art by 32%": that phrase is the baseline
        if what is None and prev is not None and prev_sent == sent_text and prev.unit == q.unit:
            what = prev.metric  # "2.7x more X than A, 1.9x more than B"
        if listed and prev is not None:
            dirn = prev.direction if dirn == "none" else dirn
            what = what or prev.metric
            base = base or prev.baseline
        if si not in facts:
            facts[si] = SentenceFacts(sent_text, sent_low, name)
        num = ClaimDraft(
            text=word,
            value=q.value,
            low=q.low,
            high=q.high,
            unit=q.unit,
            qualifier=q.qualifier,
            metric=what,
            direction=dirn,
            kind=kind(q, si, intro, facts[si], before_low, after_low),
            baseline=base,
            start=q.start,
        )
        numbers.append(num)
        prev, prev_sent = num, sent_text
    share_within_lists(numbers, [q.listed for q in qs])
    return numbers


def share_within_lists(numbers: list[ClaimDraft], in_list: list[bool]) -> None:
    """ "1.75x, 1.18x and 1.15x speedups over A, B and C": what one member of a list says about
    metric, direction and baseline holds for the members that say nothing."""
    i = 0
    while i < len(numbers):
        j = i + 1
        while j < len(numbers) and in_list[j]:
            j += 1
        group = numbers[i:j]
        if len(group) > 1:
            for field, empty in (("metric", None), ("baseline", None), ("direction", "none")):
                known = next((getattr(n, field) for n in reversed(group) if getattr(n, field) != empty), empty)
                for n in group:
                    if getattr(n, field) == empty:
                        setattr(n, field, known)
        i = j
