"""Exports of a table: XLSX (openpyxl), CSV, Markdown and a self-contained HTML report."""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import os
from typing import Optional

from ..analysis import taxonomy
from ..analysis.text import visible
from ..core.errors import InputError
from ..fields import shown
from ..store import atomic_write
from .bib import bib_fields, write_bibtex
from .common import (
    CLAIM_COLUMNS,
    FIELD_COLUMNS,
    PAPER_COLUMNS,
    UNCOVERED_COLUMNS,
    claim_rows,
    describe,
    field_names,
    field_rows,
    fmt_number,
    original_words,
    paper_columns,
    paper_rows,
    review_mark,
    review_of,
    safe_text,
    safe_url,
    stated,
    uncovered_rows,
)
from .compare import COMPARE_COLUMNS, Entry, best_per_paper, compare_rows, comparison, groups, matrix
from .svg import Bar, bar_chart
from .xlsx import _better_phrase, write_xlsx

FORMATS = ("xlsx", "csv", "md", "html", "bib")
_SUFFIXES = {"markdown": "md", "htm": "html", "bibtex": "bib"}


def export_format(
    path: str, fmt: Optional[str], rows: str = "papers", format_flag: str = "--format", rows_flag: str = "--rows"
) -> str:
    """The format to write `path` in: `fmt`, else the name's suffix; a format or `rows` this
    module does not write is one error naming the option to give (the CLI's, or the API's)."""
    suffix = os.path.splitext(path)[1].lower().lstrip(".")
    chosen = (fmt or _SUFFIXES.get(suffix, suffix)).lower()
    if chosen not in FORMATS:
        raise InputError(f"{path}: cannot tell the format; use a .xlsx/.csv/.md/.html/.bib name or {format_flag}")
    if rows not in ROWS:
        raise InputError(f"{rows_flag} must be papers, claims, uncovered, compare or fields")
    return chosen


# --- CSV ---------------------------------------------------------------------------------------

ROWS = {
    "papers": (PAPER_COLUMNS, paper_rows),
    "fields": (FIELD_COLUMNS, field_rows),
    "claims": (CLAIM_COLUMNS, claim_rows),
    "uncovered": (UNCOVERED_COLUMNS, uncovered_rows),
    "compare": (COMPARE_COLUMNS, compare_rows),
}


def write_csv(records: list[dict], path: str, rows: str = "papers") -> None:
    columns, make = ROWS[rows]
    if rows == "papers":
        columns = paper_columns(records)
    data = make(records)
    # UTF-8 with BOM so that Excel reads the encoding; pandas reads it with encoding="utf-8-sig"
    with atomic_write(path, "w", encoding="utf-8-sig", newline="") as f:
        # every cell quoted: a spreadsheet whose list separator is ";" (or a tab) splits an unquoted
        # cell "Fast;=1+1;" into cells, and the second is a formula; quoted, it stays one cell
        w = csv.writer(f, quoting=csv.QUOTE_ALL)
        w.writerow(columns)
        for row in data:
            w.writerow([_csv_cell(row.get(c)) for c in columns])


def _csv_cell(v):
    """A value as a CSV cell: a number as a number (a negative one is no formula), a text made
    safe for any spreadsheet (common.safe_text) and free of invisible characters."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return _csv_value(v)
    return safe_text(visible(_csv_value(v)) if isinstance(v, str) else _csv_value(v))


def _csv_value(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return fmt_number(v)
    return v


def _review_tag(n: dict) -> str:
    return review_mark(n)


def _claim_html(n: dict, words: Optional[str] = None) -> str:
    """A claim in words for HTML; an edited one is marked, with the engine's original on hover."""
    e = html.escape
    words = describe(n) if words is None else words
    was = original_words(n)
    if was:
        return f'<span class="edited" title="{e("original: " + was, quote=True)}">{e(words + review_mark(n, with_original=False))}</span>'
    return e(words + review_mark(n))


# --- Markdown ------------------------------------------------------------------------------------


