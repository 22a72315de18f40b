"""What each number says: from the words of its clause, the metric ("cold-start latency"), the
direction (increase / decrease / none), the baseline ("than llama.cpp") and the kind (the paper's
own result, context, or the experiment's setup). Every quantity of the abstract becomes a claim;
members of a list ("1.75x, 1.18x and 1.15x speedups over A, B and C") share what one of them says.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Optional

from ..contract import ClaimDraft
from . import cues as lx
from . import taxonomy
from .document import Document
from .names import find_system_name, intro_matches
from .quantities import Quantity
from .respectively import antecedents, pair
from .text import lower_same_length, plain
from .units import dimension

_WORD = re.compile(r"(?<![\d])(?:[A-Za-z][\w\-/'.]*[\w]|[A-Za-z])")
_CUE = (lx.INCREASE | lx.DECREASE).pattern()  # on lower-cased text
_CUES = lx.INCREASE | lx.DECREASE
_CONTEXT = re.compile(r"\b(?:" + "|".join(re.escape(c) for c in lx.CONTEXT_CUES) + r")\b")
_RESULT_VERB = re.compile(
    r"\b(?:" + "|".join(lx.RESULT_VERBS.alternatives() + [re.escape(p) for p in lx.RESULT_VERB_PHRASES]) + r")\b"
)
_FOUND = lx.FOUND.pattern()
_CONCESSIVE = re.compile(r"\b(?:" + "|".join(lx.CONCESSIVE) + r")\b(?!\s+\w+ing\b)")
_OWN = re.compile(r"\b(?:" + "|".join(lx.OWN_WORK) + r")\b")
_COUNT_RESULT_NEXT = re.compile(r"^\s+(?:\w+\s+)?(?:" + "|".join(lx.COUNT_RESULT_NEXT) + r")\b")
# the span of time a study covers: "published in the past 15 years"
_WINDOW = re.compile(r"\b(?:in|over|during|for|from|within) the (?:past|last|previous|first|recent)\s+$")
_FOUND_OR_MADE = "(?:" + _FOUND.pattern + "|" + lx.MADE.pattern().pattern + ")"
_AUX = r"(?:were|was|have been|has been|are|been|have|has)"
# a count of findings said after it: "11 confirmed", "9 of which fixed": a participle right after;
# "13 bugs were confirmed", "22 bugs that we have reported", "19 relations have been developed": an
# auxiliary before the verb
_FOUND_NEXT = re.compile(
    r"^\s+(?:[\w-]+\s+)?(?:of (?:which|them)\s+)?(?=\w+ed\b)"
    + _FOUND.pattern
    + r"|^\s+(?:(?!(?:and|or|but)\b)[\w-]+\s+){0,2}(?:(?:of which|of them|that we)\s+)?(?:"
    + _AUX
    + r"\s+)+"
    + _FOUND_OR_MADE
)
# the verb governs the number: "we discovered 12", "identified over 20", not "to identify X in Y with 486"
_FOUND_BEFORE = re.compile(_FOUND_OR_MADE + r"(?:\s+[\w-]+){0,2}\s+$")
# a singular time unit before a noun: "3--5 day periods", "a 30-day window" (not "2 days later")
_SINGULAR_TIME = re.compile(r"(?:day|hour|minute|second|week|month|year)$", re.I)
_TIME_MODIFIER = re.compile(r"^[\s-]+(?!(?:of|in|to|and|or|for|with|ago|later|earlier|after|before|old)\b)[a-z]")
_FINDING_OF = re.compile(r"\b(?:" + "|".join(lx.FINDING_NOUNS) + r") of\s+$")
_OUT_OF = re.compile(r"\bout of\s+$")  # "117 out of 729": the second is the whole
_SETTING = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in lx.SETTING_NOUNS) + r")s? of\s+(?:up to\s+)?$")
_CONFIDENCE_NEXT = re.compile(r"^\s*(?:confidence|CI\b|credible)", re.I)
_COMPARISON_OPENER = re.compile(r"^\W*(?:" + "|".join(lx.COMPARISON_OPENERS) + r")\b")
_COMPARE = re.compile(
    r"\b(?:" + "|".join(re.escape(c).replace(r"\ ", r"\s+") for c in lx.COMPARISONS) + r")\s+(?P<b>[^,;.()]+)"
)
_LEAD_COMPARE = re.compile(
    r"^(?:" + "|".join(re.escape(c).replace(r"\ ", r"\s+") for c in lx.LEADING_COMPARISONS) + r")\s+(?P<b>[^,;]+),"
)
# a baseline phrase that stops at a comma before its noun ("a WASM-based, ...")
_OPEN_MODIFIER = re.compile(
    r"(?:-(?:based|like|aware|oriented|compatible|incompatible|style|enabled|specific|optimized)|\b(?:a|an|the))\s*$",
    re.I,
)
_BASELINE_LEAD = re.compile(r"^(?:that|those)\s+of\s+", re.I)
_BASELINE_TAIL = re.compile(r"(?:\s+(?:and|or|but|with|as|the|a|an))+\s*$", re.I)
_BASELINE_END = re.compile(r"\s+(?:" + "|".join(lx.BASELINE_ENDS) + r"|and\s+\d)\b.*$")
_AFTER_END = re.compile(r"[,;:()]|\.\s|\.$")
_TRAILING_BY = re.compile(r"\s+(?:by|of|reaching|from)\s*$")
# "reducing congestion compared to Bruck's algorithm by": the baseline is no part of the metric
_COMPARISON_IN = re.compile(
    r"\s+(?:compared\s+(?:to|with)|relative\s+to|in\s+comparison\s+(?:to|with)|than|versus|vs\.?)\s+.*$", re.I
)
# the last "under / during / ..." phrase of a text: a condition on the metric before it
_CONDITION = re.compile(
    r"\s(?:under|during|for|with|when|across|on|in|of)\s+(?:(?!\b(?:under|during|for|with|when|across|on|in|of)\b).)*$"
)
_FASTER = re.compile(r"^\s*(?:faster|quicker|speedier)\b")
_TIME_CLASSES = ("latency", "tail_latency")
_BARE_GAIN = ""  # metric() of "gains of 2.4x": the sentence's previous metric, or performance
_COPULA = re.compile(r"\s+(?:is|are|was|were)\s*$")
_PASSIVE = re.compile(r"\b(?:is|are|was|were|be|been)\s+\w+ed$")
_SUBJECT_CHANGE = re.compile(
    r"\s+(?:(?:is|are|was|were|be|been|gets|got)\s+)?(?:" + "|".join(lx.SUBJECT_CHANGE_VERBS.alternatives()) + r")$",
    re.I,
)
_OF_BASELINE = re.compile(r"\s+of\s+(?P<b>[^;.()]+)")
_OUTPERFORM = re.compile(r"outperform\w*\s+(?P<b>.+?)\s+by\s*$", re.I)
_OUTPERFORM_IN = re.compile(r"outperform\w*\s+.+?\s+(?:in|on)\s+(?P<m>[^,;()]+?)\s+by\s*$", re.I)
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


def is_verb(w: str) -> bool:
    """A result verb ("reduces", "achieving"), not a noun its stem also spells ("requirements")."""
    return w in lx.RESULT_VERBS and w not in lx.VERB_LOOKALIKES


def take_np(words: list[str], limit: int = 6, count: bool = False) -> list[str]:
    """The words of a noun phrase, up to a function word or a verb after its first word. A count's
    phrase goes on through one "with" / "of" ("11 tasks with hidden side effects", "20 lines of
    framework patch"); "fraction of", "share of" keep what follows them."""
    out: list[str] = []
    continued = False
    for i, w in enumerate(words):
        if len(out) >= limit:
            break
        if out and w.lower() == "per" and words[i + 1 : i + 2] and words[i + 1] in lx.PER_UNITS:
            out.append(w)  # "requests per second"
            continue
        if out and (w in lx.NP_ENDS or w in lx.FOUND or (is_verb(w) and w not in lx.RESULT_HEADS)):
            if w.lower() not in lx.COUNT_RESULT_NEXT:  # "a 2,170 GPU save"
                break
        if w in lx.STOP:
            low = w.lower()
            goes_on = (count and low in lx.COUNT_CONTINUATIONS) or (
                low == "of" and len(out) == 1 and out[0] in lx.COUNTING_NOUNS
            )
            if out and goes_on and not continued:
                continued = True
                out.append(w)
                continue
            break
        if continued and w in lx.DETERMINERS:
            continue  # "fraction of the active parties"
        out.append(w)
    while out and out[-1] in lx.STOP:
        out.pop()
    return out


def np_before(before: str) -> list[str]:
    """The noun phrase that ends `before`, walking back to a verb or a function word (its last word
    may be a result noun: "performance improvements of")."""
    np: list[str] = []
    for w in reversed(_words(before)):
        if w.lower() == "per" and len(np) == 1 and np[0] in lx.PER_UNITS:
            np.insert(0, w)  # "the cost per query by"
            continue
        if (w in lx.STOP and w.lower() != "and") or len(np) >= 7:
            break
        if is_verb(w) and not (not np and w in lx.RESULT_HEADS):
            break
        if np and w in lx.NP_ENDS:
            np = []  # "false-positive rates reaching human reviewers": the phrase before the participle
            continue
        np.insert(0, w)
    while np and (np[0] in lx.DETERMINERS or np[0].lower() == "and"):
        np.pop(0)
    return np


def np_after(words: list[str], count: bool = False) -> list[str]:
    while words and words[0] in lx.DETERMINERS:
        words = words[1:]
    if len(words) > 2 and words[0] in lx.GROUP_NOUNS and words[1].lower() == "of":
        return np_after(words[2:], count)  # "a set of system proof tasks"
    return take_np(words, count=count)


def clean_np(np: list[str]) -> list[str]:
    """A metric phrase without what is not the metric: a leading owner ("SiMRA's entropy"), an
    evaluative adjective ("small cycle overhead"), a determiner; a trailing "gains"."""
    np = list(np)
    while len(np) > 1 and (
        np[0] in lx.DETERMINERS
        or np[0].lower() == "and"
        or np[0] in lx.SOFT_ADJECTIVES
        or np[0].endswith(("'s", "’s"))
        or np[0] in lx.RESULT_VERBS
    ):
        np.pop(0)
    while len(np) > 1 and ((np[-1] in lx.RESULT_HEADS and not _is_speedup(np[-1])) or np[-1] in lx.STOP):
        np.pop()
    return np


def _is_speedup(w: str) -> bool:
    return w.lower().startswith(("speedup", "speed-up"))


def _singular(metric: Optional[str], q: Quantity) -> Optional[str]:
    """ "1.15x speedups" measures a speedup; counted things ("11 confirmed bugs") stay plural."""
    if not metric or q.unit == "":
        return metric
    head, _, last = metric.rpartition(" ")
    one = lx.SINGULAR.get(last.lower())
    return (head + " " + one).strip() if one else metric


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


def metric(before: str, after: str, q: Quantity, prev: Optional[str] = None) -> Optional[str]:
    """What the number measures: "reduces cold-start latency by up to", "throughput gains of up
    to", "keeping throughput within", "a 7.8X reduction in tail latency", "throughput 24% higher
    than", "outperforms X by 32%" (performance)."""
    what = _metric(before, after, q)
    if what == _BARE_GAIN:  # "gains of 17.7% with improvements of up to 75%": the same metric
        what = prev or lx.GENERIC_GAIN
    if what and (what.lower() in lx.GROUP_NOUNS or what.lower() in lx.QUANTITY_WORDS):
        return None  # "the 4-128 MiB range": no metric
    return _singular(what, q)


def _metric(before: str, after: str, q: Quantity) -> Optional[str]:
    b = before.rstrip()
    trailing = _TRAILING_BY.sub("", b)
    aw = _words(after)
    if q.unit != "" and _OUTPERFORM.search(b):
        m = _OUTPERFORM_IN.search(b)  # "outperform X in throughput by up to 1.15x"
        np = clean_np(take_np(_words(m.group("m")))) if m else []
        return " ".join(np) if np else lx.GENERIC_GAIN  # "outperforms the state-of-the-art by 32%"
    subject = _SUBJECT_CHANGE.search(trailing) if trailing != b and q.unit != "" else None
    if subject:  # "tail latency drops by 40%", "memory usage is reduced by 25%": the subject, when a metric
        what = phrase_before(_COMPARISON_IN.sub("", trailing[: subject.start()]), aw)
        if what and taxonomy.word_class(what):
            return what
    passive = trailing.endswith("ed") and _PASSIVE.search(trailing)  # "is limited by ~8x overhead": no metric
    if (trailing != b or q.qualifier == "within") and q.unit != "" and not passive:
        what = phrase_before(_COMPARISON_IN.sub("", trailing), aw)
        if what is not None:
            return what
    if trailing == b and q.unit not in ("%", "x", "pp", "") and b:
        np = np_before(b)  # "for message sizes up to 8 MiB", "sub-0.5 us response times"
        if np and taxonomy.head_class(np[-1]):
            return " ".join(clean_np(np))
    if aw and aw[0] in lx.RESULT_HEADS:
        rest = aw[1:]
        if rest and rest[0].lower() in ("in", "of", "for"):
            rest = rest[1:]
        np = np_after(rest)
        if np:
            return " ".join(clean_np(np))
        if aw[0].lower().startswith(("speedup", "speed-up")):
            return aw[0]
        if aw[0] in lx.COMPARATIVE_HEADS:  # "a throughput 24% higher than", "entropy ... is 2.51x higher"
            what = phrase_before(_COPULA.sub("", b), [])
            return what or lx.COMPARATIVE_METRICS.get(aw[0].lower())
    if aw and aw[0].lower() in ("of", "for"):
        np = np_after(aw[1:])
        if np:
            return " ".join(clean_np(np))
    if aw and aw[0].lower() == "in" and _words(b)[-1:] and _words(b)[-1] in lx.RESULT_HEADS:
        return _in_phrase(aw) or _BARE_GAIN  # "gains up to 2.4x in oversubscribed scenarios"
    if aw and aw[0] not in lx.STOP and aw[0] not in _CUES:
        np = np_after(aw, count=q.unit == "")
        while np and np[-1] in lx.RESULT_HEADS:
            np.pop()
        np = clean_np(np) if np else np
        if np and (q.unit != "" or len(np) <= 5):
            return " ".join(np)
    return None


_PAREN_OPEN = re.compile(r"\((?:\s*(?:i\.e\.|e\.g\.),?|\s*[A-Za-z]\w{0,2}\s*(?:[=<>≤≥~]=?)?)?\s*$")


def paren_metric(sent: str, rel_s: int, rel_e: int) -> Optional[str]:
    """A number that opens a parenthesis measures the phrase before it: "footprint in area (1.2%)
    and power (2.3%)", "DRAM rows (i.e., 2, 4, 8)", "thread counts (N >= 512)"; after a change
    word, the phrase after the parenthesis: "a modest increase (4%) in CCA firmware code size"."""
    m = _PAREN_OPEN.search(sent, 0, rel_s)
    if not m or sent[rel_e : rel_e + 1] not in (")", ","):
        return None
    outside = sent[: m.start()]
    outside = outside[outside.rfind(")") + 1 :]  # "area (1.2%) and power": the phrase since the last one
    raw = np_before(outside)
    if not raw:
        return None
    if raw[-1] in lx.RESULT_HEADS:
        close = sent.find(")", rel_e)
        aw = _words(sent[close + 1 : after_end(sent, close + 1)]) if close >= 0 else []
        return _in_phrase(aw) if aw and aw[0].lower() in ("in", "of") else None
    return " ".join(clean_np(raw))


def _in_phrase(aw: list[str]) -> Optional[str]:
    """ "... of 3.47x in TCO savings": the phrase after "in", when it names a metric (not a
    condition: "in oversubscribed multi-process scenarios")."""
    np = clean_np(np_after(aw[1:])) if len(aw) > 1 else []
    what = " ".join(np)
    return what if np and taxonomy.word_class(what) else None


def phrase_before(text: str, aw: list[str]) -> Optional[str]:
    """The metric phrase that ends `text` ("reduces node-level CPU consumption"): cleaned; a bare
    "improvements" takes the metric after the number ("improvements of 3.47x in TCO savings") or
    is performance; a baseline's phrase ("improves state-of-the-art approaches by") is performance;
    a condition ("availability under independent failures") gives way to the metric before it."""
    raw = [w for w in np_before(text) if w not in lx.PRONOUNS]
    if not raw or raw[-1] in lx.QUANTITY_WORDS:
        return None  # "hundreds of 4KB accesses": the metric is after the number
    np = clean_np(raw)
    if np[-1] in lx.RESULT_HEADS:  # "improvements", "geometric-mean speedup"
        if _is_speedup(np[-1]):
            return " ".join(np)
        return (_in_phrase(aw) if aw and aw[0].lower() == "in" else None) or _BARE_GAIN
    if any(w in lx.BASELINE_WORDS for w in np):
        return lx.GENERIC_GAIN
    what = " ".join(np)
    if not taxonomy.word_class(what):
        m = _CONDITION.search(text)
        if m:
            earlier = clean_np(np_before(text[: m.start()]))
            if earlier and taxonomy.word_class(" ".join(earlier)):
                return " ".join(earlier)
    return what


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
    parts = cand.split(",")
    cand = parts[0]
    for more in parts[1:]:  # "that of a WASM-based, ecosystem-incompatible hypervisor": the adjective goes on
        if not _OPEN_MODIFIER.search(cand):
            break
        cand += "," + more
    cut = _BASELINE_END.search(lower_same_length(cand))
    cand = (cand[: cut.start()] if cut else cand).strip()
    cand = _BASELINE_LEAD.sub("", cand)  # "that of X" is X
    cand = _BASELINE_TAIL.sub("", cand).strip()  # "than A and 3.4x higher than B": "A", not "A and"
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


def _time_modifier(q: Quantity, facts: SentenceFacts, rel: int, after: str) -> bool:
    """A duration in the singular before a noun: "3-5 day periods", "a 30-day window"."""
    return bool(_SINGULAR_TIME.search(facts.sent, rel, rel + q.end - q.start)) and bool(_TIME_MODIFIER.match(after))


def others_figure(facts: SentenceFacts, rel: int) -> bool:
    """The number at `rel` stands in a concessive clause about another system: "while GIL
    elimination enables ~4x throughput ...", "While Aurora requires an average of 254 days ..."."""
    opened = None
    for m in _CONCESSIVE.finditer(facts.low, 0, rel):
        opened = m
    if opened is None:
        return False
    clause = facts.low[opened.end() : rel]
    if "," in clause or ";" in clause:
        return False  # the clause closed before the number
    own = bool(_OWN.search(clause)) or bool(facts.name and facts.name.lower() in clause)
    return not own


def kind(
    q: Quantity, s_idx: int, intro: Optional[int], facts: SentenceFacts, before: str, after: str, rel: int = 0
) -> str:
    """result (the paper's own outcome), context (the problem, prior work, another system's
    figure) or setup (the size of the experiments)."""
    if _SETTING.search(before) or (q.unit == "%" and _CONFIDENCE_NEXT.match(after)):
        return "setup"  # "a time budget of 400 seconds", "at 90% confidence"
    if q.unit == "":
        if _OUT_OF.search(before):
            return "setup"  # "117 out of 729 bug reports": the whole
        if (
            (_COUNT_RESULT_NEXT.match(after) and facts.result_verb)
            or (facts.own and _FOUND_BEFORE.search(before))
            or _FOUND_NEXT.match(after)
            or _FINDING_OF.search(before)
        ):
            return "result"  # "a 2,170 GPU save", "we discovered 12 previously unknown bugs"
        return "setup"
    if dimension(q.unit) == "time" and (_WINDOW.search(before) or _time_modifier(q, facts, rel, after)):
        # "370 articles published in the past 15 years", "planets with 3-5 day periods": what the
        # study covers, or the kind of thing it studies
        return "setup"
    if intro is not None and s_idx < intro:
        return "context"
    if intro is not None and s_idx == intro and q.unit not in ("%", "x", "pp"):
        return "setup"
    if _CONTEXT.search(before) or (not facts.own and facts.context and not facts.result_verb):
        return "context"
    if not facts.own and _COMPARISON_OPENER.match(facts.low):
        return "context"  # "In comparison, the state-of-the-art TOGA approach achieved 8.2%"
    if others_figure(facts, rel):
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
        # the metric's words start after the number before ("cuts latency by an order of magnitude
        # and energy by 40%": "magnitude" is the number before's); its direction cue may not
        m0 = qs[i - 1].end - s0 if i > 0 and b0 < qs[i - 1].end - s0 <= rel_s else b0
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
        same = prev.metric if prev is not None and prev_sent == sent_text and prev.unit == q.unit else None
        what = paren_metric(sent_text, rel_s, rel_e) or metric(sent_text[m0:b1], after, q, same)
        if q.to_of is not None and prev is not None and prev.start == q.to_of and prev.metric:
            what = prev.metric  # "increasing the temperature from 50°C to 90°C"
        base = baseline(sent_text, sent_low, qs[j - 1].end - s0, before, q, stop) if q.unit else None
        if what and base and what in base:
            what = None  # "outperforms the state-of-the-art by 32%": that phrase is the baseline
        if what is None and prev is not None and prev_sent == sent_text and prev.unit == q.unit:
            what = prev.metric  # "2.7x more X than A, 1.9x more than B"
        if listed and prev is not None and dimension(prev.unit) == dimension(q.unit):
            dirn = prev.direction if dirn == "none" else dirn
            what = what or prev.metric
            base = base or prev.baseline
        if dirn == "increase" and _FASTER.match(after_low) and taxonomy.word_class(what) in _TIME_CLASSES:
            dirn = "decrease"  # "3x faster boot time": the time shrinks
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
            kind=kind(q, si, intro, facts[si], before_low, after_low, rel_s),
            baseline=base,
            start=q.start,
        )
        numbers.append(num)
        prev, prev_sent = num, sent_text
    share_within_lists(numbers, [q.listed for q in qs])
    share_comparative_baseline(doc, numbers)
    apply_respectively(doc, numbers)
    refine(doc, numbers)
    return numbers


