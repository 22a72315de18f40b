"""Bring a reviewed Claims sheet (XLSX or CSV) back into the table, by claim id.

Rows may come back sorted, filtered or with rows deleted; only rows with a decision change
anything. Every problem in the sheet is collected and reported together, and then nothing is
written. The input table is never modified in place.
"""

from __future__ import annotations

import copy
import csv
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Optional

import orjson

from .. import reviews
from ..document import Document
from ..engines.base import ClaimDraft
from ..errors import InputError
from ..limits import MAX_NOTE, MAX_SHEET_BYTES, MAX_SHEET_ROWS, capped, size
from ..store import atomic_write, fit_line, scrub_secrets
from ..units import canonical_unit
from ..verify import verify_claims
from .common import (
    DECISIONS,
    REVIEW_COLUMNS,
    UNCOVERED_DECISIONS,
    claim_id,
    split_uncovered_id,
    unsafe_text,
)

MAX_SHEET_CELL = 1024 * 1024  # characters of one CSV cell read (csv's own default is 131,072)
REQUIRED = ["claim_id", "evidence", *REVIEW_COLUMNS]
REQUIRED_FIELDS = ["field_id", "evidence", "decision", "corrected_value", "note"]
REQUIRED_UNCOVERED = ["uncovered_id", "evidence", "decision", "metric", "direction", "kind", "baseline", "note"]


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
            # formulas as formulas (data_only=False): a value a reviewer typed as a formula has no
            # cached result in a file openpyxl wrote, and must not be read as empty
            wb = load_workbook(path, read_only=True, data_only=False)
        except Exception as e:
            raise ReviewError(f"{path}: not a readable XLSX file ({e.__class__.__name__})") from None
        try:
            if "Claims" not in wb.sheetnames:
                raise ReviewError(f"{path}: no sheet named 'Claims' (sheets: {', '.join(wb.sheetnames)})")
            out = {"claims": _xlsx_rows(wb["Claims"], path, REQUIRED), "uncovered": []}
            if "Uncovered" in wb.sheetnames:
                out["uncovered"] = _xlsx_rows(wb["Uncovered"], path, REQUIRED_UNCOVERED)
            if "Fields" in wb.sheetnames:
                out["fields"] = _xlsx_rows(wb["Fields"], path, REQUIRED_FIELDS)
        except ReviewError:
            raise
        except Exception as e:  # a damaged sheet inside a valid zip
            raise ReviewError(f"{path}: a sheet cannot be read ({e.__class__.__name__}: {str(e)[:100]})") from None
        finally:
            wb.close()
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


def _xlsx_rows(ws, path: str, required: list[str]) -> list[tuple[int, dict]]:
    it = ws.iter_rows()
    header = [str(c.value).strip() if c.value is not None else "" for c in next(it, [])]
    _check_columns(f"{path} ({ws.title})", header, required)
    rows = []
    for r, cells in enumerate(it, start=2):
        if r > MAX_SHEET_ROWS:
            raise ReviewError(f"{path} ({ws.title}): more than {MAX_SHEET_ROWS:,} rows")
        vals = {}
        for h, c in zip(header, cells):
            if not h:
                continue
            if getattr(c, "data_type", None) == "f":
                # refused, not read as empty: the row is reported and nothing is written
                vals["__problem__"] = f"column {h} holds a formula ({str(c.value)[:40]}); type the value itself"
                continue
            vals[h] = _capped_cell(_cell(c.value))
        if any(v.strip() for v in vals.values()):
            rows.append((r, vals))
    return rows


def _capped_cell(text: str) -> str:
    """A cell as it may be stored (a note, a correction): a reviewer's text is kept, but never
    so much that the table line grows past what its readers take."""
    return capped(text, MAX_NOTE)


