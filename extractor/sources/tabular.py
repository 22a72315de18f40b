"""JSONL and CSV files of abstracts -> Paper, streamed line by line.

Accepted keys (case-insensitive in CSV): `id`, `title`, `abstract` (aliases `summary`, Zotero's
`Abstract Note`), optional `authors` (`author`, Scopus' `Author full names`), `categories`,
`published` (`year`, `publication year`), `doi`, `url` (`link`), and the Kaggle arXiv snapshot's
`versions`, `update_date`, `authors_parsed`, `journal-ref`, `comments`. A file with no id column
(Zotero, Scopus exports) gets ids from the DOI (`doi:10.1145/...`), or else from a hash of title
and abstract (`sha256:...`).

Every field is checked for its type at this edge: a bad field makes its line a skipped line (named
by file and line), never a stopped run.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import Any, BinaryIO

import orjson

from ..core.errors import InputError
from ..core.ids import abs_url, arxiv_doi_id, split_arxiv_id
from ..core.limits import MAX_ID, MAX_INPUT_LINE, size
from ..core.lines import bounded_lines
from ..schema import Paper
from .authors import split_authors

# column names other tools use, lower-cased -> ours
_ALIASES = {
    "summary": "abstract",
    "abstract note": "abstract",
    "description": "abstract",
    "article title": "title",
    "author": "authors",
    "author full names": "authors",
    "creators": "authors",
    "publication year": "published",
    "year": "published",
    "date": "published",
    "link": "url",
    "arxiv_id": "id",
    "arxiv id": "id",
    "paper_id": "id",
    "journal-ref": "journal_ref",
    "comments": "comment",
    "update_date": "updated",
    "source title": "journal_ref",
    "publication title": "journal_ref",
}


class FieldError(ValueError):
    pass


def _text(d: dict, key: str) -> str | None:
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        raise FieldError(f"field {key!r} must be text (got {_shape(v)})")
    return str(v)


def _shape(v: Any) -> str:
    s = orjson.dumps(v).decode() if not isinstance(v, (bytes, bytearray)) else repr(v)
    return s if len(s) <= 40 else s[:37] + "..."


def _authors(d: dict) -> list[str]:
    parsed = d.get("authors_parsed")
    if (
        isinstance(parsed, list)
        and parsed
        and all(isinstance(p, list) and all(isinstance(x, str) for x in p) for p in parsed)
    ):
        return [
            " ".join(x for x in (p[1] if len(p) > 1 else "", p[0], p[2] if len(p) > 2 else "") if x) for p in parsed
        ]
    a = d.get("authors")
    if a is None:
        return []
    if isinstance(a, list):
        out = []
        for x in a:
            if isinstance(x, str):
                out.append(x)
            elif isinstance(x, dict) and isinstance(x.get("name"), str):
                out.append(x["name"])
            else:
                raise FieldError(f"field 'authors' must be a list of names (got {_shape(a)})")
        return out
    if isinstance(a, str):
        return split_authors(a)
    raise FieldError(f"field 'authors' must be a list of names or one string (got {_shape(a)})")


def _categories(d: dict) -> list[str]:
    c = d.get("categories")
    if c is None:
        return []
    if isinstance(c, list) and all(isinstance(x, str) for x in c):
        return c
    if isinstance(c, str):
        return [x for x in re.split(r"[\s,;]+", c) if x]
    raise FieldError(f"field 'categories' must be a list of strings or one string (got {_shape(c)})")


def _iso(date: str | None) -> str | None:
    if not date:
        return None
    if "," in date and re.search(r"\d{4} \d\d:\d\d", date):  # RFC 2822, as in Kaggle "versions"
        try:
            return parsedate_to_datetime(date).strftime("%Y-%m-%dT%H:%M:%SZ")
        except (TypeError, ValueError):
            return date
    return date


def _made_id(doi: str | None, title: str, abstract: str) -> str:
    """An id for a record that has none: its arXiv id when the DOI is arXiv's own
    (10.48550/arXiv.<id>), else its DOI, or a hash of its text (stable across runs)."""
    arxiv = arxiv_doi_id(doi)
    if arxiv:
        return arxiv
    if doi and doi.strip():
        d = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)", "", doi.strip(), flags=re.I)
        return f"doi:{d.lower()}"
    h = hashlib.sha256((" ".join(title.split()) + "\n" + " ".join(abstract.split())).encode()).hexdigest()
    return f"sha256:{h[:16]}"


def dict_to_paper(d: dict, source: str) -> Paper:
    """Map one input object to a Paper. Raises LookupError (no abstract) or ValueError with a
    user-facing reason."""
    d = {_ALIASES.get(k, k): v for k, v in d.items()} if any(k in _ALIASES for k in d) else d
    abstract = d.get("abstract")
    if abstract is not None and not isinstance(abstract, str):
        raise FieldError(f"field 'abstract' must be text (got {_shape(abstract)})")
    if abstract is None or not abstract.strip():
        raise LookupError("no abstract")
    title = _text(d, "title") or ""
    doi = _text(d, "doi")
    raw_id = _text(d, "id")
    if raw_id is None or not raw_id.strip():
        raw_id = _made_id(doi, title, abstract)
    if len(raw_id) > MAX_ID:
        raise FieldError(f"an id of {len(raw_id):,} characters (the limit is {MAX_ID})")
    pid, version = split_arxiv_id(raw_id)
    versions = d.get("versions")
    published = _text(d, "published")
    if isinstance(versions, list) and versions and isinstance(versions[-1], dict):
        v = versions[-1].get("version")
        version = version or (v if isinstance(v, str) else None)
        first = versions[0].get("created") if isinstance(versions[0], dict) else None
        published = published or (first if isinstance(first, str) else None)
    cats = _categories(d)
    primary = _text(d, "primary_category")
    return Paper.of(
        id=pid,
        version=version,
        title=title,
        abstract=abstract,
        authors=_authors(d),
        published=_iso(published),
        updated=_text(d, "updated"),
        categories=cats,
        primary_category=primary or (cats[0] if cats else None),
        url=_text(d, "url") or abs_url(pid, version),
        comment=_text(d, "comment"),
        journal_ref=_text(d, "journal_ref"),
        doi=doi,
        source=source,
    )


def read_jsonl(stream: BinaryIO, name: str) -> Iterator[Paper | InputError]:
    """Yield a Paper per line; a bad line yields an InputError naming the line."""
    seen_any = False
    for lineno, raw, length in bounded_lines(stream, MAX_INPUT_LINE):
        where = f"{name}:{lineno}"
        if raw is None:
            seen_any = True
            yield InputError(f"{where}: a line of {length:,} bytes (the limit is {size(MAX_INPUT_LINE)})")
            continue
        if not raw.strip():
            continue
        seen_any = True
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
        except (LookupError, ValueError, TypeError) as e:
            yield InputError(f"{where}: {e}")
    if not seen_any:
        raise InputError(f"{name}: empty input, no records")


def _decoded_lines(stream: BinaryIO, name: str, bad: list[str]) -> Iterator[str]:
    """Decode line by line, so that a bad byte is reported on its own line; a line past the limit
    is replaced by an empty one (and reported)."""
    for lineno, raw, length in bounded_lines(stream, MAX_INPUT_LINE):
        if raw is None:
            bad.append(f"{name}:{lineno}: a line of {length:,} bytes (the limit is {size(MAX_INPUT_LINE)})")
            yield "\n"
            continue
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(f"{name}:{lineno}: not UTF-8 text")
            yield "\n"


def read_csv(stream: BinaryIO, name: str) -> Iterator[Paper | InputError]:
    csv.field_size_limit(MAX_INPUT_LINE)  # a field past it is a skipped row (below), not a stopped file
    bad: list[str] = []
    reader = csv.DictReader(_decoded_lines(stream, name, bad))
    try:
        header = reader.fieldnames
    except csv.Error as e:
        raise InputError(f"{name}:1: not readable CSV ({e})") from None
    if bad and not header:
        raise InputError(bad[0])
    if not header:
        raise InputError(f"{name}: empty input, no header row")
    cols = {_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in header if h}
    if "abstract" not in cols:
        raise InputError(f"{name}: missing column abstract (have: {', '.join(header)})")
    rows = 0
    while True:
        error = None
        try:
            row = next(reader)
        except StopIteration:
            row = None
        except csv.Error as e:
            row, error = {}, f"{name}:{reader.line_num}: not readable CSV ({e})"
        while bad:
            yield InputError(bad.pop(0))
        if row is None:
            break
        if error:
            yield InputError(error)
            continue
        rows += 1
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # a line that was skipped above, or an empty row
        d = {k.strip().lower(): v for k, v in row.items() if k}
        where = f"{name}:{reader.line_num}"
        try:
            yield dict_to_paper(d, where)
        except (LookupError, ValueError) as e:
            yield InputError(f"{where}: {e}")
    if rows == 0:
        raise InputError(f"{name}: no rows after the header")