_COMPARATIVE = lx.COMPARATIVE_HEADS.pattern(re.I).pattern
# "3.5x higher throughput and 60% lower p99 latency than RocksDB": between the two numbers, a
# comparative, its metric and "and"
_COMPARED_AND = re.compile(r"\s*" + _COMPARATIVE + r"[^,;:.()]{0,60}?\s+and\s+$", re.I)
_COMPARED_THAN = re.compile(r"\s*" + _COMPARATIVE + r"[^,;:.()]{0,60}?\s+than\b", re.I)


def share_comparative_baseline(doc: Document, numbers: list[ClaimDraft]) -> None:
    """ "3.5x higher throughput and 60% lower p99 latency than RocksDB": both compare with RocksDB.
    A number with a comparative and no baseline of its own takes the baseline of the next number,
    when "and" joins them and the next one's comparative goes on to "than"."""
    a = doc.text
    for n, m in zip(numbers, numbers[1:]):
        if n.baseline is not None or m.baseline is None or n.start is None or m.start is None:
            continue
        between = a[n.start + len(n.text) : m.start]
        if _COMPARED_AND.match(between) and _COMPARED_THAN.match(a, m.start + len(m.text)):
            n.baseline = m.baseline


def apply_respectively(doc: Document, numbers: list[ClaimDraft]) -> None:
    """ "CPU and memory consumption by 44% and 31%, respectively": the list shares the metric
    "CPU and memory consumption"; each number takes its own item of it ("CPU consumption", "memory
    consumption"). When the items are conditions ("84.7% and 74.2% code coverage ... on Intel VT-x
    and AMD-V, respectively"), each number gets its own as `condition` ("on Intel VT-x"); the
    metric stays what the papers compare on ("code coverage").
    A list of numbers followed by as many conditions in parentheses ("by 30%, 26%, 21%, and 14%,
    on four memory tiering solutions (TPP, UPM, Colloid, and AutoNUMA)") pairs the same way."""
    by_start = {n.start: n for n in numbers}
    for sent in doc.sentences:
        qs = [
            (q.start - sent.start, q.end - sent.start, q.listed)
            for q in doc.quantities
            if sent.start <= q.start < sent.end
        ]
        if "respectively" not in doc.lower[sent.start : sent.end]:
            _parenthesised_conditions(sent.text, qs, sent.start, by_start)
            continue
        pairing = pair(sent.text, qs)
        if pairing is None:
            _respective_baselines(doc, sent, numbers, by_start)
            continue
        prep = _PREP_BEFORE.search(sent.text, 0, pairing.span[0])
        for rel, phrase, item in zip(pairing.numbers, pairing.phrases, pairing.items):
            n = by_start.get(sent.start + rel)
            if n is None or not n.metric:
                continue
            if all(k[0] in n.metric.lower() for k in pairing.keys):
                n.metric = " ".join(w for w in phrase.split() if w not in lx.DETERMINERS)
            elif prep is not None and not any(k[0] in n.metric.lower() for k in pairing.keys):
                n.condition = f"{prep.group(1).lower()} {item}"


