"""A local SQLite cache of LLM answers, so that no paper is paid for twice.

The key covers everything that decides the answer: engine, model, prompt hash (which includes
the schema), schema version, title and abstract. Only successful extractions are cached; error
records are retried on the next run that asks for it. The cache is an optimisation: any fault
(a locked, garbage or corrupt file, a bad row, a full disk) is one warning and the run goes on
without it; a record is always written before its answer is cached.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Optional

import orjson

from .core.errors import redact_bytes
from .schema import SCHEMA_VERSION

BUSY_SECONDS = 0.5  # how long to wait for a cache another process holds, before going on without it


def default_cache_path() -> str:
    from platformdirs import user_cache_dir

    return os.path.join(user_cache_dir("extractor"), "llm-cache.sqlite")


class Cache:
    def __init__(self, path: str, warn: Callable[[str], None] = lambda s: None):
        self.path = path
        self.warn = warn
        self.hits = 0
        self.misses = 0
        self.db: Optional[sqlite3.Connection] = None
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=BUSY_SECONDS)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value BLOB NOT NULL, created TEXT NOT NULL)"
            )
            db.execute("SELECT 1 FROM results LIMIT 1").fetchall()  # a corrupt file fails here, not later
            self.db = db
        except (sqlite3.Error, OSError) as e:
            self._give_up(e)

    def _give_up(self, e: BaseException) -> None:
        self.warn(f"warning: cache {self.path}: {e}; going on without the cache")
        if self.db is not None:
            try:
                self.db.close()
            except sqlite3.Error:
                pass
        self.db = None

    @property
    def usable(self) -> bool:
        return self.db is not None

    @staticmethod
    def key(engine: str, model: Optional[str], prompt_hash: Optional[str], title: str, abstract: str) -> str:
        h = hashlib.sha256()
        for part in (engine, model or "", prompt_hash or "", SCHEMA_VERSION, title, abstract):
            h.update(part.encode())
            h.update(b"\0")
        return h.hexdigest()

    def get(self, key: str) -> Optional[dict]:
        if self.db is None:
            return None
        try:
            row = self.db.execute("SELECT value FROM results WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as e:
            self._give_up(e)
            return None
        if row is None:
            self.misses += 1
            return None
        try:
            value = orjson.loads(row[0])
        except (orjson.JSONDecodeError, TypeError):
            value = None
        if not isinstance(value, dict):
            self.misses += 1  # a bad row is a miss; the paper is asked again and the row replaced
            return None
        self.hits += 1
        return value

    def put(self, key: str, value: dict) -> None:
        if self.db is None:
            return
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            self.db.execute(
                "INSERT OR REPLACE INTO results (key, value, created) VALUES (?, ?, ?)",
                (key, redact_bytes(orjson.dumps(value)), now),  # a key a server echoed is not kept
            )
        except sqlite3.Error as e:
            self._give_up(e)

    def close(self) -> None:
        if self.db is not None:
            try:
                self.db.close()
            except sqlite3.Error:
                pass
            self.db = None
