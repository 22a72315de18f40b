"""Small text utilities shared by sources, engines and the verifier."""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache
from operator import itemgetter
from typing import NamedTuple

_WS_OTHER = ("\n", "\t", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\xa0", "\u1680",
             "\u2000", "\u2001", "\u2002", "\u2003", "\u2004", "\u2005", "\u2006", "\u2007", "\u2008",
             "\u2009", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000")


def collapse_ws(s: str | None) -> str:
    if not s:
        return ""
    if len(s) < 100:  # short strings (names, titles): splitting is cheaper than the tests below
        return " ".join(s.split())
    # Already collapsed (most text after the first pass, and sentences cut from it): a few
    # memchr-speed tests instead of splitting and joining. The tuple holds every character that
    # str.split() treats as a space besides " ", so the answer is the same.
    if s[0] != " " and s[-1] != " " and "  " not in s:
        if s.isascii():
            if "\n" not in s and "\t" not in s and "\r" not in s and "\x0b" not in s and "\x0c" not in s \
                    and "\x1c" not in s and "\x1d" not in s and "\x1e" not in s and "\x1f" not in s:
                return s
        elif not any(c in s for c in _WS_OTHER):
            return s
    return " ".join(s.split())  # str.split() knows every Unicode space and runs in C


def lower_same_length(s: str) -> str:
    """`s` lower-cased with offsets kept: a character whose lower case is longer ("İ") stays as it is."""
    low = s.lower()
    return low if len(low) == len(s) else "".join(c if len(c.lower()) != 1 else c.lower() for c in s)


# LaTeX and typography that abstracts carry and models rewrite. Each entry maps a source
# token to what it means in plain text; the alignment keeps the source offsets of each token.
_LATEX_TOKENS: list[tuple[str, str]] = [
    (r"\times", "x"),
    (r"\%", "%"),
    (r"\,", ""),
    (r"\ ", " "),
    (r"\sim", "~"),
    (r"\approx", "~"),
    (r"\leq", "<="),
    (r"\geq", ">="),
    (r"\le", "<="),
    (r"\ge", ">="),
    (r"\textless", "<"),
    (r"\textgreater", ">"),
    ("&lt;", "<"),
    ("&gt;", ">"),
    ("&amp;", "&"),
    ("×", "x"),
    ("≤", "<="),
    ("≥", ">="),
    ("–", "-"),
    ("—", "-"),
    ("−", "-"),
    ("μ", "µ"),
    ("\u00a0", " "),
]
_LATEX_RE = re.compile("|".join(re.escape(t) for t, _ in sorted(_LATEX_TOKENS, key=lambda t: -len(t[0]))))
_LATEX_MAP = dict(_LATEX_TOKENS)


class Normalized:
    """Normalised text plus a map from each of its characters back to source offsets.

    The map is kept as segments (a run of plain text maps linearly; a LaTeX token maps to its
    whole source span) and looked up with bisect, so building it costs per token, not per char.
    """

    __slots__ = ("text", "_norm", "_src", "_srclen")

    def __init__(self, text: str, norm: list[int], src: list[int], srclen: list[int]):
        self.text = text
        self._norm, self._src, self._srclen = norm, src, srclen  # srclen -1: linear segment

    def start(self, i: int) -> int:
        """Source offset where normalised character i starts."""
        k = bisect_right(self._norm, i) - 1
        if self._srclen[k] < 0:
            return self._src[k] + (i - self._norm[k])
        return self._src[k]

    def end(self, i: int) -> int:
        """Source offset just after normalised character i."""
        k = bisect_right(self._norm, i) - 1
        if self._srclen[k] < 0:
            return self._src[k] + (i - self._norm[k]) + 1
        return self._src[k] + self._srclen[k]


_NORM_TOKEN = re.compile(
    "(?P<latex>" + _LATEX_RE.pattern + ")"
    r"|(?P<cmd>\\[a-zA-Z]+\{)"
    r"|(?P<drop>[${}])"
    r"|(?P<ws>\s+)"
    r"|(?P<plain>[^\\$&{}×≤≥–—−μ\u00a0\s]+(?: [^\\$&{}×≤≥–—−μ\u00a0\s]+)*)"
    r"|(?P<other>.)",
    re.S,
)


@lru_cache(maxsize=4)  # scan, names and the verifier normalise the same abstract, one after another
def normalize_with_map(text: str, casefold: bool = True) -> Normalized:
    """Normalise for alignment (whitespace, LaTeX, dashes, case) and keep a map back to offsets.

    Written by hand because alignment needs the source offset of every normalised character;
    no text-normalisation library returns that map. Runs of plain text are copied whole, so the
    cost is per token, not per character.
    """
    out: list[str] = []
    norm: list[int] = []
    srcs: list[int] = []
    srclen: list[int] = []
    pos = 0  # length of the normalised text so far
    prev_space = True
    for m in _NORM_TOKEN.finditer(text):
        i, j = m.span()
        kind = m.lastgroup
        if kind == "plain" or kind == "other":
            run = m.group(0)
            if casefold:
                run = lower_same_length(run)
            out.append(run)
            norm.append(pos)
            srcs.append(i)
            srclen.append(-1)
            pos += len(run)
            prev_space = False
        elif kind == "ws":
            if not prev_space:
                out.append(" ")
                norm.append(pos)
                srcs.append(i)
                srclen.append(-1)
                pos += 1
                prev_space = True
        elif kind == "latex":
            rep = _LATEX_MAP[m.group(0)]
            if not casefold and m.group(0) == "μ":
                rep = "μ"  # display keeps the author's micro sign; alignment folds both to µ
            if rep == " ":
                if prev_space:
                    continue
                prev_space = True
            elif rep:
                prev_space = False
            if rep:
                out.append(rep)
                norm.append(pos)
                srcs.append(i)
                srclen.append(j - i)
                pos += len(rep)
        # "cmd" (\textsc{) and "drop" ($, braces) produce nothing
    return Normalized("".join(out), norm, srcs, srclen)


SPECIAL_CHARS = re.compile(r"[\\$&{}×≤≥–—−μ\u00a0]")  # what normalize_with_map may change, besides space


_SPECIAL_LIST = tuple("\\$&{}×≤≥–—−μ\u00a0")


def has_special(s: str) -> bool:
    """SPECIAL_CHARS.search(s), fast: one memchr-speed `in` test per character is ~20x quicker than
    the regex character-class scan (8 us per abstract, run several times per abstract)."""
    if s.isascii():  # O(1) in CPython; then only the ASCII ones can occur
        return "\\" in s or "$" in s or "&" in s or "{" in s or "}" in s
    for c in _SPECIAL_LIST:
        if c in s:
            return True
    return False


def plain(s: str) -> str:
    """LaTeX-free, whitespace-collapsed text for display (case kept)."""
    if not has_special(s):
        return collapse_ws(s)
    return collapse_ws(normalize_with_map(s, casefold=False).text)


class Sentence(NamedTuple):
    start: int
    end: int
    text: str


_sentence_start = itemgetter(0)  # Sentence.start, as a C-level key for bisect


_ABBREV = re.compile(r"(?:\b(?:e\.g|i\.e|et al|vs|cf|etc|approx|Fig|Sec|Eq|resp|incl|no)\.)$", re.I)
_ABBREV_LAST = frozenset("gelsfcxqpo")  # the last letters of the abbreviations above
_SENT_END = re.compile(r"[.!?](?=\s+[\"'(\[\\$A-Z0-9])")
# The same for text without "!" or "?": a pattern led by a literal, which Python's re finds with a
# fast string search instead of testing a character class at every position.
_SENT_END_DOT = re.compile(r"\.(?=\s+[\"'(\[\\$A-Z0-9])")


@lru_cache(maxsize=4)  # the engine and the verifier split the same abstract, one after another
def split_sentences(text: str) -> list[Sentence]:
    """Split an abstract into sentences with offsets; abbreviations like e.g. / i.e. do not split."""
    out: list[Sentence] = []
    make = Sentence._make  # tuple.__new__, quicker than the NamedTuple's keyword-aware __new__
    start = 0
    ends = [m.end() for m in (_SENT_END if "!" in text or "?" in text else _SENT_END_DOT).finditer(text)]
    ends.append(len(text))
    for end in ends:
        # every abbreviation ends in one of these letters: most sentence ends skip the regex
        if end < len(text) and text[end - 2:end - 1].lower() in _ABBREV_LAST \
                and _ABBREV.search(text, max(0, end - 8), end):
            continue
        seg = text[start:end]
        lead = len(seg) - len(seg.lstrip())
        seg = seg.strip()
        if seg:
            out.append(make((start + lead, start + lead + len(seg), seg)))
        start = end
    return out


def sentence_at(sentences: list[Sentence], pos: int) -> Sentence | None:
    i = bisect_right(sentences, pos, key=_sentence_start) - 1
    if i >= 0 and pos < sentences[i].end:
        return sentences[i]
    return None