_PREP_BEFORE = re.compile(r"\b(on|for|across|under|with)\s+$", re.I)
_PAREN_LIST = re.compile(
    r"^\W*(?P<prep>on|for|across|under|with)\s+(?:the\s+)?(?:(?P<n>\w+)\s+)?[\w\- ]{0,60}?\((?P<items>[^()]+)\)", re.I
)
_COUNT = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}


def _parenthesised_conditions(text: str, qs: list[tuple[int, int, bool]], base: int, by_start: dict) -> None:
    groups: list[list[tuple[int, int, bool]]] = []
    for q in qs:
        if q[2] and groups:
            groups[-1].append(q)
        else:
            groups.append([q])
    for g in groups:
        if len(g) < 2:
            continue
        m = _PAREN_LIST.match(text[g[-1][1] :])
        if not m:
            continue
        items = [i.strip() for i in re.split(r",\s*(?:and\s+|or\s+)?|\s+and\s+", m.group("items")) if i.strip()]
        said = _COUNT.get((m.group("n") or "").lower())
        if len(items) != len(g) or (said is not None and said != len(g)):
            continue
        for (rel, _, _), item in zip(g, items):
            n = by_start.get(base + rel)
            if n is not None:
                n.condition = f"{m.group('prep').lower()} {item}"


