"""The batch job: read inputs, skip what is done, extract, verify, append; resumable and idempotent.

Two drivers share the input side (dedup, resume, filters) and the output side (one whole JSON
line per paper): a plain loop for the offline engine, and an asyncio loop for LLM engines with
bounded in-flight work, an adaptive limiter, the cache and the cost budget.
"""

from __future__ import annotations

import asyncio
import time
from itertools import islice
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterator, Optional

from .cache import Cache
from .costs import cost, estimate
from .document import Document
from .engines.base import ClaimDraft, EngineFailure, EngineResult
from .errors import FatalEngineError, InputError, redact
from .records import build_record, error_record
from .schema import Paper, Record, Usage
from .sources import read_papers
from .sources.ids import version_number
from .store import Done, TableWriter, compact, dumps, read_done


@dataclass
class RunOptions:
    inputs: list[str]
    output: str
    categories: list[str] = field(default_factory=list)
    retry_errors: bool = False
    limit: Optional[int] = None
    arxiv_max: int = 100
    concurrency: int = 16
    rpm: Optional[float] = None
    tpm: Optional[float] = None
    cache_path: Optional[str] = None  # None: no cache
    price: Optional[tuple[float, float, float]] = None
    max_cost: Optional[float] = None


@dataclass
class Summary:
    papers: int = 0  # records written by this run
    ok: int = 0
    errors: int = 0
    skipped: int = 0  # input lines/entries that are not usable papers
    duplicates: int = 0
    already_done: int = 0
    filtered: int = 0
    numbers: int = 0
    verified: int = 0
    names: int = 0
    failed_inputs: list[str] = field(default_factory=list)
    interrupted: bool = False
    budget_stopped: bool = False
    elapsed: float = 0.0
    compacted: int = 0
    usage: Usage = field(default_factory=Usage)
    cost: Optional[float] = None
    cache_hits: int = 0
    rate_limited: int = 0

    def line(self) -> str:
        rate = self.papers / self.elapsed if self.elapsed > 0 else 0.0
        parts = [
            f"{self.papers} papers ({self.ok} ok, {self.errors} errors)",
            f"{self.numbers} numbers ({self.verified} verified, {self.numbers - self.verified} flagged)",
            f"{self.names} system names",
        ]
        if self.usage.requests or self.cache_hits:
            u = self.usage
            tok = f"{u.requests} requests, {u.prompt_tokens + u.completion_tokens} tokens"
            tok += f" ({u.prompt_tokens} prompt, {u.cached_tokens} cached, {u.completion_tokens} completion)"
            if self.cost is not None:
                tok += f", ${self.cost:.4f}"
            parts.append(tok)
        if self.cache_hits:
            parts.append(f"{self.cache_hits} from cache")
        if self.rate_limited:
            parts.append(f"{self.rate_limited} rate-limit answers")
        if self.already_done:
            parts.append(f"{self.already_done} already done")
        if self.duplicates:
            parts.append(f"{self.duplicates} duplicates")
        if self.filtered:
            parts.append(f"{self.filtered} filtered out")
        if self.skipped:
            parts.append(f"{self.skipped} skipped input records")
        if self.failed_inputs:
            parts.append(f"{len(self.failed_inputs)} unreadable inputs")
        if self.budget_stopped:
            parts.append("stopped before --max-cost")
        parts.append(f"{self.elapsed:.1f}s ({rate:.0f} papers/s)")
        return "; ".join(parts)

    def count(self, rec: Record, price: Optional[tuple[float, float, float]] = None) -> None:
        """Add one written record to the totals."""
        self.papers += 1
        if rec.status == "ok":
            self.ok += 1
        else:
            self.errors += 1
        self.numbers += len(rec.headline_numbers)
        self.verified += sum(1 for n in rec.headline_numbers if n.verified)
        self.names += 1 if rec.system_name else 0
        if rec.usage:
            self.usage.add(rec.usage)
            self.cost = cost(self.usage, price)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["usage"] = self.usage.model_dump()
        d["exit_code"] = self.exit_code()
        d["papers_per_s"] = self.papers / self.elapsed if self.elapsed > 0 else 0.0
        return d

    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        if self.failed_inputs:
            return 2
        if self.budget_stopped:
            return 4
        if self.errors or self.skipped:
            return 1
        return 0


