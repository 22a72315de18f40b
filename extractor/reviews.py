"""Review decisions that are never lost: stable claim ids, a review's history, and decisions
carried to a new version of a paper or to a re-extraction.

- A claim's id does not depend on its position in the record: it is `<paper id>#<key>`, the key
  made from the claim's evidence text and which occurrence of that text in the abstract it is
  (`claim_key`). Re-extracting a paper, with any engine, gives a claim on the same span the same id.
- A claim's `review` holds the current decision and `original`: the engine's claim as it was
  before any review, written once and never replaced. Every round that changes something adds an
  entry to `review.history` (decision, time, source sheet, values before and after); a round that
  changes nothing adds nothing, so applying one sheet twice is a no-op.
- `carry()` moves the reviewed claims of a paper's previous record onto its new record when the
  claim still stands in the new abstract (the same evidence text with the same value); every one
  that cannot be carried is returned with the reason, for the run's output and a sidecar file.

Both the sheet importer (`extractor.exports.review`) and the pipeline call this module; nothing
else edits a review.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

import orjson

from .analysis import taxonomy
from .analysis.document import Document
from .analysis.units import canonical_unit, values_agree
from .claim_ids import claim_ids, engine_values, ensure_ids
from .contract import ClaimDraft
from .core.limits import MAX_NOTE, MAX_STORED_TEXT, capped
from .fields import FieldSpec
from .store import dumps, reviewed_claims
from .verification import read_number, verify_claims
from .verification.fields import read_bool, verify_field

# what a review remembers of a claim, before and after each round
SNAPSHOT = ("value", "low", "high", "unit", "metric", "metric_class", "kind", "better", "verified", "why")

KINDS = ("result", "context", "setup")


# -- one review round ---------------------------------------------------------------------------
class DecisionError(ValueError):
    """A decision a sheet asks for that cannot be applied (the message says why)."""


def snapshot(n: dict) -> dict:
    return {k: n.get(k) for k in SNAPSHOT}


def parse_value(text: str) -> tuple[Optional[float], Optional[float], Optional[float]] | None:
    """A corrected value: "45", "4.07", "1,200", "20-100" (a range), "31%" (as a spreadsheet shows a
    percentage cell: 31). Returns (value, low, high)."""
    t = text.strip().replace(",", "").removesuffix("%").strip()
    try:
        v = float(t)
        return (v, None, None) if math.isfinite(v) else None  # nan, inf, 1e999: no value of a claim
    except ValueError:
        pass
    if "-" in t[1:]:
        a, _, b = t[1:].partition("-")
        try:
            lo, hi = float(t[0] + a), float(b)
        except ValueError:
            return None
        return (None, lo, hi) if math.isfinite(lo) and math.isfinite(hi) else None
    return None


def value_words(text: str) -> str:
    """A corrected value as stored: the number itself, however a spreadsheet wrote it ("31.00%" and
    "31%" are "31%", "1,200" is "1200", "20 - 100" is "20-100"), so that a sheet saved again by a
    program is the same round; text that is no number stays as typed (and is refused)."""
    pv = parse_value(text)
    if pv is None:
        return text.strip()

    def num(v: Optional[float]) -> str:
        return "" if v is None else str(int(v)) if float(v).is_integer() and abs(v) < 1e16 else repr(v)

    value, low, high = pv
    words = num(value) if value is not None else f"{num(low)}-{num(high)}"
    return words + ("%" if text.strip().endswith("%") else "")


def _reverify(rec: dict, n: dict) -> dict:
    """The claim `n` (its evidence span and its possibly corrected value, unit, metric) checked by
    the verifier, as any engine's claim is."""
    [checked] = verify_claims(Document(rec.get("abstract") or "", rec.get("title") or ""), [draft_of(n)])
    return checked.model_dump()