def _respective_baselines(doc: Document, sent, numbers: list[ClaimDraft], by_start: dict) -> None:
    """ "1.75x, 1.18x, 1.15x, 1.23x, and 1.18x speedups over these five allocators, respectively",
    after a sentence naming "Jemalloc, TCMalloc, Mimalloc, Mallacc, and Memento": each number's
    baseline is its allocator."""
    members = [q for q in doc.quantities if sent.start <= q.start < sent.end]
    group: list = []
    for q in members:
        if q.listed and group:
            group.append(q)
        elif not group or len(group) < 2:
            group = [q]
    drafts = [by_start.get(q.start) for q in group]
    if len(group) < 2 or any(d is None for d in drafts):
        return
    shared = {d.baseline for d in drafts if d is not None}
    if len(shared) != 1 or not next(iter(shared)):
        return
    i = next(k for k, s in enumerate(doc.sentences) if s.start == sent.start)
    earlier = doc.sentences[i - 1].text if i > 0 else ""
    items = antecedents(str(next(iter(shared))), earlier, len(group))
    if items:
        for d, item in zip(drafts, items):
            if d is not None:
                d.baseline = item


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
                for n in group:
                    if getattr(n, field) != empty:
                        continue
                    # what another member says, of a number of the same kind ("54μs, 3.7x faster":
                    # the time is no speed-up, and has no baseline)
                    known = [
                        getattr(o, field)
                        for o in reversed(group)
                        if getattr(o, field) != empty and dimension(o.unit) == dimension(n.unit)
                    ]
                    if known:
                        setattr(n, field, known[0])
        i = j


