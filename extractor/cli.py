"""Command line: a thin layer over the library. Every user error is one line and a non-zero exit."""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from typing import Optional

import typer
from rich.console import Console

from .core.errors import ExtractorError, redact

CONTEXT = {"help_option_names": ["-h", "--help"]}
app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings=CONTEXT,
    help="Turn research abstracts into a verified comparison table.",
)


def _version(value: bool) -> None:
    if value:
        from .core.version import __version__

        print(f"extractor {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_version, is_eager=True, help="print the version and exit"
    ),
) -> None:
    """Turn research abstracts into a verified comparison table."""


err = Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(msg: str, code: int = 2) -> None:
    err.print(f"extractor: error: {redact(msg)}", markup=False)
    raise typer.Exit(code)


def _note(msg: str) -> None:
    err.print(f"extractor: {redact(msg)}", markup=False)


def _check_writable(path: str) -> None:
    from .core.files import check_writable

    try:
        check_writable(path)
    except ExtractorError as e:
        _fail(str(e))


def _note_uncarried(summary, output: str) -> None:
    if summary.uncarried:
        from .reviews import uncarried_path

        _note(
            f"{summary.uncarried} review decisions could not be carried to the new records; each is "
            f"listed, with the whole reviewed claim, in {uncarried_path(output)}"
        )


def _workers(asked: int, quiet: bool) -> int:
    """Processes for the offline engine: one per core when not asked; never more than the cores
    (the work is all CPU: another process only adds its memory and its chunks in flight)."""
    cores = os.cpu_count() or 1
    if asked > cores and not quiet:
        _note(f"--workers {asked}: this machine has {cores} cores; using {cores}")
    return min(asked, cores) if asked else cores


def make_engine(name: str, options, quiet: bool = False, notes: Optional[list] = None):
    """The engine the options name; its notes (which engine runs, and why) are printed, or kept in
    `notes` to be printed once the run's inputs are known to be readable (an error is one line)."""
    from .engines import registry

    say = (lambda m: None) if quiet else (notes.append if notes is not None else _note)
    return registry.create(name, options, note=say)