def _cell(v) -> str:
    """A cell's value as text, every digit kept: 1234.5678 is "1234.5678" (not %g's "1234.57"),
    45.0 is "45"."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e16 else repr(v)
    return str(v)


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

    def no_decision(self, where: str, row: dict, columns: tuple[str, ...]) -> None:
        """A row with no decision changes nothing; when it holds a correction, the reviewer most
        likely forgot `edit`, so the run names it instead of dropping it in silence."""
        given = [c for c in columns if (row.get(c) or "").strip()]
        if given:
            self.unapplied.append(f"{where}: {', '.join(given)} given but no decision (set decision to edit)")

    def record(self, pid: str) -> Optional[dict]:
        return self.out[self.by_id[pid]] if pid in self.by_id else None

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


def apply_review(
    table: list[dict],
    sheets: dict[str, list[tuple[int, dict]]] | list[tuple[int, dict]],
    sheet_name: str,
    now: Optional[str] = None,
) -> tuple[list[dict], dict]:
    """Return (new records, counts). Raises ReviewError listing every bad row. `counts["unapplied"]`
    names the rows that hold a correction but no decision (applied as no decision: nothing changes).

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
        cid = (row.get("claim_id") or "").strip()
        decision = (row.get("decision") or "").strip().lower()
        where = f"row {rownum}"
        if "__problem__" in row:
            problems.append(f"{where}: {row['__problem__']}")
            continue
        if not cid and decision == "add":
            _add_row(rd, row, where)
            continue
        rec = rd.record(cid.rpartition("#")[0])
        n, nid = reviews.find_claim(rec, cid) if rec is not None else (None, cid)
        if rec is None or n is None:
            problems.append(f"{where}: unknown claim id {cid!r}")
            continue
        if nid in seen:
            problems.append(f"{where}: claim {cid} appears twice (also row {seen[nid]})")
            continue
        seen[nid] = rownum
        evidence = (row.get("evidence") or "").strip()
        if nid != cid and not evidence:
            # an id of the old positional form names a place, not a claim: only its evidence tells
            # whether the claim there is the one the reviewer saw (another version's claim is not)
            problems.append(
                f"{where}: claim id {cid!r} is positional (an old sheet); its evidence is needed to apply it"
            )
            continue
        if evidence and evidence != (n.get("text") or "").strip():
            problems.append(
                f"{where}: evidence {evidence!r} does not match claim {cid} ({n.get('text')!r}); "
                "was the table re-extracted after export?"
            )
            continue
        if not decision:
            rd.no_decision(where, row, ("corrected_value", "corrected_unit", "corrected_metric"))
            continue
        if decision not in DECISIONS:
            problems.append(f"{where}: invalid decision {decision!r} (use accept, reject or edit)")
            continue
        corrected = {
            "value_text": (row.get("corrected_value") or "").strip(),
            "unit": (row.get("corrected_unit") or "").strip(),
            "metric": (row.get("corrected_metric") or "").strip(),
        }
        note = (row.get("note") or "").strip() or None
        decided = rd.tally(
            where,
            partial(reviews.decide, rec, n, decision, corrected, note, sheet_name, now),
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
    return rd.out, {**rd.counts, "rows": len(rows) + len(urows) + len(frows), "unapplied": rd.unapplied}


def _review_fields(rd: _Round, rows: list[tuple[int, dict]]) -> None:
    """Decisions on the user fields (the Fields sheet), by field id `<paper id>:<field>`."""
    problems = rd.problems
    seen: set[str] = set()
    for rownum, row in rows:
        where = f"Fields row {rownum}"
        if "__problem__" in row:
            problems.append(f"{where}: {row['__problem__']}")
            continue
        fid = (row.get("field_id") or "").strip()
        decision = (row.get("decision") or "").strip().lower()
        pid, _, name = fid.rpartition(":")
        rec = rd.record(pid)
        if rec is None or name not in (rec.get("fields") or {}):
            problems.append(f"{where}: unknown field id {fid!r}")
            continue
        if fid in seen:
            problems.append(f"{where}: field {fid} appears twice")
            continue
        seen.add(fid)
        evidence = (row.get("evidence") or "").strip()
        if evidence and evidence != (rec["fields"][name].get("evidence") or "").strip():
            problems.append(f"{where}: evidence {evidence!r} does not match field {fid}; was the table re-extracted?")
            continue
        if not decision:
            rd.no_decision(where, row, ("corrected_value",))
            continue
        if decision not in DECISIONS:
            problems.append(f"{where}: invalid decision {decision!r} (use accept, reject or edit)")
            continue
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
    n["id"] = reviews.claim_ids(rec["id"], doc.text, [n])[0]
    return n


def _add_row(rd: _Round, row: dict, where: str) -> None:
    """A new row of the Claims sheet: `add`, a paper id and evidence text of its abstract."""
    pid = (row.get("paper_id") or "").strip()
    evidence = (row.get("evidence") or "").strip()
    problems, counts = rd.problems, rd.counts
    rec = rd.record(pid)
    if rec is None:
        problems.append(f"{where}: a new claim needs the paper_id of a paper in the table (got {pid!r})")
        return
    if not evidence or evidence not in (rec.get("abstract") or ""):
        problems.append(f"{where}: the evidence of a new claim must be text of the paper's abstract (got {evidence!r})")
        return
    fields: dict = {
        "metric": (row.get("corrected_metric") or row.get("metric") or "").strip() or None,
        "direction": (row.get("direction") or "").strip() or None,
        "kind": (row.get("kind") or "").strip() or None,
        "baseline": (row.get("baseline") or "").strip() or None,
    }
    cv = (row.get("corrected_value") or "").strip()
    if cv:
        pv = reviews.parse_value(cv)
        if pv is None:
            problems.append(f"{where}: corrected value {cv!r} is not a number or a range like 20-100")
            return
        fields["value"], fields["low"], fields["high"] = pv
    if (row.get("corrected_unit") or "").strip():
        fields["unit"] = canonical_unit(row["corrected_unit"].strip())
    if fields["direction"] not in (None, "increase", "decrease", "none"):
        problems.append(f"{where}: direction must be increase, decrease or none")
        return
    if fields["kind"] not in (None, "result", "context", "setup"):
        problems.append(f"{where}: kind must be result, context or setup")
        return
    n = _new_claim(rec, evidence, None, {k: v for k, v in fields.items() if v is not None})
    nums = rec.setdefault("headline_numbers", [])
    existing, _ = reviews.find_claim(rec, n["id"])
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
        if "__problem__" in row:
            problems.append(f"{where}: {row['__problem__']}")
            continue
        uid = (row.get("uncovered_id") or "").strip()
        decision = (row.get("decision") or "").strip().lower()
        if not decision:
            continue
        if decision not in UNCOVERED_DECISIONS:
            problems.append(f"{where}: invalid decision {decision!r} (use add)")
            continue
        parsed = split_uncovered_id(uid)
        rec = rd.record(parsed[0]) if parsed else None
        u = None
        if rec is not None and parsed is not None:
            u = next((x for x in rec.get("uncovered_numbers") or [] if x["start"] == parsed[1]), None)
            if u is None and uid not in seen:
                added = [
                    n
                    for n in rec.get("headline_numbers") or []
                    if (n.get("review") or {}).get("added") and n.get("start") == parsed[1]
                ]
                if added:
                    seen.add(uid)
                    counts["unchanged"] += 1
                    continue
        if rec is None or u is None or uid in seen:
            problems.append(f"{where}: unknown or repeated uncovered number {uid!r}")
            continue
        seen.add(uid)
        fields = {
            "value": u.get("value"),
            "low": u.get("low"),
            "high": u.get("high"),
            "unit": u.get("unit") or "",
            "qualifier": u.get("qualifier") or "exact",
            "metric": (row.get("metric") or "").strip() or None,
            "direction": (row.get("direction") or "none").strip() or "none",
            "kind": (row.get("kind") or "result").strip() or "result",
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