# --- numbers of other fields: scores, "from A to B", counts of the study --------------------------------
# what comes between a score's name and its value: "an average positive recall of 0.92", "a Pearson
# correlation of r = 0.41", "F1: 0.712", "achieving 0.408 accuracy" (the name after)
_SCORE_LEAD = re.compile(
    r"(?:\s+(?:of|at|reaching|reaches|reached|is|was|=|:)|\s*[:=])\s*(?:[a-zA-Z]\w{0,2}\s*[=:]\s*)?$"
)
_SPEEDUP_SPAN = re.compile(r"speed-?ups?$", re.I)


def field_of(doc: Document) -> str:
    """ "systems" or "other": the kind of paper, from its arXiv categories when it has some, else
    from the abstract's words (what its numbers measure most: quality, or speed and size)."""
    memo = doc.memo
    if "field" not in memo:
        cats = set(doc.paper.categories) if doc.paper is not None else set()
        if cats:
            memo["field"] = "systems" if cats & lx.SYSTEMS_CATEGORIES else "other"
        else:
            low = doc.lower
            quality = sum(low.count(w) for w in lx.QUALITY_WORDS)
            speed = sum(low.count(w) for w in lx.SPEED_WORDS)
            memo["field"] = "other" if quality > speed else "systems"
    return memo["field"]