def draft_of(n: dict, start: Optional[int] = None) -> ClaimDraft:
    return ClaimDraft(
        text=n.get("text") or "",
        value=n.get("value"),
        low=n.get("low"),
        high=n.get("high"),
        unit=n.get("unit") or "",
        qualifier=n.get("qualifier") or "exact",
        metric=n.get("metric"),
        metric_class=n.get("metric_class"),
        condition=n.get("condition"),
        direction=n.get("direction") or "none",
        kind=n.get("kind") or "result",
        baseline=n.get("baseline"),
        start=n.get("start") if start is None else start,
    )


def _apply_corrections(rec: dict, n: dict, corrected: dict) -> bool:
    """Put a reviewer's corrected value / unit / metric on `n` and verify it against its evidence.
    Returns True when the verifier does not confirm it (a reviewer override)."""
    if corrected.get("value_text"):
        pv = parse_value(corrected["value_text"])
        if pv is None:
            raise DecisionError(f"corrected value {corrected['value_text']!r} is not a number or a range like 20-100")
        n["value"], n["low"], n["high"] = pv
    if corrected.get("unit"):
        n["unit"] = canonical_unit(corrected["unit"])
    elif corrected.get("value_text", "").strip().endswith("%"):
        n["unit"] = "%"  # "31%" typed (or a percentage cell) with no unit: the value is a percentage
    if corrected.get("metric"):
        n["metric"] = corrected["metric"]
    key = corrected.get("metric_class")
    if key is not None and key not in taxonomy.BY_KEY:
        raise DecisionError(f"corrected metric_class {key!r} is not a class ({', '.join(taxonomy.KEYS)})")
    if corrected.get("kind"):
        if corrected["kind"] not in KINDS:
            raise DecisionError(f"corrected kind {corrected['kind']!r} is not one of {', '.join(KINDS)}")
        n["kind"] = corrected["kind"]
    if key or corrected.get("metric") or corrected.get("unit"):  # its class and better direction follow
        cls = taxonomy.classify(n.get("metric"), n.get("unit") or "", key)
        n["metric_class"] = cls.key
        n["better"] = taxonomy.better(cls, n.get("direction"), n.get("qualifier"))
    checked = _reverify(rec, n) if n.get("start") is not None else {"verified": False}
    said = {k: checked.get(k) for k in ("value", "low", "high")}
    if checked["verified"] and corrected.get("value_text") and said != {k: n.get(k) for k in said}:
        # the verifier read the typed value as another spelling of the span's ("0.31" for "31%": a
        # percentage cell that Gnumeric saved as its fraction): the claim takes the span's reading,
        # and the correction is stored as it, so the next round reads the same
        n.update(said)
        corrected["value_text"] = value_words(value_text(said) + ("%" if n.get("unit") == "%" else ""))
    if checked["verified"]:
        n["verified"], n["why"] = True, None
        return False
    n["verified"] = False
    n["why"] = "reviewer override: the corrected value or unit is not what the evidence says"
    return True


def _same_round(rv: dict, decision: str, corrected: dict, note: Optional[str]) -> bool:
    held = dict(rv.get("corrected") or {})
    if held.get("value_text") and "value_text" in corrected:  # "1,200" stored before values were canonical
        held["value_text"] = value_words(held["value_text"])
        if held["value_text"].endswith("%") and _fraction_of(corrected["value_text"], held["value_text"]):
            held["value_text"] = corrected["value_text"]  # 31% saved by a program as 0.31 (see _apply_corrections)
    return rv.get("decision") == decision and held == corrected and rv.get("note") == note


def _fraction_of(text: str, percent: str) -> bool:
    """Whether `text` ("0.31", "0.2-0.5") is the fraction of `percent` ("31%", "20-50%")."""
    a, b = parse_value(text), parse_value(percent)
    if a is None or b is None or text.strip().endswith("%"):
        return False
    return all(
        (x is None and y is None) or (x is not None and y is not None and math.isclose(x * 100, y, rel_tol=1e-9))
        for x, y in zip(a, b)
    )


