"""The batch job: read inputs, skip what is done, extract, verify, append; resumable and idempotent."""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

from .engines.base import EngineFailure
from .errors import ExtractorError, FatalEngineError, InputError
from .records import build_record, error_record
from .schema import Paper, Record
from .sources import read_papers
from .sources.ids import version_number
from .store import TableWriter, compact, dumps, read_done


@dataclass
class RunOptions:
    inputs: list[str]
    output: str
    categories: list[str] = field(default_factory=list)
    retry_errors: bool = False
    limit: Optional[int] = None
    arxiv_max: int = 100
    concurrency: int = 1


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
    elapsed: float = 0.0
    compacted: int = 0

    def line(self) -> str:
        rate = self.papers / self.elapsed if self.elapsed > 0 else 0.0
        parts = [
            f"{self.papers} papers ({self.ok} ok, {self.errors} errors)",
            f"{self.numbers} numbers ({self.verified} verified, {self.numbers - self.verified} flagged)",
            f"{self.names} system names",
        ]
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
        parts.append(f"{self.elapsed:.1f}s ({rate:.0f} papers/s)")
        return "; ".join(parts)

    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        if self.failed_inputs:
            return 2
        if self.errors or self.skipped:
            return 1
        return 0


def _wanted(paper: Paper, categories: list[str]) -> bool:
    if not categories:
        return True
    return any(c == want or c.startswith(want + ".") for c in paper.categories for want in categories)


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

    # -- input side -------------------------------------------------------------------------
    def _papers(self) -> Iterator[Paper]:
        """Papers to extract: filtered, deduplicated within the run and against the table."""
        s, o = self.summary, self.opts
        done = read_done(o.output)
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

    # -- work --------------------------------------------------------------------------------
    def _extract(self, paper: Paper) -> Record:
        try:
            result = self.engine.extract(paper)
        except EngineFailure as e:
            return error_record(paper, self.engine, str(e), e.usage, e.reasks)
        except (FatalEngineError, KeyboardInterrupt):
            raise
        except Exception as e:  # one bad abstract must not cost the batch
            return error_record(paper, self.engine, f"internal error: {e.__class__.__name__}: {e}")
        try:
            return build_record(paper, result, self.engine)
        except Exception as e:
            return error_record(paper, self.engine, f"invalid extraction: {e.__class__.__name__}: {e}")

    def _write(self, writer: TableWriter, rec: Record) -> None:
        writer.write(dumps(rec))
        s = self.summary
        s.papers += 1
        if rec.status == "ok":
            s.ok += 1
        else:
            s.errors += 1
        s.numbers += len(rec.headline_numbers)
        s.verified += sum(1 for n in rec.headline_numbers if n.verified)
        s.names += 1 if rec.system_name else 0
        self.on_record(rec)

    def run(self) -> Summary:
        t0 = time.monotonic()
        writer = TableWriter(self.opts.output)
        try:
            if self.opts.concurrency <= 1:
                for paper in self._papers():
                    self._write(writer, self._extract(paper))
            else:
                self._run_concurrent(writer)
        except KeyboardInterrupt:
            self.summary.interrupted = True
        finally:
            writer.close()
            if self._needs_compaction and not self.summary.interrupted:
                self.summary.compacted = compact(self.opts.output)
            self.summary.elapsed = time.monotonic() - t0
        return self.summary

    def _run_concurrent(self, writer: TableWriter) -> None:
        n = self.opts.concurrency
        pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="extract")
        inflight: set[Future] = set()
        try:
            for paper in self._papers():
                inflight.add(pool.submit(self._extract, paper))
                if len(inflight) >= 2 * n:  # bounded window: memory stays flat for any input
                    finished, inflight = wait(inflight, return_when=FIRST_COMPLETED)
                    for f in finished:
                        self._write(writer, f.result())
            while inflight:
                finished, inflight = wait(inflight, return_when=FIRST_COMPLETED)
                for f in finished:
                    self._write(writer, f.result())
        except BaseException:
            # write whatever already finished, drop the rest (it is redone on resume)
            for f in inflight:
                f.cancel()
            for f in list(inflight):
                if f.done() and not f.cancelled() and f.exception() is None:
                    self._write(writer, f.result())
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


__all__ = ["Pipeline", "RunOptions", "Summary", "ExtractorError"]
