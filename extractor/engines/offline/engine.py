"""The offline engine: deterministic rules, no model, thousands of abstracts per second.

It finds every quantity with `quantities.scan` and reads the words around each one for metric,
direction, baseline and kind (claims.py); the system name comes from the phrases papers use to
name what they built (names.py); problem and technique are the abstract's own sentences
(sentences.py). The words all these rules use are data (lexicon.py).
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Optional

from ...document import Document
from ..base import Capabilities, ClaimDraft, Engine, EngineResult
from .claims import read_claims
from .names import find_system_name, intro_matches
from .sentences import problem_and_technique

# The rules are these modules and the scanner's; their hash is the rules version, so provenance
# tells two rule sets apart (an edit to any of them is a new version).
_RULE_MODULES = (
    ("extractor.engines.offline", ("lexicon.py", "words.py", "names.py", "sentences.py", "claims.py")),
    ("extractor", ("quantities.py", "units.py", "respectively.py")),
)


def _rules_version() -> str:
    h = hashlib.sha256()
    for package, names in _RULE_MODULES:
        for name in names:
            h.update(resources.files(package).joinpath(name).read_bytes())
    return "offline-rules/" + h.hexdigest()[:12]


RULES_VERSION = _rules_version()


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


def extract_offline(doc: Document) -> EngineResult:
    problem, technique = problem_and_technique(doc.sentences, intro_index(doc), doc.lower)
    return EngineResult(
        system_name=system_name(doc),
        problem=problem,
        technique=technique,
        numbers=[ClaimDraft(**vars(n)) for n in read_numbers(doc)],
    )


class OfflineEngine(Engine):
    """Deterministic rules, no model: the engine of a machine with no endpoint configured."""

    name = "offline"
    model = RULES_VERSION
    prompt_hash = None
    capabilities = Capabilities(parallel=True)

    def __init__(self, fields: Optional[list] = None):
        self.fields = list(fields or [])

    @classmethod
    def from_options(cls, options) -> OfflineEngine:
        return cls(getattr(options, "fields", None))

    def extract(self, doc: Document) -> EngineResult:
        result = extract_offline(doc)
        if self.fields:
            from ...fields import offline_answers

            result.fields = offline_answers(doc.title, doc.text, self.fields)
        return result
