"""The output table: append-only JSONL that survives crashes, and resume state read from it.

Each record is one `write()` of one whole line to a file opened in append mode, flushed (and
fsynced in batches). A `kill -9` can leave at most a partial last line, which the next run trims
before it appends. Superseded lines (an older arXiv version, an error later retried) are dropped
by `compact()`, which rewrites through a temp file and an atomic rename.
"""

from __future__ import annotations

import io
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import orjson

from .errors import InputError
from .sources.ids import version_number


@dataclass
class Done:
    """What an existing table already holds, by paper id."""

    versions: dict[str, int] = field(default_factory=dict)
    errors: set[str] = field(default_factory=set)
    lines: int = 0
    superseded: int = 0  # lines that a later line for the same id replaces


@contextmanager
def atomic_write(path: str, mode: str = "w", **kw) -> Iterator[io.IOBase]:
    """Write to a temp file beside `path` and rename it over `path` only when complete: a failed
    or interrupted write never truncates what was there."""
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, mode, **kw) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def iter_json_lines(path: str, key: str, what: str) -> Iterator[tuple[int, dict]]:
    """Yield (line number, object) for each JSON line of `path` that has `key`; anything else is an
    InputError naming the line. A partial last line (a killed writer) is skipped."""
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    with f:
        for lineno, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError:
                if not raw.endswith(b"\n"):
                    continue  # a partial last line from a killed run: not a record
                raise InputError(f"{path}:{lineno}: not {what} (not valid JSON)") from None
            if not isinstance(obj, dict) or key not in obj:
                raise InputError(f"{path}:{lineno}: not {what}")
            yield lineno, obj


def iter_table(path: str) -> Iterator[tuple[int, dict]]:
    """Yield (line number, record) from a JSONL table; a broken line is an error naming it."""
    return iter_json_lines(path, "id", "an extractor record")


def read_done(path: str) -> Done:
    done = Done()
    if not os.path.exists(path):
        return done
    for _, rec in iter_table(path):
        done.lines += 1
        pid = rec["id"]
        v = version_number(rec.get("version"))
        if pid in done.versions:
            done.superseded += 1
        done.versions[pid] = max(v, done.versions.get(pid, 0))
        if rec.get("status") == "error":
            done.errors.add(pid)
        else:
            done.errors.discard(pid)
    return done


class TableWriter:
    """Append whole JSON lines; safe to kill at any moment."""

    def __init__(self, path: str, fsync_seconds: float = 1.0):
        self.path = path
        self.fsync_seconds = fsync_seconds
        self._last_sync = time.monotonic()
        self._f = None  # opened on the first record: a run that writes nothing creates nothing

    def write(self, record_json: bytes) -> None:
        if self._f is None:
            _trim_partial_line(self.path)
            self._f = open(self.path, "ab")
        # flushed per line: a killed process loses at most the line being written; fsynced once a
        # second (and on close), so a power cut costs at most a second of work
        self._f.write(record_json + b"\n")
        self._f.flush()
        now = time.monotonic()
        if now - self._last_sync >= self.fsync_seconds:
            os.fsync(self._f.fileno())
            self._last_sync = now

    def close(self) -> None:
        if self._f is not None and not self._f.closed:
            self._f.flush()
            os.fsync(self._f.fileno())
            self._f.close()

    def __enter__(self) -> "TableWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _trim_partial_line(path: str) -> None:
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return
    with open(path, "rb+") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return
        # walk back to the last newline; everything after it is an unfinished record
        size = f.seek(0, os.SEEK_END)
        pos = size
        block = 1 << 16
        while pos > 0:
            start = max(0, pos - block)
            f.seek(start)
            chunk = f.read(pos - start)
            i = chunk.rfind(b"\n")
            if i >= 0:
                f.truncate(start + i + 1)
                return
            pos = start
        f.truncate(0)


def compact(path: str) -> int:
    """Keep one line per id: the highest version, and among equals the last written.

    Two passes over the file (constant memory apart from the id -> line map); rewrites through a
    temp file and os.replace, so a crash leaves the old file intact. Returns lines dropped.
    """
    keep: dict[str, tuple[int, int]] = {}
    for lineno, rec in iter_table(path):
        v = version_number(rec.get("version"))
        cur = keep.get(rec["id"])
        if cur is None or v >= cur[0]:
            keep[rec["id"]] = (v, lineno)
    wanted = {ln for _, ln in keep.values()}
    dropped = 0
    with open(path, "rb") as src, atomic_write(path, "wb") as dst:
        for lineno, raw in enumerate(src, start=1):
            if not raw.strip():
                continue
            if lineno in wanted:
                dst.write(raw if raw.endswith(b"\n") else raw + b"\n")
            else:
                dropped += 1
    return dropped


def load_records(path: str) -> list[dict]:
    """The table as readers should see it: one record per id (the highest version, the last
    written among equals, as compact() would keep), in first-seen order."""
    order: dict[str, int] = {}
    latest: dict[str, tuple[int, dict]] = {}
    for _, rec in iter_table(path):
        pid = rec["id"]
        order.setdefault(pid, len(order))
        v = version_number(rec.get("version"))
        if pid not in latest or v >= latest[pid][0]:
            latest[pid] = (v, rec)
    if not latest:
        raise InputError(f"{path}: the table is empty")
    return [latest[pid][1] for pid in sorted(order, key=order.get)]


def dumps(record) -> bytes:
    """Serialise a Record (pydantic) or dict to one JSON line (no newline)."""
    ser = getattr(record, "__pydantic_serializer__", None)
    if ser is not None:
        return ser.to_json(record)  # model_dump_json without its str round trip
    return orjson.dumps(record)