def refine(doc: Document, numbers: list[ClaimDraft]) -> None:
    """What the words of other sciences say about numbers that systems abstracts write less:
    - a score with no unit ("an average recall of 0.92", "AUROC of 0.88") is a result, named by its metric;
    - in "from A to B", A is where things stood (context, no direction) and B the result, whose
      direction the two values give when no word does;
    - a count or size of the study's setup has no direction;
    - "1.14-14.3 speedups": the span says both the metric and the direction;
    - "a mean DSC/IoU of 85.76/75.60": each number of a slashed pair takes its own name;
    - outside systems, a bare "performance" is the quality of the output, not its speed."""
    a = doc.text
    by_start = {n.start: n for n in numbers}
    other_field = field_of(doc) == "other"
    for i, (q, n) in enumerate(zip(doc.quantities, numbers)):
        if n.unit == "" and q.value is not None:
            if not n.metric or n.metric in lx.GROUP_NOUNS:
                n.metric = _score_name(doc, q) or n.metric
            if n.kind == "setup" and (_is_score(n.metric) or _unit_interval(q, a)):
                n.kind = "result"
                if n.direction != "none" and not _is_score(n.metric):
                    n.direction = "none"
        if _SPEEDUP_SPAN.search(a[q.start : q.end]):
            n.metric = n.metric or "speedup"
            n.direction = "increase" if n.direction == "none" else n.direction
        if n.kind == "setup" and n.unit == "" and "." in a[q.num_start : q.digits_end] and _changes(n):
            # "accelerates ... by 1.20", "a speedup of up to 2.73": a factor whose × was lost, not a count
            n.kind = "result"
        if n.kind == "setup":
            n.direction = "none"
        if other_field and n.unit in ("%", "pp") and n.direction != "decrease":
            cls = taxonomy.classify(n.metric, n.unit).key
            generic = bool(n.metric) and n.metric.lower().split()[-1] in lx.QUALITY_GENERIC
            if generic or cls == "other":
                n.metric_class = "accuracy"  # "an average performance gain of 10%", "100% chemical validity"
        first = by_start.get(q.to_of) if q.to_of is not None else None
        if first is not None and first is not n:
            if _OVER_RANGE.search(a, max(0, (first.start or 0) - 60), first.start or 0):
                first.kind = n.kind = "setup"  # the conditions the result holds over
                first.direction = n.direction = "none"
            elif _changed_from(doc, first):
                first.kind = "context" if first.kind == "result" else first.kind
                first.direction = "none"
                if n.direction == "none" and q.value is not None and first.value is not None and n.unit == first.unit:
                    n.direction = (
                        "increase" if q.value > first.value else "decrease" if q.value < first.value else "none"
                    )
                n.metric = n.metric or first.metric
                first.metric = first.metric or n.metric
        second = numbers[i + 1] if i + 1 < len(numbers) else None
        if (
            second is not None
            and n.kind == "result"
            and n.unit == second.unit == ""
            and second.kind == "setup"
            and _AND_NEXT.fullmatch(a, q.end, second.start or q.end)
        ):
            second.kind = "result"  # "we identified 48 true positives and 27 false positives, and 205 ..."
        if second is not None and _VERSUS.fullmatch(a, q.end, second.start or q.end) and n.kind != "context":
            # "reduced mean task time by 39.9% (70.1 s vs. 116.7 s)", "(4.3 vs. 5.8)": the paper's
            # figure, then the baseline's on the same metric
            n.kind, second.kind, second.direction = "result", "context", "none"
            second.metric = second.metric or n.metric
        if second is not None and a[q.end : q.end + 1] == "/" and n.metric and second.metric in (None, n.metric):
            names = re.fullmatch(r"(?P<head>.*?)(?P<a>[\w\-]+)/(?P<b>[\w\-]+)(?P<tail>.*)", n.metric)
            if names:  # "a mean DSC/IoU of 85.76/75.60"
                n.metric = f"{names['head']}{names['a']}{names['tail']}".strip()
                second.metric = f"{names['head']}{names['b']}{names['tail']}".strip()
                second.kind, second.direction = n.kind, n.direction


