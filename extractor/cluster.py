"""Past one machine: a run's papers spread over a Ray cluster (`extract --on ray[://ADDRESS]`).

The driver is the run driver (`pipeline.Pipeline`): it holds the table's lock, selects what still
needs work (resume, `--retry-errors`, `--redo`), and writes every record through the same writer,
carrying reviews and compacting versions, with the same summary. Only the per-paper work moves:
the selected papers go to Ray Data a part at a time (`PART` papers), and each actor of an actor
pool makes the engine again from its options (`registry.recreate`) and runs the whole per-paper
pipeline on its rows (engine, re-asks, verification, user fields, the record's JSON line). Lines
come back as blocks finish and are appended at once: a driver killed mid-run loses only what was
in flight (redone by the next run), and no record is written twice.

While the cluster starts (Ray's own start, then the actor pool's), the driver does not wait: it
extracts the first part's papers itself, from the part's end, at the run's concurrency. The first
actor that is up says so to a small gate actor; the driver then takes no more papers, finishes the
ones in flight, and opens the gate with the ids it wrote, which the actors skip. The two never have
requests in flight at once, so `--concurrency` and the rate limits hold, and no paper is asked twice.

Faults: an actor that dies is restarted by Ray and its block is retried (`RETRIES` times); the
papers of a block that still fails are run again one paper per block, pass after pass while a pass
brings papers back, and a paper that kills its worker every time becomes an error record here
(`--retry-errors` redoes it), never silently missing. Budgets hold for the whole cluster: the
requests in flight (`--concurrency`) and `--rpm` / `--tpm` are shared out among the actors, and
`--max-cost` is checked before each part is sent (a part is at most `PART` papers).

Ray is an optional dependency (`pip install 'extractor[ray]'`); nothing imports it unless a run
asks for it.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
from collections.abc import Callable
from dataclasses import replace
from itertools import islice
from typing import TYPE_CHECKING, Any, Optional

from .contract import Built, EngineFailure, Usage
from .core.errors import ConfigError
from .costs import cost
from .records import built
from .schema import Paper

if TYPE_CHECKING:
    from .pipeline import Pipeline
    from .store import TableLock, TableWriter

PART = 20_000  # papers per Ray dataset: the driver holds one part in memory, not the whole input
BATCHES = 8  # batches per block: one actor task
RETRIES = 3  # attempts of a block whose actor died, before its papers are tried one by one
PASSES = 10  # passes of one paper per block, at most (each stops the papers it got back)


def parse_on(spec: str) -> Optional[str]:
    """`--on ray` (a local Ray, or the cluster RAY_ADDRESS names), `--on ray://HOST:10001` (Ray
    Client), `--on ray:auto` (the cluster this machine is a node of): the address for ray.init."""
    if spec == "ray":
        return os.environ.get("RAY_ADDRESS") or None
    if spec.startswith("ray://"):
        return spec
    if spec.startswith("ray:"):
        return spec[4:] or None
    raise ConfigError(f"--on {spec!r}: give ray, ray:auto or ray://HOST:PORT")


def _import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise ConfigError("--on ray needs Ray Data: pip install 'extractor[ray]'") from None
    return ray


class ExtractBatch:
    """A Ray Data callable class: each actor holds one engine (made from its options) and turns a
    batch of papers (`paper`: JSON) into records (`line`: the table's JSON line, and what the
    summary counts of it)."""

    def __init__(self, made_from: tuple, concurrency: int = 1, gate: Any = None):
        from .engines import registry
        from .pipeline import Pipeline, RunOptions

        self.engine = registry.recreate(made_from)
        self.pipe = Pipeline(self.engine, RunOptions(inputs=[], output=""))
        self.concurrency = max(1, concurrency)
        self.sem: Optional[asyncio.Semaphore] = None  # the actor's requests in flight, over all its batches
        self.gate = gate
        self.skip: Optional[frozenset] = None  # the papers the driver did while the cluster started
        if gate is not None:
            gate.arrived.remote()

    async def __call__(self, batch: dict) -> dict:
        # async: Ray Data runs several batches of a block at once on the actor's own event loop (the
        # engine's client lives on it), so a batch's last slow requests leave no gap behind them
        papers = [Paper.model_validate_json(p) for p in batch["paper"]]
        if self.gate is not None:
            if self.skip is None:
                self.skip = frozenset(await self.gate.wait.remote())
            papers = [p for p in papers if p.id not in self.skip]
        if self.engine.capabilities.concurrent:
            if self.sem is None:
                self.sem = asyncio.Semaphore(self.concurrency)
            recs = await asyncio.gather(*(self._one(p) for p in papers))
        else:
            recs = [self.pipe._extract_sync(p) for p in papers]
        rows = [built(r) for r in recs]
        return {
            "id": [b.id for b in rows],
            "line": [b.line for b in rows],
            "ok": [b.ok for b in rows],
            "numbers": [b.numbers for b in rows],
            "verified": [b.verified for b in rows],
            "named": [b.named for b in rows],
            "usage": [b.usage.model_dump_json() if b.usage else "" for b in rows],
            "reasks": [b.reasks for b in rows],
            "reasks_verified": [b.reasks_verified for b in rows],
        }

    async def _one(self, paper: Paper) -> Any:
        assert self.sem is not None
        async with self.sem:
            rec, _ = await self.pipe._extract_async(paper, Usage())
            return rec


def _bound(made_from: tuple, concurrency: int = 1, gate: Any = None) -> type:
    """ExtractBatch with its arguments bound in the class (shipped with it), not passed as
    constructor arguments: Ray keeps those in the object store, where a restarted actor may no
    longer find them."""

    class Extract(ExtractBatch):
        def __init__(self) -> None:
            super().__init__(made_from, concurrency, gate)

    return Extract


class _Gate:
    """Between the driver's warm start and the actors (a Ray actor, made by `_gate`): the actors
    say they are up, and wait until the driver has stopped and says which papers it did."""

    def __init__(self) -> None:
        self.up = False
        self.opened = asyncio.Event()
        self.done: list[str] = []

    def arrived(self) -> None:
        self.up = True

    def is_up(self) -> bool:
        return self.up

    def open(self, done: list[str]) -> None:
        self.done = done
        self.opened.set()

    async def wait(self) -> list[str]:
        await self.opened.wait()
        return self.done


def _gate(ray: Any) -> Any:
    return ray.remote(num_cpus=0)(_Gate).remote()


class _WarmStart(threading.Thread):
    """The driver's own work while the cluster starts: the part's papers from its end, at the
    run's concurrency, written through the run's writer. It starts at once; once Ray is up it is
    given the gate (`set_gate`), and it stops taking papers when an actor is up (or on `stop()`),
    finishes those in flight, and opens the gate with the ids it wrote."""

    POLL = 0.1  # seconds between asks whether an actor is up
    ASK = 5.0  # seconds an ask may take (the gate actor not answering yet is "not up yet")

    def __init__(self, pipe: Pipeline, writer: TableWriter, part: list[Paper], sent: dict, ray: Any):
        super().__init__(name="extractor-warm-start", daemon=True)
        self.pipe, self.writer, self.part, self.sent, self.ray = pipe, writer, part, sent, ray
        self.gate: Any = None
        self.gate_made = threading.Event()  # set once Ray is up (or could not be reached: no gate)
        self.halt = threading.Event()
        self.done: list[str] = []
        self.error: Optional[BaseException] = None

    def set_gate(self, gate: Any) -> None:
        self.gate = gate
        self.gate_made.set()

    def run(self) -> None:
        try:
            asyncio.run(self._work())
        except BaseException as e:  # a fatal engine error ends the run: the driver raises it
            self.error = e
            self.done = [p.id for p in self.part]  # and the actors skip everything
        finally:
            self.gate_made.wait()
            if self.gate is not None:
                self.gate.open.remote(self.done)

    def stop(self) -> None:
        self.halt.set()
        self.join()

    async def _work(self) -> None:
        pipe, o, todo = self.pipe, self.pipe.opts, list(self.part)
        request_estimate = pipe.request_estimator()

        def actor_up() -> bool:
            ready, _ = self.ray.wait([self.gate.is_up.remote()], timeout=self.ASK)
            return bool(ready) and bool(self.ray.get(ready[0]))

        async def watch() -> None:
            while not self.halt.is_set():
                if self.gate is not None and await asyncio.to_thread(actor_up):
                    self.halt.set()
                    return
                await asyncio.sleep(self.POLL)

        async def worker() -> None:
            while todo and not self.halt.is_set():
                paper = todo.pop()
                rec, _ = await pipe._extract_async(paper, request_estimate(paper))
                pipe._write(self.writer, rec)
                self.sent.pop(paper.id, None)
                self.done.append(paper.id)

        watching = asyncio.create_task(watch())
        try:
            await asyncio.gather(*(worker() for _ in range(max(1, o.concurrency))))
        finally:
            self.halt.set()
            await watching
            await pipe.engine.aclose()


def _map(ds: Any, fn: type, **kw: Any) -> Any:
    """map_batches with bounded retries of a dead actor's block. Ray 2.60 takes them only as
    `ray_remote_args` (deprecated for Ray 2.64; pyproject pins below it): without a bound, a paper
    that kills its worker every time would be retried for ever."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ds.map_batches(fn, **kw)


