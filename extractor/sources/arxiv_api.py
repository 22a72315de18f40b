"""Client for the arXiv API (export.arxiv.org/api/query): paging, politeness, retries.

arXiv asks for at most one request every 3 seconds on one connection; throttled requests get
429/503 (often with Retry-After) or a 200 with the body "Rate exceeded.". A bad query returns
HTTP 200 with a single entry titled "Error".
"""

from __future__ import annotations

import io
import os
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from typing import Optional

import httpx
from tenacity import RetryCallState, retry, retry_if_exception_type, stop_after_attempt

from ..core.deadlines import retry_after
from ..core.errors import InputError
from ..core.files import atomic_write
from ..core.limits import MAX_API_PAGE, size
from .feeds import ATOM, iter_entry_elements

DEFAULT_BASE_URL = "https://export.arxiv.org/api/query"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"


class Throttled(Exception):
    def __init__(self, reason: str, retry_after: Optional[float] = None):
        super().__init__(reason)
        self.retry_after = retry_after


def _retry_after(resp: httpx.Response) -> Optional[float]:
    return retry_after(resp.headers)  # capped: the one deadline policy


def _wait(state: RetryCallState) -> float:
    """Honour Retry-After when the server sent one, else exponential backoff from 3 s."""
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, Throttled) and exc.retry_after is not None:
        return exc.retry_after
    base = float(os.environ.get("EXTRACTOR_ARXIV_BACKOFF", "3"))
    return min(base * 2 ** (state.attempt_number - 1), 120.0)


class ArxivClient:
    def __init__(
        self,
        base_url: str | None = None,
        delay: float = 3.0,
        attempts: int = 5,
        timeout: float = 30.0,
        log: Callable[[str], None] = lambda s: None,
    ):
        self.base_url = base_url or os.environ.get("EXTRACTOR_ARXIV_URL") or DEFAULT_BASE_URL
        self.delay = delay
        self.attempts = attempts
        self.log = log
        self.timeout = timeout
        self._last = 0.0
        self.requests = 0  # GET requests sent, retries included
        self._http = httpx.Client(timeout=timeout, headers={"User-Agent": "extractor (arXiv abstracts tool)"})

    def close(self) -> None:
        self._http.close()

    def _polite_wait(self) -> None:
        gap = time.monotonic() - self._last
        if self._last and gap < self.delay:
            time.sleep(self.delay - gap)

    def _get_once(self, params: dict) -> bytes:
        self._polite_wait()
        self.requests += 1
        try:
            resp, body = self._read(params)
        except httpx.TransportError as e:
            raise Throttled(f"cannot reach {self.base_url}: {e.__class__.__name__}") from None
        finally:
            self._last = time.monotonic()
        if resp.status_code in (429, 503):
            self.log(f"arXiv throttled (HTTP {resp.status_code}), retrying")
            raise Throttled(f"HTTP {resp.status_code}", _retry_after(resp))
        if resp.status_code >= 500:
            raise Throttled(f"HTTP {resp.status_code}", _retry_after(resp))
        if resp.status_code != 200:
            raise InputError(f"arXiv API: HTTP {resp.status_code} for {resp.url}")
        if body.strip().startswith(b"Rate exceeded"):
            self.log("arXiv says 'Rate exceeded.', retrying")
            raise Throttled("Rate exceeded.", _retry_after(resp))
        if not _is_atom_feed(body):
            # a login page, a proxy's error page, a captive portal: not "no results"
            start = " ".join(body[:60].decode("utf-8", "replace").split())
            raise InputError(f"arXiv API: the answer from {self.base_url} is not an Atom feed (it starts {start!r})")
        return body

    def _read(self, params: dict) -> tuple[httpx.Response, bytes]:
        """One GET, read with a size cap and a deadline for the whole reply (a server that drips a
        byte at a time cannot hold the run)."""
        deadline = time.monotonic() + self.timeout * 4
        chunks, got = [], 0
        with self._http.stream("GET", self.base_url, params=params) as resp:
            for chunk in resp.iter_bytes():
                got += len(chunk)
                if got > MAX_API_PAGE:
                    raise InputError(f"arXiv API: a page larger than {size(MAX_API_PAGE)}")
                if time.monotonic() > deadline:
                    raise Throttled(f"a page took longer than {self.timeout * 4:g} s")
                chunks.append(chunk)
        return resp, b"".join(chunks)

    def get_page(
        self, query: str, start: int, size: int, sort_by: str | None = None, sort_order: str | None = None
    ) -> bytes:
        params = {"search_query": query, "start": start, "max_results": size}
        if sort_by:
            params["sortBy"] = sort_by
        if sort_order:
            params["sortOrder"] = sort_order
        fetch = retry(
            retry=retry_if_exception_type(Throttled),
            stop=stop_after_attempt(self.attempts),
            wait=_wait,
            reraise=True,
        )(self._get_once)
        try:
            return fetch(params)
        except Throttled as e:
            raise InputError(f"arXiv API: gave up after {self.attempts} attempts ({e})") from None

    def iter_entries(
        self,
        query: str,
        max_results: int,
        page_size: int = 100,
        sort_by: str | None = None,
        sort_order: str | None = None,
        empty_ok: bool = False,
    ) -> Iterator[tuple[str, ET.Element]]:
        """Yield raw Atom entry elements across pages until max_results, the end of results, or a
        page that holds only entries already seen (arXiv at times serves a page twice). No result
        at all is an error unless `empty_ok` (a watch with nothing new)."""
        got = 0
        seen: set[str] = set()
        while got < max_results:
            size = min(page_size, max_results - got)
            body = self.get_page(query, got, size, sort_by, sort_order)
            total = _total_results(body)
            n = fresh = 0
            try:
                for kind, elem in iter_entry_elements(io.BytesIO(body), f"arXiv API page at start={got}"):
                    _raise_if_error_entry(elem)
                    n += 1
                    eid = (elem.findtext(f"{{{ATOM}}}id") or "").strip()
                    if eid in seen:
                        continue
                    seen.add(eid)
                    fresh += 1
                    yield kind, elem
            except InputError as e:
                if "feed has no entries" not in str(e):
                    raise
            got += n
            of = f" of {min(total, max_results)}" if total is not None else ""
            self.log(f"fetched {len(seen)}{of} entries")
            if n and not fresh:
                self.log(f"page at start={got - n} repeats entries already fetched: stopping")
                break
            if n == 0 or (total is not None and got >= total):
                break
        if got == 0 and not empty_ok:
            raise InputError(f"arXiv API: no results for query {query!r}")