def value_text(v: dict) -> str:
    """(value, low, high) as a corrected value reads: "31", "20-50"."""

    def num(x: float) -> str:
        return str(int(x)) if float(x).is_integer() and abs(x) < 1e16 else repr(x)

    return num(v["value"]) if v.get("value") is not None else f"{num(v['low'])}-{num(v['high'])}"


def _legacy_history(rv: dict) -> list[dict]:
    """A review written before history existed (schema 1.2) counts as its first round."""
    if rv.get("history") is not None or not rv.get("decision"):
        return list(rv.get("history") or [])
    return [
        {
            "decision": rv["decision"],
            "time": rv.get("time"),
            "source": rv.get("source"),
            "before": None,
            "after": None,
            "note": rv.get("note"),
        }
    ]


def _round(
    rv: dict, decision: str, now: str, source: str, original: dict, note: Optional[str], before: dict, after: dict
) -> dict:
    """The review after one round that changed something: the decision, the original kept, and the
    round added to the history (claims and user fields alike)."""
    history = _legacy_history(rv)
    history.append(
        {"decision": decision, "time": now, "source": source, "before": before, "after": after, "note": note}
    )
    return {"decision": decision, "time": now, "source": source, "original": original, "note": note, "history": history}


def decide(
    rec: dict, n: dict, decision: str, corrected: dict, note: Optional[str], source: str, now: str
) -> Optional[str]:
    """Apply one reviewer decision (accept / reject / edit) to claim `n` of `rec`, in place.
    Returns None when the decision is already what the claim holds (nothing changes), else the
    decision applied; raises DecisionError for a correction that cannot be read.

    Values are always recomputed from the engine's original: an edit in round 3 corrects the
    engine's claim, not round 2's edit, and an `accept` after an `edit` restores the original."""
    rv = n.get("review") or {}
    corrected = {k: capped(v, MAX_STORED_TEXT) for k, v in corrected.items() if v} if decision == "edit" else {}
    if corrected.get("value_text"):
        corrected["value_text"] = value_words(corrected["value_text"])
    note = capped(note, MAX_NOTE) if note else note
    if decision == "edit" and not corrected:
        raise DecisionError("decision 'edit' needs a corrected value, unit, metric, metric_class or kind")
    if rv and _same_round(rv, decision, corrected, note):
        return None
    original = rv["original"] if rv.get("original") is not None else snapshot(n)
    if "kind" not in original:  # a review from before kinds were corrected: the kind then was never edited
        original = {**original, "kind": n.get("kind")}
    before = {**snapshot(n), "decision": rv.get("decision")}
    trial = copy.deepcopy(n)
    trial.update(original)
    override = _apply_corrections(rec, trial, corrected) if decision == "edit" else None
    n.clear()
    n.update(trial)
    review = _round(rv, decision, now, source, original, note, before, snapshot(n))
    if rv.get("added"):
        review["added"] = True
    if decision == "edit":
        review["corrected"] = corrected
        review["override"] = override
    n["review"] = review
    n["reviewed"] = True
    return decision


def add_claim(rec: dict, n: dict, note: Optional[str], source: str, now: str) -> dict:
    """A reviewer's new claim (already verified by the caller, like any claim): its review says
    `add` and `added: true`, and the claim as added stands in for the engine's original."""
    note = capped(note, MAX_NOTE) if note else note
    n["review"] = {
        "decision": "add",
        "time": now,
        "source": source,
        "original": snapshot(n),
        "added": True,
        "note": note,
        "history": [
            {"decision": "add", "time": now, "source": source, "before": None, "after": snapshot(n), "note": note}
        ],
    }
    n["reviewed"] = True
    ensure_ids(rec)
    return n


# -- a user field's review round ----------------------------------------------------------------
FIELD_SNAPSHOT = ("value", "evidence", "start", "end", "verified", "why")