def _connect(ray: Any, address: Optional[str]) -> None:
    """Join the cluster (or start a local Ray) unless the program did already; Ray's own logs
    stay out of the run's output (warnings and errors only)."""
    import logging

    logging.getLogger("ray").setLevel(logging.ERROR)
    # a block whose worker died on every try is logged by Ray Data with its traceback; here its
    # papers are tried again one by one, and what still fails becomes an error record saying so
    logging.getLogger("ray.data").setLevel(logging.CRITICAL)
    # the C++ core worker logs on stderr (one "error" per actor about its constructor arguments,
    # which Ray Data itself puts in the object store): only fatal ones, unless the user says otherwise
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    if not ray.is_initialized():
        err = os.dup(2)  # the core worker says at start which log level it took: not the run's business
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 2)
                ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
        finally:
            os.dup2(err, 2)
            os.close(err)


def _row_built(row: dict) -> Built:
    usage = Usage.model_validate_json(row["usage"]) if row["usage"] else None
    line = row["line"]
    return Built(
        str(row["id"]),
        bytes(line) if not isinstance(line, bytes) else line,
        bool(row["ok"]),
        int(row["numbers"]),
        int(row["verified"]),
        bool(row["named"]),
        usage,
        int(row["reasks"]),
        int(row["reasks_verified"]),
    )


