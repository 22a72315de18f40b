"""Atom and RSS feeds (arXiv API responses, arXiv RSS, any feed) -> Paper.

feedparser normalises entries (authors, links, arXiv extension elements, entities), but it
parses a whole document in memory. To keep memory flat for large files (a multi-page `fetch`
result can hold 30,000 entries), we stream the document with ElementTree.iterparse, cut it into
entries, and hand each entry to feedparser wrapped in a minimal feed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import BinaryIO

import feedparser

from ..analysis.text import collapse_ws
from ..core.errors import InputError
from ..core.ids import abs_url, split_arxiv_id
from ..core.limits import MAX_FEED_ENTRY, MAX_ID, size
from ..schema import Paper
from .authors import split_authors

ATOM = "http://www.w3.org/2005/Atom"
ARXIV = "http://arxiv.org/schemas/atom"
RSS1 = "http://purl.org/rss/1.0/"
ET.register_namespace("", ATOM)
ET.register_namespace("arxiv", ARXIV)
ET.register_namespace("opensearch", "http://a9.com/-/spec/opensearch/1.1/")
ET.register_namespace("dc", "http://purl.org/dc/elements/1.1/")

_ENTRY_TAGS = {f"{{{ATOM}}}entry": "atom", "item": "rss", f"{{{RSS1}}}item": "rss1"}
_RSS_ABSTRACT = re.compile(r"^arXiv:\S+\s+Announce Type:\s*\S+\s+Abstract:\s*", re.I)


class _Metered:
    """A stream that counts the bytes read since the last entry ended, and refuses past a limit:
    ElementTree holds an element whole, so a single entry of a gigabyte would be a gigabyte."""

    def __init__(self, stream: BinaryIO, name: str, limit: int):
        self.stream, self.name, self.limit = stream, name, limit
        self.since = 0
        self.entries = 0

    def read(self, n: int = -1) -> bytes:
        data = self.stream.read(n if n and n > 0 else 1 << 16)
        self.since += len(data)
        if self.since > self.limit:
            raise InputError(
                f"{self.name}: entry {self.entries + 1} is larger than {size(self.limit)} "
                "(the limit for one feed entry)"
            )
        return data


def iter_entry_elements(stream: BinaryIO, name: str) -> Iterator[tuple[str, ET.Element]]:
    """Yield (kind, element) for each entry/item, clearing parsed elements as we go."""
    root = None
    count = 0
    metered = _Metered(stream, name, MAX_FEED_ENTRY)
    try:
        for event, elem in ET.iterparse(metered, events=("start", "end")):  # type: ignore[arg-type]
            if event == "start":
                if root is None:
                    root = elem
                continue
            kind = _ENTRY_TAGS.get(elem.tag)
            if kind:
                count += 1
                metered.since, metered.entries = 0, count
                yield kind, elem
                elem.clear()
                if root is not None:
                    root.clear()  # drop finished entries so memory stays flat
    except ET.ParseError as e:
        line, col = getattr(e, "position", (0, 0))
        msg = str(e).split(":")[0]
        raise InputError(f"{name}:{line}:{col}: malformed XML ({msg})") from None
    if root is None:
        raise InputError(f"{name}: empty input, no XML document")
    if count == 0:
        raise InputError(f"{name}: feed has no entries")


def _wrap(kind: str, elem: ET.Element) -> bytes:
    body = ET.tostring(elem)
    if kind == "atom":
        return b'<feed xmlns="http://www.w3.org/2005/Atom">' + body + b"</feed>"
    if kind == "rss1":
        return (
            b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            b'xmlns="http://purl.org/rss/1.0/">' + body + b"</rdf:RDF>"
        )
    return b'<rss version="2.0"><channel>' + body + b"</channel></rss>"


def _authors(e) -> list[str]:
    names = [collapse_ws(a.get("name")) for a in e.get("authors", []) if a.get("name")]
    if len(names) == 1 and ("," in names[0] or " and " in names[0] or ";" in names[0]):
        # RSS dc:creator arrives as one author: "A, B and C", "Lamport, Leslie", "Kwon, W.; Li, Z."
        names = [collapse_ws(n) for n in split_authors(names[0])]
    return names


def entry_to_paper(entry, source: str) -> Paper:
    raw_id = entry.get("id") or entry.get("link") or ""
    if not raw_id:
        raise ValueError("entry has no id or link")
    if len(raw_id) > MAX_ID:
        raise ValueError(f"an id of {len(raw_id):,} characters (the limit is {MAX_ID})")
    pid, version = split_arxiv_id(raw_id)
    if pid == raw_id and entry.get("link"):
        pid, version = split_arxiv_id(entry["link"])
    abstract = collapse_ws(entry.get("summary"))
    abstract = _RSS_ABSTRACT.sub("", abstract)
    links = [link.get("href") for link in entry.get("links", []) if link.get("href")]
    pdf = next((link.get("href") for link in entry.get("links", []) if link.get("title") == "pdf"), None)
    cats = [t.get("term") for t in entry.get("tags", []) if t.get("term")]
    prim = (entry.get("arxiv_primary_category") or {}).get("term") or (cats[0] if cats else None)
    return Paper.of(
        id=pid,
        version=version,
        title=collapse_ws(entry.get("title")),
        abstract=abstract,
        authors=_authors(entry),
        published=entry.get("published"),
        updated=entry.get("updated"),
        categories=cats,
        primary_category=prim,
        url=abs_url(pid, version) or entry.get("link"),
        pdf_url=pdf,
        links=links,
        comment=collapse_ws(entry.get("arxiv_comment")) or None,
        journal_ref=collapse_ws(entry.get("arxiv_journal_ref")) or None,
        doi=entry.get("arxiv_doi"),
        source=source,
    )


def is_arxiv_error(entry) -> bool:
    return collapse_ws(entry.get("title")) == "Error" and "api/errors" in (entry.get("id") or "")


def papers_from_elements(elements: Iterator[tuple[str, ET.Element]], name: str) -> Iterator[Paper | InputError]:
    """Yield a Paper per entry element; a bad entry yields an InputError and the feed goes on."""
    for n, (kind, elem) in enumerate(elements, start=1):
        parsed = feedparser.parse(_wrap(kind, elem))
        if not parsed.entries:
            yield InputError(f"{name}: entry {n}: not a readable feed entry")
            continue
        entry = parsed.entries[0]
        if is_arxiv_error(entry):
            raise InputError(f"{name}: arXiv API error: {collapse_ws(entry.get('summary'))}")
        try:
            paper = entry_to_paper(entry, f"{name}#{n}")
        except LookupError:
            yield InputError(f"{name}: entry {n}: no abstract")
            continue
        except ValueError as e:
            yield InputError(f"{name}: entry {n}: {e}")
            continue
        yield paper


def read_feed(stream: BinaryIO, name: str) -> Iterator[Paper | InputError]:
    yield from papers_from_elements(iter_entry_elements(stream, name), name)
