"""The batch job: read inputs, skip what is done, extract, verify, append; resumable and idempotent.

The drivers share the input side (`selection`: dedup, resume, filters) and the output side (one
whole JSON line per paper, under the table's lock): a plain loop for sync engines, and an asyncio
loop for concurrent engines with bounded in-flight work, the cache and the cost budget. Which
driver runs follows the engine's declared capabilities.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from itertools import chain, islice
from typing import Optional

from .analysis.document import Document
from .cache import Cache
from .contract import Built, ClaimDraft, EngineFailure, EngineResult, Usage
from .core.errors import ExtractorError, FatalEngineError, redact
from .core.ids import version_number
from .costs import cost, estimate
from .engines.base import Engine
from .records import build_record, built, error_record
from .reviews import Carrier
from .schema import Paper, Record
from .selection import Counts, read_inputs, select
from .store import Done, IdIndex, TableLock, TableWriter, compact, read_done


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
    workers: int = 1  # processes for an engine that can run in several (the offline engine)
    redo: bool = False  # extract again papers the table holds at the same version
    papers: Optional[Iterable[Paper]] = None  # papers given directly (watch), instead of reading `inputs`
    track_written: bool = False  # keep the ids of the records this run writes (watch's digest)
    # a paper may come twice at one version (Batch API results: a failed attempt, then a retried
    # one): a success replaces the error this run wrote for it, a second error is dropped
    successes_replace_errors: bool = False


@dataclass
class Estimate:
    """What a run would do and cost (`extract --dry-run`): nothing is asked of a model, nothing written."""

    engine: str
    model: Optional[str]
    papers: int  # papers the run would extract
    already_done: int  # papers the table holds already
    priced: bool  # whether the engine costs money per token
    prompt_tokens: int = 0
    completion_tokens: int = 0
    overhead: int = 0  # prompt tokens per paper besides the paper (instructions, examples, schema)
    fields: int = 0  # user fields declared
    fields_tokens: int = 0  # of the overhead, the fields' declarations
    cost: Optional[float] = None  # USD, before re-asks and cache hits; None: no price for the model
    fields_cost: Optional[float] = None


@dataclass
class Summary:
    papers: int = 0  # records written by this run
    ok: int = 0
    errors: int = 0
    numbers: int = 0
    verified: int = 0
    names: int = 0
    interrupted: bool = False
    budget_stopped: bool = False
    elapsed: float = 0.0
    compacted: int = 0
    usage: Usage = field(default_factory=Usage)
    cost: Optional[float] = None
    cache_hits: int = 0
    rate_limited: int = 0
    reasks: int = 0  # re-asks sent (LLM engines)
    reasks_verified: int = 0  # claims the re-asks turned from flagged to verified
    carried: int = 0  # review decisions carried to a paper's new record
    uncarried: int = 0  # review decisions that could not be carried (listed in the sidecar)
    warm_started: int = 0  # (--on ray) papers the driver extracted itself while Ray started
    selection: Counts = field(default_factory=Counts)  # what input selection set aside

    # what selection set aside, by name (the summary JSON has them at the top level)
    skipped = property(lambda self: self.selection.skipped)
    duplicates = property(lambda self: self.selection.duplicates)
    already_done = property(lambda self: self.selection.already_done)
    filtered = property(lambda self: self.selection.filtered)
    failed_inputs = property(lambda self: self.selection.failed_inputs)

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
        if self.reasks:
            parts.append(f"{self.reasks} re-asks ({self.reasks_verified} claims turned verified)")
        if self.cache_hits:
            parts.append(f"{self.cache_hits} from cache")
        if self.rate_limited:
            parts.append(f"{self.rate_limited} rate-limit answers")
        if self.carried or self.uncarried:
            parts.append(f"{self.carried} review decisions carried, {self.uncarried} not carried")
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
        self.count_parts(
            rec.status == "ok",
            len(rec.headline_numbers),
            sum(1 for n in rec.headline_numbers if n.verified),
            bool(rec.system_name),
        )
        if rec.usage:
            self.usage.add(rec.usage)
            self.cost = cost(self.usage, price)
        if rec.usage and rec.usage.requests:  # a cache hit re-sent nothing
            self.reasks += rec.provenance.reasks
            self.reasks_verified += rec.provenance.reasks_verified or 0

    def count_built(self, b: Built, price: Optional[tuple[float, float, float]] = None) -> None:
        """Add one record built elsewhere (engines.base.Built) to the totals."""
        self.count_parts(b.ok, b.numbers, b.verified, b.named)
        if b.usage:
            self.usage.add(b.usage)
            self.cost = cost(self.usage, price)
            if b.usage.requests:
                self.reasks += b.reasks
                self.reasks_verified += b.reasks_verified

    def count_parts(self, ok: bool, numbers: int, verified: int, named: bool) -> None:
        self.papers += 1
        self.ok += ok
        self.errors += not ok
        self.numbers += numbers
        self.verified += verified
        self.names += named

    def as_dict(self) -> dict:
        d = asdict(self)
        sel = d.pop("selection")
        sel.pop("supersedes", None)
        sel.pop("with_categories", None)
        d.update(sel)
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


def _cached_result(value: dict) -> EngineResult:
    return EngineResult(
        system_name=value.get("system_name"),
        problem=value.get("problem"),
        technique=value.get("technique"),
        numbers=[ClaimDraft.from_answer(n) for n in value.get("numbers", []) if isinstance(n, dict)],
        usage=Usage(),  # nothing spent this time
        reasks=value.get("reasks", 0),
        mode=value.get("mode"),
        fields=value.get("fields"),
    )


def _cache_value(result: EngineResult) -> dict:
    """The model's answer as it gave it (verification runs again on a cache hit)."""
    return {
        "system_name": result.system_name,
        "problem": result.problem,
        "technique": result.technique,
        "numbers": [n.as_answer() for n in result.numbers],
        "reasks": result.reasks,
        "mode": result.mode,
        "fields": result.fields,
        "usage": result.usage.model_dump() if result.usage else None,
    }


