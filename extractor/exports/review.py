"""Bring a reviewed Claims sheet (XLSX or CSV) back into the table, by claim id.

Sheets come back from the programs people review in (LibreOffice, Gnumeric, Excel, Google Sheets),
which rewrite what they save: booleans become `=TRUE()`, "31%" becomes 0.31 in a percentage cell or
"31.00%", "8,054" becomes 8054, a paper id "2604.12300" becomes the number 2604.123. So:

- Only the reviewer's columns are read as values (decision, corrections, note). A formula there is
  read by its cached value (and the summary says so); one with no value is a problem of its row.
- Every other cell identifies a row and is compared by meaning, not characters; what tells that a row
  belongs to this table is its claim id and fingerprint (`extractor.claim_ids.fingerprint`), text no
  program changes. A row whose claim has changed since the export is listed and skipped ("stale");
  the rest of the sheet applies.
- Rows may come back sorted, filtered or with rows deleted; only rows with a decision change
  anything, and a row with no decision never blocks the apply.

A mistake in a decision (an unknown word, an edit with nothing corrected, a value that is not a
number) is a problem: every problem is collected and reported together, and then nothing is
written. The input table is never modified in place.
"""

from __future__ import annotations

import copy
import csv
import math
import os
import re
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Optional

import orjson

from .. import claim_ids as ids
from .. import reviews
from ..analysis import taxonomy
from ..analysis.document import Document
from ..analysis.units import canonical_unit
from ..contract import ClaimDraft
from ..core.errors import InputError
from ..core.ids import id_of_text
from ..core.limits import MAX_NOTE, MAX_SHEET_BYTES, MAX_SHEET_ROWS, capped, size
from ..store import atomic_write, fit_line, scrub_secrets
from ..verification import verify_claims
from .common import (
    CORRECTION_COLUMNS,
    DECISIONS,
    REVIEW_COLUMNS,
    SHEET_DECISIONS,
    UNCOVERED_DECISIONS,
    claim_id,
    split_uncovered_id,
    unsafe_text,
)

MAX_SHEET_CELL = 1024 * 1024  # characters of one CSV cell read (csv's own default is 131,072)
# the columns a sheet must have (a sheet exported before corrected_metric_class, corrected_kind and
# fingerprint existed still applies)
REQUIRED = ["claim_id", "evidence", "decision", "corrected_value", "corrected_unit", "corrected_metric", "note"]
REQUIRED_FIELDS = ["field_id", "evidence", "decision", "corrected_value", "note"]
REQUIRED_UNCOVERED = ["uncovered_id", "evidence", "decision", "metric", "direction", "kind", "baseline", "note"]
# what a reviewer types, per sheet: read as values (a formula by its cached value); the other cells
# identify the row. A new Claims row also takes its paper_id, evidence and what the claim says.
EDITABLE = {
    "claims": {*REVIEW_COLUMNS, "paper_id", "evidence", "metric", "direction", "kind", "baseline"},
    "uncovered": {"decision", "metric", "direction", "kind", "baseline", "note"},
    "fields": {"decision", "corrected_value", "note"},
}


class ReviewError(InputError):
    pass