_RANGING = re.compile(r"\b(?:rang\w*|span\w*|vary\w*|varies)\s+from\s+$", re.I)
_AND_NEXT = re.compile(r"\s+[a-z][\w -]{0,40}?,?\s+and\s+")  # "48 true positives and 27 ..."
_OVER_RANGE = re.compile(
    r"\b(?:over|across|for)\s+(?:[\w-]+\s+){1,4}from\s+$"
)  # "accuracy over probabilities from A to B"
_VERSUS = re.compile(r"\s*(?:vs\.?|versus)\s*", re.I)


def _changed_from(doc: Document, first: ClaimDraft) -> bool:
    """ "reduces the time from 3 hours to 48 minutes": a change, not a range ("models ranging from 6M
    to 300M parameters")."""
    start = first.start or 0
    before = doc.text[max(0, start - 40) : start]
    return not _RANGING.search(before) and bool(_CUE.search(doc.lower[max(0, start - 120) : start]))


def _changes(n: ClaimDraft) -> bool:
    """A claim that says a change: a direction, or a speed-up for its metric."""
    return n.direction != "none" or any(_is_speedup(w) for w in (n.metric or "").split()[-1:])


def _is_score(metric: Optional[str]) -> bool:
    if not metric:
        return False
    last = metric.lower().split()[-1]
    return any(taxonomy.head_class(w) in ("accuracy", "error") or w in lx.SCORE_WORDS for w in last.split("/"))


