"""A local SQLite cache of LLM extractions, so that no paper is paid for twice.

The key covers everything that decides the answer: engine, model, prompt hash (which includes
the schema), schema version, title and abstract. Only successful extractions are cached; error
records are retried on the next run that asks for it.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from datetime import datetime, timezone
from typing import Optional

import orjson

from .schema import SCHEMA_VERSION


def default_cache_path() -> str:
    from platformdirs import user_cache_dir

    return os.path.join(user_cache_dir("extractor"), "llm-cache.sqlite")


class Cache:
    def __init__(self, path: str):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value BLOB NOT NULL, created TEXT NOT NULL)")
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(engine: str, model: Optional[str], prompt_hash: Optional[str], title: str, abstract: str) -> str:
        h = hashlib.sha256()
        for part in (engine, model or "", prompt_hash or "", SCHEMA_VERSION, title, abstract):
            h.update(part.encode())
            h.update(b"\0")
        return h.hexdigest()

    def get(self, key: str) -> Optional[dict]:
        row = self.db.execute("SELECT value FROM results WHERE key = ?", (key,)).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return orjson.loads(row[0])

    def put(self, key: str, value: dict) -> None:
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.db.execute("INSERT OR REPLACE INTO results (key, value, created) VALUES (?, ?, ?)",
                        (key, orjson.dumps(value), now))

    def close(self) -> None:
        self.db.close()