def read_sheet(path: str) -> dict[str, list[tuple[int, dict]]]:
    """{"claims": [(row number, {column: text})], "uncovered": [...]}: the non-empty rows of the
    Claims sheet and, if there is one, of the Uncovered sheet (a CSV is one or the other, by its
    header)."""
    if not os.path.exists(path):
        raise ReviewError(f"{path}: no such file")
    if path.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        _check_zip(path)
        try:
            # twice: with cached values (what LibreOffice, Excel and Google Sheets saved for a formula
            # such as LibreOffice's =TRUE()), and with formulas, to tell a cell that holds one; a
            # formula with no cached value (a file openpyxl wrote) must not be read as empty
            with warnings.catch_warnings():  # "no default style" from Gnumeric's files: not the user's concern
                warnings.simplefilter("ignore")
                wb = load_workbook(path, read_only=True, data_only=True)
                wf = load_workbook(path, read_only=True, data_only=False)
        except Exception as e:
            raise ReviewError(f"{path}: not a readable XLSX file ({e.__class__.__name__})") from None
        try:
            if "Claims" not in wb.sheetnames:
                raise ReviewError(f"{path}: no sheet named 'Claims' (sheets: {', '.join(wb.sheetnames)})")
            out = {"claims": _xlsx_rows(wb["Claims"], wf["Claims"], path, REQUIRED, EDITABLE["claims"])}
            out["uncovered"] = []
            if "Uncovered" in wb.sheetnames:
                out["uncovered"] = _xlsx_rows(
                    wb["Uncovered"], wf["Uncovered"], path, REQUIRED_UNCOVERED, EDITABLE["uncovered"]
                )
            if "Fields" in wb.sheetnames:
                out["fields"] = _xlsx_rows(wb["Fields"], wf["Fields"], path, REQUIRED_FIELDS, EDITABLE["fields"])
        except ReviewError:
            raise
        except Exception as e:  # a damaged sheet inside a valid zip
            raise ReviewError(f"{path}: a sheet cannot be read ({e.__class__.__name__}: {str(e)[:100]})") from None
        finally:
            wb.close()
            wf.close()
        return out
    if path.lower().endswith(".csv"):
        # a cell may be large (a reviewer's long note: capped when stored), never unbounded
        csv.field_size_limit(MAX_SHEET_CELL)
        try:
            with open(path, encoding="utf-8-sig", newline="") as f:
                reader = csv.reader(f)
                header = [h.strip() for h in next(reader, [])]
                kind = "claims"
                if "uncovered_id" in header and "claim_id" not in header:
                    kind = "uncovered"
                elif "field_id" in header and "claim_id" not in header:
                    kind = "fields"
                _check_columns(
                    path, header, {"claims": REQUIRED, "uncovered": REQUIRED_UNCOVERED, "fields": REQUIRED_FIELDS}[kind]
                )
                rows = []
                for vals in reader:
                    if reader.line_num > MAX_SHEET_ROWS:
                        raise ReviewError(f"{path}: more than {MAX_SHEET_ROWS:,} rows")
                    if not any(v.strip() for v in vals):
                        continue
                    rows.append((reader.line_num, {h: _capped_cell(unsafe_text(v)) for h, v in zip(header, vals) if h}))
                return {k: rows if kind == k else [] for k in ("claims", "uncovered", "fields")}
        except UnicodeDecodeError:
            raise ReviewError(f"{path}: not UTF-8 text") from None
        except csv.Error as e:
            where = f"row {reader.line_num}" if "reader" in locals() else "the header"
            raise ReviewError(
                f"{path}: {where}: not a CSV row extractor can read ({e}; the limit for a cell is {size(MAX_SHEET_CELL)})"
            ) from None
    raise ReviewError(f"{path}: expected a .xlsx or .csv file exported by 'extractor export'")


def _check_zip(path: str) -> None:
    """An .xlsx is a zip: refuse one that would unpack to more than the limit (a zip bomb of a few
    MB unpacks to gigabytes). The sizes are the archive's own; a member that lies about its size
    fails its CRC check when read."""
    try:
        with zipfile.ZipFile(path) as z:
            members = z.infolist()
    except (zipfile.BadZipFile, OSError) as e:
        raise ReviewError(f"{path}: not a readable XLSX file ({e.__class__.__name__})") from None
    total = sum(m.file_size for m in members)
    if total > MAX_SHEET_BYTES:
        raise ReviewError(
            f"{path}: unpacks to {total / 1e6:,.0f} MB, more than the limit of "
            f"{size(MAX_SHEET_BYTES)} for a reviewed sheet"
        )


def _xlsx_rows(ws, wsf, path: str, required: list[str], editable: set[str]) -> list[tuple[int, dict]]:
    """The non-empty rows of a sheet: {column: text}. A formula in an editable column with a cached
    value is read as that value and named in `__formulas__`; one without a value is named in
    `__novalue__` (a problem if its row has a decision). Other columns identify the row: a formula
    there is read by its value, or as empty."""
    it, itf = ws.iter_rows(), wsf.iter_rows()
    header = [str(c.value).strip() if c.value is not None else "" for c in next(it, [])]
    next(itf, None)
    _check_columns(f"{path} ({ws.title})", header, required)
    rows = []
    for r, (cells, fcells) in enumerate(zip(it, itf), start=2):
        if r > MAX_SHEET_ROWS:
            raise ReviewError(f"{path} ({ws.title}): more than {MAX_SHEET_ROWS:,} rows")
        vals: dict = {}
        for h, c, fc in zip(header, cells, fcells):
            if not h:
                continue
            text = _cell(c.value, getattr(c, "number_format", None))
            if getattr(fc, "data_type", None) == "f" and h in editable:
                if c.value is None:
                    vals.setdefault("__novalue__", []).append(f"{h} ({str(fc.value)[:40]})")
                    continue
                if text.strip():
                    vals.setdefault("__formulas__", []).append(h)
            vals[h] = _capped_cell(text)
        if any(v.strip() for k, v in vals.items() if not k.startswith("__")) or "__novalue__" in vals:
            rows.append((r, vals))
    return rows


