"""Text utilities shared by sources, engines and the verifier: cleaning at the edge, normalisation
with a map back to source offsets, and sentence splitting."""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import NamedTuple

# --- cleaning at the edge ------------------------------------------------------------------------
# What a reader cannot see must not be in the text every offset refers to: a zero-width space
# inside "4\u200b4%" would let the digits "4" verify. Characters that hide, join or reorder text are
# removed; full-width forms ("４４％") become the ASCII they show.
_INVISIBLE = dict.fromkeys(
    [0x00AD, 0x034F, 0x061C, 0x180E, *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2070), 0xFEFF],
    None,
)
_CONTROLS = dict.fromkeys([c for c in range(0x20) if chr(c) not in "\t\n\r\x0b\x0c"] + [0x7F, *range(0x80, 0xA0)], " ")
_FULL_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_CLEAN_TABLE = {**_INVISIBLE, **_CONTROLS, **_FULL_WIDTH, 0x3000: " "}


_HIDDEN_ONLY = dict(_INVISIBLE)


def visible(s: str) -> str:
    """`s` without the characters that hide, join or reorder text (zero-width spaces, right-to-left
    overrides), whitespace and everything else kept: what every export writes."""
    return s if s.isascii() else s.translate(_HIDDEN_ONLY)


def collapse_ws(s: str | None) -> str:
    """Whitespace runs (any Unicode space) as one space, trimmed."""
    if not s:
        return ""
    # already collapsed (most text is, once cleaned at the edge): every whitespace character but
    # the ASCII space is unprintable, so printable text with no double, leading or trailing space
    # has nothing to collapse
    if s.isprintable() and "  " not in s and s[0] != " " and s[-1] != " ":
        return s
    return " ".join(s.split())


def clean_text(s: str | None) -> str:
    """Text as a reader sees it, whitespace collapsed: no invisible or control characters,
    full-width letters and digits as ASCII."""
    if not s:
        return ""
    if not (s.isascii() and s.isprintable()):  # printable ASCII (most text) has nothing to clean
        s = s.translate(_CLEAN_TABLE)
    return collapse_ws(s)


def lower_same_length(s: str) -> str:
    """`s` lower-cased with offsets kept: a character whose lower case is longer ("İ") stays as it is."""
    low = s.lower()
    return low if len(low) == len(s) else "".join(c if len(c.lower()) != 1 else c.lower() for c in s)


# --- normalisation with an offset map ------------------------------------------------------------
# LaTeX and typography that abstracts carry and models rewrite. Each entry maps a source token to
# what it means in plain text; the map keeps the source offsets of each token.
_TOKENS: dict[str, str] = {
    r"\times": "x",
    r"\%": "%",
    r"\,": "",
    r"\ ": " ",
    r"\sim": "~",
    r"\approx": "~",
    r"\leq": "<=",
    r"\geq": ">=",
    r"\le": "<=",
    r"\ge": ">=",
    r"\textless": "<",
    r"\textgreater": ">",
    "&lt;": "<",
    "&gt;": ">",
    "&amp;": "&",
    "×": "x",
    "≤": "<=",
    "≥": ">=",
    "–": "-",
    "—": "-",
    "−": "-",
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "---": "-",
    "--": "-",
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "‟": '"',
    "…": "...",
    "μ": "µ",
    "\u00a0": " ",
}
_SPECIAL = "\\$&{}×≤≥–—−‐‑‒‘’‚‛“”„‟…μ\u00a0"  # characters a token above (or markup) starts with
# typography that only alignment folds; display (casefold=False) keeps it as the author wrote it
_ALIGN_ONLY = frozenset(("‘", "’", "‚", "‛", "“", "”", "„", "‟", "…", "‐", "‑", "‒", "--", "---", "μ"))
_MARKUP = "\\$&{}×≤≥–—−μ\u00a0"  # what display normalisation changes (LaTeX, entities, signs)
_TOKEN_RE = re.compile(
    r"(?P<frac>\\[dt]?frac\{(?P<num>[^{}]{0,40})\}\{(?P<den>[^{}]{0,40})\})"
    "|(?P<tok>" + "|".join(re.escape(t) for t in sorted(_TOKENS, key=len, reverse=True)) + ")"
    r"|(?P<cmd>\\[a-zA-Z]+\{)"
    r"|(?P<drop>[${}])"
    r"|(?P<ws>\s+)"
    # a run of plain words with single spaces maps linearly as a whole (one segment, not one per word)
    rf"|(?P<plain>(?:[^{re.escape(_SPECIAL)}\s-]+|-(?!-))+(?: (?:[^{re.escape(_SPECIAL)}\s-]+|-(?!-))+)*)"
    r"|(?P<other>.)",
    re.S,
)


# "$" before a number that LaTeX math does not go on from ("$35,000 in total", "$2.5M a year"), and
# not inside math: money, which normalisation keeps ("$50$ tests", "$3 \times 10^{4}$" are math)
_DOLLAR_NUMBER = re.compile(
    r"\$\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:[kKMBT]|million|billion|trillion|bn)\b)?(?!\s*[$\\^_{}]|[\d.,])"
)
DOLLAR = re.compile(r"(?<!\\)\$")  # a dollar sign, not an escaped one


