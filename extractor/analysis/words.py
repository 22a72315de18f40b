"""Word lists as data: a WordSet tests one word, and gives the search pattern for a text."""

from __future__ import annotations

import re


class WordSet:
    """Words, and stems written with a trailing "*" ("reduc*" is reduce, reduced, reduction ...).

    `word in s` tests one word, case-insensitively; `s.pattern()` is the regular expression that
    finds any of them as whole words in a lower-cased text."""

    # the answers remembered per word: the rules test the same few hundred words ("the", "by",
    # "latency") against the same sets for every number of every abstract
    MEMO_SIZE = 4096

    def __init__(self, *entries: str):
        self.entries = tuple(e for chunk in entries for e in chunk.split())
        self.words = frozenset(e for e in self.entries if not e.endswith("*"))
        self.stems = tuple(e[:-1] for e in self.entries if e.endswith("*"))
        self._memo: dict[str, bool] = {}

    def __contains__(self, word: str) -> bool:
        known = self._memo.get(word)
        if known is None:
            if len(self._memo) >= self.MEMO_SIZE:
                self._memo.clear()
            known = self._memo[word] = self._has(word.lower())
        return known

    def _has(self, w: str) -> bool:
        if w in self.words:
            return True
        if not self.stems or not w.startswith(self.stems):
            return False
        return any(w == s or (w.startswith(s) and w[len(s) :].replace("_", "").isalnum()) for s in self.stems)

    def __or__(self, other: WordSet) -> WordSet:
        return WordSet(*self.entries, *other.entries)

    def alternatives(self) -> list[str]:
        """The entries as regular-expression alternatives ("reduc*" -> reduc\\w*, "speed-up" escaped)."""
        return [re.escape(e[:-1]) + r"\w*" if e.endswith("*") else re.escape(e) for e in self.entries]

    def pattern(self, flags: int = 0) -> re.Pattern:
        """Any entry as a whole word: \\b(?:w1|w2|stem\\w*)\\b, with the entries grouped by their
        first letter ("\\b(?:r(?:educ\\w*|aise)|l(?:ower\\w*))\\b"): the regular expression engine then
        tries one letter per position, not every entry (the matches are the same: entries that
        start with different letters never match at one position; the order within a letter is kept)."""
        groups: dict[str, list[str]] = {}
        for e in self.entries:
            groups.setdefault(e[0], []).append(e[1:])
        body = "|".join(
            re.escape(c)
            + "(?:"
            + "|".join(re.escape(r[:-1]) + r"\w*" if r.endswith("*") else re.escape(r) for r in rest)
            + ")"
            for c, rest in groups.items()
        )
        return re.compile(r"\b(?:" + body + r")\b", flags)
