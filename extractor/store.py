"""The output table: append-only JSONL that survives crashes, one writer at a time, and resume
state read from it.

Each record is one `write()` of one whole line to a file opened in append mode, flushed (and
fsynced once a second). A `kill -9` can leave at most a partial last line, which the next run trims
before it appends. Superseded lines (an older arXiv version, an error later retried) are dropped
by `compact()`, which rewrites through a temp file and an atomic rename, under the table's lock.
One table has one writer: every run that writes a table holds an exclusive `fcntl.flock` on
`<table>.lock` for as long as it runs; a second writer is refused, naming the holder's pid. Where
there is no fcntl (Windows), the lock is filelock's on the same file (msvcrt's byte lock).
"""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Optional

import orjson
from pydantic import BaseModel, ValidationError

from .core.errors import InputError, has_secrets, redact_bytes, redact_obj
from .core.files import atomic_write, check_output, clean_stale_temps, json_lines
from .core.ids import version_number
from .core.limits import IDS_IN_MEMORY, size
from .core.lines import bounded_lines
from .schema import StoredField, StoredNumber, StoredRecord

try:
    import fcntl
except ImportError:  # Windows: no flock; filelock's lock instead (TableLock)
    fcntl = None  # type: ignore[assignment]

MAX_LINE = 8 * 1024 * 1024  # bytes of one table line a reader takes (a record is a few KB)


