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
from datetime import UTC, datetime
from typing import Optional

import orjson

from .. import taxonomy
from ..document import Document
from ..engines.base import ClaimDraft
from ..errors import InputError
from ..limits import MAX_SHEET_BYTES, MAX_SHEET_ROWS, size
from ..store import atomic_write
from ..units import canonical_unit
from ..verify import verify_claims
from .common import (
    DECISIONS,
    REVIEW_COLUMNS,
    UNCOVERED_DECISIONS,
    claim_id,
    split_claim_id,
    split_uncovered_id,
    unsafe_text,
)

REQUIRED = ["claim_id", "evidence", *REVIEW_COLUMNS]
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
        except ReviewError:
            raise
        except Exception as e:  # a damaged sheet inside a valid zip
            raise ReviewError(f"{path}: a sheet cannot be read ({e.__class__.__name__}: {str(e)[:100]})") from None
        finally:
            wb.close()
        return out
    if path.lower().endswith(".csv"):
        try:
            with open(path, encoding="utf-8-sig", newline="") as f:
                reader = csv.reader(f)
                header = [h.strip() for h in next(reader, [])]
                kind = "uncovered" if "uncovered_id" in header and "claim_id" not in header else "claims"
                _check_columns(path, header, REQUIRED if kind == "claims" else REQUIRED_UNCOVERED)
                rows = []
                for vals in reader:
                    if not any(v.strip() for v in vals):
                        continue
                    rows.append((reader.line_num, {h: unsafe_text(v) for h, v in zip(header, vals) if h}))
                return {"claims": rows if kind == "claims" else [], "uncovered": rows if kind == "uncovered" else []}
        except UnicodeDecodeError:
            raise ReviewError(f"{path}: not UTF-8 text") from None
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
            vals[h] = _cell(c.value)
        if any(v.strip() for v in vals.values()):
            rows.append((r, vals))
    return rows


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _check_columns(path: str, header: list[str], required: list[str]) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        raise ReviewError(
            f"{path}: missing column(s) {', '.join(missing)}; export the sheet again with "
            "'extractor export TABLE -o sheet.xlsx' and keep its header row"
        )


def parse_value(text: str) -> tuple[Optional[float], Optional[float], Optional[float]] | None:
    """A corrected value: "45", "4.07", "1,200", "20-100" (a range). Returns (value, low, high)."""
    t = text.strip().replace(",", "")
    try:
        return float(t), None, None
    except ValueError:
        pass
    if "-" in t[1:]:
        a, _, b = t[1:].partition("-")
        try:
            return None, float(t[0] + a), float(b)
        except ValueError:
            return None
    return None


def _reverify(rec: dict, n: dict) -> dict:
    """The claim `n` (its evidence span and its possibly corrected value, unit, metric) checked
    by the verifier, as any engine's claim is."""
    draft = ClaimDraft(
        text=n.get("text") or "",
        value=n.get("value"),
        low=n.get("low"),
        high=n.get("high"),
        unit=n.get("unit") or "",
        qualifier=n.get("qualifier") or "exact",
        metric=n.get("metric"),
        direction=n.get("direction") or "none",
        kind=n.get("kind") or "result",
        baseline=n.get("baseline"),
        start=n.get("start"),
    )
    [checked] = verify_claims(Document(rec.get("abstract") or "", rec.get("title") or ""), [draft])
    return checked.model_dump()


