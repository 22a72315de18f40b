""" "CPU and memory by 44% and 31%, respectively": the k-th number goes with the k-th item.

One resolver for the offline engine (which names each number's metric from it) and the verifier
(which checks a model's metric against it). It finds, in one sentence, the list of numbers that
"respectively" refers to and a coordination of as many items ("A and B", "A, B, and C",
"warm- and cold-start"), and pairs them in order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

_WORD = re.compile(r"[A-Za-z0-9µμ][\w\-./+µμ]*-?|[,;:()]")
# words that end a conjunct when walking away from "and": verbs, prepositions, articles
_STOP = frozenset(
    """
by of to for on in at with from than over under across via into onto as is are was were be been being
the a an its their our this these those that which who while when where whereas and or but nor
reduces reduce reduced reducing improves improve improved improving increases increase increased lowers
lower lowered achieves achieve achieved achieving delivers deliver yields yield outperforms outperform
cuts cut speeds speed boosts boost brings bring keeps keep saves save shows show reaches reach enables
enable provides provide attains attain respectively compared relative versus vs up
""".split()
)


@dataclass(frozen=True)
class Pairing:
    """Item k (its text and its distinctive words) goes with number k of the list."""

    items: tuple[str, ...]
    keys: tuple[tuple[str, ...], ...]  # the words that tell the items apart, lower-cased
    numbers: tuple[int, ...]  # start offsets (in the sentence) of the listed numbers, in order
    phrases: tuple[str, ...] = ()  # each item with what the items share: "node-level CPU consumption"
    span: tuple[int, int] = (0, 0)  # where the coordination stands in the sentence


def distribute(conjuncts: list[list[str]]) -> list[str]:
    """Each item of a coordination with the words the items share: "node-level CPU and memory
    consumption" -> "node-level CPU consumption", "node-level memory consumption"; "warm- and
    cold-start latency" -> "warm-start latency", "cold-start latency". The first conjunct's words
    before its last are shared modifiers, the last conjunct's words after its first a shared head
    (when the other conjuncts are one word each)."""
    first, last = conjuncts[0], conjuncts[-1]
    middle_single = all(len(c) == 1 for c in conjuncts[1:-1])
    # shared modifiers are common words ("overall node-level"), not a name's first word ("Intel VT-x")
    modifiers = first[:-1] if middle_single and all(not w[:1].isupper() for w in first[:-1]) else []
    head = last[1:] if middle_single and len(last) > 1 else []
    keys = [c[-1] for c in conjuncts[:-1]] + [last[0]]
    out = []
    for k in keys:
        if k.endswith("-") and "-" in last[0]:  # "warm-" takes the rest of "cold-start"
            k = k + last[0].split("-", 1)[1]
        out.append(" ".join([*modifiers, k, *head]))
    return out


def _conjunct_key(words: list[str], last: bool) -> tuple[str, ...]:
    """The distinctive word of a conjunct: the word before the separator for the first items,
    the word after "and" for the last one ("CPU and memory consumption" -> CPU, memory)."""
    w = words[0] if last else words[-1]
    parts = [p for p in re.split(r"[-/]", w.lower()) if p]
    return tuple(parts[:1]) or (w.lower(),)


def _coordinations(tokens: list[tuple[int, int, str]]) -> list[tuple[int, int, list[list[str]]]]:
    """(start, end, conjuncts) of each "A, B(,) and C" in the token list."""
    out = []
    for k, (_, _, w) in enumerate(tokens):
        if w.lower() not in ("and", "or"):
            continue
        # the last conjunct: words after "and" until a stop word, punctuation or 4 words
        after: list[str] = []
        j = k + 1
        while j < len(tokens) and len(after) < 4:
            t = tokens[j][2]
            if t in ",;:()" or t.lower() in _STOP:
                break
            after.append(t)
            j += 1
        if not after:
            continue
        end = tokens[j - 1][1]
        # earlier conjuncts: walk back over "X ," groups
        conjuncts = [after]
        i = k - 1
        if i >= 0 and tokens[i][2] == ",":
            i -= 1  # the Oxford comma
        start = tokens[k][0]
        while i >= 0:
            words: list[str] = []
            while i >= 0 and len(words) < 4:
                t = tokens[i][2]
                if t in ",;:()" or t.lower() in _STOP:
                    break
                words.insert(0, t)
                i -= 1
            if not words:
                break
            conjuncts.insert(0, words)
            start = tokens[i + 1][0]
            if i >= 0 and tokens[i][2] == ",":
                i -= 1
                continue
            break
        if len(conjuncts) >= 2:
            out.append((start, end, conjuncts))
    return out


def pair(sentence: str, numbers: Sequence[tuple[int, int, bool]]) -> Optional[Pairing]:
    """Pair the numbers of a "respectively" sentence with its items.

    `numbers`: (start, end, listed) of each quantity in the sentence, offsets relative to it, in
    order; `listed` marks a list member after the first. Returns None when the sentence says no
    "respectively", or no coordination of as many items as listed numbers can be found."""
    low = sentence.lower()
    at = low.find("respectively")
    if at < 0 or len(numbers) < 2:
        return None
    # the list of numbers "respectively" refers to: the last list that starts before the word
    groups: list[list[tuple[int, int, bool]]] = []
    for q in numbers:
        if q[2] and groups:
            groups[-1].append(q)
        else:
            groups.append([q])
    lists = [g for g in groups if len(g) >= 2 and g[0][0] < at]
    if not lists:
        return None
    nums = lists[-1]
    n = len(nums)
    lo, hi = nums[0][0], nums[-1][1]
    tokens = [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(sentence) if not (lo <= m.start() < hi)]
    # a longer coordination may have swallowed a leading word ("Second, 2-, 8-, and 16-row"):
    # its last n conjuncts are the items
    cands = [(s, e, c[-n:]) for s, e, c in _coordinations(tokens) if len(c) >= n]
    if not cands:
        return None
    # the coordination nearest before the numbers, else the nearest after them
    before = [c for c in cands if c[1] <= lo]
    start, end, conjuncts = before[-1] if before else min(cands, key=lambda c: abs(c[0] - hi))
    items = tuple(" ".join(c) for c in conjuncts)
    keys = tuple(_conjunct_key(c, last=(i == n - 1)) for i, c in enumerate(conjuncts))
    return Pairing(
        items=items,
        keys=keys,
        numbers=tuple(q[0] for q in nums),
        phrases=tuple(distribute(conjuncts)),
        span=(start, end),
    )


_COUNT_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_ANAPHOR = re.compile(r"^(?:these|those|the|all)\s+(?:(?P<n>\w+)\s+)?(?P<noun>[\w\-]+)$", re.I)


def antecedents(phrase: str, earlier: str, n: int) -> Optional[tuple[str, ...]]:
    """ "over these five allocators, respectively", after "... including Jemalloc, TCMalloc,
    Mimalloc, Mallacc, and Memento.": the n items `phrase` points back to, from the last
    coordination of exactly n items in the `earlier` text (None when it names no such list)."""
    m = _ANAPHOR.match(phrase.strip())
    if not m:
        return None
    said = m.group("n")
    if said is not None and _COUNT_WORDS.get(said.lower(), int(said) if said.isdigit() else -1) != n:
        return None
    tokens = [(t.start(), t.end(), t.group(0)) for t in _WORD.finditer(earlier)]
    lists = [c[-n:] for _, _, c in _coordinations(tokens) if len(c) >= n]
    if not lists:
        return None
    items = []
    for words in lists[-1]:
        words = [w.rstrip(".") for w in words]
        while len(words) > 1 and words[0][:1].islower() and any(w[:1].isupper() for w in words[1:]):
            words = words[1:]  # "including Jemalloc"
        items.append(" ".join(words))
    return tuple(items)
