"""The comparison across papers: every result claim in its metric class, ranked where claims can be
ranked, for the Compare sheet, the HTML matrix and charts, the Markdown leaderboards and
`export --rows compare`.

Ranking rules (docs/comparison.md):
- Only the papers' own results (`kind: result`) that the verifier verified and no reviewer
  rejected rank. A reviewer's edit ranks with its corrected value (the record holds it, and the
  verifier re-checked it against the evidence; an override the evidence does not support stays
  unverified and does not rank). Unverified claims are listed, flagged, below the ranked ones.
- A relative claim (a % or x change with a direction, in a class with a better direction) ranks by
  its improvement factor: "4.07x lower latency" is 4.07, "reduces latency by 39%" is 1/(1-0.39) =
  1.64, "37% higher density" is 1.37; a change the wrong way (5% higher TTFT) is below 1. So %
  and x claims of one class share one scale, and the factor is what the tables show beside them.
- A level (no direction: "sub-0.5 us response time", "84.7% code coverage", "3% overhead") ranks
  against levels of the same class and the same kind of unit (times converted to seconds, sizes to
  bytes), lower first when lower is better.
- A range or an "up to" claim ranks by its most favourable end, as the paper states it (the
  headline number is a best case; the table says so by showing the text).
- Claims of classes with no better direction (scale, other) and claims with no direction in a
  relative unit are listed, unranked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional

from ..analysis import taxonomy
from ..analysis.units import convert, dimension
from ..core.ids import id_text
from .bib import BIB_COLUMNS
from .common import claim_id, describe, original_words, review_mark, review_of, sheet_bib

_BASE_UNIT = {"time": "s", "size": "B"}


@dataclass
class Entry:
    record: dict
    claim: dict
    index: int  # the claim's position in its record
    metric_class: str
    better: Optional[bool]
    scale: str  # "factor", "level:<dimension>:<unit>", or "" (not ranked)
    score: Optional[float]  # the improvement factor, or the level in the base unit
    rank: Optional[int] = None

    @property
    def ranked(self) -> bool:
        return self.rank is not None

    @property
    def system(self) -> str:
        return self.record.get("system_name") or _short_title(self.record)

    @property
    def claim_id(self) -> str:
        return claim_id(self.record, self.index)

    @property
    def words(self) -> str:
        return describe(self.claim)

    @property
    def marked_words(self) -> str:
        """The claim in words with what a reviewer did to it (the original has its own column)."""
        return describe(self.claim) + review_mark(self.claim, with_original=False)

    @property
    def scale_label(self) -> str:
        """What the rank is among: "change" (improvement factors), "level (time)", or "" (unranked)."""
        if not self.ranked:
            return ""
        if self.scale == "factor":
            return "change"
        _, dim, unit = self.scale.split(":", 2)
        return f"level ({dim})" if dim in ("time", "size") else f"level ({unit or 'count'})"

    @property
    def factor_text(self) -> str:
        if self.scale != "factor" or self.score is None:
            return ""
        return f"{self.score:.3g}x better" if self.score >= 1 else f"{1 / self.score:.3g}x worse"


def _short_title(rec: dict) -> str:
    """A paper with no system name, by its title's head ("Compiling Away the Overhead" of
    "Compiling Away the Overhead: ..."), cut at a word when long, never mid-word."""
    t = rec.get("title") or rec.get("id") or ""
    head = t.split(":", 1)[0].strip() if ":" in t else t
    t = head if 8 <= len(head) <= 60 else t
    return t if len(t) <= 60 else t[:59].rsplit(" ", 1)[0] + "…"


def _class_of(n: dict) -> tuple[str, Optional[str]]:
    key = n.get("metric_class")
    if not taxonomy.valid(key):  # a table from before schema 1.2: class it from the metric's words
        key = taxonomy.classify(n.get("metric"), n.get("unit") or "").key
    cls = taxonomy.classify(n.get("metric"), n.get("unit") or "", key=key)
    return cls.key, cls.better_when


def _best_end(n: dict, want_high: bool) -> Optional[float]:
    if n.get("value") is not None:
        return float(n["value"])
    ends = [x for x in (n.get("low"), n.get("high")) if x is not None]
    if not ends:
        return None
    return max(ends) if want_high else min(ends)


def rankable(rec: dict, n: dict) -> bool:
    """Whether a claim may rank: the paper's own verified result, not rejected by a reviewer."""
    return (
        rec.get("status", "ok") == "ok"
        and n.get("kind") == "result"
        and bool(n.get("verified"))
        and review_of(n).get("decision") != "reject"
    )


def entry(rec: dict, i: int, n: dict) -> Entry:
    key, better_when = _class_of(n)
    direction = n.get("direction") or "none"
    unit = n.get("unit") or ""
    better = n.get("better")
    if better is None and better_when is not None and direction in ("increase", "decrease"):
        better = (direction == "decrease") == (better_when == "lower")
    scale, score = "", None
    if better_when is not None and n.get("qualifier") != "within":
        if unit in ("%", "x") and direction in ("increase", "decrease"):
            v = _best_end(n, want_high=True)
            if v is not None and v > 0:
                f: Optional[float]
                if unit == "x":
                    f = v
                elif direction == "increase":
                    f = 1 + v / 100
                else:
                    f = 1 / (1 - v / 100) if v < 100 else None
                if f is not None and f > 0:
                    scale, score = "factor", (f if better else 1 / f)
        elif direction == "none" and unit not in ("x", "pp"):
            v = _best_end(n, want_high=better_when == "higher")
            dim = dimension(unit)
            base = _BASE_UNIT.get(dim)
            if v is not None and base:
                v = convert(v, unit, base)
            if v is not None:
                scale = f"level:{dim}:{base or unit}"
                score = v
                better = None  # a level is not a change
    return Entry(rec, n, i, key, better, scale, score)


