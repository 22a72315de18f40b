"""The engine boundary: every engine turns a Paper into an EngineResult; nothing more.

Engines differ only in how they obtain an answer. Validation of values, alignment to the
abstract and verification happen afterwards, in one place (`extractor.records`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Protocol

from ..schema import Paper, Usage


@dataclass
class ClaimDraft:
    """One number as an engine states it, before verification. A model's fields arrive as the
    model wrote them (a value may be "44%" or "8,054"); the verifier reads them."""

    text: Any
    value: Any = None
    low: Any = None
    high: Any = None
    unit: Any = ""
    qualifier: Any = "exact"
    metric: Any = None
    direction: Any = "none"
    kind: Any = "result"
    baseline: Any = None
    start: Optional[int] = None  # where the engine found it, when it knows (the offline engine does)
    answer: Optional[dict] = None  # the model's own answer, kept in the record as model_answer

    @classmethod
    def from_answer(cls, d: dict) -> "ClaimDraft":
        """A model's answer for one number, kept as given."""
        fields = ("text", "value", "low", "high", "unit", "qualifier", "metric", "direction", "kind", "baseline")
        return cls(**{k: d.get(k) for k in fields if k in d}, answer=dict(d))


@dataclass
class EngineResult:
    system_name: Optional[str]
    problem: Optional[str]
    technique: Optional[str]
    numbers: list[ClaimDraft]
    usage: Optional[Usage] = None
    reasks: int = 0
    mode: Optional[str] = None
    notes: list[str] = field(default_factory=list)


class EngineFailure(Exception):
    """This paper failed (after retries/re-asks); it becomes an error record, the batch goes on."""

    def __init__(self, message: str, usage: Optional[Usage] = None, reasks: int = 0):
        super().__init__(message)
        self.usage = usage
        self.reasks = reasks


class Engine(Protocol):
    name: str  # "offline", "openai"
    model: Optional[str]
    prompt_hash: Optional[str]

    def extract(self, paper: Paper) -> EngineResult: ...
