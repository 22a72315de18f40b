"""The bibliography of a table: authors, year, venue and arXiv id for every export, and BibTeX.

BibTeX entries follow the form arXiv's own "Export BibTeX Citation" gives for an e-print:

    @misc{vaswani2017attention,
          title={Attention Is All You Need},
          author={Ashish Vaswani and Noam Shazeer and ...},
          year={2017},
          eprint={1706.03762},
          archivePrefix={arXiv},
          primaryClass={cs.CL},
          url={https://arxiv.org/abs/1706.03762},
    }

with `doi` and `note = {journal_ref}` added when the paper has them, and for papers that are not
on arXiv (a CSV of DOIs) a @misc with the url. Keys are the first author's surname, the year and
the title's first long word, made unique with a, b, c ... Written by hand: the BibTeX libraries on
PyPI (bibtexparser, pybtex) parse far more than they write, and the form here is a dozen lines;
the escaping below is the part that matters, and tests/test_compare.py reads the file back with
bibtexparser to check it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from ..analysis.text import visible
from ..core.ids import _BARE_ID, split_arxiv_id
from ..store import atomic_write

_STOP_TITLE = frozenset("a an the on of for to in and with towards toward is are do does via from at by".split())
# BibTeX special characters and their escapes (a title is TeX: "&", "%", "_" and "#" would break it)
_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_ESCAPE_RE = re.compile("|".join(re.escape(c) for c in _ESCAPES))


def arxiv_id(rec: dict) -> str:
    """The record's arXiv id, or "" when the paper is not an arXiv e-print."""
    pid = split_arxiv_id(str(rec.get("id") or ""))[0]
    return pid if _BARE_ID.fullmatch(pid) else ""


def year(rec: dict) -> str:
    for key in ("published", "updated"):
        m = re.match(r"\s*(\d{4})", str(rec.get(key) or ""))
        if m:
            return m.group(1)
    m = re.match(r"(\d{2})(\d{2})\.\d{4,5}$", arxiv_id(rec))  # 2604.06682: April 2026
    return ("20" + m.group(1)) if m else ""


BIB_COLUMNS = ["authors", "year", "venue", "arxiv_id"]  # the columns bib_fields() fills, in order


def bib_fields(rec: dict) -> dict:
    """Authors, year, venue and arXiv id as the exports show them."""
    return {
        "authors": "; ".join(rec.get("authors") or []),
        "year": year(rec),
        "venue": rec.get("journal_ref") or "",
        "arxiv_id": arxiv_id(rec),
    }


def tex(s: str) -> str:
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], " ".join(str(s).split()))


def _ascii_word(s: str) -> str:
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", s.lower())


def cite_key(rec: dict) -> str:
    authors = rec.get("authors") or []
    surname = _ascii_word(authors[0].split()[-1]) if authors and authors[0].split() else ""
    words = [_ascii_word(w) for w in re.split(r"[\s:\-—–/]+", rec.get("title") or "")]
    first = next((w for w in words if w and w not in _STOP_TITLE and len(w) > 2), "")
    key = f"{surname or 'anon'}{year(rec)}{first}"
    return key or _ascii_word(str(rec.get("id"))) or "paper"


def entry(rec: dict, key: str) -> str:
    fields = [("title", tex(rec.get("title") or "")), ("author", tex(" and ".join(rec.get("authors") or [])))]
    if year(rec):
        fields.append(("year", year(rec)))
    aid = arxiv_id(rec)
    if aid:
        fields += [("eprint", aid), ("archivePrefix", "arXiv")]
        if rec.get("primary_category"):
            fields.append(("primaryClass", tex(rec["primary_category"])))
        fields.append(("url", f"https://arxiv.org/abs/{aid}"))
    elif rec.get("url"):
        fields.append(("url", tex(rec["url"])))
    if rec.get("doi"):
        fields.append(("doi", tex(rec["doi"])))
    if rec.get("journal_ref"):
        fields.append(("note", tex(rec["journal_ref"])))
    body = "".join(f"      {k}={{{v}}},\n" for k, v in fields if v)
    return f"@misc{{{key},\n{body}}}\n"


def _suffix(n: int) -> str:
    """The n-th suffix of a shared key: a .. z, then a2 .. z2, ..."""
    return "abcdefghijklmnopqrstuvwxyz"[(n - 1) % 26] + ("" if n <= 26 else str((n - 1) // 26 + 1))


def write_bibtex(records: Iterable[dict], path: str) -> None:
    used: set[str] = set()
    tried: dict[str, int] = {}  # the last suffix tried per base key: thousands sharing a key cost no retries
    parts = []
    for rec in records:
        if rec.get("status", "ok") != "ok" and not rec.get("title"):
            continue
        base = key = cite_key(rec)
        n = tried.get(base, 0)
        while key in used:  # smith2026nexus, smith2026nexusa, ... smith2026nexusz, smith2026nexusa2
            n += 1
            key = base + _suffix(n)
        tried[base] = n
        used.add(key)
        parts.append(entry(rec, key))
    with atomic_write(path, "w", encoding="utf-8") as f:
        f.write(visible("\n".join(parts)))
