"""What a claim measures: the words of a metric phrase, and whether two phrases share a word."""

from __future__ import annotations

import re
from typing import Optional

_TOKEN = re.compile(r"[a-z0-9µ]+")
# words that say nothing about what is measured
_FILLER = frozenset(
    """
the a an of in on for to by with and or than over per vs versus its their our overall total average mean
up down more less fewer higher lower better faster slower greater smaller larger improvement improvements
reduction reductions increase increases decrease decreases gain gains speedup speedups speed relative
compared baseline baselines performance respectively each all both across under at from as is are
""".split()
)


def content_words(text: Optional[str]) -> list[str]:
    """The lower-cased words of `text` that can say what is measured."""
    if not text:
        return []
    return [w for w in _TOKEN.findall(text.lower()) if w not in _FILLER and not w.isdigit()]


def similar(a: str, b: str) -> bool:
    """Two words are one word in another form when they share all but their last two letters
    ("latency" / "latencies", "GPU" / "GPUs", "save" / "saved"); shorter than three letters, only
    when equal. A full stemmer buys little on two- to four-word metric phrases."""
    if a == b:
        return True
    n = min(len(a), len(b))
    if n < 3:
        return False
    need = max(3, n - 2)
    return a[:need] == b[:need]


def shared(words: list[str], other: list[str]) -> int:
    """How many of `words` occur, in some form, among `other`."""
    return sum(1 for w in words if any(similar(w, o) for o in other))