_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?feed[\s>]")


def _is_atom_feed(body: bytes) -> bool:
    """The first element of the body is an Atom <feed> (after the XML declaration, comments and
    processing instructions)."""
    head = re.sub(rb"<\?.*?\?>|<!--.*?-->", b"", body[:4096], flags=re.S).lstrip()
    return bool(_ROOT.match(head)) and b"http://www.w3.org/2005/Atom" in body[:4096]


def parse_page(body: bytes, name: str, source: str) -> tuple[Optional[int], int, list]:
    """One API page: (totalResults, entries on it, a Paper or an InputError per entry). An arXiv
    error entry raises; a page with no entries is an empty list."""
    from .feeds import papers_from_elements

    n = 0
    out: list = []

    def elements():
        nonlocal n
        for kind, elem in iter_entry_elements(io.BytesIO(body), name):
            _raise_if_error_entry(elem)
            n += 1
            yield kind, elem

    try:
        out = list(papers_from_elements(elements(), source))
    except InputError as e:
        if "feed has no entries" not in str(e):
            raise
    return _total_results(body), n, out


def _total_results(body: bytes) -> Optional[int]:
    m = re.search(rb"<opensearch:totalResults[^>]*>(\d+)<", body)
    return int(m.group(1)) if m else None


def _raise_if_error_entry(elem: ET.Element) -> None:
    title = (elem.findtext(f"{{{ATOM}}}title") or "").strip()
    eid = elem.findtext(f"{{{ATOM}}}id") or ""
    if title == "Error" and "api/errors" in eid:
        summary = " ".join((elem.findtext(f"{{{ATOM}}}summary") or "").split())
        raise InputError(f"arXiv API error: {summary or 'query rejected'}")


def write_feed(entries: Iterator[tuple[str, ET.Element]], out_path: str, query: str) -> int:
    """Write entries as one Atom feed, atomically (temp file + rename). Returns the count."""
    n = 0
    with atomic_write(out_path, "wb") as f:
        f.write(b'<?xml version="1.0" encoding="UTF-8"?>\n')
        f.write(
            b'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom" '
            b'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">\n'
        )
        title = ET.Element(f"{{{ATOM}}}title")
        title.text = f"arXiv query: {query}"
        f.write(ET.tostring(title) + b"\n")
        for _, elem in entries:
            f.write(ET.tostring(elem) + b"\n")
            n += 1
        f.write(b"</feed>\n")
    return n