def _md(s: object) -> str:
    s = " ".join(str(s or "").split())
    for ch in ("\\", "|", "*", "_", "`", "[", "]", "<", ">"):
        s = s.replace(ch, "\\" + ch)
    return s


def write_markdown(records: list[dict], path: str) -> None:
    user_fields = field_names(records)
    extra = "".join(f" {_md(n)} |" for n in user_fields)
    lines = [
        f"| Paper | System | Problem | Technique | Headline numbers |{extra}",
        "| --- | --- | --- | --- | --- |" + " --- |" * len(user_fields),
    ]
    for rec in records:
        title = _md(rec.get("title"))
        link = safe_url(rec.get("url"))
        paper = f"[{title}](<{link}>)" if link else title
        system = _md(rec.get("system_name") or "—")
        if rec.get("system_name") and rec.get("system_name_verified") is False:
            system += " (unverified)"
        claims = []
        for n in rec.get("headline_numbers") or []:
            if review_of(n).get("decision") == "reject" or n.get("kind") != "result":
                continue  # the comparison table carries the papers' own results
            text = _md(describe(n) + _review_tag(n))
            claims.append(text if stated(n) else f"{text} (unverified)")
        status = "" if rec.get("status") == "ok" else f" (error: {_md(rec.get('error'))})"
        lines.append(
            f"| {paper} | {system} | {_md(rec.get('problem'))} | {_md(rec.get('technique'))} | "
            f"{'<br>'.join(claims) or '—'}{status} |"
            + "".join(f" {_md(shown((rec.get('fields') or {}).get(n) or {})) or '—'} |" for n in user_fields)
        )
    lines += _leaderboards_md(records)
    with atomic_write(path, "w", encoding="utf-8") as f:
        f.write(visible("\n".join(lines) + "\n"))


def _leaderboards_md(records: list[dict]) -> list[str]:
    """One table per metric class of the verified results, best first, for related-work sections."""
    out = [
        "",
        "## Leaderboards",
        "",
        "Verified result claims by metric class, best first (ranking rules: extractor's "
        "docs/comparison.md). Unranked claims (no direction, or a class with no better direction) follow "
        "the ranked ones.",
    ]
    for key, entries in comparison(records, include_unverified=False).items():
        out += ["", f"### {_md(taxonomy.label(key))} ({_better_phrase(key)})"]
        for heading, group in groups(entries):
            out += [
                "",
                f"*{_md(heading.capitalize())}*",
                "",
                "| Rank | System | Claim | As factor | Paper |",
                "| --- | --- | --- | --- | --- |",
            ]
            for e in group:
                rec = e.record
                link = safe_url(rec.get("url"))
                bib = bib_fields(rec)
                ref = _md(rec["id"]) + (f" ({bib['year']})" if bib["year"] else "")
                paper = f"[{ref}](<{link}>)" if link else ref
                out.append(
                    f"| {e.rank if e.rank is not None else '—'} | {_md(e.system)} | "
                    f"{_md(e.words + _review_tag(e.claim))} | {_md(e.factor_text) or '—'} | {paper} |"
                )
    return out


# --- HTML ----------------------------------------------------------------------------------------