def actors_for(ray: Any, asked: int) -> int:
    """Actors in the pool: `asked`, or one per CPU of the cluster."""
    if asked > 0:
        return asked
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def run_on_ray(
    pipe: Pipeline,
    writer: TableWriter,
    lock: TableLock,
    address: Optional[str],
    actors: int = 0,
    warm_start: bool = True,
) -> None:
    """The run's papers through an actor pool on Ray; records written here, as blocks finish.
    `warm_start`: on a Ray this run starts on this machine, the driver extracts papers itself while
    Ray starts (`_WarmStart`)."""
    ray = _import_ray()
    made_from = pipe.engine.made_from
    if made_from is None:
        raise ConfigError("--on ray runs engines made by name (extractor.engine(...)), not an engine object")
    o = pipe.opts
    # with a budget, a part is one round of blocks, so that a run passes its budget by at most that
    size = PART if o.max_cost is None else max(1, (o.concurrency or 1) * BATCHES)
    papers = pipe.papers()
    part = list(islice(papers, size))
    if not part:
        return  # nothing to do: no cluster to start
    sent = {p.id: p for p in part}
    # only on a Ray that this run starts here: on a cluster, the endpoint the actors use may be one
    # the driver cannot reach ("localhost" on each GPU node); with a budget, parts are small and
    # each is checked against it
    warm = (
        warm_start
        and address in (None, "local")
        and not ray.is_initialized()
        and pipe.engine.capabilities.concurrent
        and o.max_cost is None
    )
    first: Optional[_WarmStart] = None
    if warm:
        first = _warm_start(ray, address, pipe, writer, part, sent)
    else:
        _connect(ray, address)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.max_errored_blocks = -1  # a block that keeps failing is skipped: its papers become error records here
    n = actors_for(ray, actors)
    target, options = made_from
    share = replace(
        options,
        concurrency=max(1, o.concurrency // n),
        rpm=o.rpm / n if o.rpm else None,
        tpm=o.tpm / n if o.tpm else None,
    )
    concurrent = pipe.engine.capabilities.concurrent
    # an LLM actor's batch is its share of the requests in flight; a block holds several batches,
    # which the actor runs at once (ExtractBatch.__call__ is async)
    batch = max(1, min(256, share.concurrency)) if concurrent else 64
    s = pipe.summary
    while part:
        if o.max_cost is not None and (cost(s.usage, o.price) or 0.0) >= o.max_cost:
            s.budget_stopped = True
            return
        if first is None:
            sent = {p.id: p for p in part}
        gate = first.gate if first is not None else None
        try:
            # the part as sent (the warm start takes papers out of `sent` meanwhile; the gate tells
            # the actors which)
            _through(ray, pipe, writer, sent, (target, share), share.concurrency, batch, n, papers=part, gate=gate)
        finally:
            if first is not None:
                first.stop()  # normally stopped long before; on Ctrl-C, what it has in flight is written
        if first is not None:
            s.warm_started = len(first.done) if first.error is None else 0
            if first.error is not None:
                raise first.error
        first = None
        # a block that kept failing: its papers again, one per block and without Ray's retries,
        # pass after pass (in another order each time) while a pass brings more back, so that only
        # a paper that kills its worker fails (a worker that dies takes the papers in flight on it
        # along, and the same order would put the same papers beside it again)
        for attempt in range(PASSES):
            left = len(sent)
            if not left:
                break
            _through(ray, pipe, writer, sent, (target, share), share.concurrency, 1, n, retries=0, shuffle=attempt)
            if len(sent) == left:
                break
        for paper in sent.values():  # papers whose worker died on every attempt
            pipe._write(writer, pipe._failure(paper, EngineFailure("the Ray worker running it died on every attempt")))
        part = list(islice(papers, size))


def _warm_start(
    ray: Any, address: Optional[str], pipe: Pipeline, writer: TableWriter, part: list[Paper], sent: dict
) -> _WarmStart:
    """Connect to the cluster while the driver extracts the part's last papers itself."""
    thread = _WarmStart(pipe, writer, part, sent, ray)
    thread.start()
    try:
        _connect(ray, address)
        thread.set_gate(_gate(ray))
    except BaseException:
        thread.set_gate(None)
        thread.stop()
        raise
    return thread


def _through(
    ray: Any,
    pipe: Pipeline,
    writer: TableWriter,
    sent: dict,
    made_from: tuple,
    concurrency: int,
    batch: int,
    n: int,
    retries: int = RETRIES,
    shuffle: int = 0,
    papers: Optional[list[Paper]] = None,
    gate: Any = None,
) -> None:
    """The papers of `sent` through an actor pool, `batch` papers per block; each record is
    written as it comes back, and its paper taken out of `sent` (what stays failed on every try)."""
    papers = list(sent.values()) if papers is None else papers
    if shuffle:
        random.Random(shuffle).shuffle(papers)
    per_block = batch * BATCHES if batch > 1 else 1  # a pass of one paper per block means one per task
    blocks = max(1, -(-len(papers) // per_block))
    ds = ray.data.from_items([{"paper": p.model_dump_json()} for p in papers], override_num_blocks=blocks)
    out = _map(
        ds,
        _bound(made_from, concurrency, gate),
        batch_size=batch,
        # one paper per block (the second pass): one task at a time per actor, so that a paper that
        # kills its worker takes no other paper's attempts with it
        compute=ray.data.ActorPoolStrategy(
            size=min(n, blocks), max_tasks_in_flight_per_actor=1 if batch == 1 else None
        ),
        num_cpus=0.5,  # fractional: actors that reserve every CPU leave none for the dataset's own tasks
        max_restarts=-1,
        max_task_retries=retries,
    )
    for rows in out.iter_batches(batch_size=None, batch_format="pandas"):
        for row in rows.to_dict("records"):
            b = _row_built(row)
            if sent.pop(b.id, None) is not None:  # not a retried block's second answer
                pipe._write(writer, b)


def executor(on: str, actors: int = 0, warm_start: bool = True) -> Callable[[Pipeline, TableWriter, TableLock], None]:
    """The run driver's executor for `--on`: checked now (Ray installed, the address well formed),
    connected when the run starts."""
    address = parse_on(on)
    _import_ray()

    def execute(pipe: Pipeline, writer: TableWriter, lock: TableLock) -> None:
        run_on_ray(pipe, writer, lock, address, actors, warm_start)

    return execute


def extract_dataset(ds: Any, engine: Any = "auto", *, actors: int = 0, concurrency: int = 16, **options: Any) -> Any:
    """A Ray Data Dataset of papers (rows with `title` and `abstract`, and the other keys a JSONL
    input has) to a Dataset of records: each row `id`, `line` (the record as a table line: JSON),
    `ok`, `numbers`, `verified`. Nothing is written; `extractor.run(..., on="ray")` is the resumable
    job with a table. `engine`: a name, or `extractor.engine(...)`; `concurrency`: requests in
    flight per actor; `actors`: the pool's size (default: one per CPU)."""
    ray = _import_ray()
    from .engines import registry

    eng = engine if not isinstance(engine, str) else registry.create(engine, registry.EngineOptions(**options))
    if eng.made_from is None:
        raise ConfigError("extract_dataset runs engines made by name (extractor.engine(...)), not an engine object")

    def as_papers(batch: Any) -> dict:
        from .sources.tabular import dict_to_paper

        rows = batch.to_dict("records")
        papers = [dict_to_paper({k: v for k, v in r.items() if _given(v)}, "ray") for r in rows]
        return {"paper": [p.model_dump_json() for p in papers]}

    concurrent = eng.capabilities.concurrent
    _connect(ray, None)
    return _map(
        ds.map_batches(as_papers, batch_format="pandas"),
        _bound(eng.made_from, concurrency),
        batch_size=max(1, concurrency * 2) if concurrent else 64,
        compute=ray.data.ActorPoolStrategy(size=actors_for(ray, actors)),
        num_cpus=0.5,
        max_restarts=-1,
        max_task_retries=RETRIES,
    )


def _given(v: Any) -> bool:
    """A cell that holds something (pandas gives NaN or None for a missing one)."""
    try:
        return v is not None and not (isinstance(v, float) and v != v)
    except Exception:
        return True


def vllm_processor_steps(model: str, **options: Any) -> Any:
    """`preprocess` and `postprocess` for `ray.data.llm.build_llm_processor` with a
    `vLLMEngineProcessorConfig` (vLLM in the actors, on GPUs): a paper row to a request whose
    schema vLLM's structured output follows, and a reply to a verified record (`done`, `line`) or
    to a re-ask. Rows with `done == False` go through the processor again (a re-ask pass):

        steps = extractor.cluster.vllm_processor_steps("Qwen/Qwen2.5-7B-Instruct", max_reasks=1)
        processor = build_llm_processor(config, preprocess=steps.preprocess, postprocess=steps.postprocess)
        out = processor(papers).materialize()
        again = processor(out.filter(lambda r: not r["done"])).materialize()

    `options`: prompts, max_tokens, fields, max_reasks, structured_key ("guided_decoding", or
    "structured_outputs" for vLLM releases that renamed it)."""
    from .engines.batch import row_steps

    return row_steps(model, **options)