def _capped_cell(text: str) -> str:
    """A cell as it may be stored (a note, a correction): a reviewer's text is kept, but never
    so much that the table line grows past what its readers take."""
    return capped(text, MAX_NOTE)


def _cell(v, number_format: Optional[str] = None) -> str:
    """A cell's value as text, every digit kept: 1234.5678 is "1234.5678" (not %g's "1234.57"),
    45.0 is "45"; a number in a percentage cell as the program shows it (0.31 is "31%"); a date
    (what a program made of "1-2") as its ISO date."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int | float) and number_format and "%" in number_format:
        return _number(round(v * 100, 10)) + "%"
    if isinstance(v, float):
        return _number(v)
    if hasattr(v, "isoformat"):
        return v.isoformat().removesuffix("T00:00:00")
    return str(v)


def _number(v: float) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() and abs(v) < 1e16 else repr(v)


def _check_columns(path: str, header: list[str], required: list[str]) -> None:
    twice = sorted({h for h in header if h and header.count(h) > 1})
    if twice:
        raise ReviewError(
            f"{path}: column(s) {', '.join(twice)} appear more than once; keep one of each (which one holds "
            "the decisions cannot be told)"
        )
    missing = [c for c in required if c not in header]
    if missing:
        raise ReviewError(
            f"{path}: missing column(s) {', '.join(missing)}; export the sheet again with "
            "'extractor export TABLE -o sheet.xlsx' and keep its header row"
        )


@dataclass
class _Round:
    """One sheet being applied: the records (a copy), where each paper is, and what was found."""

    out: list[dict]
    by_id: dict[str, int]
    sheet_name: str
    now: str
    problems: list[str] = field(default_factory=list)
    counts: dict = field(
        default_factory=lambda: dict.fromkeys(("accept", "reject", "edit", "add", "override", "unchanged"), 0)
    )
    unapplied: list[str] = field(default_factory=list)  # rows with a correction and no decision
    stale: list[str] = field(default_factory=list)  # rows whose claim is no longer what the sheet showed
    formulas: list[str] = field(default_factory=list)  # rows where a formula's cached value was read
    _numeric_ids: Optional[dict[float, list[str]]] = None

    def no_decision(self, where: str, row: dict, columns: tuple[str, ...]) -> None:
        """A row with no decision changes nothing; when it holds a correction, the reviewer most
        likely forgot `edit`, so the run names it instead of dropping it in silence."""
        given = [c for c in columns if (row.get(c) or "").strip()]
        if given:
            self.unapplied.append(f"{where}: {', '.join(given)} given but no decision (set decision to edit)")

    def readable(self, where: str, row: dict) -> bool:
        """Whether a row with a decision can be read: a formula with no value in a column the
        reviewer types is a problem; a formula with one is read by it, and said."""
        if row.get("__novalue__"):
            self.problems.append(
                f"{where}: {', '.join(row['__novalue__'])}: a formula with no saved value; type the value itself "
                "(or save the sheet in a spreadsheet program, which stores formula values)"
            )
            return False
        if row.get("__formulas__"):
            self.formulas.append(f"{where}: {', '.join(row['__formulas__'])}")
        return True

    def record(self, pid: str) -> Optional[dict]:
        return self.out[self.by_id[pid]] if pid in self.by_id else None

    def paper(self, text: str) -> Optional[dict]:
        """The record a paper_id cell names: the id as exported ("arXiv:2604.12300"), the bare id,
        or the number a program made of it (2604.123) when exactly one paper's id is that number."""
        pid = id_of_text(text)
        rec = self.record(pid)
        if rec is not None or not pid:
            return rec
        try:
            x = float(pid)
        except ValueError:
            return None
        if self._numeric_ids is None:
            self._numeric_ids = {}
            for i in self.by_id:
                try:
                    self._numeric_ids.setdefault(float(i), []).append(i)
                except ValueError:
                    pass
        found = self._numeric_ids.get(x) or []
        return self.record(found[0]) if len(found) == 1 else None

    def tally(self, where: str, decide: Callable[[], Optional[str]], review_of: Callable[[], dict]) -> bool:
        """Run one decision (claim or field) and count it: a bad correction is a problem of its row,
        a decision already held counts as unchanged. True when the decision changed something."""
        try:
            done = decide()
        except reviews.DecisionError as e:
            self.problems.append(f"{where}: {e}")
            return False
        if done is None:
            self.counts["unchanged"] += 1
            return False
        self.counts[done] += 1
        self.counts["override"] += bool(review_of().get("override"))
        return True