_SCRIPT = """
document.querySelectorAll('table.sortable th').forEach(function (th, col) {
  th.addEventListener('click', function () {
    var table = th.closest('table'), body = table.tBodies[0];
    var asc = th.getAttribute('aria-sort') !== 'ascending';
    table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[col].getAttribute('data-sort') || a.cells[col].textContent;
      var y = b.cells[col].getAttribute('data-sort') || b.cells[col].textContent;
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return asc ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
document.body.setAttribute('data-ready', String(document.querySelectorAll('table.papers tbody tr').length));
document.body.setAttribute('data-charts', String(document.querySelectorAll('svg.chart').length));
"""

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1f2328;max-width:1400px}
h1{font-size:1.5rem}h2{font-size:1.1rem;margin:1.6rem 0 .3rem}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #d0d7de;padding:.35rem .5rem;vertical-align:top;text-align:left}
th{background:#f6f8fa;cursor:pointer;user-select:none;position:sticky;top:0}th[aria-sort=ascending]::after{content:" ▲"}
th[aria-sort=descending]::after{content:" ▼"}tr:nth-child(even) td{background:#fbfbfc}
mark.ok{background:#c6efce;border-bottom:2px solid #2e7d32}mark.bad{background:#ffd7b5;border-bottom:2px dashed #c0392b}
.legend mark{padding:0 .3rem}.abstract{background:#fff;border-left:3px solid #d0d7de;padding:.2rem .8rem}
.muted{color:#656d76}.bad-text{color:#c0392b}.edited{border-bottom:1px dotted #9a6700;cursor:help}mark.field{background:#dbeafe}.paper{margin-bottom:1.2rem}ul{margin:.3rem 0}
.scroll{overflow-x:auto;max-width:100%}table.matrix{width:auto}table.matrix td{min-width:10rem;max-width:16rem;font-size:13px}
table.matrix td:first-child,table.matrix th:first-child{position:sticky;left:0;background:#f6f8fa;z-index:1;min-width:8rem}table.leaderboard{margin:.4rem 0 1rem;font-size:13px}
section.metric-class{margin-top:1.2rem}svg.chart{display:block;margin:.4rem 0;max-width:100%;height:auto}
svg.chart .bar{fill:#4472c4}svg.chart a:hover .bar{fill:#2f5597}svg.chart .grid{stroke:#d0d7de;stroke-width:1}
svg.chart text{font:12px system-ui,sans-serif;fill:#1f2328}svg.chart .chart-title{font-weight:600}
svg.chart .tick{fill:#656d76;font-size:11px}:target{outline:3px solid #f1c40f}
"""


def _anchor(rec: dict, i: int) -> str:
    return f"c-{rec['id']}-{i + 1}"


def _field_anchor(rec: dict, name: str) -> str:
    return f"f-{rec['id']}-{name}"


def _highlight(rec: dict, abstract: str, nums: list[dict]) -> str:
    """The abstract with each claim's span marked (verified or not) and each user field's evidence
    marked too; a field's evidence that overlaps a claim's span gets an anchor where it starts
    instead (marks do not overlap)."""
    claims = sorted(
        (
            (n["start"], n["end"], i, n)
            for i, n in enumerate(nums)
            if n.get("start") is not None and n.get("end") is not None
        ),
        key=lambda t: t[0],
    )
    kept, pos = [], 0
    for span in claims:
        if span[0] >= pos:  # overlapping spans: keep the first
            kept.append(span)
            pos = span[1]
    fields = [
        (fv["start"], fv["end"], name, fv)
        for name, fv in (rec.get("fields") or {}).items()
        if fv.get("start") is not None and fv.get("end") is not None
    ]
    marks: list[tuple[int, int, str]] = []  # (start, end, opening tag); end == start: an anchor
    for s, e, i, n in kept:
        cls = "ok" if n.get("verified") else "bad"
        title = describe(n) if n.get("verified") else f"unverified: {n.get('why') or ''}"
        marks.append(
            (
                s,
                e,
                f'<mark class="{cls}" id="{html.escape(_anchor(rec, i), quote=True)}" title="{html.escape(title, quote=True)}">',
            )
        )
    for s, e, name, fv in sorted(fields, key=lambda t: t[0]):
        attrs = f'id="{html.escape(_field_anchor(rec, name), quote=True)}" title="{html.escape(f"{name}: {shown(fv)}", quote=True)}"'
        inside = [m for m in marks if m[0] < e and s < m[1]]
        if not inside:
            marks.append((s, e, f'<mark class="field" {attrs}>'))
        else:
            at = min([s] + [m[0] for m in inside if m[0] <= s < m[1]] or [s])
            marks.append((at, at, f'<span class="field-at" {attrs}></span>'))
    marks.sort(key=lambda m: (m[0], m[1] != m[0]))
    out, pos = [], 0
    for s, e, tag in marks:
        out.append(html.escape(abstract[pos:s]))
        if e == s:
            out.append(tag)
            pos = s
            continue
        out.append(f"{tag}{html.escape(abstract[s:e])}</mark>")
        pos = e
    out.append(html.escape(abstract[pos:]))
    return "".join(out)


def _claim_link(e: Entry) -> str:
    h = html.escape
    words = _claim_html(e.claim, e.words)
    factor = f' <span class="muted">({h(e.factor_text)})</span>' if e.factor_text else ""
    return f'<a href="#{h(_anchor(e.record, e.index), quote=True)}">{words}</a>{factor}'


def _matrix_html(records: list[dict]) -> str:
    """Systems x metric classes: each cell the paper's best verified result claim in that class."""
    h = html.escape
    papers, keys, cells = matrix(records)
    if not papers:
        return '<p class="muted">No verified result claims to compare.</p>'
    head = "".join(f"<th>{h(taxonomy.label(k))}</th>" for k in keys)
    rows = []
    for rec in papers:
        tds = []
        for k in keys:
            e = cells.get((rec["id"], k))
            sort = f"{e.score:.6g}" if e is not None and e.scale == "factor" and e.score is not None else "0"
            tds.append(f'<td data-sort="{sort}">{_claim_link(e) if e is not None else ""}</td>')
        system = h(rec.get("system_name") or rec.get("title") or rec["id"])
        rows.append(f"<tr><td>{system}</td>{''.join(tds)}</tr>")
    return (
        f'<div class="scroll"><table class="sortable matrix"><thead><tr><th>System</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _classes_html(records: list[dict]) -> str:
    """Per metric class: a bar chart of each paper's best improvement factor, and the leaderboard."""
    h = html.escape
    out = []
    for key, entries in comparison(records, include_unverified=False).items():
        label = taxonomy.label(key)
        part = [
            f'<section class="metric-class" id="class-{h(key, quote=True)}"><h2>{h(label)} '
            f'<span class="muted">({_better_phrase(key)})</span></h2>'
        ]
        best = best_per_paper(entries)
        if best:
            bars = [Bar(e.system, e.score or 0.0, e.words, "#" + _anchor(e.record, e.index)) for e in best]
            part.append(bar_chart(bars, f"{label}: improvement factor of each paper's best claim (log scale)"))
        for heading, group in groups(entries):
            rows = "".join(
                f"<tr><td>{e.rank if e.rank is not None else '—'}</td><td>{h(e.system)}</td>"
                f"<td>{_claim_link(e)}</td><td>{h(bib_fields(e.record)['year'])}</td></tr>"
                for e in group
            )
            part.append(
                f'<table class="leaderboard"><caption>{h(heading.capitalize())}</caption><thead><tr><th>Rank</th>'
                f"<th>System</th><th>Claim</th><th>Year</th></tr></thead><tbody>{rows}</tbody></table>"
            )
        part.append("</section>")
        out.append("".join(part))
    return "".join(out)


def _field_cell(rec: dict, name: str) -> str:
    """A user field's value, linked to its highlighted evidence; unverified ones flagged."""
    e = html.escape
    fv = (rec.get("fields") or {}).get(name)
    if not fv or fv.get("value") is None:
        why = (fv or {}).get("why") or ""
        return f'<td class="muted" title="{e(why, quote=True)}">—</td>'
    text = e(shown(fv))
    cls = ' class="bad-text"' if fv.get("verified") is False else ""
    tip = e(f"evidence: {fv.get('evidence') or ''}" + (f"; {fv['why']}" if fv.get("why") else ""), quote=True)
    if fv.get("start") is not None:
        text = f'<a href="#{e(_field_anchor(rec, name), quote=True)}">{text}</a>'
    return f'<td{cls} title="{tip}">{text}</td>'


def write_html(records: list[dict], path: str, title: str = "Comparison table") -> None:
    e = html.escape
    script_hash = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
    best_factor: dict[str, float] = {}
    for entries in comparison(records, include_unverified=False).values():
        for en in entries:
            if en.scale == "factor" and en.score is not None:
                best_factor[en.record["id"]] = max(best_factor.get(en.record["id"], 0.0), en.score)
    rows = []
    user_fields = field_names(records)
    for i, rec in enumerate(records):
        nums = rec.get("headline_numbers") or []
        results = [n for n in nums if n.get("kind") == "result" and review_of(n).get("decision") != "reject"]
        good = [n for n in results if stated(n)]
        bad = [n for n in results if not stated(n)]
        href = safe_url(rec.get("url"))
        link = f'<a href="{e(href, quote=True)}">{e(rec["id"])}</a>' if href else e(rec["id"])
        system = e(rec.get("system_name") or "—")
        if rec.get("system_name") and rec.get("system_name_verified") is False:
            system += ' <span class="bad-text">(unverified)</span>'
        claims = "".join(f"<li>{_claim_html(n)}</li>" for n in good)
        claims += "".join(f'<li class="bad-text">{_claim_html(n)} (unverified)</li>' for n in bad)
        bib = bib_fields(rec)
        authors = rec.get("authors") or []
        shown_authors = ", ".join(authors[:3]) + (" et al." if len(authors) > 3 else "")
        user_cells = "".join(_field_cell(rec, name) for name in user_fields)
        rows.append(
            f'<tr><td data-sort="{i}">{link}</td><td>{system}</td><td>{e(rec.get("title") or "")}</td>'
            f"<td>{e(shown_authors)}</td><td>{e(bib['year'])}</td><td>{e(bib['venue'])}</td>"
            f"<td>{e(rec.get('problem') or '')}</td><td>{e(rec.get('technique') or '')}</td>"
            f'<td data-sort="{best_factor.get(rec["id"], 0):.6g}"><ul>{claims}</ul></td>{user_cells}'
            f"<td>{e(rec.get('status') or '')}{(': ' + e(rec.get('error') or '')) if rec.get('error') else ''}</td></tr>"
        )
    papers = []
    for rec in records:
        nums = rec.get("headline_numbers") or []
        papers.append(
            f'<div class="paper" id="p-{e(rec["id"], quote=True)}"><h2>{e(rec["id"])}: {e(rec.get("title") or "")}</h2>'
            f'<p class="abstract">{_highlight(rec, rec.get("abstract") or "", nums)}</p></div>'
        )
    n_claims = sum(len(r.get("headline_numbers") or []) for r in records)
    n_ok = sum(1 for r in records for n in r.get("headline_numbers") or [] if n.get("verified"))
    doc = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title><style>{_STYLE}</style></head>
<body><h1>{e(title)}</h1>
<p class="muted">{len(records)} papers, {n_claims} claims ({n_ok} verified against the abstract, {n_claims - n_ok} not).
Click a column header to sort; "Headline numbers" sorts by each paper's best improvement factor.</p>
<p class="legend"><mark class="ok">verified span</mark> <mark class="bad">unverified claim</mark></p>
<table class="sortable papers"><thead><tr><th>Paper</th><th>System</th><th>Title</th><th>Authors</th><th>Year</th>
<th>Venue</th><th>Problem</th><th>Technique</th><th>Headline numbers</th>{"".join(f"<th>{e(n)}</th>" for n in user_fields)}<th>Status</th></tr></thead><tbody>
{"".join(rows)}
</tbody></table>
<h1 id="comparison">Comparison</h1>
<p class="muted">Each cell is the paper's best verified result in that metric class; click it for the evidence.
Only verified, unrejected results rank; % and x changes rank by their improvement factor (extractor's docs/comparison.md).</p>
{_matrix_html(records)}
{_classes_html(records)}
<h1>Abstracts</h1>
{"".join(papers)}
<script>{_SCRIPT}</script>
</body></html>
"""
    with atomic_write(path, "w", encoding="utf-8") as f:
        f.write(visible(doc))


def export(records: list[dict], path: str, fmt: str, rows: str = "papers") -> None:
    if fmt == "xlsx":
        write_xlsx(records, path)
    elif fmt == "csv":
        write_csv(records, path, rows)
    elif fmt == "md":
        write_markdown(records, path)
    elif fmt == "html":
        write_html(records, path)
    elif fmt == "bib":
        write_bibtex(records, path)
    else:
        raise ValueError(fmt)


__all__ = ["export", "FORMATS"]
