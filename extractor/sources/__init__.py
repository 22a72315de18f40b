"""Inputs: a path, `-` for stdin, an http(s) URL, or `arxiv:QUERY`; format by suffix or content."""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from ..core.errors import InputError
from ..core.limits import DOWNLOAD_SECONDS, MAX_DOWNLOAD, size
from ..schema import Paper
from .arxiv_api import ArxivClient
from .feeds import papers_from_elements, read_feed
from .tabular import read_csv, read_jsonl

_FEED_SUFFIXES = (".xml", ".atom", ".rss")
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")


# files that are no abstracts, told by their first bytes whatever their name says
_MAGIC = (
    (b"%PDF-", "a PDF file"),
    (b"PK\x03\x04", "a ZIP archive (a .zip, .xlsx, .docx or .odt)"),
    (b"\x1f\x8b", "a gzip-compressed file (decompress it first)"),
    (b"BZh", "a bzip2-compressed file (decompress it first)"),
    (b"\xfd7zXZ\x00", "an xz-compressed file (decompress it first)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\xd0\xcf\x11\xe0", "an old Office document (.xls, .doc)"),
)
_WHAT_IS_READ = "give an Atom/RSS feed, a JSONL or CSV file of abstracts, or arxiv:QUERY"


def check_content(stream: io.BufferedReader, name: str) -> None:
    """Refuse, by its content, an input that is no text of abstracts (a PDF given as input was read
    as a CSV before: "missing column abstract (have: %PDF-1.4)")."""
    head = stream.peek(512)[:512]
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise InputError(f"{name}: {what}, not abstracts; {_WHAT_IS_READ}")
    text = head.lstrip(b"\xef\xbb\xbf")
    if b"\x00" in text and not text.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{name}: a binary file, not abstracts; {_WHAT_IS_READ}")


def check_input(spec: str) -> str | None:
    """Why a local input cannot be read at all (no such file, a directory, a PDF, a ZIP, a binary
    file), or None; streams, URLs and queries are checked as they are read."""
    if spec == "-" or spec.startswith(("http://", "https://", "arxiv:")):
        return None
    try:
        with _open(spec) as stream:
            check_content(stream, spec)  # type: ignore[arg-type]
    except InputError as e:
        return str(e)
    return None


def _sniff(stream: io.BufferedReader) -> str:
    head = stream.peek(512)[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return "feed"
    if head.startswith(b"{"):
        return "jsonl"
    return "csv"


def _kind(name: str, stream: io.BufferedReader) -> str:
    low = name.lower().split("?")[0]
    if low.endswith(_FEED_SUFFIXES):
        return "feed"
    if low.endswith(_JSONL_SUFFIXES):
        return "jsonl"
    if low.endswith(".csv"):
        return "csv"
    return _sniff(stream)


@contextmanager
def _open(spec: str) -> Iterator[io.BufferedReader]:
    if spec == "-":
        yield sys.stdin.buffer  # type: ignore[misc]
        return
    if spec.startswith(("http://", "https://")):
        # Spool the download (to disk past 16 MB) so the parser can stream it at its own pace.
        with tempfile.SpooledTemporaryFile(max_size=16 << 20) as tmp:
            try:
                with httpx.stream("GET", spec, follow_redirects=True, timeout=60) as r:
                    if r.status_code != 200:
                        raise InputError(f"{spec}: HTTP {r.status_code}")
                    got, deadline = 0, time.monotonic() + DOWNLOAD_SECONDS
                    for chunk in r.iter_bytes():
                        got += len(chunk)
                        if time.monotonic() > deadline:
                            raise InputError(f"{spec}: the download took longer than {DOWNLOAD_SECONDS} s")
                        if got > MAX_DOWNLOAD:
                            raise InputError(
                                f"{spec}: larger than {size(MAX_DOWNLOAD)} (the limit for one "
                                "download); save it and give the file"
                            )
                        tmp.write(chunk)
            except httpx.HTTPError as e:
                raise InputError(f"{spec}: unreachable ({e.__class__.__name__}: {e})") from None
            tmp.seek(0)
            yield io.BufferedReader(tmp)  # type: ignore[arg-type]
        return
    if not os.path.exists(spec):
        raise InputError(f"{spec}: no such file")
    if os.path.isdir(spec):
        raise InputError(f"{spec}: is a directory")
    try:
        f = open(spec, "rb")
    except OSError as e:
        raise InputError(f"{spec}: cannot open ({e.strerror})") from None
    with f:
        yield f


def read_papers(
    spec: str, arxiv_max: int = 100, arxiv_client: ArxivClient | None = None
) -> Iterator[Paper | InputError]:
    """Yield Papers from one input; per-record problems are yielded as InputError, fatal ones raised."""
    if spec.startswith("arxiv:"):
        yield from _read_arxiv_query(spec[len("arxiv:") :], arxiv_max, arxiv_client)
        return
    name = "<stdin>" if spec == "-" else spec
    with _open(spec) as stream:
        if not isinstance(stream, io.BufferedReader):
            stream = io.BufferedReader(stream)  # type: ignore[arg-type]
        check_content(stream, name)
        kind = _kind(spec, stream)
        if kind == "feed":
            yield from read_feed(stream, name)
        elif kind == "jsonl":
            yield from read_jsonl(stream, name)
        else:
            yield from read_csv(stream, name)


def _read_arxiv_query(query: str, max_results: int, client: ArxivClient | None) -> Iterator[Paper | InputError]:
    own = client is None
    client = client or ArxivClient()
    try:
        yield from papers_from_elements(client.iter_entries(query, max_results), f"arxiv:{query}")
    finally:
        if own:
            client.close()


def count_records(specs: list[str]) -> int | None:
    """A quick upper bound of input records for the progress bar: lines of JSONL/CSV files,
    entries of feed files; None when an input is a stream, a URL or a query."""
    total = 0
    for spec in specs:
        if spec == "-" or spec.startswith(("http://", "https://", "arxiv:")) or not os.path.isfile(spec):
            return None
        with open(spec, "rb") as f:
            kind = _kind(spec, f)  # type: ignore[arg-type]
            if kind == "feed":
                total += sum(
                    chunk.count(b"<entry") + chunk.count(b"<item") for chunk in iter(lambda: f.read(1 << 20), b"")
                )
            else:
                n = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
                total += max(0, n - (1 if kind == "csv" else 0))
    return total