@app.command()
def extract(
    inputs: list[str] = typer.Argument(
        ..., help="Atom/RSS file or URL, .jsonl/.csv file, '-' for stdin, or arxiv:QUERY"
    ),
    output: str = typer.Option(..., "-o", "--output", help="JSONL table to write (appended to; re-runs resume)"),
    engine: str = typer.Option("auto", "--engine", help="auto, offline or openai"),
    model: Optional[str] = typer.Option(None, "--model", help="model name for the openai engine"),
    base_url: Optional[str] = typer.Option(
        None, "--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1"
    ),
    prompts: Optional[str] = typer.Option(None, "--prompts", help="directory overriding the bundled prompts"),
    mode: str = typer.Option("auto", "--mode", help="auto, json_schema, json_object or tools"),
    max_reasks: int = typer.Option(2, "--max-reasks", min=0, help="re-asks after an invalid or ungrounded reply"),
    reask_uncovered: bool = typer.Option(
        False, "--reask-uncovered", help="re-ask once about numbers of the abstract that no claim covers"
    ),
    retries: int = typer.Option(5, "--retries", min=1, help="transport attempts per request (429/5xx/timeouts)"),
    timeout: float = typer.Option(120.0, "--timeout", help="seconds per LLM request"),
    paper_timeout: Optional[float] = typer.Option(
        None,
        "--paper-timeout",
        help="seconds for all of one paper's requests, retries and re-asks (default: --timeout x (1 + --max-reasks))",
    ),
    max_tokens: int = typer.Option(2048, "--max-tokens", min=64, help="reply token limit per LLM request"),
    concurrency: int = typer.Option(16, "--concurrency", min=1, help="LLM requests in flight at most"),
    rpm: Optional[float] = typer.Option(None, "--rpm", min=1, help="cap on requests per minute"),
    tpm: Optional[float] = typer.Option(None, "--tpm", min=1, help="cap on (estimated) tokens per minute"),
    cache: Optional[str] = typer.Option(None, "--cache", help="SQLite cache of LLM answers (default: user cache dir)"),
    no_cache: bool = typer.Option(False, "--no-cache", help="neither read nor write the cache"),
    dry_run: bool = typer.Option(False, "--dry-run", help="estimate tokens and cost; call no model, write nothing"),
    max_cost: Optional[float] = typer.Option(
        None, "--max-cost", min=0, help="stop before the run would spend more USD"
    ),
    prices: Optional[str] = typer.Option(None, "--prices", help="JSON price table overriding the built-in one"),
    category: list[str] = typer.Option([], "--category", help="keep papers in this category (repeatable), e.g. cs.DC"),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="stop after N new papers"),
    retry_errors: bool = typer.Option(False, "--retry-errors", help="redo papers whose record is an error"),
    redo: bool = typer.Option(
        False,
        "--redo",
        help="extract again papers the table already holds (another engine or prompt); reviews carry over",
    ),
    arxiv_max: int = typer.Option(100, "--arxiv-max", help="results to fetch for an arxiv:QUERY input"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar and notes"),
    summary_json: Optional[str] = typer.Option(None, "--summary-json", help="also write the run summary as JSON here"),
    on: Optional[str] = typer.Option(
        None,
        "--on",
        help="run the papers on a Ray cluster: ray (local, or $RAY_ADDRESS), ray:auto, or ray://HOST:PORT (pip install 'extractor[ray]')",
    ),
    actors: int = typer.Option(
        0, "--actors", min=0, help="with --on ray: actors in the pool (0: one per CPU of the cluster)"
    ),
    warm_start: bool = typer.Option(
        True,
        "--warm-start/--no-warm-start",
        help="with --on ray, on a Ray this run starts: extract papers here while Ray starts",
    ),
    workers: int = typer.Option(
        0,
        "--workers",
        min=0,
        help="processes (0: one per core; never more than the cores): the offline engine's, or the LLM engine's answer checks beside its requests",
    ),
    fields_file: Optional[str] = typer.Option(
        None, "--fields", help="TOML file declaring your own fields (default: the fields section of ./extractor.toml)"
    ),
    field: list[str] = typer.Option(
        [], "--field", help="one more field, inline: 'name: description' or 'name type: description' (repeatable)"
    ),
) -> None:
    """Extract a comparison table from abstracts (resumable: re-run the same command to continue)."""
    from .costs import load_prices, price_for
    from .engines.registry import EngineOptions
    from .pipeline import Pipeline, RunOptions

    notes: list[str] = []
    options = EngineOptions(
        model=model,
        base_url=base_url,
        prompts=prompts,
        mode=mode,
        max_reasks=max_reasks,
        timeout=timeout,
        paper_timeout=paper_timeout,
        retries=retries,
        max_tokens=max_tokens,
        concurrency=concurrency,
        rpm=rpm,
        tpm=tpm,
        reask_uncovered=reask_uncovered,
    )
    try:
        from .fields import declare

        options.fields = declare(fields_file, field)
        eng = make_engine(engine, options, quiet, notes)
        price = price_for(eng.model, load_prices(prices)) if eng.capabilities.priced else (0.0, 0.0, 0.0)
    except ExtractorError as e:
        _fail(str(e))
    executor = None
    if on:
        from .cluster import executor as on_cluster

        try:
            executor = on_cluster(on, actors, warm_start)
        except ExtractorError as e:
            _fail(str(e))
    _preflight(inputs)  # after the options: a bad option is said first, whatever the inputs
    for line in notes:
        _note(line)
    if max_cost is not None and price is None:
        _fail(
            f"--max-cost needs a price for model {eng.model!r}; add it with --prices FILE "
            '(JSON: {"model": {"input": USD_per_1M, "cached_input": ..., "output": ...}})'
        )
    for path in (output, summary_json):  # checked before any work is done
        if path is not None:
            _check_writable(path)
    cache_path = None
    if eng.capabilities.networked and not no_cache:
        from .cache import default_cache_path

        cache_path = cache or default_cache_path()
    opts = RunOptions(
        inputs=inputs,
        output=output,
        categories=category,
        retry_errors=retry_errors,
        limit=limit,
        arxiv_max=arxiv_max,
        concurrency=concurrency,
        rpm=rpm,
        tpm=tpm,
        cache_path=cache_path,
        price=price,
        max_cost=max_cost,
        workers=_workers(workers, quiet),
        redo=redo,
    )
    warned = [0]

    def warn(msg: str) -> None:
        warned[0] += 1
        if warned[0] <= 20:
            err.print(f"extractor: {redact(msg)}", markup=False)
        elif warned[0] == 21:
            err.print("extractor: (further warnings counted in the summary only)", markup=False)

    pipe = Pipeline(eng, opts, warn=warn, executor=executor)
    if dry_run:
        try:
            _print_estimate(pipe.estimate())
        except ExtractorError as e:
            _fail(str(e))
        return
    if not quiet:
        for line in pipe.fields_notes():
            _note(line)
    progress = None
    if not quiet and sys.stderr.isatty():
        progress = _progress(pipe, opts, price)
    # The objects made by the imports live for the whole process, and a full collection walks them
    # all (a pause seen in the first round of requests of an LLM run). Frozen, collections skip them.
    gc.freeze()
    try:
        summary = pipe.run()
    except ExtractorError as e:
        if progress is not None:
            progress.stop()
        done = pipe.summary
        _fail(f"{e}" + (f" (stopped after {done.papers} papers, written to {output})" if done.papers else ""))
    finally:
        if progress is not None:
            progress.stop()
    if summary.compacted:  # said even with -q: the table's lines changed
        _note(f"replaced {summary.compacted} superseded lines in {output}")
    _note_uncarried(summary, output)  # a decision not carried is never left unsaid
    if summary.budget_stopped:
        _note(f"stopped before the --max-cost budget of ${max_cost:.2f}; re-run with a higher budget to continue")
    if summary.papers == 0 and summary.selection.failed_inputs and not summary.already_done:
        raise typer.Exit(summary.exit_code())  # every input failed: its error, said once, is the whole story
    prefix = "interrupted" if summary.interrupted else "done"
    err.print(f"extractor: {prefix}: {summary.line()} -> {output}", markup=False)
    if summary_json:
        from .core.files import atomic_write

        with atomic_write(summary_json) as f:
            f.write(json.dumps(summary.as_dict(), indent=2) + "\n")
    raise typer.Exit(summary.exit_code())


