"""The Python API: what the CLI does, callable from a notebook or a program. The CLI is a mapping
of its options onto these functions.

    import extractor

    papers = extractor.read_papers("data/arxiv-systems-2026-04.atom.xml")
    for rec in extractor.extract(papers):          # the offline engine: no model, no key
        print(rec.system_name, [n.text for n in rec.headline_numbers if n.verified])

    summary = extractor.run(["feed.xml"], "table.jsonl")     # the resumable job: a table on disk
    extractor.export("table.jsonl", "table.xlsx")            # Papers, Compare and Claims sheets
    records, counts = extractor.apply_review("table.xlsx", "table.jsonl", "reviewed.jsonl")

Records come in two forms: `extract` and `verify` give `Record` objects (Pydantic models, typed);
a table read back (`read_table`) gives each line as the dict it is in the file, reviews included
(`pandas.DataFrame(extractor.read_table(path))` gives a frame). Every function that takes records
takes either. Errors a user can fix are `extractor.ExtractorError`, with a one-line message.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from typing import Any, Optional, Union

from .analysis.document import Document
from .contract import Built, ClaimDraft, EngineResult, Usage
from .core.errors import ConfigError, InputError
from .engines.base import Engine
from .engines.registry import EngineOptions
from .fields import FieldSpec, declare, parse_inline
from .pipeline import Estimate, Pipeline, RunOptions, Summary
from .records import build_record
from .schema import Paper, Record
from .selection import Counts, read_inputs, select

PaperLike = Union[Paper, dict]
RecordLike = Union[Record, dict]

__all__ = [
    "Estimate",
    "Paper",
    "Record",
    "Summary",
    "aextract",
    "apply_review",
    "as_paper",
    "engine",
    "estimate",
    "export",
    "extract",
    "declare_fields",
    "ingest_batch",
    "read_papers",
    "read_table",
    "run",
    "verify",
    "write_table",
]


# --- papers ---------------------------------------------------------------------------------------
def read_papers(
    *sources: str,
    categories: Sequence[str] = (),
    limit: Optional[int] = None,
    arxiv_max: int = 100,
    on_problem: Callable[[str], None] = lambda message: None,
) -> Iterator[Paper]:
    """Papers from every source the CLI reads: an Atom/RSS file or URL, a JSONL or CSV file of
    abstracts (Kaggle's arXiv snapshot, Zotero, Scopus), "-" for stdin, or "arxiv:QUERY" (the arXiv
    API). Normalised, deduplicated (the newest version of a paper), filtered by `categories`
    ("cs.DC", or "cs" for every cs.*), at most `limit`. A record that is no usable paper, or a
    source that cannot be read, is told to `on_problem` and skipped."""
    counts = Counts()
    yield from select(read_inputs(sources, counts, on_problem, arxiv_max), None, counts, list(categories), limit=limit)


def as_paper(p: PaperLike, source: str = "python") -> Paper:
    """A Paper from a Paper, or from a dict with the keys a JSONL input has (`id`, `title`,
    `abstract` (or `summary`), optional `authors`, `categories`, `published`, `doi`, `url`)."""
    if isinstance(p, Paper):
        return p
    if isinstance(p, dict):
        from .sources.tabular import dict_to_paper

        return dict_to_paper(p, source)
    raise InputError(f"a paper is a Paper or a dict with title and abstract, not {type(p).__name__}")


# --- engines --------------------------------------------------------------------------------------
def declare_fields(path: Optional[str] = None, *inline: str) -> list[FieldSpec]:
    """Your own fields: declared in a TOML file (`path`, or the `[fields]` section of
    ./extractor.toml when no path is given, as the CLI reads them), then the inline ones ("hardware:
    GPUs or accelerators used", "open_source boolean: is the code released?")."""
    return declare(path, list(inline))


def engine(
    name: str = "auto",
    *,
    model: Optional[str] = None,
    base_url: Optional[str] = None,
    fields: Optional[Sequence[Union[FieldSpec, str]]] = None,
    note: Callable[[str], None] = lambda message: None,
    **options: Any,
) -> Engine:
    """An engine by name: "offline" (rules, no model), "openai" (any OpenAI-compatible endpoint:
    OpenAI, Azure, vLLM, Ollama, llama.cpp's server), or "auto" (the LLM engine when an endpoint is
    configured: OPENAI_API_KEY, OPENAI_BASE_URL or `base_url`; else offline). `options` are the
    CLI's: prompts, mode, max_reasks, timeout, paper_timeout, retries, max_tokens, concurrency, rpm,
    tpm, reask_uncovered. `fields`: FieldSpecs, or inline declarations ("name: description")."""
    from .engines import registry

    known = set(EngineOptions.__dataclass_fields__)
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigError(f"unknown engine option(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    specs: list[FieldSpec] = []
    seen: set[str] = set()
    for f in fields or []:
        specs.append(f if isinstance(f, FieldSpec) else parse_inline(f, seen))
    opts = EngineOptions(model=model, base_url=base_url, fields=specs, **options)
    return registry.create(name, opts, note=note)


def _engine_of(e: Union[Engine, str, None], **options: Any) -> Engine:
    if isinstance(e, Engine):
        if options:
            raise ConfigError("give engine options to extractor.engine(), not beside an engine made already")
        return e
    return engine(e or "auto", **options)


# --- extracting -----------------------------------------------------------------------------------
def _per_paper(eng: Engine) -> Pipeline:
    """The run driver's per-paper step (extract, verify, build the record; a failing paper an
    error record, a fatal engine error raised), without a table: what `extract` yields is what a
    run writes."""
    return Pipeline(eng, RunOptions(inputs=[], output=""))


def _as_record(rec: Union[Record, Built]) -> Record:
    if isinstance(rec, Built):  # built where the answer was checked (a worker process): read back
        return Record.model_validate_json(rec.line)
    return rec


def extract(
    papers: Iterable[PaperLike], engine: Union[Engine, str, None] = None, **engine_options: Any
) -> Iterator[Record]:
    """Verified records for `papers`, one per paper, in input order, each as soon as it and the
    ones before it are done; nothing is written. A paper that fails becomes an error record
    (`status: "error"`). An LLM engine works on up to 16 papers at once here (`aextract` takes a
    `concurrency`)."""
    eng = _engine_of(engine, **engine_options)
    if eng.capabilities.concurrent:
        waiting: dict[int, Record] = {}
        nxt = 0
        for i, rec in _sync_over_async(_aextract_numbered(papers, eng, 16)):
            waiting[i] = rec
            while nxt in waiting:
                yield waiting.pop(nxt)
                nxt += 1
        return
    step = _per_paper(eng)
    for p in papers:
        yield _as_record(step._extract_sync(as_paper(p)))


async def aextract(
    papers: Iterable[PaperLike],
    engine: Union[Engine, str, None] = None,
    *,
    concurrency: int = 16,
    **engine_options: Any,
) -> AsyncIterator[Record]:
    """Verified records for `papers`, as they finish (not in input order), with at most
    `concurrency` papers in flight (an LLM engine's requests, retries and re-asks)."""
    eng = _engine_of(engine, **engine_options)
    async for _, rec in _aextract_numbered(papers, eng, concurrency):
        yield rec


async def _aextract_numbered(
    papers: Iterable[PaperLike], eng: Engine, concurrency: int
) -> AsyncIterator[tuple[int, Record]]:
    """(position in `papers`, record), as papers finish."""
    queue: asyncio.Queue = asyncio.Queue()
    sem = asyncio.Semaphore(max(1, concurrency))
    step = _per_paper(eng)

    async def one(i: int, paper: Paper) -> None:
        try:
            rec, _ = await step._extract_async(paper, Usage())
            await queue.put((i, _as_record(rec)))
        finally:
            sem.release()

    async def feed() -> None:
        tasks: set[asyncio.Task] = set()
        try:
            for i, p in enumerate(papers):
                await sem.acquire()  # at most `concurrency` in flight, and papers read only as needed
                t = asyncio.create_task(one(i, as_paper(p)))
                tasks.add(t)
                t.add_done_callback(tasks.discard)
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()

    feeder = asyncio.create_task(feed())
    try:
        while True:
            getter = asyncio.create_task(queue.get())
            await asyncio.wait({getter, feeder}, return_when=asyncio.FIRST_COMPLETED)
            if getter.done():
                yield getter.result()
                continue
            getter.cancel()
            feeder.result()  # a fatal error (a bad key, an endpoint that is gone) ends the iteration
            while not queue.empty():
                yield queue.get_nowait()
            return
    finally:
        feeder.cancel()
        await eng.aclose()


def _sync_over_async(agen: AsyncIterator[Any]) -> Iterator[Any]:
    """An async generator's items, from sync code (a notebook's running loop included): the loop
    runs in a thread of its own."""
    out: list = []
    cond = threading.Condition()
    end = object()

    def pump() -> None:
        async def main() -> None:
            try:
                async for rec in agen:
                    with cond:
                        out.append(rec)
                        cond.notify()
            except BaseException as e:  # given to the caller, in its thread
                with cond:
                    out.append(e)
                    cond.notify()
            with cond:
                out.append(end)
                cond.notify()

        asyncio.run(main())

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    while True:
        with cond:
            while not out:
                cond.wait()
            item = out.pop(0)
        if item is end:
            break
        if isinstance(item, BaseException):
            raise item
        yield item
    t.join()


def verify(answer: dict, abstract: str, title: str = "", paper_id: str = "answer") -> Record:
    """One answer checked against one abstract, as every engine's is: `answer` has the keys a model
    answers with (`system_name`, `problem`, `technique`, `headline_numbers`: a list of claims with
    `text`, `value`, `unit`, `qualifier`, `metric`, `direction`, `kind`, `baseline`). Each claim is
    aligned to a verbatim span of the abstract and re-read from it: `verified`, and `why` not."""
    if not isinstance(answer, dict):
        raise InputError(f"an answer is a dict (a model's JSON object), not {type(answer).__name__}")
    nums = answer.get("headline_numbers") or []
    if not isinstance(nums, list):
        raise InputError("headline_numbers must be a list of claims")
    result = EngineResult(
        system_name=answer.get("system_name"),
        problem=answer.get("problem"),
        technique=answer.get("technique"),
        numbers=[ClaimDraft.from_answer(d if isinstance(d, dict) else {"text": d}) for d in nums],
        fields=answer.get("fields"),
    )

    class _Given(Engine):
        name = "given"

    paper = Paper.of(id=paper_id, title=title, abstract=abstract, source="python")
    return build_record(Document.of(paper), result, _Given())


# --- the table job --------------------------------------------------------------------------------
def _run_options(inputs: Sequence[str], output: str, eng: Engine, kw: dict) -> RunOptions:
    known = set(RunOptions.__dataclass_fields__) - {"inputs", "output"}
    unknown = sorted(set(kw) - known)
    if unknown:
        raise ConfigError(f"unknown run option(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    if eng.capabilities.networked and "cache_path" not in kw:  # LLM answers cached, as the CLI does
        from .cache import default_cache_path

        kw = {**kw, "cache_path": default_cache_path()}
    return RunOptions(inputs=list(inputs), output=output, **kw)


def run(
    inputs: Union[str, Sequence[str]],
    output: str,
    engine: Union[Engine, str, None] = None,
    *,
    on: Optional[str] = None,
    actors: int = 0,
    warm_start: bool = True,
    warn: Callable[[str], None] = lambda message: None,
    on_progress: Callable[[], None] = lambda: None,
    **options: Any,
) -> Summary:
    """The batch job `extract` runs: every paper of `inputs` not yet in the table `output` is
            extracted, verified and appended, one whole line each, under the table's lock; re-running
            continues where a run stopped. `options` are RunOptions' (categories, retry_errors, limit,
            concurrency, rpm, tpm, cache_path, price, max_cost, workers, redo, papers: Paper objects given
            directly instead of `inputs`). `on="ray"` (or "ray://HOST:PORT") spreads the papers over a Ray
    cluster, `actors` of them (default: one per CPU), with the same table (docs/cluster.md); on a Ray
    it starts here, the run extracts papers itself while Ray starts unless `warm_start=False`. `warn` is told what the CLI prints as notes and warnings (a line
        skipped, a field the engine cannot fill, a review decision not carried). Returns the run's
        Summary."""
    from .core.files import check_writable

    eng = _engine_of(engine)
    opts = _run_options([inputs] if isinstance(inputs, str) else inputs, output, eng, options)
    try:
        check_writable(output)  # before any work is done (or paid for)
        executor = None
        if on:
            from .cluster import executor as on_cluster

            executor = on_cluster(on, actors, warm_start)
        pipe = Pipeline(eng, opts, warn=warn, on_progress=on_progress, executor=executor)
        for line in pipe.fields_notes():
            warn(line)
        return pipe.run()
    finally:
        eng.close()


def estimate(
    inputs: Union[str, Sequence[str]],
    output: Optional[str] = None,
    engine: Union[Engine, str, None] = None,
    **options: Any,
) -> Estimate:
    """What `run` would do: the papers it would extract and, for a priced engine, the tokens and
    the cost (options: `price=(input, cached_input, output)` USD per 1M tokens); nothing is asked
    of a model and nothing is written."""
    eng = _engine_of(engine)
    opts = _run_options([inputs] if isinstance(inputs, str) else inputs, output or "", eng, options)
    return Pipeline(eng, opts).estimate()


def ingest_batch(
    results: Sequence[str],
    papers: str,
    output: str,
    *,
    retry_errors: bool = False,
    warn: Callable[[str], None] = lambda message: None,
) -> Summary:
    """Batch API results (OpenAI's, `vllm run-batch`'s, a Ray Data pipeline's) into the table
    `output`, through the same run driver, validation and verification as `run`: `papers` is the
    sidecar `batch prepare` wrote. A paper already in the table is skipped (an error record is
    redone with `retry_errors`); within the results, a success replaces an earlier error."""
    from .engines.batch import BatchResults

    eng = BatchResults(list(results), papers, warn)
    opts = RunOptions(inputs=[], output=output, retry_errors=retry_errors, successes_replace_errors=True)
    pipe = Pipeline(eng, opts, warn=warn)

    def skipped() -> None:
        pipe.summary.selection.skipped += 1

    opts.papers = eng.papers(skipped)
    try:
        return pipe.run()
    finally:
        eng.close()


# --- tables, exports, reviews ---------------------------------------------------------------------
def read_table(path: str) -> list[dict]:
    """Every record of a table, as the dicts its lines hold (reviews included); one error naming
    the line for a line that is not a record."""
    from .store import load_records

    return load_records(path)


def _dicts(records: Iterable[RecordLike]) -> list[dict]:
    return [r.model_dump() if isinstance(r, Record) else r for r in records]


def write_table(records: Iterable[RecordLike], path: str) -> None:
    """Write `records` as the table `path`, replacing it at once (a temp file renamed over it),
    under the table's lock: refused while a run writes it."""
    from .exports.review import write_table as _write
    from .store import TableLock

    rows = _dicts(records)
    with TableLock(path) as lock:
        _write(rows, path, lock)


def export(
    table: Union[str, Iterable[RecordLike]], path: str, format: Optional[str] = None, rows: str = "papers"
) -> None:
    """Export a table (its path, or records) to `path`: xlsx (Papers, Compare, Claims sheets, for
    review), csv (`rows`: papers, claims, uncovered, compare or fields), md (the comparison and
    leaderboards), html (a report with the comparison matrix and charts) or bib. The format comes
    from the suffix unless given."""
    from .exports.writers import export as _export
    from .exports.writers import export_format

    fmt = export_format(path, format, rows, format_flag="format=", rows_flag="rows")
    records = read_table(table) if isinstance(table, str) else _dicts(table)
    _export(records, path, fmt, rows)


def apply_review(
    sheet: str, table: str, output: Optional[str] = None, *, in_place: bool = False, strict: bool = False
) -> tuple[list[dict], dict]:
    """Bring a reviewed sheet (.xlsx or .csv from `export`, saved by any spreadsheet program) back
    into the table: into a new table `output`, or the table itself (`in_place`), under the lock.
    Returns (the records written, counts: accept, reject, edit, add, override, unchanged, rows, and
    the lists stale, unapplied, formulas). A mistake in the sheet raises with every bad row named,
    and nothing is written; a row whose claim changed since the export is listed in
    counts["stale"] and skipped (with `strict`, nothing is written)."""
    from .exports.review import ReviewError, read_sheet
    from .exports.review import apply_review as _apply
    from .exports.review import write_table as _write
    from .store import TableLock, load_records

    if in_place == (output is not None):
        raise ConfigError("give an output path, or in_place=True (not both)")
    target = table if in_place else str(output)
    if not in_place and os.path.abspath(target) == os.path.abspath(table):
        raise ConfigError("the output is the table: use in_place=True to replace it (under its lock)")
    with TableLock(target) as lock:
        records = load_records(table)
        new, counts = _apply(records, read_sheet(sheet), os.path.basename(sheet))
        if strict and counts["stale"]:
            raise ReviewError(
                f"{os.path.basename(sheet)}: {len(counts['stale'])} row(s) not applicable, nothing written "
                "(--strict):\n  " + "\n  ".join(counts["stale"][:50])
            )
        _write(new, target, lock)
    return new, counts