# a number as spreadsheets rewrite it: "8,054" / "8054", "31%" / "31.00%" / 0.31, "2.70" / "2.7"
_NUM = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?%?|[+-]?\.\d+%?")


def _reading(text: str) -> tuple[str, list[float]]:
    """(the text with each number as #, the numbers, a percentage as its fraction)."""
    nums: list[float] = []

    def num(m: re.Match) -> str:
        t = m.group().replace(",", "")
        pct = t.endswith("%")
        try:
            v = float(t.rstrip("%"))
        except ValueError:
            return m.group()
        nums.append(v / 100 if pct else v)
        return "#"

    return " ".join(_NUM.sub(num, text.lower()).split()), nums


def same_meaning(cell: str, text: str) -> bool:
    """Whether a sheet's cell says what the table's text does, however a program rewrote its
    numbers: "31.00%" and "31%" and 0.31, "8054" and "8,054", "2.70x" and "2.7x"."""
    a, b = " ".join(cell.split()), " ".join(text.split())
    if a == b:
        return True
    (sa, na), (sb, nb) = _reading(a), _reading(b)
    return (
        sa == sb and len(na) == len(nb) and all(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12) for x, y in zip(na, nb))
    )


def _decision(row: dict) -> str:
    """The decision cell, case and spaces aside ("Accept ", "EDIT")."""
    return " ".join((row.get("decision") or "").split()).lower()


def _class_key(text: str) -> str:
    """A corrected metric_class as typed: its key ("tail_latency"), or its label ("Tail latency")."""
    t = " ".join(text.split())
    if not t:
        return ""
    low = t.lower().replace(" ", "_").replace("-", "_")
    if low in taxonomy.BY_KEY:
        return low
    by_label = {c.label.lower(): c.key for c in taxonomy.CLASSES}
    return by_label.get(t.lower(), t)


def _corrections(row: dict) -> dict:
    return {
        "value_text": (row.get("corrected_value") or "").strip(),
        "unit": (row.get("corrected_unit") or "").strip(),
        "metric": (row.get("corrected_metric") or "").strip(),
        "metric_class": _class_key(row.get("corrected_metric_class") or ""),
        "kind": " ".join((row.get("corrected_kind") or "").split()).lower(),
    }


def _stands(rd: _Round, where: str, row: dict, cid: str, n: dict, nid: str) -> bool:
    """Whether the claim the row shows is still the table's claim `n`: by the fingerprint when the
    sheet has one, else by the evidence's meaning. A row whose claim changed is listed, not applied."""
    fp = (row.get("fingerprint") or "").strip()
    if fp:
        if fp == ids.fingerprint(n):
            return True
        rd.stale.append(
            f"{where}: claim {cid} has changed since the sheet was exported (it now reads "
            f"{_said(n)} on {n.get('text')!r}); not applied"
        )
        return False
    evidence = (row.get("evidence") or "").strip()
    if nid != cid and not evidence:
        # an id of the old positional form names a place, not a claim: only its evidence tells
        # whether the claim there is the one the reviewer saw (another version's claim is not)
        rd.stale.append(
            f"{where}: claim id {cid!r} is positional (an old sheet) and the row has no evidence; not applied"
        )
        return False
    if evidence and not same_meaning(evidence, (n.get("text") or "").strip()):
        rd.stale.append(
            f"{where}: claim {cid} is now on {n.get('text')!r}, not {evidence!r} (the table was re-extracted "
            "after the export); not applied"
        )
        return False
    return True


def _said(n: dict) -> str:
    v = n.get("value")
    return str(v) if v is not None else f"{n.get('low')}-{n.get('high')}"


