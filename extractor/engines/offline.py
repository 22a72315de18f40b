"""The offline engine: deterministic rules, no model, thousands of abstracts per second.

It finds every quantity with `quantities.scan`, then reads the words around each one for the
metric, direction, baseline and kind; the system name comes from the phrases papers use to name
what they built ("We present X, a ...", "called X", "Name: subtitle"); problem and technique are
the abstract's own sentences. It never invents a name: no pattern, no name.
"""

from __future__ import annotations

import re
from itertools import chain
from typing import Iterator, Optional

from ..document import Document
from ..quantities import Quantity
from ..text import Sentence, lower_same_length, plain
from .base import Capabilities, ClaimDraft, Engine, EngineResult

RULES_VERSION = "offline-rules/1"

def _top_level_alternatives(pattern: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for c in pattern:
        if c == "|" and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += (c == "(") - (c == ")")
        cur += c
    out.append(cur)
    return out


def _word_alternation(pattern: str, flags: int = 0) -> re.Pattern:
    """Compile r"\\b(?:w1|w2|...)\\b" with the words grouped by first letter, r"\\b(?:a(?:x|y)|b(?:z))\\b".

    Python's re tries every alternative at every position; grouped, it tries one letter per position
    and then only that letter's words (~30% faster on these cue lists, each run over whole sentences).
    The matches are the same: alternatives that start with different letters never match at the same
    position, and the order within a letter is kept. Patterns of another shape compile unchanged."""
    head, tail = "\\b(?:", ")\\b"
    if not (pattern.startswith(head) and pattern.endswith(tail)):
        return re.compile(pattern, flags)
    alts = _top_level_alternatives(pattern[len(head):-len(tail)])
    if not all(a and a[0].isalpha() and a[0].islower() for a in alts):
        return re.compile(pattern, flags)
    groups: dict[str, list[str]] = {}
    for a in alts:
        groups.setdefault(a[0], []).append(a[1:])
    body = "|".join(c + "(?:" + "|".join(rest) + ")" for c, rest in groups.items())
    return re.compile(head + body + tail, flags)


# --- system name ------------------------------------------------------------------------------

_VERBS = r"(?:present|introduce|propose|design|describe|build|develop|implement|prototype|realize|realise)(?:s|d|ed)?"
_INTRO_TAIL = (
    r"\s+(?:(?:first|also|then|further|therefore|thus|hence)\s+)?" + _VERBS
    + r"(?:\s+and\s+(?:evaluate|implement|open-source)\w*)?[\s,]+(?P<rest>[^.;]{0,200})"
)
_INTRO_RE = re.compile(r"\b(?:we|this (?:paper|work|article|study))" + _INTRO_TAIL)
# The same as two patterns that start with a literal, which Python's re finds with a fast string
# search instead of trying the pattern at every position (a third of the time on an abstract).
_INTRO_WE = re.compile(r"we(?<=\bwe)" + _INTRO_TAIL)
_INTRO_THIS = re.compile(r"this (?<=\bthis )(?:paper|work|article|study)" + _INTRO_TAIL)


def _intro_search(low: str, pos: int = 0) -> Optional[re.Match]:
    """_INTRO_RE.search(low, pos)."""
    a, b = _INTRO_WE.search(low, pos), _INTRO_THIS.search(low, pos)
    if a is None or (b is not None and b.start() < a.start()):
        return b
    return a


def _intro_matches(low: str, pos: int = 0) -> Iterator[re.Match]:
    """_INTRO_RE.finditer(low, pos)."""
    while (m := _intro_search(low, pos)) is not None:
        yield m
        pos = m.end()


# run on lower-cased text: Python's re is several times slower with re.I
# a name token: "Nexus", "PI-DLinear", "μFork", "sNVMe-oF" (lower-case first letters need inner caps,
# checked by _name_like)
_TOKEN = r"[A-Za-zμ0-9][\w\-\.+]*[\w+]|[A-Z]"
_NAME_AT_START = re.compile(rf"(?P<n>(?:{_TOKEN})(?:\s(?:{_TOKEN})){{0,2}})(?=\s*(?:,|\(|:|--|—|\s-\s|\swhich\b|\sthat\b|\sas\b|\sis\b|\sfor\b))")
_HEAD_NOUNS = (
    r"(?:framework|system|tool|toolkit|library|engine|runtime|scheduler|compiler|approach|method|technique|"
    r"mechanism|architecture|platform|service|protocol|model|algorithm|design|layer|OS|hypervisor|"
    r"filesystem|file system|database|benchmark|simulator|prototype|solution|pipeline|language|agent)"
)
_NAME_AFTER_HEAD = re.compile(
    rf"^(?:an?|the|our)\s+[^,;]{{0,80}}?\b{_HEAD_NOUNS}s?,?\s+(?:called\s+|named\s+)?(?P<n>{_TOKEN})(?=[\s,.;:(]|$)"
)
_ACRONYM_AFTER = re.compile(
    r"^(?:the\s+)?[A-Z][\w\-]*(?:\s+(?:[A-Z][\w\-]*|as|a|an|of|for|the|and|in|on|to|with)){1,8}\s+\((?P<acr>[A-Za-z][\w\-]*)\)"
)
_THE_NAME = re.compile(rf"^the\s+(?P<n>{_TOKEN})(?=\s*[,(])")
_CALLED_HINTS = ("called", "named", "dubbed", "termed", "coined", "refer to", "we call")
_CALLED_RE = re.compile(  # on lower-cased text; the name itself is read from the original
    r"\b(?:called|named|dubbed|termed|coined|(?:we|which we)\s+(?:refer\s+to|call)(?:\s+it)?\s+as|which we call|we call it)\s+"
)
_NAME_TOKENS = re.compile(rf"(?:{_TOKEN})(?:\s(?:{_TOKEN})){{0,2}}")
_TITLE_PREFIX = re.compile(r"^(?P<n>[^:]{1,40}):\s+(?P<sub>.+)$")
_NOT_TITLE_NAME = re.compile(r"^(?:a|an|the|on|towards?|toward|why|how|when|what|is|are|do|does|can|beyond|rethinking)\b", re.I)
_STUDY_SUBTITLE = re.compile(
    r"^(?:an?\s+)?(?:(?:large-scale|comprehensive|systematic|empirical|experimental|first|measurement|comparative)\s+)*"
    r"(?:study|survey|analysis|characteri[sz]ation|review|overview|evaluation|position|vision|perspective|lessons|sok|case study|tutorial)\b",
    re.I,
)
_NOT_NAMES = {
    "We", "Our", "The", "This", "These", "It", "In", "A", "An", "To", "First", "Second", "Finally", "Moreover",
    "However", "Specifically", "Furthermore", "Additionally", "Also", "Here", "Existing", "LLM", "LLMs", "AI",
    "GPU", "GPUs", "CPU", "CPUs", "OS", "API", "ML", "DNN", "DNNs", "I", "II", "III",
}


def _name_like(tok: str, strict: bool) -> bool:
    tok = tok.strip()
    if not tok or tok in _NOT_NAMES or tok.split()[0] in _NOT_NAMES:
        return False
    if len(tok) < 2:
        return False
    inner_caps = any(c.isupper() for c in tok[1:]) or any(c.isdigit() for c in tok)
    if strict or not (tok[0].isupper() or tok[0].isdigit()):
        return inner_caps and not tok.split()[0].islower()
    return True


_ARTICLE = re.compile(r"an?\s+|the\s+")


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def _names_first(rest: str, name: str) -> bool:
    """re.match(rf"(?:an?\\s+|the\\s+)?{re.escape(name)}\\b", rest) without building a pattern per
    title (the re module's cache holds 512 patterns; a corpus has a title per paper)."""
    art = _ARTICLE.match(rest)
    for i in ((art.end(), 0) if art else (0,)):
        if rest.startswith(name, i):
            j = i + len(name)
            left = _is_word_char(name[-1])
            right = j < len(rest) and _is_word_char(rest[j])
            if left != right:  # \b after the name
                return True
    return False


_NOT_SEARCHED = object()


def find_system_name(title: str, abstract: str, abstract_low: Optional[str] = None,
                     first_intro=_NOT_SEARCHED) -> Optional[str]:
    """`abstract_low`: lower_same_length(abstract), and `first_intro`: _intro_search(abstract_low)
    (None when there is no intro phrase), when the caller has them: each costs a pass."""
    if "\\" in abstract or "$" in abstract:
        text = plain(abstract)  # markup changes offsets: search the plain text afresh
        low, first_intro = lower_same_length(text), _NOT_SEARCHED
    else:
        text = abstract
        low = abstract_low if abstract_low is not None else lower_same_length(text)
    if first_intro is _NOT_SEARCHED:
        first_intro = _intro_search(low)
    intros: Iterator[re.Match] = (
        chain((first_intro,), _intro_matches(low, first_intro.end())) if first_intro is not None else iter(()))
    title_name = None
    m = _TITLE_PREFIX.match(title)
    if m:
        cand, sub = m.group("n").strip(), m.group("sub")
        if len(cand.split()) <= 3 and not _NOT_TITLE_NAME.match(cand) and not _STUDY_SUBTITLE.match(sub):
            if _name_like(cand, strict=False):
                title_name = cand
    for m in intros:
        rest = text[m.start("rest"):m.end("rest")]
        acr = _ACRONYM_AFTER.match(rest)
        if acr and _name_like(acr.group("acr"), strict=True):
            return acr.group("acr")  # "Distributed Page Cache (DPC), an ..."
        n1 = _NAME_AT_START.match(rest)
        if n1 and _name_like(n1.group("n"), strict=False):
            return n1.group("n")
        n2 = _NAME_AFTER_HEAD.match(rest) or _THE_NAME.match(rest)
        if n2 and _name_like(n2.group("n"), strict=True):
            return n2.group("n")
        if title_name and _names_first(rest, title_name):
            return title_name
    if any(h in low for h in _CALLED_HINTS):
        for m in _CALLED_RE.finditer(low):
            n = _NAME_TOKENS.match(text, m.end())
            if n and _name_like(n.group(0), strict=False):
                return n.group(0)
    return title_name


# --- problem and technique --------------------------------------------------------------------

_PROBLEM_CUE_PATTERN = (
    r"\b(?:however|challenge|challenges|challenging|problem|problems|suffer|suffers|bottleneck|bottlenecks|"
    r"limited|lack|lacks|costly|expensive|difficult|remains|inefficien\w*|fail|fails|struggle|struggles|"
    r"unfortunately|yet|but|overhead|overheads|poor|degrad\w*|waste\w*|risk|issue|issues|hard|cannot|unable)\b"
)
_PROBLEM_CUES = _word_alternation(_PROBLEM_CUE_PATTERN)  # on lower-cased text
_PROBLEM_ALTS = _top_level_alternatives(_PROBLEM_CUE_PATTERN[len(r"\b(?:"):-len(r")\b")])
_PROBLEM_WORDS = frozenset(a.encode() for a in _PROBLEM_ALTS if a.isalpha())
_PROBLEM_STEMS = tuple(a[:-3] for a in _PROBLEM_ALTS if a.endswith(r"\w*"))
_PROBLEM_STEM_RE = re.compile(r"\b(?:" + "|".join(_PROBLEM_STEMS) + r")\w*")
assert len(_PROBLEM_WORDS) + len(_PROBLEM_STEMS) == len(_PROBLEM_ALTS)  # plain words and stems only
# ASCII word characters ([A-Za-z0-9_], what \b separates) kept, every other byte made a space
_WORD_BYTES = bytes(c if c < 128 and (chr(c).isalnum() or c == 95) else 32 for c in range(256))


def _count_problem_cues(low: str) -> int:
    """len(_PROBLEM_CUES.findall(low)), a third quicker on ASCII text: the words are cut out with
    bytes.translate + split and looked up in a set (C speed), instead of ~40 alternatives tried at
    every position; the three stems (inefficien-, degrad-, waste-) are counted by a small pattern."""
    if not low.isascii():
        return len(_PROBLEM_CUES.findall(low))
    n = sum(map(_PROBLEM_WORDS.__contains__, low.encode("ascii").translate(_WORD_BYTES).split()))
    for st in _PROBLEM_STEMS:
        if st in low:
            return n + len(_PROBLEM_STEM_RE.findall(low))
    return n
_TECH_CUES = re.compile(r"\b(?:key insight|our approach|our design|we propose|we leverage|leverages|uses|by)\b")


def _intro_index(sentences: list[Sentence], m: Optional[re.Match]) -> Optional[int]:
    """The sentence where the first "we present ..." match `m` starts."""
    if m is None:
        return None
    for i, s in enumerate(sentences):
        if s.start <= m.start() < s.end:
            return i
    return None


def problem_and_technique(sentences: list[Sentence], intro: Optional[int],
                          low: Optional[str] = None) -> tuple[Optional[str], Optional[str]]:
    """`low`: the text the sentences come from, lower-cased by lower_same_length (offsets kept)."""
    if not sentences:
        return None, None
    pool = sentences[:intro] if intro else sentences[:-1] or sentences
    best, best_score = None, 0
    for s in pool:
        score = _count_problem_cues(low[s.start:s.end] if low is not None else s.text.lower())
        if score > best_score:
            best, best_score = s, score
    problem = best or pool[0]
    technique: Optional[Sentence]
    if intro is not None:
        technique = sentences[intro]
    else:
        cands = [s for s in sentences if s is not problem and _TECH_CUES.search(s.text.lower())]
        technique = cands[0] if cands else None
    return plain(problem.text), (plain(technique.text) if technique else None)


# --- numbers: direction, metric, baseline, kind -----------------------------------------------
# The cue patterns below are lower-case and run on lower-cased text (the abstract is lowered once
# per paper, offsets unchanged): Python's re is several times slower with re.I.

_INC = (
    r"improv\w*|increas\w*|gain|gains|higher|more|faster|speedups?|speed-ups?|boost\w*|outperform\w*|"
    r"accelerat\w*|better|raises?|doubl\w*|tripl\w*|greater|exceed\w*|up"
)
_DEC = (
    r"reduc\w*|lower\w*|decreas\w*|fewer|less|cuts?|sav(?:e|es|ed|ing|ings)|shrink\w*|drops?|smaller|"
    r"eliminates|eliminated|eliminating|halv\w*|degradation|slowdown|down|shorter|mitigat\w*"
)
class _Words:
    """Word-level test equal to fullmatching an alternation of words and `prefix\\w*` stems, done
    with a set and str.startswith: it runs for every word near every number."""

    def __init__(self, pattern: str):
        self.words: set[str] = set()
        stems = []
        for alt in _top_level_alternatives(pattern):
            alt = alt.replace("\\.", ".")
            if alt.endswith(r"\w*"):
                stems.append(alt[:-3])
            elif alt.endswith("?"):  # "speedups?" -> speedup, speedups
                self.words.update({alt[:-2], alt[:-1]})
            elif "(?:" in alt:  # "sav(?:e|es|ed|ing|ings)"
                head, tail = alt.split("(?:")
                self.words.update(head + t for t in tail.rstrip(")").split("|"))
            else:
                self.words.add(alt)
        self.stems = tuple(stems)
        self._memo: dict[str, bool] = {}

    def match(self, w: str) -> bool:
        if not self.stems:
            return w.lower() in self.words
        # memoised: the same few thousand words come up again and again; the memo is dropped when
        # it grows large, so memory stays bounded on any input
        hit = self._memo.get(w)
        if hit is None:
            if len(self._memo) > 50_000:
                self._memo.clear()
            hit = self._memo[w] = self._match(w)
        return hit

    def _match(self, w: str) -> bool:
        lw = w.lower()
        if lw in self.words:
            return True
        if lw.startswith(self.stems):
            for st in self.stems:
                if lw.startswith(st) and (len(lw) == len(st) or lw[len(st):].replace("_", "").isalnum()):
                    return True
        return False


_DEC_WORDS = _Words(_DEC)
_CUE_WORDS = _Words(f"{_INC}|{_DEC}")
_ANY_CUE = _word_alternation(rf"\b(?:{_INC}|{_DEC})\b")

_STOP = (
    r"than|compared|relative|versus|vs\.?|over|while|when|with|across|on|at|under|in|for|from|to|by|per|"
    r"and|or|which|that|thus|thereby|respectively|whereas|without|against|using|after|before|through|of|"
    r"during|as|within|among|is|are|was|were|be|been|via"
)
_STOP_RE = _Words(_STOP)
_RESULT_HEADS = _Words(
    "reduction|reductions|improvement|improvements|increase|increases|decrease|decreases|gain|gains|speedup|"
    "speedups|speed-up|higher|lower|fewer|more|less|faster|slower|better|smaller|larger|greater"
)
_DETS = _Words("the|a|an|its|their|our|overall|all|total")
_WORD = re.compile(r"[A-Za-z][\w\-/'.]*[\w]|[A-Za-z]")
_COMPARE_RE = re.compile(
    r"\b(?:compared\s+(?:to|with)|relative\s+to|in\s+comparison\s+(?:to|with)|than|versus|vs\.?|over|against)\s+(?P<b>[^,;.()]+)"
)
_LEAD_COMPARE = re.compile(r"^(?:compared\s+(?:to|with)|relative\s+to|against|over)\s+(?P<b>[^,;]+),")
_BASELINE_STOP = re.compile(
    r"\s+(?:while|under|across|on|in|at|when|with|for|by|thus|thereby|which|and\s+\d|respectively)\b.*$"
)
_CONTEXT_CUES = _word_alternation(
    r"\b(?:existing|prior|previous|current|conventional|traditional|today's|naive|naively|"
    r"state-of-the-art\s+(?:systems|approaches|methods)|which is limited)\b"
)
_RESULT_VERBS = _word_alternation(
    r"\b(?:achiev\w*|improv\w*|reduc\w*|outperform\w*|speeds?\s*up|accelerat\w*|lower\w*|increas\w*|"
    r"eliminat\w*|sav\w*|enabl\w*|complet\w*|deliver\w*|yield\w*|attain\w*|demonstrat\w*|show\w*|"
    r"discover\w*|needs?|requir\w*|incur\w*|adds?|cuts?|keeps?|keeping|bring\w*|translat\w*|range|ranges)\b"
)
_VERB_WORDS = _Words(
    r"achiev\w*|improv\w*|reduc\w*|outperform\w*|accelerat\w*|lower\w*|increas\w*|"
    r"eliminat\w*|sav\w*|enabl\w*|complet\w*|deliver\w*|yield\w*|attain\w*|demonstrat\w*|show\w*|"
    r"discover\w*|needs?|requir\w*|incur\w*|adds?|cuts?|keeps?|keeping|bring\w*|translat\w*|range|ranges"
)
_COUNT_RESULT_NEXT = re.compile(r"^\s+(?:\w+\s+)?(?:save|saves|saving|savings|fewer|more|less|reduction)\b")


def _words(s: str) -> list[str]:
    return _WORD.findall(s)


_AFTER_END = re.compile(r"[,;:()]|\.\s|\.$")
_TRAILING_BY = re.compile(r"\s+(?:by|of|reaching)\s*$")
_PASSIVE = re.compile(r"\b(?:is|are|was|were|be|been)\s+\w+ed$")
_OF_BASELINE = re.compile(r"\s+of\s+(?P<b>[^;.()]+)")
_OUTPERFORM = re.compile(r"outperform\w*\s+(?P<b>.+?)\s+by\s*$", re.I)


def _clause_bounds(sent_text: str, rel: int) -> tuple[int, int]:
    """Where the clause before offset `rel` starts and ends in the sentence."""
    before = sent_text[:rel]
    end = rel
    if before.endswith("(") and not before.endswith(" ("):
        pass
    elif before.rstrip().endswith("("):
        before = before.rstrip()[:-1]  # "a modest increase (4%)": the clause before the parenthesis
        end = len(before)
    cut = max(before.rfind(","), before.rfind(";"), before.rfind(":"), before.rfind("("))
    return (cut + 1 if cut >= 0 else 0), end


def _after_end(sent_text: str, rel_end: int) -> int:
    """Where the clause after offset `rel_end` ends in the sentence."""
    m = _AFTER_END.search(sent_text, rel_end)
    return m.start() if m else len(sent_text)


def _direction(q: Quantity, before: str, after: str, word: str) -> str:
    if q.qualifier == "within":
        return "none"
    w = word.lower()
    if w.startswith(("doubl", "twice", "tripl", "thrice", "threefold")):
        return "increase"
    if w.startswith("halv"):
        return "decrease"
    # before and after arrive lower-cased
    head = " ".join(_take_np(after.split(None, 4), 4))  # "2.1x and reduces latency": stop at "and"
    m = _ANY_CUE.search(head)
    if m:
        return "decrease" if _DEC_WORDS.match(m.group(0)) else "increase"
    cues = list(_ANY_CUE.finditer(before))
    if cues:
        c = cues[-1].group(0)
        if c in ("up", "down") and not re.search(r"\b(?:speeds?|scales?)\s+" + c + r"\b", before):
            cues = cues[:-1]
        if cues:
            return "decrease" if _DEC_WORDS.match(cues[-1].group(0)) else "increase"
    return "none"


def _take_np(words: list[str], limit: int = 6) -> list[str]:
    out: list[str] = []
    for w in words:
        if len(out) >= limit or _STOP_RE.match(w):
            break
        out.append(w)
    return out


def _np_before(before: str) -> list[str]:
    """The noun phrase that ends `before`, walking back to a verb or a function word."""
    np: list[str] = []
    for w in reversed(_words(before)):
        if (_STOP_RE.match(w) and w.lower() != "and") or _VERB_WORDS.match(w) or len(np) >= 7:
            break
        np.insert(0, w)
    while np and (_DETS.match(np[0]) or np[0].lower() == "and"):
        np.pop(0)
    return np


def _np_after(words: list[str]) -> list[str]:
    while words and _DETS.match(words[0]):
        words = words[1:]
    return _take_np(words)


def _metric(before: str, after: str, q: Quantity) -> Optional[str]:
    # "reduces cold-start latency by up to" / "throughput gains of up to" / "keeping throughput within"
    b = before.rstrip()
    if b.endswith(("by", "of", "reaching")):  # the regexes below match only then; they scan the clause
        b = _TRAILING_BY.sub("", b)
    passive = _PASSIVE.search(b) if b.endswith("ed") else None  # "is limited by ~8x overhead"
    if (b != before.rstrip() or q.qualifier == "within") and q.unit != "" and not passive:
        np = _np_before(b)
        if np:
            return " ".join(np)
    aw = _words(after)
    if aw and _RESULT_HEADS.match(aw[0]):
        rest = aw[1:]
        if rest and rest[0].lower() in ("in", "of", "for"):
            rest = rest[1:]
        np = _np_after(rest)
        if np:
            return " ".join(np)
        if aw[0].lower().startswith(("speedup", "speed-up")):
            return aw[0]
    if aw and aw[0].lower() in ("of", "for"):
        np = _np_after(aw[1:])
        if np:
            return " ".join(np)
    if aw and not _STOP_RE.match(aw[0]) and not _CUE_WORDS.match(aw[0]):
        np = _np_after(aw)
        while np and _RESULT_HEADS.match(np[-1]):
            np.pop()
        if np and (q.unit != "" or len(np) <= 4):
            return " ".join(np)
    return None


def _baseline(sent_text: str, sent_low: str, rel_end: int, before: str, q: Quantity,
              stop: Optional[int] = None) -> Optional[str]:
    rest = sent_text[rel_end:stop]
    rest_low = sent_low[rel_end:stop]
    cand = None
    if q.qualifier == "within":
        m = _OF_BASELINE.match(rest)
        if m:
            cand = m.group("b")
    if cand is None:
        m = _COMPARE_RE.search(rest_low)
        if m:
            cand = rest[m.start("b"):m.end("b")]
    if cand is None:
        m2 = _LEAD_COMPARE.match(sent_low)
        if m2:
            cand = sent_text[m2.start("b"):m2.end("b")]
    if cand is None:
        m3 = _OUTPERFORM.search(before) if "utperform" in before else None
        if m3:
            cand = m3.group("b")
    if not cand:
        return None
    cand = cand.split(",")[0]
    cut = _BASELINE_STOP.search(lower_same_length(cand))
    cand = (cand[: cut.start()] if cut else cand).strip()
    if not cand or len(cand.split()) > 14:
        return None
    return plain(cand)


_FOUND_BEFORE = re.compile(r"\b(?:discover\w*|uncover\w*|found|find|finds|detect\w*|identif\w*|fix\w*|reveal\w*|confirm\w*)\b")
_OWN_RE = re.compile(r"\b(?:we|our|this|it)\b")
# whether _OWN_RE matches, as four patterns led by their word (found by a fast string search)
_OWN_WORDS = tuple(re.compile(w + r"(?<=\b" + w + r")\b") for w in ("we", "our", "this", "it"))


def _mentions_own(low: str) -> bool:
    """bool(_OWN_RE.search(low)), about twice as fast."""
    for rx in _OWN_WORDS:
        if rx.search(low):
            return True
    return False


class _SentenceFacts:
    """What _kind asks about one sentence: mentions of the paper's own work, context cues, result
    verbs. The two cue tests are regex passes over the sentence, run only when _kind needs them."""

    __slots__ = ("low", "own", "_ctx", "_res")

    def __init__(self, sent: str, low: str, name: Optional[str]):
        self.low = low
        self.own = bool((name and name in sent) or _mentions_own(low))
        self._ctx: Optional[bool] = None
        self._res: Optional[bool] = None

    @property
    def ctx(self) -> bool:
        if self._ctx is None:
            self._ctx = bool(_CONTEXT_CUES.search(self.low))
        return self._ctx

    @property
    def res(self) -> bool:
        if self._res is None:
            self._res = bool(_RESULT_VERBS.search(self.low))
        return self._res


def _kind(q: Quantity, s_idx: int, intro: Optional[int], facts: _SentenceFacts, before: str,
          after: str) -> str:
    own = facts.own
    if q.unit == "":
        if (_COUNT_RESULT_NEXT.match(after) and facts.res) or (own and _FOUND_BEFORE.search(before)):
            return "result"  # "a 2,170 GPU save", "we discovered 12 previously unknown bugs"
        return "setup"
    if intro is not None and s_idx < intro:
        return "context"
    if intro is not None and s_idx == intro and q.unit not in ("%", "x", "pp"):
        return "setup"
    if _CONTEXT_CUES.search(before) or (not own and facts.ctx and not facts.res):
        return "context"
    return "result"


_LIST_SEP = re.compile(r"^(?:,\s*|\s+and\s+|,\s+and\s+|\s*/\s*|\s+or\s+)$")


class OfflineEngine(Engine):
    """Deterministic rules, no model: the engine of a machine with no endpoint configured."""

    name = "offline"
    model = RULES_VERSION
    prompt_hash = None
    capabilities = Capabilities(parallel=True)

    @classmethod
    def from_options(cls, options) -> "OfflineEngine":
        return cls()

    def extract(self, doc: Document) -> EngineResult:
        return extract_offline(doc)


def _intro(doc: Document) -> tuple[Optional[re.Match], Optional[int]]:
    memo = doc.__dict__.get("_offline_intro")
    if memo is None:
        m = _intro_search(doc.lower)
        memo = doc.__dict__["_offline_intro"] = (m, _intro_index(doc.sentences, m))
    return memo


def extract_offline(doc: Document) -> EngineResult:
    title = doc.title
    intro_m, intro = _intro(doc)
    name = find_system_name(title, doc.text, doc.lower, intro_m)
    problem, technique = problem_and_technique(doc.sentences, intro, doc.lower)
    return EngineResult(system_name=name, problem=problem, technique=technique,
                        numbers=read_numbers(doc, name))


def read_numbers(doc: Document, name: Optional[str] = None) -> list[ClaimDraft]:
    """Every quantity in the abstract with what its sentence says about it (metric, direction,
    baseline, kind), read once per document."""
    memo = doc.__dict__.get("_offline_numbers")
    if memo is not None:
        return memo
    if name is None:
        name = find_system_name(doc.title, doc.text, doc.lower, _intro(doc)[0])
    numbers = doc.__dict__["_offline_numbers"] = _read_numbers(doc, name)
    return numbers


def _read_numbers(doc: Document, name: Optional[str]) -> list[ClaimDraft]:
    a = doc.text
    sentences = doc.sentences
    low = doc.lower
    intro = _intro(doc)[1]
    numbers: list[ClaimDraft] = []
    prev_num: Optional[ClaimDraft] = None
    prev_sent: Optional[str] = None
    si = 0
    qs = doc.quantities
    flags: dict[int, _SentenceFacts] = {}
    # members of a list ("30%, 26%, 21%, and 14%") share qualifier, metric, direction, baseline
    in_list = [q.listed for q in qs]
    for i, q in enumerate(qs):
        while si < len(sentences) - 1 and q.start >= sentences[si].end:
            si += 1
        sent = sentences[si] if sentences else Sentence(0, len(a), a)
        rel_s, rel_e = q.start - sent.start, q.end - sent.start
        # the clause around the number, in the sentence and in its lower-cased copy (same offsets)
        b0, b1 = _clause_bounds(sent.text, rel_s)
        if q.unit == "" and a[q.end:q.end + 1] in ("x", "×"):
            rel_e += 1  # "8x NVIDIA B300 GPUs": the count's x is no word of what is counted
        a1 = _after_end(sent.text, rel_e)
        before, after = sent.text[b0:b1], sent.text[rel_e:a1]
        sent_low = low[sent.start:sent.end]  # same offsets; the cue patterns run on lower case
        before_low, after_low = sent_low[b0:b1], sent_low[rel_e:a1]
        j = i + 1
        while j < len(qs) and in_list[j]:
            j += 1  # the baseline may follow the whole list, but not the next claim
        stop = qs[j].start - sent.start if j < len(qs) and qs[j].start < sent.end else None
        listed = in_list[i] and prev_num is not None
        qualifier = q.qualifier
        if listed and qualifier == "exact" and prev_num is not None:
            qualifier = prev_num.qualifier  # "by up to 44% and 31%": "up to" covers both
        word = a[q.start:q.end]
        direction = _direction(q, before_low, after_low, word)
        metric = _metric(before, after, q)
        group_end = qs[j - 1].end - sent.start
        baseline = _baseline(sent.text, sent_low, group_end, before, q, stop) if q.unit else None
        if metric and baseline and metric in baseline:
            metric = None  # "outperforms the state-of-the-art by 32%": that phrase is the baseline
        if metric is None and prev_num is not None and prev_sent == sent.text and prev_num.unit == q.unit:
            metric = prev_num.metric  # "2.7x more X than A, 1.9x more than B"
        if listed and prev_num is not None:
            direction = prev_num.direction if direction == "none" else direction
            metric = metric or prev_num.metric
            baseline = baseline or prev_num.baseline
        if si not in flags:
            flags[si] = _SentenceFacts(sent.text, sent_low, name)
        kind = _kind(q, si, intro, flags[si], before_low, after_low)
        num = ClaimDraft(text=word, value=q.value, low=q.low, high=q.high, unit=q.unit, qualifier=qualifier,
                         metric=metric, direction=direction, kind=kind, baseline=baseline, start=q.start)
        numbers.append(num)
        prev_num, prev_sent = num, sent.text
    _share_within_lists(numbers, in_list)
    return numbers


def _share_within_lists(numbers: list[ClaimDraft], in_list: list[bool]) -> None:
    """"1.75x, 1.18x and 1.15x speedups over A, B and C": what one member of a list says about
    metric, direction and baseline holds for the members that say nothing."""
    if not any(in_list):
        return
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