def apply_review(
    table: list[dict],
    sheets: dict[str, list[tuple[int, dict]]] | list[tuple[int, dict]],
    sheet_name: str,
    now: Optional[str] = None,
) -> tuple[list[dict], dict]:
    """Return (new records, counts). Raises ReviewError listing every bad row."""
    if isinstance(sheets, list):
        sheets = {"claims": sheets, "uncovered": []}
    rows, urows = sheets.get("claims", []), sheets.get("uncovered", [])
    now = now or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    by_id = {rec["id"]: i for i, rec in enumerate(table)}
    out = copy.deepcopy(table)
    problems: list[str] = []
    counts = {"accept": 0, "reject": 0, "edit": 0, "add": 0, "override": 0, "rows": len(rows) + len(urows)}
    seen: dict[str, int] = {}
    for rownum, row in rows:
        cid = (row.get("claim_id") or "").strip()
        decision = (row.get("decision") or "").strip().lower()
        where = f"row {rownum}"
        if "__problem__" in row:
            problems.append(f"{where}: {row['__problem__']}")
            continue
        parsed = split_claim_id(cid)
        if parsed is None or parsed[0] not in by_id:
            problems.append(f"{where}: unknown claim id {cid!r}")
            continue
        pid, idx = parsed
        rec = out[by_id[pid]]
        nums = rec.get("headline_numbers") or []
        if idx >= len(nums):
            problems.append(f"{where}: unknown claim id {cid!r}")
            continue
        if cid in seen:
            problems.append(f"{where}: claim {cid} appears twice (also row {seen[cid]})")
            continue
        seen[cid] = rownum
        n = nums[idx]
        evidence = (row.get("evidence") or "").strip()
        if evidence and evidence != (n.get("text") or "").strip():
            problems.append(
                f"{where}: evidence {evidence!r} does not match claim {cid} ({n.get('text')!r}); "
                "was the table re-extracted after export?"
            )
            continue
        if not decision:
            continue
        if decision not in DECISIONS:
            problems.append(f"{where}: invalid decision {decision!r} (use accept, reject or edit)")
            continue
        original = {k: n.get(k) for k in ("value", "low", "high", "unit", "metric", "verified", "why")}
        review = {
            "decision": decision,
            "time": now,
            "source": sheet_name,
            "original": original,
            "note": (row.get("note") or "").strip() or None,
        }
        if decision == "edit":
            cv = (row.get("corrected_value") or "").strip()
            cu = row.get("corrected_unit")
            cm = (row.get("corrected_metric") or "").strip()
            if not (cv or (cu or "").strip() or cm):
                problems.append(f"{where}: decision 'edit' needs a corrected value, unit or metric")
                continue
            corrected: dict = {}
            if cv:
                pv = parse_value(cv)
                if pv is None:
                    problems.append(f"{where}: corrected value {cv!r} is not a number or a range like 20-100")
                    continue
                n["value"], n["low"], n["high"] = pv
                corrected["value_text"] = cv
            if cu is not None and cu.strip():
                n["unit"] = canonical_unit(cu.strip())
                corrected["unit"] = cu.strip()
            if cm:
                n["metric"] = cm
                corrected["metric"] = cm
            review["corrected"] = corrected
            if cm or "unit" in corrected:  # a new metric or unit: its class and better direction follow
                cls = taxonomy.classify(n.get("metric"), n.get("unit") or "")
                n["metric_class"] = cls.key
                n["better"] = taxonomy.better(cls, n.get("direction"), n.get("qualifier"))
            # re-validated against the evidence by the verifier, as any claim is
            checked = _reverify(rec, n) if n.get("start") is not None else {"verified": False}
            if checked["verified"]:
                n["verified"], n["why"] = True, None
                review["override"] = False
            else:
                n["verified"] = False
                n["why"] = "reviewer override: the corrected value or unit is not what the evidence says"
                review["override"] = True
                counts["override"] += 1
        n["review"] = review
        n["reviewed"] = True
        counts[decision] += 1
    _add_uncovered(out, by_id, urows, sheet_name, now, problems, counts)
    if problems:
        shown = problems[:50]
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        raise ReviewError(f"{sheet_name}: {len(problems)} problem(s), nothing written:\n  " + "\n  ".join(shown) + more)
    return out, counts


def _add_uncovered(
    out: list[dict],
    by_id: dict[str, int],
    rows: list[tuple[int, dict]],
    sheet_name: str,
    now: str,
    problems: list[str],
    counts: dict,
) -> None:
    """`add` on an uncovered number makes it a claim, verified like any other."""
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
        rec = out[by_id[parsed[0]]] if parsed and parsed[0] in by_id else None
        u = None
        if rec is not None and parsed is not None:
            u = next((x for x in rec.get("uncovered_numbers") or [] if x["start"] == parsed[1]), None)
        if rec is None or u is None or uid in seen:
            problems.append(f"{where}: unknown or repeated uncovered number {uid!r}")
            continue
        seen.add(uid)
        draft = ClaimDraft(
            text=u["text"],
            value=u.get("value"),
            low=u.get("low"),
            high=u.get("high"),
            unit=u.get("unit") or "",
            qualifier=u.get("qualifier") or "exact",
            metric=(row.get("metric") or "").strip() or None,
            direction=(row.get("direction") or "none").strip() or "none",
            kind=(row.get("kind") or "result").strip() or "result",
            baseline=(row.get("baseline") or "").strip() or None,
            start=u["start"],
        )
        [claim] = verify_claims(Document(rec["abstract"], rec.get("title") or ""), [draft])
        n = claim.model_dump()
        n["review"] = {
            "decision": "add",
            "time": now,
            "source": sheet_name,
            "original": None,
            "note": (row.get("note") or "").strip() or None,
        }
        n["reviewed"] = True
        rec.setdefault("headline_numbers", []).append(n)
        rec["uncovered_numbers"] = [x for x in rec["uncovered_numbers"] if x is not u]
        counts["add"] += 1


def write_table(records: list[dict], path: str) -> None:
    with atomic_write(path, "wb") as f:
        for rec in records:
            f.write(orjson.dumps(rec) + b"\n")


__all__ = ["read_sheet", "apply_review", "write_table", "ReviewError", "claim_id"]
