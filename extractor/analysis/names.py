"""The system's name, from the phrases papers use to name what they built: "We present X, a ...",
"this paper introduces X (an ...)", "a framework called X", "Name: subtitle". No phrase, no name:
the engine never guesses one.
"""

from __future__ import annotations

import re
from typing import Optional

from . import cues as lx
from .document import Document
from .text import collapse_ws, lower_same_length


def _alt(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# run on lower-cased text (Python's re is several times slower with re.I)
_VERBS = rf"(?:{_alt(lx.INTRO_VERBS)})(?:s|d|ed)?"
INTRO = re.compile(
    rf"\b(?:{_alt(lx.INTRO_SUBJECTS)})\s+(?:(?:{_alt(lx.INTRO_ADVERBS)})\s+)?{_VERBS}"
    rf"(?:\s+and\s+(?:{_alt(lx.INTRO_SECOND_VERBS)})\w*)?[\s,]+(?P<rest>[^.;]{{0,200}})"
)
_SUBJECT_WORDS = tuple(sorted({s.split()[0] for s in lx.INTRO_SUBJECTS}))  # "we", "this"


def _intros(low: str) -> list[re.Match]:
    """INTRO.finditer(low), tried only where a subject word starts (a string search finds those;
    the pattern, tried at every position, took most of the time of a name search)."""
    starts = sorted(i for w in _SUBJECT_WORDS for i in _find_all(low, w))
    out: list[re.Match] = []
    pos = 0
    for i in starts:
        if i < pos:
            continue
        m = INTRO.match(low, i)
        if m:
            out.append(m)
            pos = m.end()
    return out


def _find_all(text: str, word: str) -> list[int]:
    out, i = [], text.find(word)
    while i >= 0:
        out.append(i)
        i = text.find(word, i + 1)
    return out


# a name token: "Nexus", "PI-DLinear", "μFork", "sNVMe-oF" (a lower-case first letter needs inner
# capitals or digits, checked by name_like)
_TOKEN = r"[A-Za-zμ0-9][\w\-\.+]*[\w+]|[A-Z]"
_NAME_AT_START = re.compile(
    rf"(?P<n>(?:{_TOKEN})(?:\s(?:{_TOKEN})){{0,2}})"
    r"(?=\s*(?:,|\(|:|--|—|\s-\s|\swhich\b|\sthat\b|\sas\b|\sis\b|\sfor\b))"
)
_NAME_AFTER_HEAD = re.compile(
    rf"^(?:an?|the|our)\s+[^,;]{{0,80}}?\b(?:{_alt(lx.HEAD_NOUNS)})s?,?\s+(?:called\s+|named\s+)?(?P<n>{_TOKEN})"
    r"(?=[\s,.;:(]|$)"
)
_ACRONYM_AFTER = re.compile(  # "Distributed Page Cache (DPC), a ..."
    r"^(?:the\s+)?[A-Z][\w\-]*(?:\s+(?:[A-Z][\w\-]*|as|a|an|of|for|the|and|in|on|to|with)){1,8}\s+\((?P<acr>[A-Za-z][\w\-]*)\)"
)
_THE_NAME = re.compile(rf"^the\s+(?P<n>{_TOKEN})(?=\s*[,(])")
_CALLED = re.compile(  # on lower-cased text; the name itself is read from the original
    rf"\b(?:{_alt(lx.CALLED)}|(?:we|which we)\s+(?:refer\s+to|call)(?:\s+it)?\s+as|which we call|we call it)\s+"
)
_NAME_TOKENS = re.compile(rf"(?:{_TOKEN})(?:\s(?:{_TOKEN})){{0,2}}")
_TITLE_PREFIX = re.compile(r"^(?P<n>[^:]{1,40}):\s+(?P<sub>.+)$")
_NOT_TITLE_NAME = re.compile(rf"^(?:{_alt(lx.NOT_TITLE_NAME_STARTS)})\b", re.I)
_STUDY_SUBTITLE = re.compile(rf"^(?:an?\s+)?(?:(?:{_alt(lx.STUDY_ADJECTIVES)})\s+)*(?:{_alt(lx.STUDY_NOUNS)})\b", re.I)
_ARTICLE = re.compile(r"an?\s+|the\s+")
_CALLED_HINTS = (*lx.CALLED, "refer to", "call")  # what a text must contain for _CALLED to match


def intro_matches(doc: Document) -> list[re.Match]:
    """Each "we present ..." phrase of the abstract (lower-cased), in order; found once."""
    if "intros" not in doc.memo:
        doc.memo["intros"] = _intros(doc.lower)
    return doc.memo["intros"]


def name_like(tok: str, strict: bool) -> bool:
    """Whether a token can be a name: not a sentence word ("However"), two characters at least, and
    (when `strict`, or when it starts lower-case) with inner capitals or digits ("sNVMe", "μFork")."""
    tok = tok.strip()
    if not tok or tok in lx.NOT_NAMES or tok.split()[0] in lx.NOT_NAMES or len(tok) < 2:
        return False
    inner_caps = any(c.isupper() for c in tok[1:]) or any(c.isdigit() for c in tok)
    if strict or not (tok[0].isupper() or tok[0].isdigit()):
        return inner_caps and not tok.split()[0].islower()
    return True


def _names_first(rest: str, name: str) -> bool:
    """Whether `rest` starts with the title's name ("We present Nexus, ..." for "Nexus: ...")."""
    art = _ARTICLE.match(rest)
    for i in (art.end(), 0) if art else (0,):
        if rest.startswith(name, i):
            j = i + len(name)
            word = name[-1].isalnum() or name[-1] == "_"
            next_word = j < len(rest) and (rest[j].isalnum() or rest[j] == "_")
            if word != next_word:  # a word boundary after the name
                return True
    return False


def title_name(title: str) -> Optional[str]:
    """The "Name" of a "Name: subtitle" title, unless the subtitle says the paper is a study."""
    m = _TITLE_PREFIX.match(title)
    if not m:
        return None
    cand, sub = m.group("n").strip(), m.group("sub")
    if (
        len(cand.split()) <= 3
        and not _NOT_TITLE_NAME.match(cand)
        and not _STUDY_SUBTITLE.match(sub)
        and name_like(cand, strict=False)
    ):
        return cand
    return None


def find_system_name(doc: Document) -> Optional[str]:
    """The name of the system the paper proposes, or None."""
    if "\\" in doc.text or "$" in doc.text:  # markup changes offsets: search the plain text afresh
        text = collapse_ws(doc.display.text)  # plain(doc.text), from the normalisation the scanner read
        low = lower_same_length(text)
        intros = _intros(low)
    else:
        text, low, intros = doc.text, doc.lower, intro_matches(doc)
    from_title = title_name(doc.title)
    for m in intros:
        rest = text[m.start("rest") : m.end("rest")]
        acr = _ACRONYM_AFTER.match(rest)
        if acr and name_like(acr.group("acr"), strict=True):
            return acr.group("acr")
        n1 = _NAME_AT_START.match(rest)
        if n1 and name_like(n1.group("n"), strict=False):
            return n1.group("n")
        n2 = _NAME_AFTER_HEAD.match(rest) or _THE_NAME.match(rest)
        if n2 and name_like(n2.group("n"), strict=True):
            return n2.group("n")
        if from_title and _names_first(rest, from_title):
            return from_title
    for m in _CALLED.finditer(low) if any(w in low for w in _CALLED_HINTS) else ():
        n = _NAME_TOKENS.match(text, m.end())
        if n and name_like(n.group(0), strict=False):
            return n.group(0)
    return from_title
