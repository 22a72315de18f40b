"""A watch run's digest (Markdown or HTML): the new and updated papers, their headline claims in
words, and where a new claim beats the table's best in its metric class.

"Beats" uses the comparison's own ranking (`compare.comparison`): within a class and one scale (the
improvement factor, or levels of one kind of unit), a new paper's claim that ranks first, above
every claim of the papers the table held before this run.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Optional

from ..analysis import taxonomy
from ..analysis.text import visible
from ..core.errors import InputError
from ..store import atomic_write
from .common import describe, review_mark, safe_url, stated
from .compare import Entry, comparison


@dataclass
class Best:
    key: str  # metric class
    new: Entry
    old: Optional[Entry]  # the best claim before this run on the same scale; None: the first one


def new_bests(records: list[dict], new_ids: set[str]) -> list[Best]:
    out = []
    for key, entries in comparison(records, include_unverified=False).items():
        by_scale: dict[str, list[Entry]] = {}
        for e in entries:
            if e.ranked:
                by_scale.setdefault(e.scale, []).append(e)
        for ranked in by_scale.values():
            top = ranked[0]  # best first
            if top.record["id"] not in new_ids:
                continue
            old = next((e for e in ranked if e.record["id"] not in new_ids), None)
            out.append(Best(key, top, old))
    return out


def _papers(records: list[dict], new_ids: set[str]) -> list[dict]:
    return [r for r in records if r["id"] in new_ids]


def _version_note(rec: dict) -> str:
    v = rec.get("version") or ""
    return f"{v}, updated" if v and v != "v1" else (v or "new")


def markdown(records: list[dict], new_ids: set[str], query: str, when: str) -> str:
    from .writers import _md

    papers = _papers(records, new_ids)
    lines = [f"# extractor digest: {_md(query)}", "", f"{when}: {len(papers)} new or updated papers.", ""]
    for rec in papers:
        link = safe_url(rec.get("url"))
        title = _md(rec.get("title"))
        head = f"[{title}](<{link}>)" if link else title
        system = f" — **{_md(rec['system_name'])}**" if rec.get("system_name") else ""
        lines.append(f"## {head}{system} ({_md(_version_note(rec))})")
        lines.append("")
        claims = [n for n in rec.get("headline_numbers") or [] if stated(n)]
        if rec.get("status") == "error":
            lines.append(f"- extraction failed: {_md(rec.get('error'))}")
        for n in claims:
            lines.append(f"- {_md(describe(n) + review_mark(n))}")
        if not claims and rec.get("status") != "error":
            lines.append("- no verified headline claim")
        lines.append("")
    bests = new_bests(records, new_ids)
    if bests:
        lines += ["## New bests in the table", ""]
        for b in bests:
            lines.append(f"- {_md(_best_words(b))}")
        lines.append("")
    return "\n".join(lines)


def _best_words(b: Best) -> str:
    new = f"{b.new.system}: {describe(b.new.claim)}"
    if b.new.factor_text:
        new += f" ({b.new.factor_text})"
    label = taxonomy.label(b.key)
    if b.old is None:
        return f"{label}: {new}, the first such claim in the table"
    old = f"{b.old.system}: {describe(b.old.claim)}"
    if b.old.factor_text:
        old += f" ({b.old.factor_text})"
    return f"{label}: {new} beats {old}"


def html_page(records: list[dict], new_ids: set[str], query: str, when: str) -> str:
    e = html.escape
    papers = _papers(records, new_ids)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>extractor digest: {e(query)}</title>",
        "<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        ".muted{color:#656d76}</style></head><body>",
        f"<h1>extractor digest: {e(query)}</h1>",
        f"<p class='muted'>{e(when)}: {len(papers)} new or updated papers.</p>",
    ]
    for rec in papers:
        link = safe_url(rec.get("url"))
        title = e(rec.get("title") or rec["id"])
        head = f'<a href="{e(link, quote=True)}">{title}</a>' if link else title
        system = f" — <b>{e(rec['system_name'])}</b>" if rec.get("system_name") else ""
        parts.append(f"<h2>{head}{system} <span class='muted'>({e(_version_note(rec))})</span></h2><ul>")
        claims = [n for n in rec.get("headline_numbers") or [] if stated(n)]
        if rec.get("status") == "error":
            parts.append(f"<li>extraction failed: {e(rec.get('error') or '')}</li>")
        parts += [f"<li>{e(describe(n) + review_mark(n))}</li>" for n in claims]
        if not claims and rec.get("status") != "error":
            parts.append("<li class='muted'>no verified headline claim</li>")
        parts.append("</ul>")
    bests = new_bests(records, new_ids)
    if bests:
        parts.append("<h2>New bests in the table</h2><ul>")
        parts += [f"<li>{e(_best_words(b))}</li>" for b in bests]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def digest_format(path: str) -> str:
    """ "html" or "md" by the path's suffix; anything else is an InputError."""
    low = path.lower()
    if low.endswith((".html", ".htm")):
        return "html"
    if low.endswith((".md", ".markdown")):
        return "md"
    raise InputError(f"{path}: a digest is .md or .html")


def write_digest(records: list[dict], new_ids: set[str], path: str, query: str, when: str) -> None:
    if digest_format(path) == "html":
        text = html_page(records, new_ids, query, when)
    else:
        text = markdown(records, new_ids, query, when)
    with atomic_write(path, "w", encoding="utf-8") as f:
        f.write(visible(text))