def _preflight(inputs: list[str]) -> None:
    """Inputs that cannot be read at all (no such file, a directory, a PDF or a ZIP given as
    abstracts) are refused before anything else is done or said, in one line; with several inputs,
    a run reads the ones it can and names the others."""
    from .sources import check_input

    problems = [p for p in (check_input(spec) for spec in inputs) if p]
    if problems and len(problems) == len(inputs):
        _fail(problems[0] if len(problems) == 1 else f"no input can be read: {'; '.join(problems[:3])}")


def _progress(pipe, opts, price):
    """done/total, rate, ETA, tokens, estimated cost and errors, on stderr."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from .costs import cost
    from .sources import count_records

    total = count_records(opts.inputs)
    if total is not None and opts.limit is not None:
        total = min(total, opts.limit)
    progress = Progress(
        SpinnerColumn(),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[stats]}"),
        console=err,
        transient=True,
    )
    task = progress.add_task("extract", total=total, rate="", stats="")
    s = pipe.summary
    t0 = time.monotonic()

    def on_progress():
        done = s.papers if opts.limit is not None else s.papers + s.already_done + s.skipped + s.duplicates + s.filtered
        u = s.usage
        stats = f"{s.errors} errors"
        if u.requests or s.cache_hits:
            c = cost(u, price)
            stats += f" | {u.prompt_tokens + u.completion_tokens:,} tokens" + (f" ${c:.3f}" if c is not None else "")
        rate = s.papers / max(time.monotonic() - t0, 1e-9)
        progress.update(task, completed=done, rate=f"{rate:.1f}/s", stats=stats)

    pipe.on_progress = on_progress
    progress.start()
    return progress


def _print_estimate(est) -> None:
    skipped = f"; {est.already_done} already done" if est.already_done else ""
    if not est.priced:
        print(f"dry run: {est.papers} papers would be extracted by the {est.engine} engine (no cost){skipped}")
        return
    money = f"~${est.cost:.4f}" if est.cost is not None else "unknown cost (no price for this model; see --prices)"
    fields_note = ""
    if est.fields:
        fields_note = f"; the {est.fields} fields add {est.fields_tokens:,} prompt tokens per paper" + (
            f" (~${est.fields_cost:.4f} of it)" if est.fields_cost is not None else ""
        )
    print(
        f"dry run: {est.papers} papers would be extracted with {est.model}{skipped}; about {est.prompt_tokens:,} "
        f"prompt + {est.completion_tokens:,} completion tokens ({est.overhead} prompt tokens of overhead per "
        f"paper); {money} before re-asks and cache hits{fields_note}"
    )


@app.command()
def fetch(
    query: str = typer.Argument(..., help="arXiv search_query, e.g. 'cat:cs.DC AND abs:serverless'"),
    output: str = typer.Option(..., "-o", "--output", help="Atom file to write"),
    max_results: int = typer.Option(100, "--max", min=1, help="how many results at most"),
    page_size: int = typer.Option(100, "--page-size", min=1, max=2000, help="results per request"),
    delay: float = typer.Option(3.0, "--delay", min=0.0, help="seconds between requests (arXiv asks for 3)"),
    sort_by: Optional[str] = typer.Option(None, "--sort-by", help="relevance, lastUpdatedDate or submittedDate"),
    sort_order: Optional[str] = typer.Option(None, "--sort-order", help="ascending or descending"),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="API endpoint (default: the arXiv export API)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no notes and summary line"),
) -> None:
    """Query the arXiv API, page through the results, and save them as one Atom feed."""
    from .sources.arxiv_api import ArxivClient, write_feed

    client = ArxivClient(base_url=base_url, delay=delay, log=(lambda m: None) if quiet else _note)
    try:
        n = write_feed(client.iter_entries(query, max_results, page_size, sort_by, sort_order), output, query)
    except ExtractorError as e:
        _fail(str(e))
    finally:
        client.close()
    if not quiet:
        err.print(f"extractor: fetched {n} entries -> {output}", markup=False)


@app.command()
def watch(
    query: str = typer.Argument(
        ..., help="arXiv search_query (e.g. 'cat:cs.DC AND abs:serverless') or an RSS / Atom URL"
    ),
    output: str = typer.Option(..., "-o", "--output", help="JSONL table that grows with the query"),
    digest: Optional[str] = typer.Option(None, "--digest", help="also write what this run found: digest.md or .html"),
    query_changed: bool = typer.Option(
        False, "--query-changed", help="the table watched another query before: watch this one from now on"
    ),
    engine: str = typer.Option("auto", "--engine", help="auto, offline or openai"),
    model: Optional[str] = typer.Option(None, "--model", help="model name for the openai engine"),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="OpenAI-compatible endpoint for the LLM engine"),
    arxiv_url: Optional[str] = typer.Option(
        None, "--arxiv-url", help="arXiv API endpoint (default: export.arxiv.org, or $EXTRACTOR_ARXIV_URL)"
    ),
    max_results: int = typer.Option(
        1000, "--max", min=1, help="papers to fetch at most per run (the rest: the next run continues)"
    ),
    lookback: float = typer.Option(
        3.0,
        "--lookback",
        min=0.0,
        help="days each new window reaches back (arXiv announces a version days after its date)",
    ),
    delay: float = typer.Option(3.0, "--delay", min=0.0, help="seconds between arXiv requests (arXiv asks for 3)"),
    fields_file: Optional[str] = typer.Option(
        None, "--fields", help="TOML file declaring your own fields (default: the fields section of ./extractor.toml)"
    ),
    field: list[str] = typer.Option([], "--field", help="one more field, inline: 'name: description' (repeatable)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no notes"),
) -> None:
    """Fetch what is new or updated for a query since the last run, extract it, append it (a run
    that is stopped is continued by the next)."""
    from . import watch as w
    from .engines.registry import EngineOptions

    note = (lambda m: None) if quiet else _note
    for path in (output, digest):
        if path is not None:
            _check_writable(path)
    try:
        from .fields import declare

        specs = declare(fields_file, field)
        eng = make_engine(engine, EngineOptions(model=model, base_url=base_url, fields=specs), quiet)
        done = w.run(
            query,
            output,
            eng,
            digest=digest,
            query_changed=query_changed,
            arxiv_url=arxiv_url,
            max_results=max_results,
            lookback=lookback,
            delay=delay,
            note=note,
            warn=lambda m: err.print(f"extractor: {redact(m)}", markup=False),
        )
    except ExtractorError as e:
        _fail(str(e))
    except OSError as e:
        _fail(f"{e.filename or output}: {e.strerror}")
    summary, got, st = done.summary, done.fetched, done.state
    for line in got.skipped:
        note(f"skipped: {line}")
    if not quiet:
        _note_uncarried(summary, output)
    if not done.closed and st.window is not None and not summary.interrupted:
        left = st.window.remaining()
        more = f"{left} more entries to read" if left else "more entries to read"
        note(
            f"the window {st.window.since or 'start'} .. {st.window.until} is not covered yet ({more}); "
            "the next run continues it from paper "
            f"{st.window.offset}" + (" (--max)" if got.new >= max_results else "")
        )
    fresh = f"{got.fetched} fetched ({got.requests} requests)"
    err.print(f"extractor: watch {query!r}: {fresh}; {summary.line()} -> {output}", markup=False)
    raise typer.Exit(summary.exit_code())


@app.command()
def export(
    table: str = typer.Argument(..., help="table written by extract (JSONL)"),
    output: str = typer.Option(..., "-o", "--output", help="file to write: .xlsx, .csv, .md, .html or .bib"),
    fmt: Optional[str] = typer.Option(None, "--format", help="xlsx, csv, md, html or bib (default: from the suffix)"),
    rows: str = typer.Option(
        "papers",
        "--rows",
        help="for CSV: papers (one row per paper), claims, uncovered numbers, compare (claims by metric class, ranked), or fields (your own fields, for review)",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no summary line"),
) -> None:
    """Export the table: a spreadsheet (Papers, Compare, Claims sheets), CSV, Markdown with
    leaderboards, an HTML report with the comparison matrix and charts, or BibTeX."""
    from .api import export as do_export
    from .api import read_table
    from .exports.writers import export_format

    try:
        export_format(output, fmt, rows)  # before the output is checked: a wrong name is said first
    except ExtractorError as e:
        _fail(str(e))
    _check_writable(output)
    try:
        records = read_table(table)
        do_export(records, output, fmt, rows)
    except ExtractorError as e:
        _fail(str(e))
    except OSError as e:
        _fail(f"{output}: cannot write ({e.strerror})")
    if not quiet:
        n = sum(len(r.get("headline_numbers") or []) for r in records)
        err.print(f"extractor: wrote {len(records)} papers, {n} claims -> {output}", markup=False)


review_app = typer.Typer(
    no_args_is_help=True, context_settings=CONTEXT, help="Bring a reviewed spreadsheet back into the table."
)
app.add_typer(review_app, name="review")


@review_app.command("apply")
def review_apply(
    sheet: str = typer.Argument(..., help="the reviewed Claims sheet: .xlsx or .csv from 'extractor export'"),
    table: str = typer.Option(..., "--table", help="the table the sheet was exported from"),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="reviewed table to write (JSONL, a new file)"),
    in_place: bool = typer.Option(
        False, "--in-place", help="replace --table with the reviewed table (under its lock; no -o)"
    ),
    strict: bool = typer.Option(
        False,
        "--strict",
        help="write nothing when a row's claim has changed since the export (default: list it, apply the rest)",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no warnings and summary line"),
) -> None:
    """Apply accept / reject / edit / add decisions by claim id, into a new table (-o) or the table
    itself (--in-place), while no run writes it."""
    from .api import apply_review

    if in_place and output is not None:
        _fail("give -o FILE or --in-place, not both")
    if not in_place and output is None:
        _fail("give -o FILE for the reviewed table, or --in-place to replace --table")
    if output is not None and os.path.abspath(output) == os.path.abspath(table):
        _fail("-o is --table: use --in-place to replace the table (under its lock)")
    target = table if in_place else str(output)
    _check_writable(target)
    try:
        _, counts = apply_review(sheet, table, output, in_place=in_place, strict=strict)
    except ExtractorError as e:
        _fail(str(e))
    except OSError as e:
        _fail(f"{target}: cannot write ({e.strerror})")
    if quiet:
        return
    for key, what in (
        ("stale", "rows not applied: their claim changed since the export"),
        ("unapplied", "rows with a correction but no decision"),
        ("formulas", "rows where a formula's saved value was read"),
    ):
        lines = counts[key]
        for line in lines[:20]:
            err.print(f"extractor: {'note' if key == 'formulas' else 'warning'}: {line}", markup=False)
        if len(lines) > 20:
            err.print(f"extractor: ... and {len(lines) - 20} more {what}", markup=False)
    extra = "".join(
        f"; {len(counts[k])} {w}"
        for k, w in (
            ("stale", "rows not applied (changed since the export)"),
            ("unapplied", "corrections with no decision not applied"),
            ("formulas", "formula values read"),
        )
        if counts[k]
    )
    err.print(
        f"extractor: {counts['rows']} rows read; {counts['accept']} accepted, {counts['reject']} rejected, "
        f"{counts['edit']} edited ({counts['override']} reviewer overrides), {counts['add']} added, "
        f"{counts['unchanged']} unchanged{extra} -> {target}",
        markup=False,
    )


batch_app = typer.Typer(
    no_args_is_help=True, context_settings=CONTEXT, help="OpenAI Batch API files (also vLLM run-batch, Ray Data)."
)
app.add_typer(batch_app, name="batch")


@batch_app.command("prepare")
def batch_prepare(
    inputs: list[str] = typer.Argument(..., help="inputs, as for extract"),
    output: str = typer.Option(..., "-o", "--output", help="requests file (.jsonl); split into -0002 ... parts"),
    model: Optional[str] = typer.Option(None, "--model", help="model for the requests"),
    prompts: Optional[str] = typer.Option(None, "--prompts", help="directory overriding the bundled prompts"),
    mode: str = typer.Option("json_schema", "--mode", help="json_schema, json_object or tools"),
    runner: str = typer.Option(
        "openai",
        "--for",
        help="openai (the Batch API) or vllm (vllm run-batch: only requests whose schema vLLM's structured output follows)",
    ),
    max_tokens: int = typer.Option(2048, "--max-tokens", min=64, help="reply token limit per request"),
    max_requests: int = typer.Option(50_000, "--max-requests", min=1, help="requests per file"),
    max_mb: float = typer.Option(200, "--max-mb", help="size per file in MB"),
    category: list[str] = typer.Option([], "--category", help="keep papers in this category (repeatable)"),
    fields_file: Optional[str] = typer.Option(
        None, "--fields", help="TOML file declaring your own fields (default: the fields section of ./extractor.toml)"
    ),
    field: list[str] = typer.Option([], "--field", help="one more field, inline: 'name: description' (repeatable)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no notes and summary line"),
) -> None:
    """Write Batch API request files (custom_id = paper id) and a papers sidecar for ingest."""
    from .api import read_papers
    from .engines.batch import MODES, prepare

    model = model or os.environ.get("EXTRACTOR_MODEL")
    if not model:
        _fail("--model is required (or set EXTRACTOR_MODEL)")
    if mode not in MODES:
        _fail(f"--mode must be one of {', '.join(MODES)}")
    if runner not in ("openai", "vllm"):
        _fail("--for must be openai or vllm")
    if runner == "vllm" and mode == "json_object":
        # vLLM reads response_format {"type": "json_object"} and ignores the schema beside it (a
        # llama.cpp extension): the replies would be free JSON
        _fail("--for vllm takes --mode json_schema or tools (vLLM ignores a json_object request's schema)")
    _preflight(inputs)
    _check_writable(output)
    try:
        from .fields import declare

        specs = declare(fields_file, field)
        # the same input selection as extract: normalisation, dedup, category filter
        papers = read_papers(*inputs, categories=category, on_problem=(lambda m: None) if quiet else _note)
        res = prepare(
            papers,
            output,
            str(model),
            prompts=prompts,
            mode=mode,
            max_tokens=max_tokens,
            fields=specs,
            max_requests=max_requests,
            max_bytes=int(max_mb * 1024 * 1024),
        )
    except ExtractorError as e:
        _fail(str(e))
    if res.requests == 0:
        _fail("no papers to prepare")
    if not quiet:
        err.print(
            f"extractor: {res.requests} requests -> {', '.join(res.files)}; papers -> {res.sidecar}", markup=False
        )


@batch_app.command("submit")
def batch_submit(
    files: list[str] = typer.Argument(..., help="request files from 'batch prepare'"),
    base_url: Optional[str] = typer.Option(
        None, "--base-url", help="OpenAI-compatible endpoint of the batch API (default: OPENAI_BASE_URL, else OpenAI)"
    ),
) -> None:
    """Upload request files and create Batch API jobs; prints the batch ids."""
    import openai

    from .engines.batch import submit

    try:
        ids = submit(files, base_url)
    except openai.OpenAIError as e:
        _fail(f"batch submit: {e.__class__.__name__}: {' '.join(str(e).split())[:300]}")
    except OSError as e:
        _fail(f"{e.filename}: {e.strerror}")
    for i in ids:
        print(redact(i))


@batch_app.command("status")
def batch_status(
    batch_id: str,
    base_url: Optional[str] = typer.Option(
        None, "--base-url", help="OpenAI-compatible endpoint of the batch API (default: OPENAI_BASE_URL, else OpenAI)"
    ),
) -> None:
    """Show a batch's status and request counts."""
    import openai

    from .engines.batch import status

    try:
        b = status(batch_id, base_url)
    except openai.OpenAIError as e:
        _fail(f"batch status: {e.__class__.__name__}: {' '.join(str(e).split())[:300]}")
    c = b.request_counts
    counts = f"{c.completed} completed, {c.failed} failed, {c.total} total" if c else "no counts yet"
    print(redact(f"{b.id}: {b.status} ({counts})"))