def decide_field(
    rec: dict, name: str, decision: str, corrected_text: str, note: Optional[str], source: str, now: str
) -> Optional[str]:
    """One reviewer decision on the user field `name` of `rec`, with the same rules as a claim's:
    the original written once, a history entry per round that changes something, edits applied to
    the original. An edited value is read as the field's type; a number must be what its evidence
    says, or it is a reviewer override."""

    fv = rec["fields"][name]
    rv = fv.get("review") or {}
    corrected_text = capped(corrected_text, MAX_STORED_TEXT)
    note = capped(note, MAX_NOTE) if note else note
    corrected = {"value_text": corrected_text.strip()} if decision == "edit" and corrected_text.strip() else {}
    if decision == "edit" and not corrected:
        raise DecisionError("decision 'edit' needs a corrected value")
    if rv and _same_round(rv, decision, corrected, note):
        return None
    original = rv["original"] if rv.get("original") is not None else {k: fv.get(k) for k in FIELD_SNAPSHOT}
    before = {**{k: fv.get(k) for k in FIELD_SNAPSHOT}, "decision": rv.get("decision")}
    new = {**fv, **original}
    override = None
    if decision == "edit":
        ftype = fv.get("type") or "text"
        text = corrected["value_text"]
        value: object = text
        if ftype == "number":
            value, _, problem = read_number(text)
            if problem or value is None:
                raise DecisionError(f"corrected value {text!r} is not a number")
        elif ftype == "boolean":
            value = read_bool(text)
            if value is None:
                raise DecisionError(f"corrected value {text!r} is not true or false (yes / no)")
        elif ftype == "list":
            value = [x.strip() for x in text.split(";") if x.strip()]
        # a choice or a text is the reviewer's word; its evidence and a number's reading are checked
        spec = FieldSpec(name, "text" if ftype == "choice" else ftype, evidence=False)
        answer = {"value": value, "evidence": original.get("evidence")}
        checked = verify_field(rec.get("title") or "", rec.get("abstract") or "", spec, answer)
        new["value"] = checked.value
        override = not checked.verified
        new["verified"] = bool(checked.verified)
        new["why"] = f"reviewer override: {checked.why}" if override else None
    review = _round(rv, decision, now, source, original, note, before, {k: new.get(k) for k in FIELD_SNAPSHOT})
    if decision == "edit":
        review["corrected"] = corrected
        review["override"] = override
    new["review"] = review
    rec["fields"][name] = new
    return decision


# -- carrying decisions to a new record ------------------------------------------------------------
@dataclass
class Uncarried:
    """A reviewed claim of a paper's previous record that the new record cannot take over."""

    paper: str
    claim_id: str
    evidence: str
    decision: str
    why: str
    claim: dict  # the whole reviewed claim, so that nothing of the decision is lost

    def line(self) -> str:
        return f"{self.paper}: review of claim {self.claim_id} ({self.decision}, {self.evidence!r}) not carried: {self.why}"

    def as_dict(self) -> dict:
        return {
            "paper": self.paper,
            "claim_id": self.claim_id,
            "evidence": self.evidence,
            "decision": self.decision,
            "why": self.why,
            "claim": self.claim,
        }


def _same_value(a: tuple, b: tuple) -> bool:
    """(value, low, high) against (value, low, high), with the project's one tolerance."""
    return all(values_agree(x, y) for x, y in zip(a, b))


def _carried_review(old: dict, how: str, source: str, now: str) -> dict:
    rv = copy.deepcopy(old["review"])
    rv["history"] = _legacy_history(rv) + [
        {
            "decision": "carried",
            "time": now,
            "source": source,
            "before": None,
            "after": None,
            "note": f"{how} ({'field ' + old['field_name'] if 'field_name' in old else 'claim ' + str(old.get('id'))})",
        }
    ]
    return rv


