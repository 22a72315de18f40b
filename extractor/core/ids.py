"""arXiv identifiers: "http://arxiv.org/abs/2604.06682v2" -> ("2604.06682", "v2")."""

from __future__ import annotations

import re

# an arXiv id, bare or after what says it is one (an abs/pdf URL, "arXiv:", the OAI prefix, arXiv's
# DOI 10.48550/arXiv.<id>): never the tail of something else ("10.1145/1234.5678" is a DOI)
_ARXIV_ID = re.compile(
    r"(?:^|arxiv\.org/(?:abs|pdf)/|^arXiv:\s*|^oai:arXiv\.org:|10\.48550/arXiv\.)"
    r"(?P<id>\d{4}\.\d{4,5}|[a-z][a-z\-]{0,30}(?:\.[A-Z]{2})?/\d{7})(?P<v>v\d+)?(?:\.pdf)?$",
    re.I,
)
_PREFIXED = re.compile(r"^(?:https?://|doi:|arxiv:|oai:|10\.48550/)", re.I)


def split_arxiv_id(raw: str) -> tuple[str, str | None]:
    """Return (id without version, version or None); non-arXiv ids come back unchanged."""
    raw = (raw or "").strip()
    # the id ends the string and is at most ~70 characters long after its prefix: a long text is
    # searched at its tail (a 100,000-character id took minutes before), once it starts as an id does
    tail = raw if len(raw) <= 200 else raw[-100:] if _PREFIXED.match(raw) else ""
    m = _ARXIV_ID.search(tail)
    if m:
        return m.group("id"), (m.group("v") or None)
    return raw, None


def arxiv_doi_id(doi: str | None) -> str | None:
    """The arXiv id of arXiv's own DOI ("10.48550/arXiv.2604.06682"), else None."""
    m = re.search(r"10\.48550/arXiv\.(\d{4}\.\d{4,5}(?:v\d+)?)$", (doi or "").strip(), re.I)
    return m.group(1) if m else None


_NUMERIC = re.compile(r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?$")


def id_text(pid: str) -> str:
    """A paper id as every export writes it: text that no spreadsheet program or CSV reader takes
    for a number (LibreOffice, Excel, Google Sheets and pandas read "2604.12300" as 2604.123), so
    an arXiv id is written "arXiv:2604.12300" and any other id that reads as a number "id:12345"."""
    if _NUMERIC.match(pid):
        return f"arXiv:{pid}" if _BARE_ID.fullmatch(pid) else f"id:{pid}"
    return pid


def id_of_text(text: str) -> str:
    """The paper id an export wrote with id_text (the prefix dropped; ids of other forms as they are)."""
    t = text.strip()
    for prefix in ("arXiv:", "arxiv:", "id:"):
        if t.startswith(prefix) and _NUMERIC.match(t[len(prefix) :].strip()):
            return t[len(prefix) :].strip()
    return t


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
