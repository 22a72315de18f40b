"""The engine contract's types: what every engine gives (`EngineResult`, one `ClaimDraft` per number,
its `Usage`), and the caps that keep what an engine said storable. Plain data, below the text
analysis and the record types, so that every layer can speak of an engine's answer without knowing
any engine (the `Engine` protocol itself is `extractor.engines.base`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from pydantic import BaseModel

from .core.limits import MAX_STORED_TEXT, capped


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    requests: int = 0

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cached_tokens += other.cached_tokens
        self.requests += other.requests


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
    metric_class: Any = None  # the engine's class for the metric, if it gives one
    condition: Any = None  # where the number holds, when a list pairs it with one ("on Intel VT-x")
    start: Optional[int] = None  # where the engine found it, when it knows (the offline engine does)
    answer: Optional[dict] = None  # the model's own answer, kept in the record as model_answer

    FIELDS = (
        "text",
        "value",
        "low",
        "high",
        "unit",
        "qualifier",
        "metric",
        "metric_class",
        "condition",
        "direction",
        "kind",
        "baseline",
    )

    @classmethod
    def from_answer(cls, d: dict) -> ClaimDraft:
        """A model's answer for one number, kept as given; a field it left out takes the default (no
        text fails that claim in the verifier, not the paper)."""
        given = {k: d[k] for k in cls.FIELDS if k in d}
        given.setdefault("text", None)
        return cls(**given, answer=dict(d))

    def as_answer(self) -> dict:
        """What the engine said, as a plain dict (for the cache)."""
        return self.answer if self.answer is not None else {k: getattr(self, k) for k in self.FIELDS}


@dataclass(frozen=True)
class Built:
    """A record already built and serialised where the answer was checked (a worker process): its
    JSON line and what a run's summary counts of it."""

    id: str
    line: bytes
    ok: bool
    numbers: int
    verified: int
    named: bool
    usage: Optional[Usage]
    reasks: int
    reasks_verified: int


@dataclass
class EngineResult:
    system_name: Any
    problem: Any
    technique: Any
    numbers: list[ClaimDraft]
    usage: Optional[Usage] = None
    reasks: int = 0
    mode: Optional[str] = None
    notes: list[str] = field(default_factory=list)
    fields: Any = None  # the user fields' answers, {name: {"value", "evidence"}}, as the engine gave them
    reasks_verified: int = 0  # claims the re-asks turned from flagged to verified
    checked: Any = None  # the claims as the engine's own check verified them (the record reuses them)
    # the record itself, when the engine built it: a Built from the answer's check in a worker process, or
    # the Record of an answer the engine holds whole (a Batch API result line)
    record: Any = None


MAX_KEYS = 64  # keys of one object, or items of one list, kept of a model's answer

MAX_ANSWER_DEPTH = 6  # levels of a model's answer kept


def _small(obj: Any, depth: int = 0) -> bool:
    """Whether an answer needs no cap at all (nearly every answer): short texts, few keys, shallow."""
    if isinstance(obj, str):
        return len(obj) <= MAX_STORED_TEXT
    if obj is None or isinstance(obj, (bool, int, float)):
        return True
    if depth >= MAX_ANSWER_DEPTH - 1:
        return False
    if isinstance(obj, dict):
        return len(obj) <= MAX_KEYS and all(
            isinstance(k, str) and len(k) <= 100 and _small(v, depth + 1) for k, v in obj.items()
        )
    if isinstance(obj, (list, tuple)):
        return len(obj) <= MAX_KEYS and all(_small(v, depth + 1) for v in obj)
    return False


def capped_answer(obj: Any, depth: int = 0) -> Any:
    """A model's answer as it may be stored: every text capped at MAX_STORED_TEXT, at most MAX_KEYS
    keys or items per level, MAX_ANSWER_DEPTH levels, each cut marked. A model can answer with
    megabytes (a metric of 3 MB, a thousand invented keys); a table line must stay one a reader
    takes, whatever it said."""
    if isinstance(obj, str):
        return capped(obj, MAX_STORED_TEXT)
    if obj is None or isinstance(obj, (bool, int, float)):
        return obj
    if depth >= MAX_ANSWER_DEPTH:
        return "[nested too deeply: not stored]"
    if isinstance(obj, dict):
        out = {capped(str(k), 100): capped_answer(v, depth + 1) for k, v in list(obj.items())[:MAX_KEYS]}
        if len(obj) > MAX_KEYS:
            out["..."] = f"[{len(obj) - MAX_KEYS:,} more keys not stored]"
        return out
    if isinstance(obj, (list, tuple)):
        items = [capped_answer(v, depth + 1) for v in list(obj)[:MAX_KEYS]]
        if len(obj) > MAX_KEYS:
            items.append(f"[{len(obj) - MAX_KEYS:,} more items not stored]")
        return items
    return capped(str(obj), MAX_STORED_TEXT)


def bounded(result: EngineResult) -> EngineResult:
    """`result` with everything the engine said capped as it may be stored (capped_answer); the same
    result when nothing needs a cap."""
    if all(_small(x, 1) for x in (result.system_name, result.problem, result.technique, result.fields)) and all(
        _small(d.answer, 1) and all(_small(getattr(d, k), 1) for k in ClaimDraft.FIELDS) for d in result.numbers
    ):
        return result
    numbers = []
    for d in result.numbers:
        kw = {k: capped_answer(getattr(d, k)) for k in ClaimDraft.FIELDS}
        numbers.append(
            ClaimDraft(**kw, start=d.start, answer=capped_answer(d.answer) if d.answer is not None else None)
        )
    return EngineResult(
        system_name=capped_answer(result.system_name),
        problem=capped_answer(result.problem),
        technique=capped_answer(result.technique),
        numbers=numbers,
        usage=result.usage,
        reasks=result.reasks,
        mode=result.mode,
        notes=result.notes,
        fields=capped_answer(result.fields),
        reasks_verified=result.reasks_verified,
        record=result.record,
    )


class EngineFailure(Exception):
    """This paper failed (after retries/re-asks); it becomes an error record, the batch goes on."""

    def __init__(self, message: str, usage: Optional[Usage] = None, reasks: int = 0):
        super().__init__(message)
        self.usage = usage
        self.reasks = reasks