def carry(old_claims: list[dict], new: dict, source: str, now: str) -> tuple[int, list[Uncarried]]:
    """Move the reviewed `old_claims` of a paper onto its new record dict `new`, in place.

    A decision carries when its claim still stands: a claim of the new record on the same evidence
    text with the same value (its id, the same occurrence, preferred); else the evidence text is
    still in the new abstract and reads the same value there, and the reviewed claim is added back
    to the record, verified again. An edit is applied again on top of the new claim. Everything
    else is returned as Uncarried. Returns (carried, uncarried)."""
    ensure_ids(new)
    if new.get("status") == "error":
        new["pending_reviews"] = [copy.deepcopy(o) for o in old_claims]
        return 0, []
    old_fields = [o for o in old_claims if "field_name" in o]
    old_claims = [o for o in old_claims if "field_name" not in o]
    carried_fields, lost_fields = _carry_fields(old_fields, new, source, now)
    nums = new.setdefault("headline_numbers", [])
    taken: set[int] = {i for i, n in enumerate(nums) if (n.get("review") or {}).get("decision")}
    doc = Document(new.get("abstract") or "", new.get("title") or "")
    carried, lost = 0, []
    for old in old_claims:
        rv = old.get("review") or {}
        text = old.get("text") or ""
        want = engine_values(old)
        same_text = [
            i
            for i, n in enumerate(nums)
            if i not in taken and " ".join((n.get("text") or "").split()) == " ".join(text.split())
        ]
        match = [
            i for i in same_text if _same_value((nums[i].get("value"), nums[i].get("low"), nums[i].get("high")), want)
        ]
        match.sort(key=lambda i: nums[i].get("id") != old.get("id"))
        if match:
            target = nums[match[0]]
            how = "carried to the new claim"
        else:
            target = _re_add(doc, new, old, want)
            if target is None:
                lost.append(_why_not(new, old, same_text, nums))
                continue
            nums.append(target)
            how = "added back (the new extraction did not give this claim)"
        taken.add(nums.index(target))
        target["review"] = _carried_review(old, how, source, now)
        target["reviewed"] = True
        if rv.get("decision") == "edit":
            try:
                target["review"]["override"] = _apply_corrections(new, target, rv.get("corrected") or {})
            except DecisionError:
                pass  # a correction that no longer reads (a hand-edited table): the claim keeps the engine's values
        carried += 1
    if carried:  # a claim added back covers its number now
        for n in nums:
            drop_covered(new, n)
    return carried + carried_fields, lost + lost_fields


def drop_covered(rec: dict, n: dict) -> None:
    """Remove from `rec`'s uncovered numbers the ones claim `n`'s span overlaps."""
    s, e = n.get("start"), n.get("end")
    if s is None or e is None or not rec.get("uncovered_numbers"):
        return
    rec["uncovered_numbers"] = [u for u in rec["uncovered_numbers"] if not (u["start"] < e and s < u["end"])]


def _carry_fields(old_fields: list[dict], new: dict, source: str, now: str) -> tuple[int, list[Uncarried]]:
    """A user field's decision carries when the new record's field says what the reviewed one did
    before review (the same value on the same evidence); the reviewed field then replaces it."""
    carried, lost = 0, []
    fields = new.get("fields") or {}
    for old in old_fields:
        name = old["field_name"]
        rv = old.get("review") or {}
        base = rv.get("original") or old
        cur = fields.get(name)
        if cur is None:
            why = f"the field {name!r} is not declared for the new record"
        elif (cur.get("evidence") or "") != (base.get("evidence") or "") or cur.get("value") != base.get("value"):
            why = f"the field now reads {cur.get('value')!r} on {cur.get('evidence')!r} (was {base.get('value')!r})"
        else:
            kept = {k: v for k, v in old.items() if k != "field_name"}
            kept["start"], kept["end"] = cur.get("start"), cur.get("end")  # offsets of the new abstract
            kept["model_answer"] = cur.get("model_answer")
            kept["review"] = _carried_review(old, "carried to the new record's field", source, now)
            fields[name] = kept
            carried += 1
            continue
        evidence = base.get("evidence") or ""
        lost.append(
            Uncarried(new["id"], f"{new['id']}:{name}", evidence, rv.get("decision") or "", why, copy.deepcopy(old))
        )
    return carried, lost