def _order(e: Entry) -> tuple:
    """Within a class: ranked factors (best first), ranked levels by kind of unit (best first),
    then the rest in table order."""
    if not e.ranked or e.score is None:
        return (2, "", 0.0)
    if e.scale == "factor":
        return (0, "", -e.score)
    _, better_when = _class_of(e.claim)
    return (1, e.scale, e.score if better_when == "lower" else -e.score)


def comparison(records: Iterable[dict], include_unverified: bool = True) -> dict[str, list[Entry]]:
    """Per metric class (in the taxonomy's order), its result claims: ranked ones first, best first,
    with ranks per scale ("factor", or one kind of level); unverified ones after, unranked."""
    by_class: dict[str, list[Entry]] = {}
    for rec in records:
        for i, n in enumerate(rec.get("headline_numbers") or []):
            if n.get("kind") != "result" or review_of(n).get("decision") == "reject":
                continue
            ok = rankable(rec, n)
            if not ok and not include_unverified:
                continue
            e = entry(rec, i, n)
            if ok and e.scale:
                e.rank = 0  # numbered below
            by_class.setdefault(e.metric_class, []).append(e)
    out: dict[str, list[Entry]] = {}
    for key in sorted(by_class, key=lambda k: taxonomy.ORDER.get(k, 99)):
        entries = sorted(by_class[key], key=_order)
        counter: dict[str, int] = {}
        for e in entries:
            if e.rank is not None:
                counter[e.scale] = counter.get(e.scale, 0) + 1
                e.rank = counter[e.scale]
        out[key] = entries
    return out


def groups(entries: list[Entry]) -> list[tuple[str, list[Entry]]]:
    """A class's entries as the leaderboards show them: the ranked changes, the ranked levels of
    each kind of unit, then the claims that do not rank."""
    out: dict[str, list[Entry]] = {}
    for e in entries:
        out.setdefault(e.scale_label or "not ranked", []).append(e)
    return list(out.items())


def best_per_paper(entries: list[Entry]) -> list[Entry]:
    """Each paper's best ranked claim on the factor scale (for a chart), best first."""
    seen: set[str] = set()
    out = []
    for e in entries:
        if e.ranked and e.scale == "factor" and e.record["id"] not in seen:
            seen.add(e.record["id"])
            out.append(e)
    return out


def matrix(records: list[dict]) -> tuple[list[dict], list[str], dict[tuple[str, str], Entry]]:
    """Systems x metric classes with a better direction: (papers with a verified result, the classes present, and per
    (paper id, class) the paper's best verified result claim in that class)."""
    cells: dict[tuple[str, str], Entry] = {}
    for key, entries in comparison(records, include_unverified=False).items():
        for e in entries:  # ranked best first, then the unranked verified claims in table order
            cells.setdefault((e.record["id"], key), e)
    # the classes a comparison can order (scale and other have no better direction)
    keys = [k for k in taxonomy.KEYS if taxonomy.BY_KEY[k].better and any(c == k for _, c in cells)]
    papers = [r for r in records if any((r["id"], k) in cells for k in keys)]
    return papers, keys, cells


COMPARE_COLUMNS = [
    "metric_class",
    "class_label",
    "rank",
    "ranked_as",
    "system",
    "claim",
    "value",
    "low",
    "high",
    "unit",
    "as_factor",
    "better",
    "metric",
    "condition",
    "baseline",
    "verified",
    "reviewed",
    "original",
    "claim_id",
    "paper_id",
    "title",
    *BIB_COLUMNS,
    "url",
]


def entry_row(key: str, e: Entry) -> dict:
    """One ranked (or listed) claim as a flat row: the CSV `--rows compare` and the Compare sheet."""
    n, rec = e.claim, e.record
    return {
        "metric_class": key,
        "class_label": taxonomy.label(key),
        "rank": e.rank,
        "ranked_as": e.scale_label,
        "system": e.system,
        "claim": e.marked_words,
        "value": n.get("value"),
        "low": n.get("low"),
        "high": n.get("high"),
        "unit": n.get("unit") or "",
        "as_factor": e.factor_text,
        "better": {True: "yes", False: "no", None: ""}[e.better],
        "metric": n.get("metric") or "",
        "condition": n.get("condition") or "",
        "baseline": n.get("baseline") or "",
        "verified": bool(n.get("verified")),
        "reviewed": review_of(n).get("decision") or "",
        "original": original_words(n),
        "claim_id": e.claim_id,
        "paper_id": id_text(rec["id"]),
        "title": rec.get("title") or "",
        **sheet_bib(rec),
        "url": rec.get("url") or "",
    }


def compare_rows(records: Iterable[dict]) -> Iterable[dict]:
    for key, entries in comparison(list(records)).items():
        for e in entries:
            yield entry_row(key, e)
