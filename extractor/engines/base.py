"""The engine boundary: every engine turns a Document into an EngineResult; nothing more.

Engines differ only in how they obtain an answer. Validation of values, alignment to the abstract
and verification happen afterwards, in one place (`extractor.records`, `extractor.verification`). An
engine declares what it is (name, model, prompt hash) and what it can do (`Capabilities`); the
pipeline, the CLI, dry runs and batch files ask those, never which engine they hold.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from ..contract import EngineResult

if TYPE_CHECKING:
    from ..analysis.document import Document


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do, for the code that drives it."""

    networked: bool = False  # talks to an endpoint: the cache applies, outputs are checked first
    priced: bool = False  # costs money per token: prices, --max-cost, --dry-run estimates
    concurrent: bool = False  # async (`aextract`): many papers in flight on one event loop
    parallel: bool = False  # CPU-bound and picklable: runs in worker processes (`--workers`)


class Engine:
    """The contract, with defaults for what most engines do not need."""

    name: str = "engine"
    model: Optional[str] = None
    prompt_hash: Optional[str] = None
    capabilities = Capabilities()
    fields: list = []  # the user's field declarations (extractor.fields.FieldSpec) the engine answers
    # (import path, options) when the registry made the engine: a worker process makes it again from them
    made_from: Optional[tuple] = None

    def prepare(self, workers: int, close_fds: tuple[int, ...] = ()) -> None:
        """Before a concurrent run: `workers` processes it may use beside the event loop (for CPU
        work such as checking answers); a process it starts closes `close_fds` (the table's lock,
        which must go with the run). Engines that need none ignore it."""

    @functools.cached_property
    def fields_hash(self) -> Optional[str]:
        """The declarations' hash, for every record's provenance: computed once per engine."""
        from ..fields import fields_hash

        return fields_hash(self.fields)

    def extract(self, doc: Document) -> EngineResult:
        raise NotImplementedError

    async def aextract(self, doc: Document, est_tokens: int = 0) -> EngineResult:
        return self.extract(doc)

    async def aclose(self) -> None:
        return None

    def prompt_overhead(self) -> int:
        """Prompt tokens per request besides the paper (0 for engines that send no prompt)."""
        return 0

    def fields_overhead(self) -> int:
        """Of prompt_overhead, the tokens the user's field declarations add."""
        return 0

    def stats(self) -> dict:
        """Counters for the run's summary (e.g. rate-limit answers seen)."""
        return {}

    def close(self) -> None:
        """Release what the engine holds (sync engines); concurrent engines use aclose()."""
        if self.capabilities.concurrent:
            asyncio.run(self.aclose())