def _re_add(doc: Document, new: dict, old: dict, want: tuple) -> Optional[dict]:
    """The reviewed claim on its evidence in the new abstract, verified, if it reads the same value
    there; the claim as the engine first gave it (an edit is applied again by the caller)."""
    text = old.get("text") or ""
    if not text or text not in doc.text:
        return None
    base = dict(old)
    base.update((old.get("review") or {}).get("original") or {})
    [checked] = verify_claims(doc, [draft_of(base, start=doc.text.find(text))])
    n = checked.model_dump()
    # a claim placed in the abstract must be placed again; one that never was (a reviewer's claim on
    # text with no number in it) carries as it stands, the text still being in the abstract
    if (n.get("start") is None and old.get("start") is not None) or not _same_value(
        (n.get("value"), n.get("low"), n.get("high")), want
    ):
        return None
    n["id"] = claim_ids(new["id"], doc.text, [n])[0]
    return n


def _why_not(new: dict, old: dict, same_text: list[int], nums: list[dict]) -> Uncarried:
    text = old.get("text") or ""
    rv = old.get("review") or {}
    if text and text in (new.get("abstract") or ""):
        said = [nums[i] for i in same_text]
        got = ", ".join(
            str(n.get("value") if n.get("value") is not None else f"{n.get('low')}-{n.get('high')}") for n in said
        )
        why = (
            f"the evidence {text!r} now reads a different value ({got})"
            if said
            else "the evidence no longer reads the same value"
        )
    else:
        why = f"the evidence {text!r} is no longer in the abstract"
    return Uncarried(
        paper=new["id"],
        claim_id=old.get("id") or "",
        evidence=text,
        decision=rv.get("decision") or "",
        why=why,
        claim=copy.deepcopy(old),
    )


def uncarried_path(table: str) -> str:
    """The sidecar beside a table that lists every decision a run could not carry."""
    return table + ".uncarried.jsonl"


class Carrier:
    """Carries a table's review decisions onto the records a run writes for the same papers, and
    lists what it cannot carry (in the run's output and in `uncarried_path(table)`, appended)."""

    def __init__(self, table: str, reviewed: dict[str, list[dict]], warn: Callable[[str], None] = lambda s: None):
        self.table = table
        self.reviewed = reviewed
        self.warn = warn
        self.carried = 0
        self.uncarried = 0

    def wants(self, pid: str) -> bool:
        return pid in self.reviewed

    def line(self, pid: str, rec) -> bytes:
        """A record (a Record, or its JSON line) as the JSON line to write, with the decisions of
        the paper's previous record carried over; most papers have none and pass through."""
        line = rec if isinstance(rec, bytes) else dumps(rec)
        if not self.wants(pid):
            return line
        from .core.clock import now_iso  # here: records imports this module

        return orjson.dumps(self.apply(orjson.loads(line), now_iso()))

    def apply(self, rec: dict, now: str) -> dict:
        """`rec` (a new record dict) with the decisions of the paper's previous record carried."""
        old = self.reviewed.get(rec["id"])
        if not old:
            return rec
        source = f"re-extraction ({(rec.get('provenance') or {}).get('engine')}, {rec.get('version') or 'no version'})"
        carried, lost = carry(old, rec, source, now)
        self.carried += carried
        if lost:
            self._list(lost, rec, now)
        claims = reviewed_claims(rec)
        if claims:
            self.reviewed[rec["id"]] = claims  # a later line of this run for the paper carries from here
        else:
            self.reviewed.pop(rec["id"], None)
        return rec

    def _list(self, lost: list[Uncarried], rec: dict, now: str) -> None:
        self.uncarried += len(lost)
        lines = []
        for u in lost:
            self.warn(f"warning: {u.line()}")
            lines.append(orjson.dumps({"time": now, "table": self.table, "version": rec.get("version"), **u.as_dict()}))
        try:
            with open(uncarried_path(self.table), "ab") as f:
                f.write(b"\n".join(lines) + b"\n")
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            self.warn(
                f"warning: {uncarried_path(self.table)}: cannot write ({e.strerror}); the decisions above are listed only here"
            )