CHUNK = 256  # papers sent to a worker process at a time

_WORKER: dict = {}


def _worker_start(made_from: tuple, lock_fds: list[int]) -> None:
    """In each worker process: the engine, made again from its import path and options (any
    engine the registry made, not only the offline one), once; Ctrl-C is the parent's to handle.
    The table's lock came along with the fork: the worker closes its copy (the parent's still holds
    the lock), so that a worker outliving a killed parent never keeps the table locked."""
    from .engines import registry

    for fd in lock_fds:
        os.close(fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    _WORKER["engine"] = registry.recreate(made_from)
    _WORKER["pipe"] = Pipeline(_WORKER["engine"], RunOptions(inputs=[], output=""))


def _exit_with_parent(parent: int) -> None:
    """A worker whose parent died (kill -9) has no one to give its records to: it ends too."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def _extract_chunk(papers: list[dict]) -> list[Built]:
    """Records of a chunk of papers, as JSON lines, with what the summary counts of each."""
    pipe = _WORKER["pipe"]
    return [built(pipe._extract_sync(Paper.model_validate(d))) for d in papers]


def _chunks(items: Iterator, n: int) -> Iterator[list]:
    while True:
        chunk = list(islice(items, n))
        if not chunk:
            return
        yield chunk


class Pipeline:
    def __init__(
        self,
        engine: Engine,
        opts: RunOptions,
        warn: Callable[[str], None] = lambda s: None,
        on_progress: Callable[[], None] = lambda: None,
        on_settled: Callable[[str], None] = lambda pid: None,
        executor: Optional[Callable[[Pipeline, TableWriter, TableLock], None]] = None,
    ):
        self.engine = engine
        # where the per-paper work runs, when not in this process or its workers (extractor.cluster:
        # a Ray cluster); the lock, selection, writing, carrying and compaction stay here
        self.executor = executor
        self.opts = opts
        self.warn = warn
        self.on_progress = on_progress
        # told the id of every paper that needs nothing more from this run: its record written, or
        # set aside by selection (watch moves its cursor past a page only when the page is settled)
        self.on_settled = on_settled
        self.summary = Summary()
        self._cache: Optional[Cache] = None
        self.carrier = Carrier(opts.output, {}, warn)
        self.written: list[str] = []  # ids of the records written, when opts.track_written
        self.done: Optional[Done] = None  # the table as this run found it (set when papers are selected)
        self._failed: Optional[IdIndex] = IdIndex() if opts.successes_replace_errors else None

    # -- input side -------------------------------------------------------------------------
    def papers(self) -> Iterator[Paper]:
        """The papers this run extracts: read, filtered, deduplicated, not yet in the table."""
        o, counts = self.opts, self.summary.selection
        done = self.done = read_done(o.output) if o.output else Done()
        self.carrier = Carrier(o.output, done.reviews, self.warn)
        return select(
            iter(o.papers) if o.papers is not None else read_inputs(o.inputs, counts, self.warn, o.arxiv_max),
            o.output or None,
            counts,
            o.categories,
            o.retry_errors,
            o.limit,
            done=done,
            redo=o.redo,
            on_skip=lambda p: self.on_settled(p.id),
            again=self._again if self._failed is not None else None,
        )

    def holds(self, paper: Paper) -> bool:
        """Whether the table held `paper` at its version (or a later one) when this run started."""
        v = self.done.version(paper.id) if self.done is not None else None
        return v is not None and v >= version_number(paper.version)

    # -- output side ------------------------------------------------------------------------
    def _record(self, doc: Document, result: EngineResult) -> Record | Built:
        assert doc.paper is not None
        if result.record is not None:
            return result.record  # built where the answer was checked (a worker process)
        try:
            return build_record(doc, result, self.engine)
        except Exception as e:
            return error_record(
                doc.paper, self.engine, redact(f"invalid extraction: {e.__class__.__name__}: {e}"), result.usage
            )

    def _write(self, writer: TableWriter, rec: Record | Built) -> None:
        if self._failed is not None and not self._replaces(rec):
            self.on_settled(rec.id)
            return
        if isinstance(rec, Built):
            self._append(writer, rec.id, rec.line)
            self.summary.count_built(rec, self.opts.price)
        else:
            self._append(writer, rec.id, rec)
            self.summary.count(rec, self.opts.price)
        self.on_progress()

    def _again(self, pid: str) -> bool:
        """(opts.successes_replace_errors) A paper this run wrote an error for may come again."""
        return self._failed is not None and self._failed.get(pid) == (1, 0)

    def _replaces(self, rec: Record | Built) -> bool:
        """(opts.successes_replace_errors) Whether to write `rec`: not a second error for a paper
        this run failed already (the first one stands); a success after an error is written, and
        the error it supersedes (compacted away at the end) no longer counts."""
        assert self._failed is not None
        ok = rec.ok if isinstance(rec, Built) else rec.status == "ok"
        before = self._failed.get(rec.id)
        if not ok and before is not None:
            return False
        self._failed.set(rec.id, int(not ok), 0)
        if before is not None:
            self.summary.papers -= 1
            self.summary.errors -= 1
        return True

    def _carried(self, pid: str, rec: Record | bytes) -> bytes:
        if self.opts.track_written:
            self.written.append(pid)
        line = self.carrier.line(pid, rec)
        self.summary.carried, self.summary.uncarried = self.carrier.carried, self.carrier.uncarried
        return line

    def _append(self, writer: TableWriter, pid: str, rec: Record | bytes) -> None:
        writer.write(self._carried(pid, rec))
        self.on_settled(pid)

    # -- drivers ------------------------------------------------------------------------------
    def run(self) -> Summary:
        """Extract every selected paper into the table, holding its lock from the first check to
        the last write (and the compaction after it)."""
        t0 = time.monotonic()
        lock = TableLock(self.opts.output).acquire()  # refused here, before any request, if it cannot write
        writer = TableWriter(self.opts.output, lock=lock)
        try:
            caps = self.engine.capabilities
            if self.executor is not None:
                self.executor(self, writer, lock)
            elif caps.concurrent:
                if self.opts.cache_path:
                    self._cache = Cache(self.opts.cache_path, self.warn)
                # the event loop takes one core; answers are checked in processes on the others
                self.engine.prepare(self.opts.workers - 1, tuple(lock.fds()))
                asyncio.run(self._run_async(writer))
            elif caps.parallel and self.opts.workers > 1:
                self._run_processes(writer, lock)
            else:
                for paper in self.papers():
                    self._write(writer, self._extract_sync(paper))
        except KeyboardInterrupt:
            self.summary.interrupted = True
        finally:
            try:
                writer.close()
                if self._cache is not None:
                    self.summary.cache_hits = self._cache.hits
                    self._cache.close()
                self.summary.rate_limited = self.engine.stats().get("rate_limited", 0)
                if self.summary.selection.supersedes and not self.summary.interrupted:
                    self.summary.compacted = compact(self.opts.output, lock)
            finally:
                lock.release()
                if self._failed is not None:
                    self._failed.close()
            self.summary.elapsed = time.monotonic() - t0
        self._explain_empty_filter()
        return self.summary

    def fields_notes(self) -> list[str]:
        """What the declared fields will do in this run, said once at its start: a field the
        offline engine cannot fill, and fields declared for a table whose papers were extracted
        with other fields (only --redo gives those papers the new fields)."""
        eng, notes = self.engine, list[str]()
        if not eng.fields:
            return notes
        if eng.name == "offline":
            blind = [f.name for f in eng.fields if not f.pattern and not f.keywords]
            if blind:
                notes.append(
                    f"the offline engine cannot fill field(s) {', '.join(blind)} (no pattern, no keywords): "
                    "they are null, 'needs an LLM engine'; give them a pattern or keywords, or use an LLM engine"
                )
        from .store import fields_hashes

        try:
            other = fields_hashes(self.opts.output) - {eng.fields_hash}
        except ExtractorError:
            other = set()  # a table the run cannot read is the run's to report
        if other:
            notes.append(
                f"{self.opts.output} holds papers extracted with other fields; this run fills the new fields only "
                "for papers it extracts: add --redo to extract the table's papers again (their reviews carry over)"
            )
        return notes

    def estimate(self) -> Estimate:
        """The run's papers and, for a priced engine, its tokens and cost, without extracting."""
        eng = self.engine
        priced = eng.capabilities.priced
        overhead = eng.prompt_overhead() if priced else 0
        total = Usage()
        n = 0
        for paper in self.papers():
            n += 1
            if priced:
                e = estimate(overhead, paper.title, paper.abstract)
                total.prompt_tokens += e.prompt_tokens
                total.completion_tokens += e.completion_tokens
                total.requests += 1
        est = Estimate(eng.name, eng.model, n, self.summary.already_done, priced, fields=len(eng.fields))
        if priced:
            est.prompt_tokens, est.completion_tokens, est.overhead = (
                total.prompt_tokens,
                total.completion_tokens,
                overhead,
            )
            est.cost = cost(total, self.opts.price)
            if eng.fields:
                est.fields_tokens = eng.fields_overhead()
                est.fields_cost = cost(Usage(prompt_tokens=est.fields_tokens * n), self.opts.price)
        return est

    def _explain_empty_filter(self) -> None:
        sel = self.summary.selection
        if (
            self.opts.categories
            and sel.filtered
            and not self.summary.papers
            and not sel.already_done
            and not sel.with_categories
        ):
            self.warn(
                f"warning: --category {' '.join(self.opts.categories)} kept no papers: the input gives no "
                "categories (an RSS feed or a JSONL/CSV without a categories field)"
            )

    def _failure(self, paper: Paper, e: Exception) -> Record:
        """One bad abstract becomes an error record; it must not cost the batch."""
        if isinstance(e, EngineFailure):
            return error_record(paper, self.engine, redact(str(e)), e.usage, e.reasks)
        return error_record(paper, self.engine, redact(f"internal error: {e.__class__.__name__}: {e}"))

    def _extract_sync(self, paper: Paper) -> Record | Built:
        doc = Document.of(paper)
        try:
            result = self.engine.extract(doc)
        except FatalEngineError:
            raise
        except Exception as e:
            return self._failure(paper, e)
        return self._record(doc, result)

    async def _extract_async(self, paper: Paper, est: Usage) -> tuple[Record | Built, Optional[EngineResult]]:
        doc = Document.of(paper)
        try:
            result = await self.engine.aextract(doc, est.prompt_tokens + est.completion_tokens)
        except FatalEngineError:
            raise
        except Exception as e:
            return self._failure(paper, e), None
        return self._record(doc, result), result

    def _run_processes(self, writer: TableWriter, lock: TableLock) -> None:
        """The engine in `workers` processes: this one reads and selects the papers and writes the
        records, in input order; the workers extract, verify and serialise, a chunk at a time. At
        most 2 chunks per worker are in flight, so memory stays flat; what a worker finished is
        written before the next chunk's results (resume stays exact). An input of less than one
        chunk is extracted here: starting processes would cost more than it saves."""
        papers = self.papers()
        first = list(islice(papers, CHUNK))
        if len(first) < CHUNK:
            for paper in first:
                self._write(writer, self._extract_sync(paper))
            return
        workers = self.opts.workers
        pending: deque = deque()
        made_from = self.engine.made_from
        if made_from is None:  # an engine made by hand, not by the registry: it runs here
            for paper in chain(first, papers):
                self._write(writer, self._extract_sync(paper))
            return
        init = (made_from, lock.fds())
        with ProcessPoolExecutor(max_workers=workers, initializer=_worker_start, initargs=init) as pool:
            try:
                for chunk in chain([first], _chunks(papers, CHUNK)):
                    pending.append(pool.submit(_extract_chunk, [p.model_dump() for p in chunk]))
                    while len(pending) >= 2 * workers:
                        self._write_results(writer, pending.popleft().result())
                while pending:
                    self._write_results(writer, pending.popleft().result())
            except BaseException:
                for f in pending:
                    f.cancel()
                raise

    def _write_results(self, writer: TableWriter, results: list[Built]) -> None:
        for b in results:
            self._write(writer, b)

    def request_estimator(self) -> Callable[[Paper], Usage]:
        """A paper's request, in tokens, estimated before it is sent: when a budget or a token cap
        needs it (counting tokens loads the tokenizer), else nothing."""
        o = self.opts
        if o.max_cost is None and o.tpm is None:
            return lambda paper: Usage()
        overhead = self.engine.prompt_overhead()
        return lambda paper: estimate(overhead, paper.title, paper.abstract)

    async def _run_async(self, writer: TableWriter) -> None:
        """`concurrency` workers, each taking the next paper, extracting it and writing its record.

        A worker sends its next request as soon as it has written the last record, in the same
        step of the event loop: with one task per paper and a dispatcher, a finished request would
        wait for every other reply ready in that step before its successor went out, and replies
        that arrive together would stay together (measured: ~10 ms more per request at 64 in
        flight). Memory stays flat: papers are read 256 at a time, only as workers ask for them."""
        o, s, eng = self.opts, self.summary, self.engine
        request_estimate = self.request_estimator()
        papers = self.papers()
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
                if self._cache is not None and self._cache.usable:
                    key = Cache.key(eng.name, eng.model, eng.prompt_hash, paper.title, paper.abstract)
                    hit = self._cache.get(key)
                    if hit is not None:
                        self._write(writer, self._record(Document.of(paper), _cached_result(hit)))
                        continue
                est = request_estimate(paper)
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
                self._write(writer, rec)  # a whole line, at once: what finished is never lost
                ok = rec.ok if isinstance(rec, Built) else rec.status == "ok"
                if result is not None and ok and key is not None and self._cache is not None:
                    self._cache.put(key, _cache_value(result))  # after the record: a cache fault costs nothing

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