@batch_app.command("download")
def batch_download(
    batch_id: str,
    output: str = typer.Option(..., "-o", "--output", help="results file to write"),
    base_url: Optional[str] = typer.Option(
        None, "--base-url", help="OpenAI-compatible endpoint of the batch API (default: OPENAI_BASE_URL, else OpenAI)"
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no summary line"),
) -> None:
    """Download a finished batch's results (and its errors file, if any)."""
    import openai

    from .engines.batch import download

    try:
        n, errs = download(batch_id, output, base_url)
    except openai.OpenAIError as e:
        _fail(f"batch download: {e.__class__.__name__}: {' '.join(str(e).split())[:300]}")
    except ExtractorError as e:
        _fail(str(e))
    if not quiet:
        err.print(redact(f"extractor: {n} results -> {output}" + (f"; errors -> {errs}" if errs else "")), markup=False)


@batch_app.command("ingest")
def batch_ingest(
    results: list[str] = typer.Argument(..., help="results files (OpenAI Batch API, vLLM run-batch, Ray Data)"),
    papers: str = typer.Option(..., "--papers", help="the .papers.jsonl sidecar written by 'batch prepare'"),
    output: str = typer.Option(..., "-o", "--output", help="JSONL table to write (appended to; resumable)"),
    retry_errors: bool = typer.Option(False, "--retry-errors", help="replace papers whose record is an error"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no warnings and summary line"),
) -> None:
    """Turn results into records through the same validation and verification as extract."""
    from .api import ingest_batch

    _check_writable(output)
    try:
        s = ingest_batch(results, papers, output, retry_errors=retry_errors, warn=(lambda m: None) if quiet else _note)
    except ExtractorError as e:
        _fail(str(e))
    if s.compacted:  # said even with -q: the table's lines changed
        _note(f"replaced {s.compacted} superseded lines in {output}")
    _note_uncarried(s, output)  # a decision not carried is never left unsaid
    if not quiet:
        extra = f"; {s.skipped} unknown custom_ids" if s.skipped else ""
        extra += f"; {s.already_done} already done" if s.already_done else ""
        err.print(
            f"extractor: {s.papers} records ({s.ok} ok, {s.errors} errors); {s.numbers} numbers "
            f"({s.verified} verified){extra} -> {output}",
            markup=False,
        )
    raise typer.Exit(1 if s.errors or s.skipped else 0)


@app.command("eval")
def eval_cmd(
    pred: str = typer.Argument(..., help="table written by extract (JSONL)"),
    gold: str = typer.Argument(..., help="hand-labelled gold (JSONL, see docs/gold-format.md)"),
    as_json: bool = typer.Option(False, "--json", help="print metrics and errors as JSON"),
    show_errors: bool = typer.Option(False, "--show-errors", help="list misses and false positives by paper"),
) -> None:
    """Score a table against gold labels: system names, numbers, units, directions, metrics."""
    import json

    from .evaluate import evaluate, format_report, load_gold, report_json
    from .store import load_records

    try:
        rep = evaluate(load_records(pred), load_gold(gold))
    except ExtractorError as e:
        _fail(str(e))
    if as_json:
        print(json.dumps(report_json(rep), indent=2, ensure_ascii=False))
    else:
        print(format_report(rep, show_errors))


def main() -> None:
    from .core.errors import register_secret

    # the key is registered on every path, whatever the command: a server can echo it in an answer
    # (stored), a batch status (printed) or an error (shown), and every one of them is scrubbed
    register_secret(os.environ.get("OPENAI_API_KEY"))
    try:
        app(prog_name="extractor")
    except KeyboardInterrupt:
        err.print("extractor: interrupted", markup=False)
        sys.exit(130)
    except ExtractorError as e:
        err.print(f"extractor: error: {e}", markup=False)
        sys.exit(2)
    except BrokenPipeError:
        sys.exit(1)
    except Exception as e:  # a bug, not a user error: still one line unless asked for details
        if os.environ.get("EXTRACTOR_DEBUG"):
            raise
        err.print(
            f"extractor: internal error: {e.__class__.__name__}: {e} (set EXTRACTOR_DEBUG=1 for a traceback)",
            markup=False,
        )
        sys.exit(3)


if __name__ == "__main__":
    main()
