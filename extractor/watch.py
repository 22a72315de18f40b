"""Watch a field: one query kept with its table; each run fetches only what is new or updated, and
no run ever leaves a gap behind it.

The query lives in a sidecar beside the table, `<table>.watch.json` (a small JSON file, rewritten
atomically): the query, when the table started watching it, every query it watched before
(`--query-changed`), what each run did, and the watch's own cursor:

- `covered_until`: every paper of the query updated before this time has been fetched and written.
- `window`: the span of updates being covered now, `[since, until]`, and how many of its papers
  (`offset`, in arXiv's order) are settled: written to the table, or already there. A window is
  fixed when it is opened; it advances page by page as pages are settled, and is closed (and
  `covered_until` moved to its `until`) only when every page of it has been fetched and settled.

So a run that is killed, interrupted or stopped by `--max` leaves the window open, and the next run
continues it from where it stopped (one page early: a page whose papers moved is read again, and
its settled papers are skipped as done). The cursor is the watch's own, never a date read from a
feed: an entry dated 2099 cannot blind later runs.

arXiv dates a version by its submission and announces it up to a few days later, so a paper can
appear with a date before the last run. Each new window therefore reaches back `lookback` days
before `covered_until`; the papers there that the table already holds are skipped. The first run
of a query fetches its newest `--max` papers (newest first); later windows are read oldest first.

An RSS / Atom URL is read whole each run; entries dated before the window's start are dropped and
entries already in the table skipped; `--max` leaves the rest for the next run, which reads the
feed again. Dates read from a feed are clamped to now.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Optional

import orjson

from .core.errors import InputError
from .core.files import atomic_write, read_json
from .exports.digest import digest_format, write_digest
from .pipeline import Pipeline, RunOptions
from .schema import Paper
from .sources import read_papers
from .sources.arxiv_api import ArxivClient, parse_page
from .store import iter_table, load_records

MAX_STATE = 1 << 20  # bytes of a watch file a run reads (it holds a few hundred bytes per run)
KEEP_RUNS = 100  # runs remembered in the watch file
PAGE = 100  # papers per arXiv request
LOOKBACK_DAYS = 3.0  # how far each new window reaches back before the covered time
ISO = "%Y-%m-%dT%H:%M:%SZ"


def state_path(table: str) -> str:
    return table + ".watch.json"


@dataclass
class Window:
    """The span of updates a watch is covering: `[since, until]` (`since` None: the query's newest
    `limit` papers, a first run), read in `order`, `offset` papers of it settled so far."""

    until: str
    since: Optional[str] = None
    order: str = "ascending"
    offset: int = 0
    limit: Optional[int] = None  # a first window: its papers at most
    total: Optional[int] = None  # what arXiv said the window holds, at its last page

    def remaining(self) -> Optional[int]:
        if self.total is None:
            return None
        end = self.total if self.limit is None else min(self.total, self.limit)
        return max(0, end - self.offset)


@dataclass
class WatchState:
    query: str
    since: str  # when this table started watching this query (UTC, ISO 8601)
    previous: list[dict] = field(default_factory=list)  # queries watched before: {query, since, until}
    runs: list[dict] = field(default_factory=list)  # the latest runs: {time, fetched, written, ...}
    covered_until: Optional[str] = None  # every paper updated before this is in the table
    window: Optional[Window] = None  # the window being covered, when one is open

    @property
    def kind(self) -> str:
        return kind_of(self.query)


def kind_of(query: str) -> str:
    """ "feed" for an RSS / Atom URL, "arxiv" for an arXiv API search_query."""
    return "feed" if query.startswith(("http://", "https://")) else "arxiv"


def _iso(d: datetime) -> str:
    return d.astimezone(UTC).strftime(ISO)


def load_state(table: str) -> Optional[WatchState]:
    path = state_path(table)
    try:
        d = read_json(path, "a watch file", MAX_STATE)
    except InputError as e:
        if str(e).endswith("no such file"):
            return None
        reason = str(e).removeprefix(f"{path}: ")
        raise InputError(
            f"{path}: not a watch file extractor can read ({reason}); move it away to start watching afresh "
            "(the table is not affected)"
        ) from None
    try:
        if not isinstance(d, dict):
            raise TypeError("not an object")
        w = d.get("window")
        window = None
        if w is not None:
            window = Window(
                until=_checked_date(w["until"]),
                since=_checked_date(w["since"]) if w.get("since") is not None else None,
                order=w.get("order") if w.get("order") in ("ascending", "descending") else "ascending",
                offset=_count(w.get("offset", 0)),
                limit=_count(w["limit"]) if w.get("limit") is not None else None,
                total=_count(w["total"]) if w.get("total") is not None else None,
            )
        runs = d.get("runs") or []
        previous = d.get("previous") or []
        if not isinstance(runs, list) or not isinstance(previous, list):
            raise TypeError("runs and previous are lists")
        return WatchState(
            query=_text(d["query"]),
            since=_text(d["since"]),
            previous=[x for x in previous if isinstance(x, dict)],
            runs=[x for x in runs if isinstance(x, dict)],
            covered_until=_checked_date(d["covered_until"]) if d.get("covered_until") is not None else None,
            window=window,
        )
    except (ValueError, KeyError, TypeError) as e:
        raise InputError(
            f"{path}: not a watch file extractor can read ({e.__class__.__name__}: {e}); move it away to "
            "start watching afresh (the table is not affected)"
        ) from None


def _text(v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError("a text is expected")
    return v


def _count(v: Any) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise TypeError("a count is expected")
    return v


def _checked_date(v: Any) -> str:
    d = when(_text(v))
    if d is None:
        raise ValueError(f"{v!r} is not a date")
    return _iso(d)


def save_state(table: str, st: WatchState) -> None:
    st.runs = st.runs[-KEEP_RUNS:]
    data = asdict(st)
    with atomic_write(state_path(table), "wb") as f:
        f.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")


def start_state(st: Optional[WatchState], query: str, started: str) -> WatchState:
    """The state a run works on: a new query (or none yet) starts afresh, the queries watched
    before kept."""
    if st is not None and st.query == query:
        return st
    previous = list(st.previous) if st else []
    if st is not None:
        previous.append({"query": st.query, "since": st.since, "until": started})
    return WatchState(query=query, since=started, previous=previous, runs=list(st.runs) if st else [])


FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


def when(text: Optional[str]) -> Optional[datetime]:
    """An Atom (ISO 8601) or RSS (RFC 2822) date as an aware datetime in UTC; None if it is neither.
    A date past what a datetime holds once in UTC (`9999-12-31T23:59:59-14:00`) is the far future."""
    if not text or not isinstance(text, str) or len(text) > 64:
        return None
    t = text.strip()
    try:
        d = datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        try:
            d = parsedate_to_datetime(t)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    try:
        return d.astimezone(UTC)
    except OverflowError:
        return FAR_FUTURE if d.year > 2000 else None


def clamped(text: Optional[str], now: datetime) -> Optional[datetime]:
    """A date read from a feed, never later than now (a wrong clock or a hostile feed)."""
    d = when(text)
    return None if d is None else min(d, now)


def newest_updated(table: str, now: Optional[datetime] = None) -> Optional[datetime]:
    """The newest `updated` (else `published`) date of the table's records, clamped to now: where a
    watch file without a cursor (written before it had one) starts."""
    import os

    if not os.path.exists(table):
        return None
    now = now or datetime.now(UTC)
    newest = None
    for _, rec in iter_table(table):
        d = clamped(rec.get("updated"), now) or clamped(rec.get("published"), now)
        if d is not None and (newest is None or d > newest):
            newest = d
    return newest


def table_query(table: str) -> Optional[str]:
    """The arXiv query or URL a table's records were read from, when they all came from one
    (`provenance.source` is `arxiv:<query>#<n>` or `<url>#<n>`); None for files, several sources
    or an empty table."""
    import os

    if not os.path.exists(table):
        return None
    found: set[str] = set()
    for _, rec in iter_table(table):
        src = (rec.get("provenance") or {}).get("source") or ""
        src = src.rsplit("#", 1)[0] if isinstance(src, str) else ""
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


def windowed(query: str, w: Window) -> str:
    """The query restricted to papers updated in the window (arXiv's minute resolution)."""
    if w.since is None:
        return query
    fmt = "%Y%m%d%H%M"
    lo, hi = when(w.since), when(w.until)
    assert lo is not None and hi is not None
    return f"({query}) AND lastUpdatedDate:[{lo.strftime(fmt)} TO {hi.strftime(fmt)}]"


def open_window(
    st: WatchState, table: str, max_results: int, now: datetime, lookback_days: float = LOOKBACK_DAYS
) -> tuple[Window, bool]:
    """The window this run covers: the open one, continued (True), or a new one from the covered
    time (or, for a watch file without a cursor, the table's newest paper), reaching back
    `lookback_days`; a first run's window is the query's newest `max_results` papers."""
    if st.window is not None:
        return st.window, True
    start = when(st.covered_until) if st.covered_until else newest_updated(table, now)
    if start is None:
        return Window(until=_iso(now), order="descending", limit=max_results), False
    since = min(start, now) - timedelta(days=lookback_days)
    return Window(until=_iso(now), since=_iso(since), order="ascending"), False


@dataclass
class Fetched:
    """What a run fetched: the papers (as they come), the requests, entries that are not papers."""

    requests: int = 0
    fetched: int = 0  # entries read from the source this run
    new: int = 0  # of them, papers the table did not hold at that version
    skipped: list[str] = field(default_factory=list)  # entries that are not usable papers, one line each
    complete: bool = False  # the whole window was fetched (and, once settled, is covered)


class Cursor:
    """Moves a window's offset past each page once all its papers are settled (written, or found
    already done), and saves the watch file then: a kill loses no more than the pages in flight.
    Told from the pipeline's threads, so it takes a lock."""

    def __init__(self, st: WatchState, table: str, save: bool = True):
        self.st = st
        self.table = table
        self.save = save
        self._lock = threading.Lock()
        self._pages: list[tuple[int, list[str]]] = []  # (offset after the page, ids not yet settled)
        self.saved = 0

    def page(self, end: int, ids: list[str]) -> None:
        """A page was fetched: the window's offset moves to `end` once `ids` are all settled."""
        with self._lock:
            self._pages.append((end, list(ids)))
            self._advance()

    def settled(self, pid: str) -> None:
        with self._lock:
            for _, ids in self._pages:
                if pid in ids:
                    ids.remove(pid)
                    break
            self._advance()

    def _advance(self) -> None:
        moved = False
        while self._pages and not self._pages[0][1]:
            end, _ = self._pages.pop(0)
            assert self.st.window is not None
            self.st.window.offset = max(self.st.window.offset, end)
            moved = True
        if moved and self.save:
            save_state(self.table, self.st)
            self.saved += 1

    def all_settled(self) -> bool:
        with self._lock:
            return not self._pages


def arxiv_papers(
    query: str,
    w: Window,
    resumed: bool,
    max_results: int,
    client: ArxivClient,
    got: Fetched,
    cursor: Cursor,
    known: Callable[[Paper], bool] = lambda p: False,
    log: Callable[[str], None] = lambda s: None,
) -> Iterator[Paper]:
    """The window's papers, page by page from its offset (one page early when continuing a window
    a run left open), until `max_results` papers the table does not hold yet (`known` tells; the
    ones it holds cost a read, not a place). Sets `got.complete` when the window ends."""
    start = max(0, w.offset - PAGE) if resumed else w.offset
    end = w.limit if w.limit is not None else w.total
    q = windowed(query, w)
    while True:
        if end is not None and start >= end:
            got.complete = True
            return
        if got.new >= max_results:
            return
        size = PAGE if end is None else min(PAGE, end - start)
        body = client.get_page(q, start, size, "lastUpdatedDate", w.order)
        got.requests = client.requests
        total, n, items = parse_page(body, f"arXiv API page at start={start}", f"arxiv:{query}")
        if total is not None:
            w.total = total
            end = total if w.limit is None else min(total, w.limit)
        take = len(items)
        for i, item in enumerate(items):
            if isinstance(item, Paper) and not known(item):
                if got.new >= max_results:
                    take = i  # the rest of the page is the next run's
                    break
                got.new += 1
        papers = [x for x in items[:take] if isinstance(x, Paper)]
        got.skipped += [str(x) for x in items[:take] if isinstance(x, InputError)]
        got.fetched += take
        start += take
        cursor.page(start, [p.id for p in papers])
        if end is not None:
            log(f"fetched {got.fetched} entries this run ({got.new} new); {min(start, end)} of {end} in the window")
        yield from papers
        if take < len(items):
            return
        if n < size and not (end is not None and start >= end):
            if end is None:
                got.complete = True  # no count given: a short page is the end
            else:
                # arXiv at times serves a short or empty page mid-way: not the end of the window
                log(f"arXiv answered {n} of {size} papers at start={start - n}; the next run continues from there")
            return


def feed_papers(
    url: str,
    w: Window,
    max_results: int,
    got: Fetched,
    cursor: Cursor,
    now: datetime,
    known: Callable[[Paper], bool] = lambda p: False,
) -> Iterator[Paper]:
    """The feed's entries dated in the window (dates clamped to now), at most `max_results`."""
    since = when(w.since) if w.since else None
    papers: list[Paper] = []
    got.requests = 1
    capped = False
    for item in read_papers(url):
        if isinstance(item, InputError):
            got.skipped.append(str(item))
            continue
        d = clamped(item.updated, now) or clamped(item.published, now)
        if since is not None and d is not None and d < since:
            continue
        if not known(item):
            if got.new >= max_results:
                capped = True
                break
            got.new += 1
        papers.append(item)
    got.fetched = len(papers)
    got.complete = not capped
    cursor.page(0, [p.id for p in papers])
    yield from papers


def close_window(st: WatchState, got: Fetched, cursor: Cursor) -> bool:
    """After a run: the window is covered when it was fetched whole and every paper is settled;
    then `covered_until` moves to its end and no window stays open. True when it closed."""
    if got.complete and cursor.all_settled() and st.window is not None:
        st.covered_until = st.window.until
        st.window = None
        return True
    return False


def record_run(st: WatchState, started: str, w: Window, got: Fetched, summary: Any, closed: bool) -> None:
    st.runs.append(
        {
            "time": started,
            "since": w.since,
            "until": w.until,
            "fetched": got.fetched,
            "new": got.new,
            "written": summary.papers,
            "requests": got.requests,
            "carried": summary.carried,
            "uncarried": summary.uncarried,
            "window_closed": closed,
        }
    )


@dataclass
class WatchRun:
    """What one `watch` run did: the run's summary, what was fetched, whether the window closed, and
    the watch state as saved."""

    summary: Any
    fetched: Fetched
    closed: bool
    state: WatchState
    written: list[str]  # ids of the records this run wrote (the digest's papers)


def run(
    query: str,
    output: str,
    engine: Any,
    *,
    digest: Optional[str] = None,
    query_changed: bool = False,
    arxiv_url: Optional[str] = None,
    max_results: int = 1000,
    lookback: float = 3.0,
    delay: float = 3.0,
    note: Callable[[str], None] = lambda s: None,
    warn: Callable[[str], None] = lambda s: None,
) -> WatchRun:
    """One watch run: what is new or updated for `query` since the last run, extracted with `engine`
    and appended to `output`; the watch state saved beside the table; `digest` (.md or .html) says
    what this run found. A run that stops (killed, --max) is continued by the next."""
    now = datetime.now(UTC)
    started = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    if digest:
        digest_format(digest)  # refused before any request
    st0 = load_state(output)
    check_query(output, query, st0, query_changed)
    st = start_state(st0, query, started)
    window, resumed = open_window(st, output, max_results, now, lookback)
    st.window = window
    if resumed:
        note(f"continuing the window {window.since or 'start'} .. {window.until} from paper {window.offset}")
    got = Fetched()
    cursor = Cursor(st, output)
    pipe = Pipeline(
        engine,
        RunOptions(inputs=[], output=output, track_written=True, workers=1),
        warn=warn,
        on_settled=cursor.settled,
    )
    client = None
    try:
        if kind_of(query) == "feed":
            papers = feed_papers(query, window, max_results, got, cursor, now, pipe.holds)
        else:
            client = ArxivClient(base_url=arxiv_url, delay=delay, log=note)
            papers = arxiv_papers(query, window, resumed, max_results, client, got, cursor, pipe.holds, note)
        pipe.opts.papers = papers
        summary = pipe.run()
    finally:
        if client is not None:
            client.close()
    closed = close_window(st, got, cursor)
    record_run(st, started, window, got, summary, closed)
    save_state(output, st)
    if digest:
        has_rows = os.path.exists(output) and next(iter_table(output), None) is not None
        records = load_records(output) if has_rows else []
        write_digest(records, set(pipe.written), digest, query, started)
    return WatchRun(summary, got, closed, st, pipe.written)
