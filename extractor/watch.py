"""Watch a field: one query kept with its table; each run fetches only what is new or updated.

The query lives in a sidecar beside the table, `<table>.watch.json` (a small JSON file, rewritten
atomically after each successful run): the query, when the table started watching it, every query
it watched before (`--query-changed`), and what each run did. The table itself stays plain records.

Each run asks arXiv for the query's papers updated since the newest `updated` date the table holds
(`lastUpdatedDate:[since TO now]`, newest first, paged, one request every 3 s as in `fetch`); an RSS
/ Atom URL is read whole and its entries older than that date are dropped. The papers go through the
normal pipeline: the ones the table already holds at that version are skipped, new versions
supersede old ones and carry their review decisions (`extractor.reviews`). With nothing new, a run
makes one request and changes nothing in the table.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Optional

from .errors import InputError
from .schema import Paper
from .sources import read_papers
from .sources.arxiv_api import ArxivClient
from .sources.feeds import papers_from_elements
from .store import atomic_write, iter_table

MAX_STATE = 1 << 20  # bytes of a sidecar a run reads (it holds a few hundred bytes per run)
KEEP_RUNS = 100  # runs remembered in the sidecar


def state_path(table: str) -> str:
    return table + ".watch.json"


@dataclass
class WatchState:
    query: str
    since: str  # when this table started watching this query (UTC, ISO 8601)
    previous: list[dict] = field(default_factory=list)  # queries watched before: {query, since, until}
    runs: list[dict] = field(default_factory=list)  # the latest runs: {time, fetched, new, requests}

    @property
    def kind(self) -> str:
        return kind_of(self.query)


def kind_of(query: str) -> str:
    """ "feed" for an RSS / Atom URL, "arxiv" for an arXiv API search_query."""
    return "feed" if query.startswith(("http://", "https://")) else "arxiv"


def load_state(table: str) -> Optional[WatchState]:
    path = state_path(table)
    if not os.path.exists(path):
        return None
    try:
        if os.path.getsize(path) > MAX_STATE:
            raise ValueError("too large")
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        return WatchState(
            query=str(d["query"]),
            since=str(d["since"]),
            previous=list(d.get("previous") or []),
            runs=list(d.get("runs") or []),
        )
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InputError(
            f"{path}: not a watch file extractor can read ({e.__class__.__name__}); move it away to "
            "start watching afresh (the table is not affected)"
        ) from None


def save_state(table: str, st: WatchState) -> None:
    st.runs = st.runs[-KEEP_RUNS:]
    with atomic_write(state_path(table), "w", encoding="utf-8") as f:
        f.write(json.dumps(asdict(st), indent=2, ensure_ascii=False) + "\n")


def record_run(
    st: Optional[WatchState], query: str, started: str, since: Optional[datetime], got: Fetched, summary: Any
) -> WatchState:
    """The watch file after a run: a new query (or none yet) starts a new state, the queries
    watched before kept; the run is appended."""
    if st is None or st.query != query:
        previous = list(st.previous) if st else []
        if st is not None:
            previous.append({"query": st.query, "since": st.since, "until": started})
        st = WatchState(query=query, since=started, previous=previous, runs=list(st.runs) if st else [])
    st.runs.append(
        {
            "time": started,
            "since": since.strftime("%Y-%m-%dT%H:%M:%SZ") if since else None,
            "fetched": len(got.papers),
            "written": summary.papers,
            "requests": got.requests,
            "carried": summary.carried,
            "uncarried": summary.uncarried,
        }
    )
    return st


def when(text: Optional[str]) -> Optional[datetime]:
    """An Atom (ISO 8601) or RSS (RFC 2822) date as an aware datetime; None if it is neither."""
    if not text or not isinstance(text, str):
        return None
    t = text.strip()
    try:
        d = datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        try:
            d = parsedate_to_datetime(t)
        except (TypeError, ValueError, IndexError):
            return None
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def newest_updated(table: str) -> Optional[datetime]:
    """The newest `updated` (else `published`) date of the table's records, read in one pass."""
    if not os.path.exists(table):
        return None
    newest = None
    for _, rec in iter_table(table):
        d = when(rec.get("updated")) or when(rec.get("published"))
        if d is not None and (newest is None or d > newest):
            newest = d
    return newest


def table_query(table: str) -> Optional[str]:
    """The arXiv query or URL a table's records were read from, when they all came from one
    (`provenance.source` is `arxiv:<query>#<n>` or `<url>#<n>`); None for files, several sources
    or an empty table."""
    if not os.path.exists(table):
        return None
    found: set[str] = set()
    for _, rec in iter_table(table):
        src = (rec.get("provenance") or {}).get("source") or ""
        src = src.rsplit("#", 1)[0]
        if src.startswith("arxiv:"):
            found.add(src[len("arxiv:") :])
        elif src.startswith(("http://", "https://")):
            found.add(src)
        else:
            return None
        if len(found) > 1:
            return None
    return next(iter(found)) if found else None


def check_query(table: str, query: str, st: Optional[WatchState], query_changed: bool) -> None:
    """Refuse a run whose query is not the table's, unless --query-changed says so."""
    if query_changed:
        return
    if st is not None and st.query != query:
        raise InputError(
            f"{table} watches {st.query!r} (since {st.since}), not {query!r}; give that query, use "
            "another table, or add --query-changed to watch the new query in this table from now on"
        )
    if st is None:
        other = table_query(table)
        if other is not None and other != query:
            raise InputError(
                f"{table} was written from {other!r}, not {query!r}; watch that query, use another "
                "table, or add --query-changed to watch the new query in this table"
            )


def window(query: str, since: Optional[datetime], until: datetime) -> str:
    """The query restricted to papers updated in [since, until] (arXiv's minute resolution: the
    newest paper already in the table comes back, and is skipped as done)."""
    if since is None:
        return query
    fmt = "%Y%m%d%H%M"
    return f"({query}) AND lastUpdatedDate:[{since.astimezone(UTC).strftime(fmt)} TO {until.strftime(fmt)}]"


@dataclass
class Fetched:
    papers: list[Paper]
    requests: int
    skipped: list[str]  # entries that are not usable papers, one line each


def fetch_new(
    query: str,
    since: Optional[datetime],
    max_results: int,
    client: Optional[ArxivClient] = None,
    log: Callable[[str], None] = lambda s: None,
) -> Fetched:
    """The papers of `query` updated since `since` (all of them, newest first, up to max_results,
    on a first run). An unreachable source, an arXiv error entry or a broken feed raise InputError."""
    papers: list[Paper] = []
    skipped: list[str] = []
    if kind_of(query) == "feed":
        items = read_papers(query)
        requests = 1
    else:
        own = client is None
        client = client or ArxivClient(log=log)
        now = datetime.now(UTC)
        try:
            entries = client.iter_entries(
                window(query, since, now),
                max_results,
                page_size=min(100, max_results),
                sort_by="lastUpdatedDate",
                sort_order="descending",
                empty_ok=True,
            )
            items = list(papers_from_elements(entries, f"arxiv:{query}"))  # type: ignore[assignment]
        finally:
            requests = client.requests
            if own:
                client.close()
    for item in items:
        if isinstance(item, InputError):
            skipped.append(str(item))
            continue
        updated = when(item.updated) or when(item.published)
        if since is not None and updated is not None and updated < since:
            continue  # a feed's older entries
        papers.append(item)
        if len(papers) >= max_results:
            break
    return Fetched(papers, requests, skipped)
