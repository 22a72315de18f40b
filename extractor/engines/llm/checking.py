"""Checking a model's answer in worker processes.

An LLM run is I/O for the event loop and CPU for verification: every reply is read against its
abstract (scanned, aligned, re-parsed, its metrics checked) before the engine knows whether to re-ask,
and then built into a record. On one core the two take turns; with a worker process the loop keeps
the requests going while the worker checks, so a run of many papers uses two cores (a run of a few
papers, or `--workers 1`, checks inline: starting a process would cost more than it saves).

A check is one round trip: the worker verifies the answer (what a re-ask would say, how many claims
verify, which failed) and builds the record the answer would make if it is the last one, with its
usage and provenance, so the loop has nothing left to compute for a paper that needs no re-ask.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Optional

from ...analysis.document import Document
from ...contract import Built, Usage
from ...schema import Paper
from ..base import Engine
from .protocol import Answer


@dataclass
class Checked:
    """An answer checked as its record will be: what a re-ask would tell the model (None: nothing the
    model can fix), how many claims verify, the failing claims (to tell a repeat), the claims as
    verified, and the record the answer makes if it is the paper's last."""

    problem: Optional[str]
    verified: int
    failing: frozenset
    numbers: list
    record: Optional[Built] = None


@dataclass
class Meta:
    """What a record says of the engine and the request that made it (a worker has no engine)."""

    name: str
    model: Optional[str]
    prompt_hash: Optional[str]
    fields: list
    usage: Usage
    reasks: int
    mode: Optional[str]
    first_verified: Optional[int]


class _Info(Engine):
    """The engine as provenance names it, inside a worker."""

    def __init__(self, meta: Meta):
        self.name = meta.name
        self.model = meta.model
        self.prompt_hash = meta.prompt_hash
        self.fields = meta.fields


def check(doc: Document, answer: Answer, uncovered: str, meta: Meta) -> Checked:
    """Verify `answer` against `doc` and build the record it would make (inline or in a worker)."""
    from ...records import build_record
    from ...records import built as built_record
    from .reasks import review  # noqa: F401

    rv = review(doc, answer, uncovered, meta.fields)
    gain = 0 if meta.first_verified is None else max(0, rv.verified - meta.first_verified)
    result = answer.result(meta.usage, meta.reasks, meta.mode, gain, checked=rv.numbers)
    built = None
    if doc.paper is not None:
        built = built_record(build_record(doc, result, _Info(meta)))
    return Checked(rv.problem, rv.verified, rv.failing, rv.numbers, built)


def _check_in_worker(paper: dict, answer: Answer, uncovered: str, meta: Meta) -> Checked:
    return check(Document.of(Paper.model_validate(paper)), answer, uncovered, meta)


class Checker:
    """Where answers are checked: inline, or in worker processes (`workers` of them)."""

    INLINE_FIRST = 32  # papers checked inline before the workers take over: a short run starts no process

    def __init__(self, workers: int = 0):
        self.workers = workers
        self._pool: Optional[ProcessPoolExecutor] = None
        self._seen = 0

    def start(self, close_fds: tuple[int, ...] = ()) -> None:
        """Start the workers now (call before the event loop runs: a fork while threads run is
        not safe), ready for the first check. Each closes `close_fds` (the table's lock)."""
        if self.workers <= 0 or self._pool is not None:
            return
        ctx = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=ctx,
            initializer=_worker_start,
            initargs=(os.getpid(), tuple(close_fds)),
        )
        for f in [self._pool.submit(_ready) for _ in range(self.workers)]:
            f.result()

    async def check(self, doc: Document, answer: Answer, uncovered: str, meta: Meta) -> Checked:
        self._seen += 1
        if self._pool is None or doc.paper is None or self._seen <= self.INLINE_FIRST:
            return check(doc, answer, uncovered, meta)
        loop = asyncio.get_running_loop()
        paper = doc.paper.model_dump()
        return await loop.run_in_executor(self._pool, _check_in_worker, paper, answer, uncovered, meta)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _ready() -> bool:
    return True


def _worker_start(parent: int, close_fds: tuple[int, ...]) -> None:
    """In each worker: the table's lock stays the parent's (a worker outliving a killed parent must
    not keep the table locked); Ctrl-C is the parent's to handle; a worker whose parent died ends."""
    for fd in close_fds:
        try:
            os.close(fd)
        except OSError:
            pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


__all__ = ["Checker", "Checked", "Meta", "check"]
