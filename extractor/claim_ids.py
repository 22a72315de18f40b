"""Claim ids and fingerprints: what names a claim across re-extractions, exports and sheets.

- A claim's id does not depend on its position in the record: it is `<paper id>#<key>`, the key
  made from the claim's evidence text and which occurrence of that text in the abstract it is
  (`claim_key`). Re-extracting a paper, with any engine, gives a claim on the same span the same id.
- A claim's fingerprint (`fingerprint`) is what it said: its evidence text and the value the engine
  read there. A reviewed sheet carries both; a row whose fingerprint is no longer its claim's
  belongs to another version of the table.
"""

from __future__ import annotations

import hashlib
from typing import Optional

KEY_LEN = 8

FINGERPRINT_LEN = 8


def claim_key(abstract: str, text: str, start: Optional[int]) -> str:
    """A key from the evidence text and its occurrence: the n-th time that text appears in the
    abstract (counted up to the claim's start). A claim the verifier could not place has no
    occurrence and is keyed by its text alone."""
    norm = " ".join((text or "").split())
    occurrence = abstract.count(text, 0, start) if start is not None and text else -1
    return hashlib.sha1(f"{norm}\x1f{occurrence}".encode()).hexdigest()[:KEY_LEN]


def claim_ids(paper_id: str, abstract: str, claims: list) -> list[str]:
    """Ids for a record's claims (dicts or HeadlineNumbers), in order; two claims on the same span
    (a model that repeats itself) get `-2`, `-3` after the key."""
    ids: list[str] = []
    seen: dict[str, int] = {}
    for n in claims:
        get = n.get if isinstance(n, dict) else lambda k, n=n: getattr(n, k, None)
        key = claim_key(abstract, get("text") or "", get("start"))
        seen[key] = seen.get(key, 0) + 1
        ids.append(f"{paper_id}#{key}" + (f"-{seen[key]}" if seen[key] > 1 else ""))
    return ids


def ensure_ids(rec: dict) -> None:
    """Give every claim of a record dict its id (records written before schema 1.3 have none)."""
    nums = rec.get("headline_numbers") or []
    if all(n.get("id") for n in nums):
        return
    for n, cid in zip(nums, claim_ids(rec["id"], rec.get("abstract") or "", nums)):
        n.setdefault("id", cid)
        if not n["id"]:
            n["id"] = cid


def find_claim(rec: dict, cid: str) -> tuple[Optional[dict], str]:
    """(the claim of `rec` with id `cid`, its id), or (None, cid). An id of the old positional form
    (`<paper>#3`, from sheets exported before ids were stable) is the claim at that position. The
    record is not changed: a claim stored without an id gets it when a decision is applied."""
    nums = rec.get("headline_numbers") or []
    ids = [n.get("id") or c for n, c in zip(nums, claim_ids(rec["id"], rec.get("abstract") or "", nums))]
    for n, i in zip(nums, ids):
        if i == cid:
            return n, i
    _, _, tail = cid.rpartition("#")
    if tail.isdigit() and len(tail) < KEY_LEN and 1 <= int(tail) <= len(nums):
        return nums[int(tail) - 1], ids[int(tail) - 1]
    return None, cid


def fingerprint(n: dict) -> str:
    """A short fingerprint of what a claim says, exported beside its id: its evidence text and the
    value the engine (or the reviewer who added it) read there, as in `carry`. A sheet row whose
    fingerprint is no longer its claim's belongs to another version of the table. Written "fp" +
    hex, text that no spreadsheet program reads as a number."""
    vals = "\x1f".join("" if v is None else f"{float(v):.12g}" for v in engine_values(n))
    norm = " ".join((n.get("text") or "").split())
    return "fp" + hashlib.sha1(f"{norm}\x1e{vals}".encode()).hexdigest()[:FINGERPRINT_LEN]


def engine_values(n: dict) -> tuple:
    """What the evidence said when the claim was reviewed: the engine's (or the adder's) value."""
    rv = n.get("review") or {}
    base = rv.get("original") or n
    return (base.get("value"), base.get("low"), base.get("high"))