def currency_dollars(text: str) -> frozenset[int]:
    """Offsets of the "$" signs of `text` that are money, not LaTeX math delimiters."""
    if "$" not in text:
        return frozenset()
    money, in_math = [], False
    for m in DOLLAR.finditer(text):
        if not in_math and _DOLLAR_NUMBER.match(text, m.start()):
            money.append(m.start())
        else:
            in_math = not in_math
    return frozenset(money)


def has_special(s: str) -> bool:
    """Whether alignment normalisation can change `s` beyond its whitespace and case."""
    return "--" in s or any(c in s for c in _SPECIAL)


def has_markup(s: str) -> bool:
    """Whether display normalisation (LaTeX, entities, ×, dashes) can change `s`: the scanner and
    plain() normalise only then."""
    return any(c in s for c in _MARKUP)


class Normalized:
    """Normalised text plus a map from each of its characters back to source offsets.

    The map is a list of segments: a run of plain text maps linearly, a token ("\\times", "--")
    maps to its whole source span. Looked up with bisect, so building it costs per token.
    """

    __slots__ = ("text", "_norm", "_src", "_srclen")

    def __init__(self, text: str, norm: list[int], src: list[int], srclen: list[int]):
        self.text = text
        self._norm, self._src, self._srclen = norm, src, srclen  # srclen -1: a linear segment

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

    def span(self, i: int, j: int) -> tuple[int, int]:
        """Source span of normalised text[i:j] (j > i)."""
        return self.start(i), self.end(j - 1)


def normalize_with_map(text: str, casefold: bool = True, spaces: bool = True) -> Normalized:
    """Normalise for alignment and scanning (LaTeX, dashes, quotes, whitespace; case when
    `casefold`; every space dropped when not `spaces`) and keep a map back to source offsets.

    Written by hand because alignment needs the source offset of every normalised character; no
    text-normalisation library returns that map."""
    out: list[str] = []
    norm: list[int] = []
    srcs: list[int] = []
    srclen: list[int] = []
    pos = 0  # length of the normalised text so far
    prev_space = True
    money = currency_dollars(text)

    def emit(s: str, src: int, length: int) -> None:
        nonlocal pos
        out.append(s)
        norm.append(pos)
        srcs.append(src)
        srclen.append(length)
        pos += len(s)

    for m in _TOKEN_RE.finditer(text):
        i, j = m.span()
        kind = m.lastgroup
        if kind in ("plain", "other"):
            run = lower_same_length(m.group(0)) if casefold else m.group(0)
            if spaces or " " not in run:
                emit(run, i, -1)
            else:  # every space dropped: each word is its own linear segment
                at = i
                for word in run.split(" "):
                    emit(word, at, -1)
                    at += len(word) + 1
            prev_space = False
        elif kind == "ws":
            if spaces and not prev_space:
                emit(" ", i, -1)
                prev_space = True
        elif kind == "frac":  # \frac{3}{4} reads "3/4", never "34"
            emit(f"{m.group('num')}/{m.group('den')}", i, j - i)
            prev_space = False
        elif kind == "tok":
            rep = _TOKENS[m.group(0)]
            if not casefold and m.group(0) in _ALIGN_ONLY:
                rep = m.group(0)  # display keeps the author's quotes, dashes and micro sign
            if rep == " ":
                if prev_space or not spaces:
                    continue
                prev_space = True
            elif rep:
                prev_space = False
            if rep:
                emit(rep, i, j - i)
        elif kind == "drop" and i in money:  # "$35,000": money, kept
            emit("$", i, 1)
            prev_space = False
        # "cmd" (\textsc{) and "drop" (math's $, braces) produce nothing
    return Normalized("".join(out), norm, srcs, srclen)


def plain(s: str) -> str:
    """LaTeX-free, whitespace-collapsed text for display (case kept)."""
    if not has_markup(s):
        return collapse_ws(s)
    return collapse_ws(normalize_with_map(s, casefold=False).text)


# --- sentences -----------------------------------------------------------------------------------


class Sentence(NamedTuple):
    start: int
    end: int
    text: str


_ABBREV = re.compile(r"(?:\b(?:e\.g|i\.e|et al|vs|cf|etc|approx|Fig|Sec|Eq|resp|incl|no)\.)$", re.I)
_SENT_END = re.compile(r"[.!?](?=\s+[\"'(\[\\$A-Z0-9])")
# the same for a text with no "!" or "?" (most abstracts): a pattern that starts with a literal is
# found by a fast string search, one with a character class is tried at every position
_SENT_END_DOT = re.compile(r"\.(?=\s+[\"'(\[\\$A-Z0-9])")


def split_sentences(text: str) -> list[Sentence]:
    """Split an abstract into sentences with offsets; abbreviations like e.g. / i.e. do not split."""
    out: list[Sentence] = []
    start = 0
    pattern = _SENT_END if "!" in text or "?" in text else _SENT_END_DOT
    ends = [m.end() for m in pattern.finditer(text)] + [len(text)]
    for end in ends:
        if end < len(text) and _ABBREV.search(text, max(0, end - 8), end):
            continue
        seg = text[start:end]
        lead = len(seg) - len(seg.lstrip())
        seg = seg.strip()
        if seg:
            out.append(Sentence(start + lead, start + lead + len(seg), seg))
        start = end
    return out


def sentence_at(sentences: list[Sentence], pos: int) -> Sentence | None:
    i = bisect_right([s.start for s in sentences], pos) - 1
    if i >= 0 and pos < sentences[i].end:
        return sentences[i]
    return None