def _claim_of(rd: _Round, cid: str, row: dict) -> tuple[Optional[dict], Optional[dict], str]:
    """(record, claim, its id) a row names: by claim id, else (an abstract edited so that the
    same evidence is now another occurrence) by the fingerprint among the paper's claims."""
    rec = rd.record(cid.rpartition("#")[0])
    if rec is None:
        return None, None, cid
    n, nid = ids.find_claim(rec, cid)
    fp = (row.get("fingerprint") or "").strip()
    if n is None and fp:
        same = [i for i, m in enumerate(rec.get("headline_numbers") or []) if ids.fingerprint(m) == fp]
        if len(same) == 1:
            ids.ensure_ids(rec)
            n = rec["headline_numbers"][same[0]]
            nid = n["id"]
    return rec, n, nid


def apply_review(
    table: list[dict],
    sheets: dict[str, list[tuple[int, dict]]] | list[tuple[int, dict]],
    sheet_name: str,
    now: Optional[str] = None,
) -> tuple[list[dict], dict]:
    """Return (new records, counts). Raises ReviewError listing every bad row. In `counts`:
    "unapplied" names the rows that hold a correction but no decision (nothing changes), "stale"
    the rows whose claim is no longer what the sheet showed (not applied, the rest is), "formulas"
    the rows where a formula's saved value was read.

    Each row with a decision is one round for its claim (`extractor.reviews.decide`): a decision
    the claim already holds changes nothing, so the same sheet applied twice gives the same table.
    A row with no claim id, a paper id, evidence text and `add` is a reviewer's new claim."""
    if isinstance(sheets, list):
        sheets = {"claims": sheets, "uncovered": []}
    rows, urows, frows = sheets.get("claims", []), sheets.get("uncovered", []), sheets.get("fields", [])
    now = now or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    rd = _Round(copy.deepcopy(table), {rec["id"]: i for i, rec in enumerate(table)}, sheet_name, now)
    problems = rd.problems
    seen: dict[str, int] = {}
    for rownum, row in rows:
        where = f"row {rownum}"
        decision = _decision(row)
        if not decision:
            if "decision" in " ".join(row.get("__novalue__") or []):
                problems.append(f"{where}: decision is a formula with no saved value; type the decision itself")
            else:
                rd.no_decision(where, row, CORRECTION_COLUMNS)
            continue
        if not rd.readable(where, row):
            continue
        if decision not in SHEET_DECISIONS:
            problems.append(f"{where}: invalid decision {decision!r} (use {', '.join(SHEET_DECISIONS)})")
            continue
        cid = (row.get("claim_id") or "").strip()
        if decision == "add":
            _add_row(rd, row, where, cid)
            continue
        if not cid:
            problems.append(f"{where}: decision {decision!r} needs the row's claim_id (a new claim's decision is add)")
            continue
        rec, n, nid = _claim_of(rd, cid, row)
        if rec is None or n is None:
            rd.stale.append(f"{where}: claim {cid} is not in the table (another table, or re-extracted); not applied")
            continue
        if not _stands(rd, where, row, cid, n, nid):
            continue
        if nid in seen:
            problems.append(f"{where}: claim {cid} appears twice (also row {seen[nid]})")
            continue
        seen[nid] = rownum
        note = (row.get("note") or "").strip() or None
        decided = rd.tally(
            where,
            partial(reviews.decide, rec, n, decision, _corrections(row), note, sheet_name, now),
            lambda: n["review"],  # noqa: B023 (called at once, in tally)
        )
        if decided:
            n["id"] = nid  # a claim stored without an id gets it once decided
    _add_uncovered(rd, urows)
    _review_fields(rd, frows)
    if problems:
        shown = problems[:50]
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        raise ReviewError(f"{sheet_name}: {len(problems)} problem(s), nothing written:\n  " + "\n  ".join(shown) + more)
    return rd.out, {
        **rd.counts,
        "rows": len(rows) + len(urows) + len(frows),
        "unapplied": rd.unapplied,
        "stale": rd.stale,
        "formulas": rd.formulas,
    }