class TableLock:
    """One table, one writer: an exclusive flock on `<table>.lock` and on the table's own file,
    held until released (or the process ends, however it ends: the kernel drops the locks of a
    killed process).

    The lock file is opened without following a symbolic link (a link there would make a run
    truncate its target) and must be a regular file. The table's own inode is locked too, so that
    a lock file deleted while a run holds it (a "stale lock" clean-up) does not let a second writer
    in: the second run gets the new lock file, and is refused at the table. Whoever replaces the
    table's file (compaction, review apply) locks the new file before the old one is let go."""

    def __init__(self, table: str):
        self.table = table
        self.path = table + ".lock"
        self._fd: Optional[int] = None
        self._table_fd: Optional[int] = None
        self._portable: Any = None  # filelock's lock, where there is no fcntl

    def acquire(self) -> TableLock:
        if fcntl is None:
            return self._acquire_portable()
        for _ in range(10):
            fd = self._open_lock_file()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
                os.close(fd)
                raise self._busy(holder) from None
            # the file may have been removed or replaced between the open and the lock: the lock
            # is only worth something on the file the path names now
            try:
                now = os.stat(self.path, follow_symlinks=False)
            except FileNotFoundError:
                now = None
            mine = os.fstat(fd)
            if now is not None and (now.st_dev, now.st_ino) == (mine.st_dev, mine.st_ino):
                break
            os.close(fd)
        else:
            raise InputError(f"{self.path}: the lock file keeps being replaced; is another program removing it?")
        self._fd = fd
        try:
            self.hold_table()
        except BaseException:
            self.release()
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        if os.path.exists(self.table) and not os.access(self.table, os.W_OK):
            self.release()
            raise InputError(f"{self.table}: cannot write (permission denied)")
        clean_stale_temps(self.table)  # copies a killed compaction left behind
        return self

    def _acquire_portable(self) -> TableLock:
        """The lock where there is no fcntl (Windows): filelock's, on the same lock file (msvcrt
        there; an exclusively created file elsewhere). It locks no inode of the table (a deleted
        lock file lets a second writer in), and names no holder."""
        import warnings

        with warnings.catch_warnings():  # on a POSIX system without fcntl it warns that its lock is "soft"
            warnings.simplefilter("ignore")
            import filelock

        if os.path.islink(self.path):
            raise InputError(f"{self.path} is a symbolic link; the lock must be a plain file (remove the link)")
        lock = filelock.FileLock(self.path, timeout=0)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise self._busy("unknown") from None
        except OSError as e:
            raise InputError(f"{self.table}: cannot write there ({e.strerror})") from None
        self._portable = lock
        if os.path.exists(self.table) and not os.access(self.table, os.W_OK):
            self.release()
            raise InputError(f"{self.table}: cannot write (permission denied)")
        clean_stale_temps(self.table)
        return self

    def _open_lock_file(self) -> int:
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            fd = os.open(self.path, flags, 0o644)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise InputError(
                    f"{self.path} is a symbolic link; the lock must be a plain file (remove the link)"
                ) from None
            raise InputError(f"{self.table}: cannot write there ({e.strerror})") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise InputError(f"{self.path}: not a regular file; the lock must be a plain file (remove it)")
        return fd

    def _busy(self, holder: str) -> InputError:
        return InputError(
            f"{self.table} is being written by another extractor run (pid {holder}); "
            "wait for it to finish, or write another table"
        )

    def hold_table(self) -> None:
        """Lock the file the table path names now (after it was created or replaced), and let go of
        the one held before. Refused when another run holds it."""
        if self._fd is None or fcntl is None:
            return
        try:
            fd = os.open(self.table, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            return  # no table yet: its writer locks it when it creates it
        except OSError as e:
            raise InputError(f"{self.table}: cannot read ({e.strerror})") from None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise InputError(f"{self.table}: not a regular file; give a file to write")
        if self._table_fd is not None:
            held = os.fstat(self._table_fd)
            if (held.st_dev, held.st_ino) == (st.st_dev, st.st_ino):
                os.close(fd)  # the file held already (a second lock on it would conflict with the first)
                return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            holder = "unknown"
            try:
                holder = os.pread(self._fd, 32, 0).decode("ascii", "replace").strip() or holder
            except OSError:
                pass
            raise self._busy(holder) from None
        old, self._table_fd = self._table_fd, fd
        if old is not None:
            os.close(old)

    @property
    def fd(self) -> Optional[int]:
        return self._fd

    def fds(self) -> list[int]:
        """The descriptors that hold the lock (a forked worker closes its copies)."""
        return [fd for fd in (self._fd, self._table_fd) if fd is not None]

    def release(self) -> None:
        if self._portable is not None:
            self._portable.release()
            self._portable = None
        if self._table_fd is not None:
            os.close(self._table_fd)
            self._table_fd = None
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> TableLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


class IdIndex:
    """id -> two integers (a version and a flag, or a line number) for every paper of a table or
    a run: in memory up to `limit` ids, in a temporary SQLite file past that, so that memory stays
    flat on any input (the Kaggle snapshot has 2.8 million ids)."""

    def __init__(self, limit: int = IDS_IN_MEMORY):
        self.limit = limit
        self._mem: dict[str, tuple[int, int]] = {}
        self._db: Optional[sqlite3.Connection] = None
        self._dir: Optional[str] = None
        self._pending = 0

    def _spill(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="extractor-ids-")
        db = sqlite3.connect(os.path.join(self._dir, "ids.sqlite"), isolation_level=None)
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-8000")  # 8 MB
        db.execute("CREATE TABLE ids (id TEXT PRIMARY KEY, a INTEGER, b INTEGER)")
        db.execute("BEGIN")
        db.executemany("INSERT INTO ids VALUES (?, ?, ?)", ((k, a, b) for k, (a, b) in self._mem.items()))
        self._mem = {}
        self._db = db

    def get(self, key: str) -> Optional[tuple[int, int]]:
        if self._db is None:
            return self._mem.get(key)
        row = self._db.execute("SELECT a, b FROM ids WHERE id = ?", (key,)).fetchone()
        return (row[0], row[1]) if row else None

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def set(self, key: str, a: int, b: int) -> None:
        if self._db is None:
            self._mem[key] = (a, b)
            if len(self._mem) > self.limit:
                self._spill()
            return
        self._db.execute("INSERT OR REPLACE INTO ids VALUES (?, ?, ?)", (key, a, b))
        self._pending += 1
        if self._pending >= 10_000:  # commit in batches: one transaction per insert is slow
            self._db.execute("COMMIT")
            self._db.execute("BEGIN")
            self._pending = 0

    def items(self) -> Iterator[tuple[str, tuple[int, int]]]:
        if self._db is None:
            yield from list(self._mem.items())
            return
        for k, a, b in self._db.execute("SELECT id, a, b FROM ids"):
            yield k, (a, b)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._dir is not None:
            for name in os.listdir(self._dir):
                os.unlink(os.path.join(self._dir, name))
            os.rmdir(self._dir)
            self._dir = None


@dataclass
class Done:
    """What an existing table already holds, by paper id: (highest version, 1 if its last line is
    an error record)."""

    index: IdIndex = field(default_factory=IdIndex)
    lines: int = 0
    superseded: int = 0  # lines that a later line for the same id replaces
    # the reviewed claims of each paper's latest line, for papers that have any (a person's work:
    # small, whatever the table's size), so that a new record for the paper can take them over
    reviews: dict[str, list[dict]] = field(default_factory=dict)

    def version(self, pid: str) -> Optional[int]:
        got = self.index.get(pid)
        return None if got is None else got[0]

    def is_error(self, pid: str) -> bool:
        got = self.index.get(pid)
        return bool(got and got[1])

    def close(self) -> None:
        self.index.close()


def iter_json_lines(
    path: str, key: str, what: str, cut_off: Optional[Callable[[int], None]] = None
) -> Iterator[tuple[int, dict]]:
    """Yield (line number, object) for each JSON line of `path` that has `key` (files.json_lines,
    with a table line's bound); a partial last line (a killed writer) is skipped, or told to
    `cut_off`."""
    return json_lines(path, key, what, MAX_LINE, cut_off)


def check_line(model: type[BaseModel], obj: Any, path: str, lineno: int, what: str, absent_ok: bool = False) -> None:
    """Hold one line read back to its contract (a pydantic model): anything else is an InputError
    naming the line and the first problem ("t.jsonl:7: not an extractor record
    (headline_numbers.0.value: Input should be a valid number)"). With `absent_ok`, a key left out is
    read as absent and only a key of the wrong shape counts. The line itself is not changed."""
    try:
        model.model_validate(obj)
    except ValidationError as e:
        wrong = [x for x in e.errors() if not (absent_ok and x["type"] == "missing")]
        if wrong:
            where = ".".join(str(x) for x in wrong[0]["loc"]) or "the line"
            raise InputError(f"{path}:{lineno}: not {what} ({where}: {wrong[0]['msg']})") from None


def iter_table(path: str) -> Iterator[tuple[int, dict]]:
    """Yield (line number, record) from a JSONL table; a broken line, or one whose id or version is
    not text, is an error naming it (resume, selection and compaction key on both)."""
    for lineno, rec in iter_json_lines(path, "id", "an extractor record"):
        if not isinstance(rec["id"], str) or not rec["id"]:
            raise InputError(f"{path}:{lineno}: not an extractor record (id: not text)")
        if not isinstance(rec.get("version"), (str, type(None))):
            raise InputError(f"{path}:{lineno}: not an extractor record (version: not text)")
        yield lineno, rec


def read_done(path: str) -> Done:
    done = Done()
    if not os.path.exists(path):
        return done
    for lineno, rec in iter_table(path):
        done.lines += 1
        pid = rec["id"]
        v = version_number(rec.get("version"))
        had = done.index.get(pid)
        if had is not None:
            done.superseded += 1
        if had is None or v >= had[0]:
            claims = reviewed_claims(rec)
            if claims:
                # a person's decisions are carried to the paper's next record: held to the contract
                # here, so a hand-edited review is one error naming its line, not a failure later
                for n in claims:
                    model = StoredField if "field_name" in n else StoredNumber
                    body = {k: v for k, v in n.items() if k != "field_name"}
                    check_line(model, body, path, lineno, "an extractor record (a reviewed claim)", absent_ok=True)
                done.reviews[pid] = claims
            else:
                done.reviews.pop(pid, None)
        done.index.set(pid, max(v, had[0] if had else 0), int(rec.get("status") == "error"))
    return done


def reviewed_claims(rec: dict) -> list[dict]:
    """The claims of a record that carry a reviewer's decision, and those it holds for later (an
    error record keeps the previous record's decisions as `pending_reviews`)."""
    nums = rec.get("headline_numbers")
    own = [n for n in nums if isinstance(n, dict) and _has_review(n)] if isinstance(nums, list) else []
    fields: dict = rec["fields"] if isinstance(rec.get("fields"), dict) else {}
    own += [
        {"field_name": name, **fv}  # a reviewed user field, told apart from claims by field_name
        for name, fv in fields.items()
        if isinstance(fv, dict) and _has_review(fv)
    ]
    pending = rec.get("pending_reviews")
    return own + ([n for n in pending if isinstance(n, dict)] if isinstance(pending, list) else [])


def _has_review(n: dict) -> bool:
    """A decision, or a review of another shape (a hand edit: the contract check names it)."""
    rv = n.get("review")
    return bool(rv.get("decision")) if isinstance(rv, dict) else rv is not None


class TableWriter:
    """Append whole JSON lines; safe to kill at any moment. No line it writes is one a reader
    refuses: a record past the line bound is cut down (`fit_line`), and secrets are scrubbed."""

    def __init__(self, path: str, fsync_seconds: float = 1.0, lock: Optional[TableLock] = None):
        self.path = path
        self.fsync_seconds = fsync_seconds
        self.lock = lock
        self._last_sync = time.monotonic()
        self._f: Optional[BinaryIO] = None  # opened on the first record: a run that writes nothing creates nothing

    def write(self, record_json: bytes) -> None:
        line = fit_line(scrub_secrets(record_json))
        try:
            if self._f is None:
                check_output(self.path)
                finish_last_line(self.path)
                self._f = open(self.path, "ab")
                if self.lock is not None:
                    self.lock.hold_table()  # a table this run just created is locked like any other
            # flushed per line: a killed process loses at most the line being written; fsynced once
            # a second (and on close), so a power cut costs at most a second of work
            self._f.write(line + b"\n")
            self._f.flush()
            now = time.monotonic()
            if now - self._last_sync >= self.fsync_seconds:
                os.fsync(self._f.fileno())
                self._last_sync = now
        except OSError as e:
            # a disk that is full: the line being written may be partial; the next run trims it
            raise InputError(f"{self.path}: cannot write ({e.strerror or e})") from None

    def close(self) -> None:
        if self._f is not None and not self._f.closed:
            try:
                self._f.flush()
                os.fsync(self._f.fileno())
            except OSError as e:
                raise InputError(f"{self.path}: cannot write ({e.strerror or e})") from None
            finally:
                try:
                    self._f.close()
                except OSError:
                    pass

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def scrub_secrets(line: bytes) -> bytes:
    """A line with every registered key replaced (a server can echo the Authorization header in an
    answer, and the answer is stored)."""
    return redact_bytes(line) if has_secrets() else line


def fit_line(line: bytes, limit: Optional[int] = None) -> bytes:
    """A record line within the bound every reader takes. Texts are capped where they are stored
    (records, reviews); this is the guarantee behind them: past the bound, the claims' copies of
    the model's answers go first, then the record becomes an error record that says why."""
    limit = limit or MAX_LINE
    if len(line) < limit:
        return line
    rec = orjson.loads(line)
    for n in rec.get("headline_numbers") or []:
        if isinstance(n, dict) and n.get("model_answer") is not None:
            n["model_answer"] = {"cut": "the model's answer was too large to store"}
    for fv in (rec.get("fields") or {}).values():
        if isinstance(fv, dict) and fv.get("model_answer") is not None:
            fv["model_answer"] = "the model's answer was too large to store"
    out = orjson.dumps(rec)
    if len(out) < limit:
        return out
    keep = {k: rec.get(k) for k in ("schema_version", "id", "version", "title", "abstract", "provenance", "usage")}
    keep.update(
        status="error",
        error=f"the record came to {len(out):,} bytes, more than a table line may hold ({size(limit)}); "
        "the answer was not stored",
    )
    return orjson.dumps(keep)


def finish_last_line(path: str) -> None:
    """Before appending: a last line without its newline is either a record a killed writer did not
    finish (cut away) or a complete one (a hand edit: kept, and its newline added)."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return
    with open(path, "rb+") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return
        # walk back to the last newline; what follows it is the last line
        end = f.seek(0, os.SEEK_END)
        pos = end
        block = 1 << 16
        cut = 0
        while pos > 0:
            start = max(0, pos - block)
            f.seek(start)
            chunk = f.read(pos - start)
            i = chunk.rfind(b"\n")
            if i >= 0:
                cut = start + i + 1
                break
            pos = start
        if end - cut <= MAX_LINE:
            f.seek(cut)
            try:
                rec = orjson.loads(f.read(end - cut))
            except orjson.JSONDecodeError:
                rec = None
            if isinstance(rec, dict) and "id" in rec:
                f.seek(0, os.SEEK_END)
                f.write(b"\n")
                return
        f.truncate(cut)


def compact(path: str, lock: Optional[TableLock] = None) -> int:
    """Keep one line per id: the highest version, and among equals the last written.

    Two passes over the file, with the id -> line map in an IdIndex (flat memory on any table);
    rewrites through a temp file and os.replace, so a crash leaves the old file intact. The caller
    holds the table's lock: no one else appends while the file is replaced. Returns lines dropped.
    """
    keep = IdIndex()
    try:
        for lineno, rec in iter_table(path):
            v = version_number(rec.get("version"))
            cur = keep.get(rec["id"])
            if cur is None or v >= cur[0]:
                keep.set(rec["id"], v, lineno)
        dropped = 0
        with open(path, "rb") as src, atomic_write(path, "wb") as dst:
            for lineno, raw, _ in bounded_lines(src, MAX_LINE):
                if raw is None or not raw.strip():
                    continue
                try:
                    pid = orjson.loads(raw)["id"]
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    continue  # a partial last line: iter_table skipped it too
                kept = keep.get(pid)
                if kept is not None and kept[1] == lineno:
                    dst.write(raw if raw.endswith(b"\n") else raw + b"\n")
                else:
                    dropped += 1
        if lock is not None:
            lock.hold_table()  # the new file, before anyone else can take it
    finally:
        keep.close()
    return dropped


def fields_hashes(path: str) -> set:
    """The field declarations' hashes (provenance.fields_hash; None: no fields) the table's
    records were extracted with; empty for a table that does not exist yet."""
    if not os.path.exists(path):
        return set()
    out = set()
    for _, rec in iter_table(path):
        prov = rec.get("provenance")
        if isinstance(prov, dict) and rec.get("status") == "ok":
            out.add(prov.get("fields_hash"))
    return out


def load_records(path: str) -> list[dict]:
    """The table as readers should see it: one record per id (the highest version, the last
    written among equals, as compact() would keep), in first-seen order. Each record is held to the
    JSONL contract (schema.StoredRecord: a Record, with its reviews): a field it holds must have the
    contract's type, so a line edited by hand into another shape is an error naming it, not a
    failure inside an export; a field left out is read as absent (predictions written by other tools
    for `eval`, tables of older schema versions). The records are returned as written: nothing the
    contract does not name is dropped."""
    order: dict[str, int] = {}
    latest: dict[str, tuple[int, int, dict]] = {}
    for lineno, rec in iter_table(path):
        pid = rec["id"]
        order.setdefault(pid, len(order))
        v = version_number(rec.get("version"))
        if pid not in latest or v >= latest[pid][0]:
            latest[pid] = (v, lineno, rec)
    if not latest:
        raise InputError(f"{path}: the table is empty")
    out = []
    for pid in sorted(order, key=lambda pid: order[pid]):
        _, lineno, rec = latest[pid]
        check_line(StoredRecord, rec, path, lineno, "an extractor record", absent_ok=True)
        out.append(redact_obj(rec) if has_secrets() else rec)  # a table written before keys were scrubbed
    return out


def dumps(record) -> bytes:
    """Serialise a Record (pydantic) or dict to one JSON line (no newline)."""
    ser = getattr(record, "__pydantic_serializer__", None)
    if ser is not None:
        return ser.to_json(record)  # model_dump_json without its str round trip
    return orjson.dumps(record)
