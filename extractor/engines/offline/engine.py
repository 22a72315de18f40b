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

from ...analysis.document import Document
from ...analysis.reading import intro_index, read_numbers, system_name
from ...contract import ClaimDraft, EngineResult
from ..base import Capabilities, Engine
from .sentences import problem_and_technique

# The rules are these modules: the engine's own and every module of the package they read (the
# scanner, the unit table, the metric classes, sentences and normalisation). Their hash is the rules
# version, so provenance tells two rule sets apart: an edit to any of them is a new version.
# tests/test_offline_rules.py walks the imports of these modules and fails when one of them reads a
# module of the package that is in neither list.
_RULE_MODULES = (
    ("extractor.engines.offline", ("engine.py", "sentences.py")),
    (
        "extractor.analysis",
        (
            "reading.py",
            "names.py",
            "cues.py",
            "words.py",
            "document.py",
            "quantities.py",
            "units.py",
            "respectively.py",
            "taxonomy.py",
            "text.py",
        ),
    ),
)
# what the rule modules import that is no rule, and why its edits need no new rules version
NOT_RULES = {
    "extractor.engines.base": "the engine protocol",
    "extractor.contract": "the engine contract's types",
    "extractor.schema": "the record's types; SCHEMA_VERSION versions them",
    "extractor.fields": "user field declarations (the record's fields_hash)",
    "extractor.engines.offline.fields": "user fields, answered from the user's own patterns and keywords (the record's fields_hash)",
}


def rule_sources() -> list[bytes]:
    """The source of each rule module, in the order of _RULE_MODULES."""
    return [resources.files(package).joinpath(name).read_bytes() for package, names in _RULE_MODULES for name in names]


def rules_version(sources: list[bytes]) -> str:
    h = hashlib.sha256()
    for src in sources:
        h.update(len(src).to_bytes(8, "big") + src)  # the length first: bytes moved between modules still count
    return "offline-rules/" + h.hexdigest()[:12]


RULES_VERSION = rules_version(rule_sources())


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
            from .fields import offline_answers

            result.fields = offline_answers(doc.title, doc.text, self.fields)
        return result
