"""Command line: a thin layer over the library. Every user error is one line and a non-zero exit."""

from __future__ import annotations

import os
import sys
from typing import List, Optional

import typer
from rich.console import Console

from .errors import ConfigError, ExtractorError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Turn research abstracts into a verified comparison table.",
)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(msg: str, code: int = 2) -> None:
    err.print(f"extractor: error: {msg}", markup=False)
    raise typer.Exit(code)


def _note(msg: str) -> None:
    err.print(f"extractor: {msg}", markup=False)


def make_engine(engine: str, model: Optional[str], base_url: Optional[str], prompts: Optional[str],
                mode: str, max_reasks: int, timeout: float, retries: int, quiet: bool, max_tokens: int = 2048):
    from .engines.offline import OfflineEngine

    has_endpoint = bool(base_url or os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"))
    if engine == "auto":
        engine = "openai" if has_endpoint else "offline"
        if engine == "offline" and not quiet:
            _note("no OPENAI_API_KEY, OPENAI_BASE_URL or --base-url set: using the offline engine (rules, no model)")
    if engine == "offline":
        return OfflineEngine()
    if engine == "openai":
        from .engines.openai_engine import OpenAIEngine

        if not model:
            model = os.environ.get("EXTRACTOR_MODEL")
        if not model:
            raise ConfigError("--model is required with the openai engine (or set EXTRACTOR_MODEL)")
        return OpenAIEngine(model=model, base_url=base_url, prompts_dir=prompts, mode=mode,
                            max_reasks=max_reasks, timeout=timeout, retries=retries, max_tokens=max_tokens)
    raise ConfigError(f"unknown engine {engine!r} (choose auto, offline or openai)")


@app.command()
def extract(
    inputs: List[str] = typer.Argument(..., help="Atom/RSS file or URL, .jsonl/.csv file, '-' for stdin, or arxiv:QUERY"),
    output: str = typer.Option(..., "-o", "--output", help="JSONL table to write (appended to; re-runs resume)"),
    engine: str = typer.Option("auto", "--engine", help="auto, offline or openai"),
    model: Optional[str] = typer.Option(None, "--model", help="model name for the openai engine"),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1"),
    prompts: Optional[str] = typer.Option(None, "--prompts", help="directory overriding the bundled prompts"),
    mode: str = typer.Option("auto", "--mode", help="auto, json_schema, json_object or tools"),
    max_reasks: int = typer.Option(2, "--max-reasks", min=0, help="re-asks after an invalid or ungrounded reply"),
    retries: int = typer.Option(5, "--retries", min=1, help="transport attempts per request (429/5xx/timeouts)"),
    timeout: float = typer.Option(120.0, "--timeout", help="seconds per LLM request"),
    max_tokens: int = typer.Option(2048, "--max-tokens", min=64, help="reply token limit per LLM request"),
    concurrency: int = typer.Option(8, "--concurrency", min=1, help="LLM requests in flight"),
    category: List[str] = typer.Option([], "--category", help="keep papers in this category (repeatable), e.g. cs.DC"),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="stop after N new papers"),
    retry_errors: bool = typer.Option(False, "--retry-errors", help="redo papers whose record is an error"),
    arxiv_max: int = typer.Option(100, "--arxiv-max", help="results to fetch for an arxiv:QUERY input"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar and notes"),
) -> None:
    """Extract a comparison table from abstracts (resumable: re-run the same command to continue)."""
    from .pipeline import Pipeline, RunOptions

    try:
        eng = make_engine(engine, model, base_url, prompts, mode, max_reasks, timeout, retries, quiet, max_tokens)
    except ExtractorError as e:
        _fail(str(e))
    out_dir = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(out_dir):
        _fail(f"{output}: directory {out_dir} does not exist")
    opts = RunOptions(
        inputs=inputs, output=output, categories=category, retry_errors=retry_errors, limit=limit,
        arxiv_max=arxiv_max, concurrency=1 if eng.name == "offline" else concurrency,
    )
    warned = [0]

    def warn(msg: str) -> None:
        warned[0] += 1
        if warned[0] <= 20:
            err.print(f"extractor: {msg}", markup=False)
        elif warned[0] == 21:
            err.print("extractor: (further warnings counted in the summary only)", markup=False)

    show_progress = not quiet and sys.stderr.isatty()
    progress = None
    if show_progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        progress = Progress(SpinnerColumn(), TextColumn("extracting"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[stats]}"), TimeElapsedColumn(), console=err, transient=True)
        task = progress.add_task("extract", total=None, stats="")
    pipe = Pipeline(eng, opts, warn=warn)
    if progress is not None:
        def on_record(rec, _p=progress, _t=task, _s=pipe.summary):
            _p.update(_t, advance=1, stats=f"{_s.verified}/{_s.numbers} numbers verified, {_s.errors} errors")
        pipe.on_record = on_record
        progress.start()
    try:
        summary = pipe.run()
    except ExtractorError as e:
        if progress is not None:
            progress.stop()
        _note(f"stopped: {pipe.summary.line()}")
        _fail(str(e))
    finally:
        if progress is not None:
            progress.stop()
    if summary.compacted:
        _note(f"replaced {summary.compacted} superseded lines in {output}")
    prefix = "interrupted" if summary.interrupted else "done"
    err.print(f"extractor: {prefix}: {summary.line()} -> {output}", markup=False)
    raise typer.Exit(summary.exit_code())


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
) -> None:
    """Query the arXiv API, page through the results, and save them as one Atom feed."""
    from .sources.arxiv_api import ArxivClient, write_feed

    client = ArxivClient(base_url=base_url, delay=delay, log=_note)
    try:
        n = write_feed(client.iter_entries(query, max_results, page_size, sort_by, sort_order), output, query)
    except ExtractorError as e:
        _fail(str(e))
    finally:
        client.close()
    err.print(f"extractor: fetched {n} entries -> {output}", markup=False)


@app.command()
def export(
    table: str = typer.Argument(..., help="table written by extract (JSONL)"),
    output: str = typer.Option(..., "-o", "--output", help="file to write: .xlsx, .csv, .md or .html"),
    fmt: Optional[str] = typer.Option(None, "--format", help="xlsx, csv, md or html (default: from the suffix)"),
    rows: str = typer.Option("papers", "--rows", help="for CSV: papers (one row per paper) or claims"),
) -> None:
    """Export the table as a spreadsheet (Papers + Claims sheets), CSV, Markdown or an HTML report."""
    from .export.writers import FORMATS, export as do_export
    from .store import load_records

    suffix = os.path.splitext(output)[1].lower().lstrip(".")
    fmt = (fmt or {"markdown": "md", "htm": "html"}.get(suffix, suffix)).lower()
    if fmt not in FORMATS:
        _fail(f"{output}: cannot tell the format; use a .xlsx/.csv/.md/.html name or --format")
    if rows not in ("papers", "claims"):
        _fail("--rows must be papers or claims")
    try:
        records = load_records(table)
        do_export(records, output, fmt, rows)
    except ExtractorError as e:
        _fail(str(e))
    except OSError as e:
        _fail(f"{output}: cannot write ({e.strerror})")
    n = sum(len(r.get("headline_numbers") or []) for r in records)
    err.print(f"extractor: wrote {len(records)} papers, {n} claims -> {output}", markup=False)


review_app = typer.Typer(no_args_is_help=True, help="Bring a reviewed spreadsheet back into the table.")
app.add_typer(review_app, name="review")


@review_app.command("apply")
def review_apply(
    sheet: str = typer.Argument(..., help="the reviewed Claims sheet: .xlsx or .csv from 'extractor export'"),
    table: str = typer.Option(..., "--table", help="the table the sheet was exported from"),
    output: str = typer.Option(..., "-o", "--output", help="reviewed table to write (JSONL, a new file)"),
) -> None:
    """Apply accept / reject / edit decisions by claim id; the input table is never modified."""
    from .export.review import apply_review, read_sheet, write_table
    from .store import load_records

    if os.path.abspath(output) == os.path.abspath(table):
        _fail("-o must differ from --table: the input table is never modified in place")
    try:
        records = load_records(table)
        rows = read_sheet(sheet)
        new, counts = apply_review(records, rows, os.path.basename(sheet))
        write_table(new, output)
    except ExtractorError as e:
        err.print(f"extractor: error: {e}", markup=False)
        raise typer.Exit(2)
    err.print(f"extractor: {counts['rows']} rows read; {counts['accept']} accepted, {counts['reject']} rejected, "
              f"{counts['edit']} edited ({counts['override']} reviewer overrides) -> {output}", markup=False)


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
    try:
        app()
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
        err.print(f"extractor: internal error: {e.__class__.__name__}: {e} (set EXTRACTOR_DEBUG=1 for a traceback)",
                  markup=False)
        sys.exit(3)


if __name__ == "__main__":
    main()