def _wanted(paper: Paper, categories: list[str]) -> bool:
    if not categories:
        return True
    return any(c == want or c.startswith(want + ".") for c in paper.categories for want in categories)


def _cached_result(value: dict) -> EngineResult:
    return EngineResult(
        system_name=value.get("system_name"),
        problem=value.get("problem"),
        technique=value.get("technique"),
        numbers=[ClaimDraft.from_answer(n) for n in value.get("numbers", []) if isinstance(n, dict)],
        usage=Usage(),  # nothing spent this time
        reasks=value.get("reasks", 0),
        mode=value.get("mode"),
    )


_DRAFT_FIELDS = ("text", "value", "low", "high", "unit", "qualifier", "metric", "direction", "kind", "baseline")


def _cache_value(result: EngineResult) -> dict:
    """The model's answer as it gave it (verification runs again on a cache hit)."""
    return {
        "system_name": result.system_name,
        "problem": result.problem,
        "technique": result.technique,
        "numbers": [n.answer if n.answer is not None else {k: getattr(n, k) for k in _DRAFT_FIELDS}
                    for n in result.numbers],
        "reasks": result.reasks,
        "mode": result.mode,
        "usage": result.usage.model_dump() if result.usage else None,
    }


class Pipeline:
    def __init__(
        self,
        engine,
        opts: RunOptions,
        warn: Callable[[str], None] = lambda s: None,
        on_record: Callable[[Record], None] = lambda r: None,
    ):
        self.engine = engine
        self.opts = opts
        self.warn = warn
        self.on_record = on_record
        self.summary = Summary()
        self._needs_compaction = False
        self._cache: Optional[Cache] = None

    # -- input side -------------------------------------------------------------------------
    def _papers(self) -> Iterator[Paper]:
        """Papers to extract: filtered, deduplicated within the run and against the table."""
        s, o = self.summary, self.opts
        done = read_done(o.output) if o.output else Done()
        seen: dict[str, int] = {}
        emitted = 0
        for spec in o.inputs:
            try:
                for item in read_papers(spec, arxiv_max=o.arxiv_max):
                    if isinstance(item, InputError):
                        s.skipped += 1
                        self.warn(f"skipped: {item}")
                        continue
                    if not _wanted(item, o.categories):
                        s.filtered += 1
                        continue
                    v = version_number(item.version)
                    if item.id in seen:
                        if v <= seen[item.id]:
                            s.duplicates += 1
                            continue
                        self._needs_compaction = True  # a newer version supersedes the line written
                    elif item.id in done.versions:
                        retry = o.retry_errors and item.id in done.errors
                        if v <= done.versions[item.id] and not retry:
                            s.already_done += 1
                            continue
                        self._needs_compaction = True
                    seen[item.id] = v
                    if o.limit is not None and emitted >= o.limit:
                        return
                    emitted += 1
                    yield item
            except InputError as e:
                s.failed_inputs.append(str(e))
                self.warn(f"error: {e}")

    # -- output side ------------------------------------------------------------------------
    def _record(self, doc: Document, result: EngineResult) -> Record:
        assert doc.paper is not None
        try:
            return build_record(doc, result, self.engine)
        except Exception as e:
            return error_record(doc.paper, self.engine, redact(f"invalid extraction: {e.__class__.__name__}: {e}"),
                                result.usage)

    def _write(self, writer: TableWriter, rec: Record) -> None:
        writer.write(dumps(rec))
        self.summary.count(rec, self.opts.price)
        self.on_record(rec)

    # -- drivers ------------------------------------------------------------------------------
    def run(self) -> Summary:
        t0 = time.monotonic()
        writer = TableWriter(self.opts.output)
        try:
            if hasattr(self.engine, "aextract"):
                asyncio.run(self._run_async(writer))
            else:
                for paper in self._papers():
                    self._write(writer, self._extract_sync(paper))
        except KeyboardInterrupt:
            self.summary.interrupted = True
        finally:
            writer.close()
            if self._cache is not None:
                self.summary.cache_hits = self._cache.hits
                self._cache.close()
            limiter = getattr(self.engine, "limiter", None)
            if limiter is not None:
                self.summary.rate_limited = limiter.rate_limited
            if self._needs_compaction and not self.summary.interrupted:
                self.summary.compacted = compact(self.opts.output)
            self.summary.elapsed = time.monotonic() - t0
        return self.summary

    def _failure(self, paper: Paper, e: Exception) -> Record:
        """One bad abstract becomes an error record; it must not cost the batch."""
        if isinstance(e, EngineFailure):
            return error_record(paper, self.engine, redact(str(e)), e.usage, e.reasks)
        return error_record(paper, self.engine, redact(f"internal error: {e.__class__.__name__}: {e}"))

    def _extract_sync(self, paper: Paper) -> Record:
        doc = Document.of(paper)
        try:
            result = self.engine.extract(doc)
        except FatalEngineError:
            raise
        except Exception as e:
            return self._failure(paper, e)
        return self._record(doc, result)

    async def _extract_async(self, paper: Paper, est: Usage) -> tuple[Record, Optional[EngineResult]]:
        doc = Document.of(paper)
        try:
            result = await self.engine.aextract(doc, est.prompt_tokens + est.completion_tokens)
        except FatalEngineError:
            raise
        except Exception as e:
            return self._failure(paper, e), None
        return self._record(doc, result), result

    async def _run_async(self, writer: TableWriter) -> None:
        """`concurrency` workers, each taking the next paper, extracting it and writing its record.

        A worker sends its next request as soon as it has written the last record, in the same
        step of the event loop: with one task per paper and a dispatcher, a finished request would
        wait for every other reply ready in that step before its successor went out, and replies
        that arrive together would stay together (measured: ~10 ms more per request at 64 in
        flight). Memory stays flat: papers are read 256 at a time, only as workers ask for them."""
        o, s, eng = self.opts, self.summary, self.engine
        if o.cache_path:
            self._cache = Cache(o.cache_path)
        need_estimate = o.max_cost is not None or o.tpm is not None
        # counting tokens loads the tokenizer: only when a budget or a token cap needs estimates
        overhead = (eng.prompt_overhead() if hasattr(eng, "prompt_overhead") else 600) if need_estimate else 0
        papers = self._papers()
        buffered: list[Paper] = []
        exhausted = False
        stopped = False
        committed = 0.0  # estimated cost of requests in flight
        reading = asyncio.Lock()

        async def next_paper() -> Optional[Paper]:
            nonlocal buffered, exhausted
            while not buffered:
                if exhausted or stopped:
                    return None
                async with reading:
                    if not buffered and not exhausted:
                        # read ahead in a thread (reading may block on URLs or the arXiv API)
                        chunk = await asyncio.to_thread(lambda: list(islice(papers, 256)))
                        chunk.reverse()
                        buffered, exhausted = chunk, not chunk
            return buffered.pop()

        async def worker() -> None:
            nonlocal committed, stopped
            while not stopped:
                paper = await next_paper()
                if paper is None:
                    return
                key = None
                if self._cache is not None:
                    key = Cache.key(eng.name, eng.model, eng.prompt_hash, paper.title, paper.abstract)
                    hit = self._cache.get(key)
                    if hit is not None:
                        self._write(writer, self._record(Document.of(paper), _cached_result(hit)))
                        continue
                est = estimate(overhead, paper.title, paper.abstract) if need_estimate else Usage()
                est_cost = cost(est, o.price) or 0.0
                if o.max_cost is not None:
                    spent = cost(s.usage, o.price) or 0.0
                    if spent + committed + est_cost > o.max_cost:
                        s.budget_stopped = stopped = True
                        return
                committed += est_cost
                try:
                    rec, result = await self._extract_async(paper, est)
                finally:
                    committed -= est_cost
                if result is not None and rec.status == "ok" and key is not None:
                    self._cache.put(key, _cache_value(result))
                self._write(writer, rec)  # a whole line, at once: what finished is never lost

        workers = [asyncio.create_task(worker()) for _ in range(max(1, o.concurrency))]
        try:
            await asyncio.gather(*workers)  # the first fatal error ends the run
        except (asyncio.CancelledError, KeyboardInterrupt):
            # Ctrl-C: what finished is written; what is in flight is dropped and redone on resume
            s.interrupted = True
            raise
        finally:
            for t in workers:
                t.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            await eng.aclose()
