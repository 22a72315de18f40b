"""arXiv identifiers: "http://arxiv.org/abs/2604.06682v2" -> ("2604.06682", "v2")."""

from __future__ import annotations

import re

_ARXIV_ID = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf)/|arXiv:|oai:arXiv\.org:)?"
    r"(?P<id>\d{4}\.\d{4,5}|[a-z][a-z\-]{0,30}(?:\.[A-Z]{2})?/\d{7})(?P<v>v\d+)?(?:\.pdf)?$",
    re.I,
)


def split_arxiv_id(raw: str) -> tuple[str, str | None]:
    """Return (id without version, version or None); non-arXiv ids come back unchanged."""
    raw = (raw or "").strip()
    # a match ends the string and is at most ~70 characters long: searching the tail finds the
    # same match, in time linear in nothing (a 100,000-character id took minutes before)
    m = _ARXIV_ID.search(raw[-100:])
    if m:
        return m.group("id"), (m.group("v") or None)
    return raw, None


MAX_VERSION = 2**31  # a version number past any real one; larger ones compare as this (ids spill to SQLite)


def version_number(version: str | None) -> int:
    if not version:
        return 0
    try:
        return min(int(version.lstrip("vV")), MAX_VERSION)
    except ValueError:
        return 0


_BARE_ID = re.compile(r"\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}", re.I)


def abs_url(arxiv_id: str, version: str | None = None) -> str | None:
    if _BARE_ID.fullmatch(arxiv_id):
        return f"https://arxiv.org/abs/{arxiv_id}{version or ''}"
    return None