def _review_fields(rd: _Round, rows: list[tuple[int, dict]]) -> None:
    """Decisions on the user fields (the Fields sheet), by field id `<paper id>:<field>`."""
    problems = rd.problems
    seen: set[str] = set()
    for rownum, row in rows:
        where = f"Fields row {rownum}"
        decision = _decision(row)
        if not decision:
            rd.no_decision(where, row, ("corrected_value",))
            continue
        if not rd.readable(where, row):
            continue
        if decision not in DECISIONS:
            problems.append(f"{where}: invalid decision {decision!r} (use accept, reject or edit)")
            continue
        fid = (row.get("field_id") or "").strip()
        pid, _, name = fid.rpartition(":")
        rec = rd.record(pid)
        if rec is None or name not in (rec.get("fields") or {}):
            rd.stale.append(f"{where}: field {fid!r} is not in the table; not applied")
            continue
        evidence = (row.get("evidence") or "").strip()
        base = rec["fields"][name]
        said = ((base.get("review") or {}).get("original") or base).get("evidence") or ""
        if evidence and not same_meaning(evidence, said.strip()):
            rd.stale.append(f"{where}: field {fid} is now on {said!r}, not {evidence!r}; not applied")
            continue
        if fid in seen:
            problems.append(f"{where}: field {fid} appears twice")
            continue
        seen.add(fid)
        note = (row.get("note") or "").strip() or None
        cv = row.get("corrected_value") or ""
        rd.tally(
            where,
            partial(reviews.decide_field, rec, name, decision, cv, note, rd.sheet_name, rd.now),
            lambda: rec["fields"][name]["review"],  # noqa: B023 (called at once, in tally)
        )


def _new_claim(rec: dict, text: str, start: Optional[int], fields: dict) -> dict:
    """A reviewer's claim on `text` (at `start`, or its first occurrence), verified like any claim:
    the value is the span's own reading unless the reviewer typed one."""
    doc = Document(rec.get("abstract") or "", rec.get("title") or "")
    if start is None:
        start = doc.text.find(text)
    q = next((q for q in doc.quantities if q.start >= start and q.end <= start + len(text)), None)
    draft = ClaimDraft(
        text=text,
        value=fields.get("value", q.value if q else None),
        low=fields.get("low", q.low if q else None),
        high=fields.get("high", q.high if q else None),
        unit=fields.get("unit") or (q.unit if q else ""),
        qualifier=fields.get("qualifier") or (q.qualifier if q else "exact"),
        metric=fields.get("metric"),
        direction=fields.get("direction") or "none",
        kind=fields.get("kind") or "result",
        baseline=fields.get("baseline"),
        start=start,
    )
    [claim] = verify_claims(doc, [draft])
    n = claim.model_dump()
    n["id"] = ids.claim_ids(rec["id"], doc.text, [n])[0]
    return n


def _add_row(rd: _Round, row: dict, where: str, cid: str = "") -> None:
    """A new row of the Claims sheet: `add`, a paper id and evidence text of its abstract (a row of
    a claim added before, exported with its id, is that claim again and changes nothing)."""
    problems, counts = rd.problems, rd.counts
    evidence = (row.get("evidence") or "").strip()
    rec = rd.record(cid.rpartition("#")[0]) if cid else None
    if rec is not None:
        existing, _ = ids.find_claim(rec, cid)
        if existing is not None and (existing.get("review") or {}).get("added"):
            if _stands(rd, where, row, cid, existing, cid):
                counts["unchanged"] += 1
            return
    else:
        rec = rd.paper(row.get("paper_id") or "")
    if rec is None:
        problems.append(
            f"{where}: a new claim needs the paper_id of a paper in the table (got {(row.get('paper_id') or '').strip()!r})"
        )
        return
    if not evidence or evidence not in (rec.get("abstract") or ""):
        problems.append(f"{where}: the evidence of a new claim must be text of the paper's abstract (got {evidence!r})")
        return
    corrected = _corrections(row)
    fields: dict = {
        "metric": corrected["metric"] or (row.get("metric") or "").strip() or None,
        "direction": " ".join((row.get("direction") or "").split()).lower() or None,
        "kind": corrected["kind"] or " ".join((row.get("kind") or "").split()).lower() or None,
        "baseline": (row.get("baseline") or "").strip() or None,
    }
    cv = corrected["value_text"]
    if cv:
        pv = reviews.parse_value(cv)
        if pv is None:
            problems.append(f"{where}: corrected value {cv!r} is not a number or a range like 20-100")
            return
        fields["value"], fields["low"], fields["high"] = pv
        if cv.endswith("%") and not corrected["unit"]:
            fields["unit"] = "%"
    if corrected["unit"]:
        fields["unit"] = canonical_unit(corrected["unit"])
    if fields["direction"] not in (None, "increase", "decrease", "none"):
        problems.append(f"{where}: direction must be increase, decrease or none")
        return
    if fields["kind"] not in (None, *reviews.KINDS):
        problems.append(f"{where}: kind must be result, context or setup")
        return
    key = corrected["metric_class"]
    if key and key not in taxonomy.BY_KEY:
        problems.append(f"{where}: corrected metric_class {key!r} is not a class ({', '.join(taxonomy.KEYS)})")
        return
    n = _new_claim(rec, evidence, None, {k: v for k, v in fields.items() if v is not None})
    if key:
        cls = taxonomy.classify(n.get("metric"), n.get("unit") or "", key)
        n["metric_class"], n["better"] = cls.key, taxonomy.better(cls, n.get("direction"), n.get("qualifier"))
    nums = rec.setdefault("headline_numbers", [])
    existing, _ = ids.find_claim(rec, n["id"])
    if existing is not None:
        if (existing.get("review") or {}).get("added"):
            counts["unchanged"] += 1  # this sheet's row, applied before
            return
        problems.append(f"{where}: {evidence!r} is already claim {n['id']}; review that row instead")
        return
    nums.append(reviews.add_claim(rec, n, (row.get("note") or "").strip() or None, rd.sheet_name, rd.now))
    reviews.drop_covered(rec, n)
    counts["add"] += 1


