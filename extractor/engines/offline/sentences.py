"""Problem and technique: the abstract's own sentences. The problem is the sentence before the
paper introduces its work with the most problem words ("however", "bottleneck", "costly" ...); the
technique is the sentence that introduces the work ("We present X, which ..."), or else the first
with a technique cue ("our approach", "we leverage", "by ...")."""

from __future__ import annotations

import re
from typing import Optional

from ...analysis import cues as lx
from ...analysis.text import Sentence, plain

_PROBLEM = lx.PROBLEM_CUES.pattern()
_TECHNIQUE = re.compile(r"\b(?:" + "|".join(re.escape(c) for c in lx.TECHNIQUE_CUES) + r")\b")


def problem_score(low: str) -> int:
    """How many problem words a lower-cased sentence has."""
    return len(_PROBLEM.findall(low))


def problem_and_technique(
    sentences: list[Sentence], intro: Optional[int], low: str
) -> tuple[Optional[str], Optional[str]]:
    """`intro`: the index of the sentence that introduces the work (None: no such sentence);
    `low`: the abstract lower-cased, offsets kept."""
    if not sentences:
        return None, None
    pool = sentences[:intro] if intro else sentences[:-1] or sentences
    best, best_score = None, 0
    for s in pool:
        score = problem_score(low[s.start : s.end])
        if score > best_score:
            best, best_score = s, score
    problem = best or pool[0]
    technique: Optional[Sentence]
    if intro is not None:
        technique = sentences[intro]
    else:
        technique = next((s for s in sentences if s is not problem and _TECHNIQUE.search(low[s.start : s.end])), None)
    return plain(problem.text), (plain(technique.text) if technique else None)
