"""Small text utilities shared by sources, engines and the verifier."""

from __future__ import annotations

import re
from typing import NamedTuple

_WS = re.compile(r"\s+")


def collapse_ws(s: str | None) -> str:
    return _WS.sub(" ", s or "").strip()


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
# \textsc{Name}, \textbf{x}, \emph{x}: keep the content, drop the command and braces.
_LATEX_CMD_OPEN = re.compile(r"\\[a-zA-Z]+\{")


class Normalized(NamedTuple):
    text: str
    starts: list[int]  # starts[i]: offset in the source of the token that produced text[i]
    ends: list[int]  # ends[i]: end offset of that token


def normalize_with_map(src: str, casefold: bool = True) -> Normalized:
    """Normalise for alignment (whitespace, LaTeX, dashes, case) and keep a map back to offsets.

    Written by hand because alignment needs the source offset of every normalised character;
    no text-normalisation library returns that map.
    """
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(src)
    prev_space = True
    while i < n:
        c = src[i]
        m = _LATEX_RE.match(src, i) if c in "\\&×≤≥–—−μ\u00a0" else None
        if m:
            rep = _LATEX_MAP[m.group(0)]
            j = m.end()
            for ch in rep:
                if ch == " ":
                    if prev_space:
                        continue
                    prev_space = True
                else:
                    prev_space = False
                out.append(ch)
                starts.append(i)
                ends.append(j)
            i = j
            continue
        if c == "\\":
            m2 = _LATEX_CMD_OPEN.match(src, i)
            if m2:  # drop "\textsc{" (its closing brace is dropped below)
                i = m2.end()
                continue
        if c in "${}":
            i += 1
            continue
        if c.isspace():
            if not prev_space:
                out.append(" ")
                starts.append(i)
                ends.append(i + 1)
                prev_space = True
            i += 1
            continue
        out.append(c.lower() if casefold else c)
        starts.append(i)
        ends.append(i + 1)
        prev_space = False
        i += 1
    return Normalized("".join(out), starts, ends)


def plain(s: str) -> str:
    """LaTeX-free, whitespace-collapsed text for display (case kept)."""
    return collapse_ws(normalize_with_map(s, casefold=False).text)


class Sentence(NamedTuple):
    start: int
    end: int
    text: str


_ABBREV = re.compile(r"(?:\b(?:e\.g|i\.e|et al|vs|cf|etc|approx|Fig|Sec|Eq|resp|incl|no)\.)$", re.I)
_SENT_END = re.compile(r"[.!?](?=\s+[\"'(\[\\$A-Z0-9])")


def split_sentences(text: str) -> list[Sentence]:
    """Split an abstract into sentences with offsets; abbreviations like e.g. / i.e. do not split."""
    out: list[Sentence] = []
    start = 0
    for m in _SENT_END.finditer(text):
        end = m.end()
        if _ABBREV.search(text, 0, end):
            continue
        seg = text[start:end].strip()
        if seg:
            s = text.index(seg[0], start)
            out.append(Sentence(s, s + len(seg), seg))
        start = end
    seg = text[start:].strip()
    if seg:
        s = text.index(seg[0], start)
        out.append(Sentence(s, s + len(seg), seg))
    return out


def sentence_at(sentences: list[Sentence], pos: int) -> Sentence | None:
    for s in sentences:
        if s.start <= pos < s.end:
            return s
    return None
