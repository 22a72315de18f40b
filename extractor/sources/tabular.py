"""JSONL and CSV files of abstracts -> Paper, streamed line by line.

Accepted keys: `id`, `title`, `abstract` (alias `summary`), optional `authors`, `categories`,
`published`, and the Kaggle arXiv snapshot's `versions`, `update_date`, `authors_parsed`,
`journal-ref`, `doi`, `comments`.
"""

from __future__ import annotations

import csv
import re
from email.utils import parsedate_to_datetime
from typing import BinaryIO, Iterator

import orjson

from ..errors import InputError
from ..schema import Paper
from ..text import collapse_ws
from .ids import abs_url, split_arxiv_id


def _authors(d: dict) -> list[str]:
    parsed = d.get("authors_parsed")
    if isinstance(parsed, list) and parsed and all(isinstance(p, list) for p in parsed):
        return [collapse_ws(" ".join([p[1] if len(p) > 1 else "", p[0], p[2] if len(p) > 2 else ""])) for p in parsed]
    a = d.get("authors")
    if isinstance(a, list):
        return [collapse_ws(x if isinstance(x, str) else str(x.get("name", ""))) for x in a]
    if isinstance(a, str) and a.strip():
        sep = r"\s*;\s*" if ";" in a else r",\s*(?:and\s+)?|\s+and\s+"
        return [collapse_ws(x) for x in re.split(sep, a) if x.strip()]
    return []


def _categories(c) -> list[str]:
    if isinstance(c, list):
        return [str(x) for x in c]
    if isinstance(c, str):
        return [x for x in re.split(r"[\s,;]+", c) if x]
    return []


def _iso(date: str | None) -> str | None:
    if not date:
        return None
    if "," in date and re.search(r"\d{4} \d\d:\d\d", date):  # RFC 2822, as in Kaggle "versions"
        try:
            return parsedate_to_datetime(date).strftime("%Y-%m-%dT%H:%M:%SZ")
        except (TypeError, ValueError):
            return date
    return date


def dict_to_paper(d: dict, source: str) -> Paper:
    """Map one input object to a Paper. Raises ValueError with a user-facing reason."""
    abstract = d.get("abstract") if d.get("abstract") is not None else d.get("summary")
    if not isinstance(abstract, str) or not abstract.strip():
        raise LookupError("no abstract")
    raw_id = d.get("id")
    if raw_id is None or not str(raw_id).strip():
        raise ValueError("no id")
    pid, version = split_arxiv_id(str(raw_id))
    versions = d.get("versions")
    published = d.get("published")
    if isinstance(versions, list) and versions and isinstance(versions[-1], dict):
        version = version or versions[-1].get("version")
        published = published or versions[0].get("created")
    cats = _categories(d.get("categories"))
    return Paper(
        id=pid,
        version=version,
        title=collapse_ws(str(d.get("title") or "")),
        abstract=collapse_ws(abstract),
        authors=_authors(d),
        published=_iso(published),
        updated=d.get("updated") or d.get("update_date"),
        categories=cats,
        primary_category=d.get("primary_category") or (cats[0] if cats else None),
        url=d.get("url") or abs_url(pid, version),
        comment=d.get("comment") or d.get("comments"),
        journal_ref=d.get("journal_ref") or d.get("journal-ref"),
        doi=d.get("doi"),
        source=source,
    )


def read_jsonl(stream: BinaryIO, name: str) -> Iterator[Paper | InputError]:
    """Yield a Paper per line; a bad line yields an InputError naming the line."""
    seen_any = False
    for lineno, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        seen_any = True
        where = f"{name}:{lineno}"
        try:
            d = orjson.loads(raw)  # orjson rejects invalid UTF-8 too
        except orjson.JSONDecodeError as e:
            try:
                raw.decode("utf-8")
                reason = f"not valid JSON ({str(e).split(':')[0]})"
            except UnicodeDecodeError:
                reason = "not UTF-8 text"
            yield InputError(f"{where}: {reason}")
            continue
        if not isinstance(d, dict):
            yield InputError(f"{where}: not a JSON object")
            continue
        try:
            yield dict_to_paper(d, where)
        except LookupError as e:
            yield InputError(f"{where}: {e}", )
        except (ValueError, TypeError) as e:
            yield InputError(f"{where}: {e}")
    if not seen_any:
        raise InputError(f"{name}: empty input, no records")


def _decoded_lines(stream: BinaryIO, name: str) -> Iterator[str]:
    """Decode line by line, so that a bad byte is reported on its own line."""
    for lineno, raw in enumerate(stream, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{name}:{lineno}: not UTF-8 text") from None
        yield line.lstrip("\ufeff") if lineno == 1 else line


def read_csv(stream: BinaryIO, name: str) -> Iterator[Paper | InputError]:
    reader = csv.DictReader(_decoded_lines(stream, name))
    try:
        header = reader.fieldnames
    except csv.Error as e:
        raise InputError(f"{name}:1: not readable CSV ({e})") from None
    if not header:
        raise InputError(f"{name}: empty input, no header row")
    cols = {h.strip().lower() for h in header if h}
    missing = [c for c in ("id",) if c not in cols]
    if not ({"abstract", "summary"} & cols):
        missing.append("abstract")
    if missing:
        raise InputError(f"{name}: missing column(s) {', '.join(missing)} (have: {', '.join(header)})")
    rows = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise InputError(f"{name}:{reader.line_num}: not readable CSV ({e})") from None
        rows += 1
        d = {k.strip().lower(): v for k, v in row.items() if k}
        where = f"{name}:{reader.line_num}"
        try:
            yield dict_to_paper(d, where)
        except (LookupError, ValueError) as e:
            yield InputError(f"{where}: {e}")
    if rows == 0:
        raise InputError(f"{name}: no rows after the header")