def _add_uncovered(rd: _Round, rows: list[tuple[int, dict]]) -> None:
    """`add` on an uncovered number makes it a claim, verified like any other; the same row applied
    again finds its claim already added and changes nothing."""
    problems, counts = rd.problems, rd.counts
    seen: set[str] = set()
    for rownum, row in rows:
        where = f"Uncovered row {rownum}"
        uid = (row.get("uncovered_id") or "").strip()
        decision = _decision(row)
        if not decision or not rd.readable(where, row):
            continue
        if decision not in UNCOVERED_DECISIONS:
            problems.append(f"{where}: invalid decision {decision!r} (use add)")
            continue
        if uid in seen:
            problems.append(f"{where}: uncovered number {uid!r} appears twice")
            continue
        seen.add(uid)
        parsed = split_uncovered_id(uid)
        rec = rd.record(parsed[0]) if parsed else None
        u = None
        if rec is not None and parsed is not None:
            u = next((x for x in rec.get("uncovered_numbers") or [] if x["start"] == parsed[1]), None)
            if u is None and any(
                (n.get("review") or {}).get("added") and n.get("start") == parsed[1]
                for n in rec.get("headline_numbers") or []
            ):
                counts["unchanged"] += 1  # added by this sheet before
                continue
        if (
            rec is None
            or u is None
            or (row.get("evidence") or "").strip() not in ("", u["text"])
            and not same_meaning(row["evidence"].strip(), u["text"])
        ):
            rd.stale.append(f"{where}: uncovered number {uid!r} is not in the table any more; not applied")
            continue
        direction = " ".join((row.get("direction") or "").split()).lower() or "none"
        kind = " ".join((row.get("kind") or "").split()).lower() or "result"
        if direction not in ("increase", "decrease", "none"):
            problems.append(f"{where}: direction must be increase, decrease or none")
            continue
        if kind not in reviews.KINDS:
            problems.append(f"{where}: kind must be result, context or setup")
            continue
        fields = {
            "value": u.get("value"),
            "low": u.get("low"),
            "high": u.get("high"),
            "unit": u.get("unit") or "",
            "qualifier": u.get("qualifier") or "exact",
            "metric": (row.get("metric") or "").strip() or None,
            "direction": direction,
            "kind": kind,
            "baseline": (row.get("baseline") or "").strip() or None,
        }
        n = _new_claim(rec, u["text"], u["start"], fields)
        rec.setdefault("headline_numbers", []).append(
            reviews.add_claim(rec, n, (row.get("note") or "").strip() or None, rd.sheet_name, rd.now)
        )
        rec["uncovered_numbers"] = [x for x in rec["uncovered_numbers"] if x is not u]
        counts["add"] += 1


def write_table(records: list[dict], path: str, lock=None) -> None:
    """The reviewed table, replacing `path` at once (through a link, if it is one); the caller holds
    its lock, and the new file is locked before the rename's old file is let go."""
    with atomic_write(path, "wb") as f:
        for rec in records:
            f.write(fit_line(scrub_secrets(orjson.dumps(rec))) + b"\n")
    if lock is not None:
        lock.hold_table()


__all__ = ["read_sheet", "apply_review", "write_table", "ReviewError", "claim_id"]
