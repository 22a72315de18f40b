"""Turn an engine's answer into a verified Record (one code path for every engine)."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from functools import lru_cache
from typing import Optional

from . import __version__
from .engines.base import EngineResult
from .grounding import verify_name, verify_numbers
from .schema import Paper, Provenance, Record, Usage


_clock: list = [0, ""]


def now_iso() -> str:
    t = int(time.time())
    if t != _clock[0]:  # formatting the time per record shows up in profiles: once per second
        _clock[0], _clock[1] = t, datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return _clock[1]


def _paper_fields(paper: Paper) -> dict:
    d = dict(paper.__dict__)
    d.pop("links", None)
    d.pop("source", None)
    return d


def provenance(engine, paper: Paper, reasks: int = 0, mode: Optional[str] = None) -> Provenance:
    return _provenance(engine.name, engine.model, engine.prompt_hash, now_iso(), paper.source, reasks, mode)


@lru_cache(maxsize=64)  # the same within a second for a run: records share one (never mutated) object
def _provenance(name: str, model: Optional[str], prompt_hash: Optional[str], time: str, source: Optional[str],
                reasks: int, mode: Optional[str]) -> Provenance:
    return Provenance(engine=name, model=model, prompt_hash=prompt_hash, extractor_version=__version__, time=time,
                      source=source, reasks=reasks, mode=mode)


def build_record(paper: Paper, result: EngineResult, engine) -> Record:
    numbers = verify_numbers(result.numbers, paper.abstract)
    name = (result.system_name or "").strip() or None
    name_ok, evidence = verify_name(name, paper.title, paper.abstract)
    return Record(
        **_paper_fields(paper),
        system_name=name,
        system_name_verified=name_ok,
        system_name_evidence=evidence,
        problem=result.problem,
        technique=result.technique,
        headline_numbers=numbers,
        status="ok",
        error=None,
        usage=result.usage,
        provenance=provenance(engine, paper, result.reasks, result.mode),
    )


def error_record(paper: Paper, engine, message: str, usage: Optional[Usage] = None, reasks: int = 0) -> Record:
    return Record(
        **_paper_fields(paper),
        status="error",
        error=message,
        usage=usage,
        provenance=provenance(engine, paper, reasks),
    )
