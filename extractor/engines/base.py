"""The engine boundary: every engine turns a Paper into an EngineResult; nothing more.

Engines differ only in how they obtain an answer. Validation of values, alignment to the
abstract and verification happen afterwards, in one place (`extractor.records`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Protocol

from ..schema import HeadlineNumber, Paper, Usage


@dataclass
class EngineResult:
    system_name: Optional[str]
    problem: Optional[str]
    technique: Optional[str]
    numbers: list[HeadlineNumber]
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