def _unit_interval(q: Quantity, text: str) -> bool:
    """A bare number with decimals between 0 and 1: a score or a rate, not a count ("0.92")."""
    return q.value is not None and 0 < q.value <= 1 and "." in text[q.num_start : q.digits_end]


def _score_name(doc: Document, q: Quantity) -> Optional[str]:
    """The name before a score's value ("an average positive recall of", "a Pearson correlation of
    r =", "F1:"), or after it ("0.408 accuracy"), when it names a score."""
    sent = doc.sentence_at(q.start)
    s0 = sent.start if sent else 0
    before = doc.text[s0 : q.num_start]
    m = _SCORE_LEAD.search(before)
    if m or before.endswith(" "):  # "mean DSC/IoU of 85.76", "mDice 84.86"
        np = clean_np(np_before(before[: m.start()] if m else before))
        if np and _is_score(" ".join(np)):
            return " ".join(np)
    after = _words(doc.text[q.end : q.end + 40])
    if after and _is_score(after[0]):
        return after[0]
    return None


# -- the reading of a document, once (the offline engine and the verifier ask for it) ---------------
def intro_index(doc: Document) -> Optional[int]:
    """The index of the sentence that introduces the paper's own work ("We present ..."), if any."""
    memo = doc.memo
    if "intro" not in memo:
        intros = intro_matches(doc)
        memo["intro"] = doc.sentence_index(intros[0].start()) if intros else None
    return memo["intro"]


def system_name(doc: Document) -> Optional[str]:
    memo = doc.memo
    if "name" not in memo:
        memo["name"] = find_system_name(doc)
    return memo["name"]


def read_numbers(doc: Document) -> list[ClaimDraft]:
    """Every quantity of the abstract with what its sentence says about it, read once per document
    (the verifier asks for it too, to check a model's metrics)."""
    memo = doc.memo
    if "numbers" not in memo:
        memo["numbers"] = read_claims(doc, system_name(doc), intro_index(doc))
    return memo["numbers"]
