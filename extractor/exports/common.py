"""What every export shares: claim ids, claim rows, plain-language summaries, cell escaping."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Optional
from urllib.parse import quote, urlsplit

from .. import claim_ids as ids
from ..analysis.text import plain
from ..core.ids import id_text
from ..fields import shown
from .bib import BIB_COLUMNS, bib_fields

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

CLAIM_COLUMNS = [
    "claim_id",
    "paper_id",
    "system",
    "metric",
    "metric_class",
    "condition",
    "value",
    "low",
    "high",
    "unit",
    "qualifier",
    "direction",
    "better",
    "baseline",
    "kind",
    "evidence",
    "sentence",
    "verified",
    "why",
    "original",  # an edited claim as the engine gave it, in words
    # review columns, filled in by a person
    "decision",
    "corrected_value",
    "corrected_unit",
    "corrected_metric",
    "corrected_metric_class",
    "corrected_kind",
    "note",
    # what the claim said when exported (claim_ids.fingerprint): tells a sheet of another table version
    "fingerprint",
]
REVIEW_COLUMNS = [
    "decision",
    "corrected_value",
    "corrected_unit",
    "corrected_metric",
    "corrected_metric_class",
    "corrected_kind",
    "note",
]
CORRECTION_COLUMNS = tuple(c for c in REVIEW_COLUMNS if c.startswith("corrected_"))
DECISIONS = ("accept", "reject", "edit")
# what the Claims sheet's decision column takes: `add` on a new row (a paper id and evidence) makes a claim
SHEET_DECISIONS = (*DECISIONS, "add")

# numbers of an abstract that no claim covers (what a model left out); `add` makes one a claim
UNCOVERED_COLUMNS = [
    "uncovered_id",
    "paper_id",
    "system",
    "evidence",
    "value",
    "low",
    "high",
    "unit",
    "qualifier",
    "sentence",
    # review columns: the decision and what the new claim says
    "decision",
    "metric",
    "direction",
    "kind",
    "baseline",
    "note",
]
UNCOVERED_DECISIONS = ("add",)

PAPER_COLUMNS = [
    "paper_id",
    "title",
    *BIB_COLUMNS,
    "system",
    "system_verified",
    "problem",
    "technique",
    "headline_numbers",
    "verified_claims",
    "unverified_claims",
    "reviewed_claims",
    "original_of_edits",
    "status",
    "error",
    "url",
]


FIELD_COLUMNS = [
    "field_id",
    "paper_id",
    "system",
    "field",
    "type",
    "value",
    "evidence",
    "verified",
    "why",
    "original",
    # review columns, filled in by a person
    "decision",
    "corrected_value",
    "note",
]


def field_names(records: Iterable[dict]) -> list[str]:
    """The user fields of a table, in the order they first appear."""
    seen: dict[str, None] = {}
    for rec in records:
        for name in rec.get("fields") or {}:
            seen.setdefault(name, None)
    return list(seen)


def field_column(name: str) -> str:
    """The Papers column of a user field: its name, or `field_<name>` when a built-in column has
    that name (a table declared before such names were refused: `year`, `venue`)."""
    return f"field_{name}" if name in PAPER_COLUMNS else name


def paper_columns(records: list[dict], names: Optional[list[str]] = None) -> list[str]:
    """The Papers columns: the built-in ones, then one per user field after the headline numbers."""
    at = PAPER_COLUMNS.index("headline_numbers") + 1
    names = field_names(records) if names is None else names
    return PAPER_COLUMNS[:at] + [field_column(n) for n in names] + PAPER_COLUMNS[at:]


def field_rows(records: Iterable[dict]) -> Iterable[dict]:
    for rec in records:
        for name, fv in (rec.get("fields") or {}).items():
            rv = fv.get("review") or {}
            original = rv.get("original") if rv.get("decision") == "edit" else None
            yield {
                "field_id": f"{rec['id']}:{name}",
                "paper_id": id_text(rec["id"]),
                "system": rec.get("system_name") or "",
                "field": name,
                "type": fv.get("type") or "",
                "value": shown({k: v for k, v in fv.items() if k != "review"}).removesuffix(" (unverified)"),
                "evidence": fv.get("evidence") or "",
                "verified": {True: "yes", False: "no", None: ""}[fv.get("verified")],
                "why": fv.get("why") or "",
                "original": shown(original).removesuffix(" (unverified)") if original else "",
                "decision": rv.get("decision") or "",
                "corrected_value": (rv.get("corrected") or {}).get("value_text", ""),
                "note": rv.get("note") or "",
            }


def sheet_bib(rec: dict) -> dict:
    """bib_fields for a spreadsheet row: the arXiv id as text no program takes for a number."""
    bib = bib_fields(rec)
    if bib["arxiv_id"]:
        bib["arxiv_id"] = id_text(bib["arxiv_id"])
    return bib


def claim_id(rec: dict, index: int) -> str:
    """The id of a record's claim: `<paper id>#<key>` from its evidence and occurrence, not its
    position (`extractor.claim_ids.claim_key`); computed for records written before ids were stored."""
    ids.ensure_ids(rec)
    return rec["headline_numbers"][index]["id"]


def fmt_number(v: Optional[float]) -> str:
    if v is None:
        return ""
    return f"{v:g}" if abs(v) < 1e15 else f"{v:.6g}"


def value_text(n: dict) -> str:
    if n.get("value") is not None:
        return fmt_number(n["value"])
    if n.get("low") is not None or n.get("high") is not None:
        return f"{fmt_number(n.get('low'))}-{fmt_number(n.get('high'))}"
    return ""


# words of a claim's text that say its direction already ("double the CPU cycles")
_SAYS_DIRECTION = re.compile(r"\b(?:doubl|twice|tripl|thrice|quadrupl|halv)", re.I)
_ORDER_OF_MAGNITUDE = re.compile(r"^(?:(an?) )?order[- ]of[- ]magnitude$", re.I)
# countable heads ("host servers", "bugs") take fewer / more, measures lower / higher
_COUNTABLE_CLASSES = ("scale", "findings")


def _comparative(n: dict, metric: str) -> str:
    direction = n.get("direction") or "none"
    if direction not in ("increase", "decrease"):
        return ""
    head = re.split(r"\s(?:of|per|for|in|on|under|during|with)\s", metric.lower(), maxsplit=1)[0]
    last = head.rsplit(" ", 1)[-1] if head else ""
    if last.startswith(("speedup", "speed-up")):
        return ""  # "1.75x speedup over Jemalloc"
    if last in ("speed", "speeds"):
        return "faster" if direction == "increase" else "slower"
    countable = n.get("metric_class") in _COUNTABLE_CLASSES and last.endswith("s") and not last.endswith("ss")
    if countable:
        return "more" if direction == "increase" else "fewer"
    return "higher" if direction == "increase" else "lower"


def _grouped(text: str) -> str:
    """ "2200" -> "2,200", "20-100" stays: thousands grouped as abstracts write them."""
    return re.sub(r"(?<![\d.])\d{4,}", lambda m: f"{int(m.group()):,}", text)


def claim_text(n: dict) -> str:
    """The number as a person says it: the span, LaTeX-free ("$2.7\\times$" -> "2.7x"), or the
    reviewer's corrected value."""
    corrected = (review_of(n).get("corrected") or {}) if review_of(n).get("decision") == "edit" else {}
    if corrected.get("value_text") or corrected.get("unit"):
        unit = n.get("unit") or ""
        return _grouped(value_text(n)) + ("" if unit in ("", "%", "x") else " ") + unit
    text = plain(n.get("text") or "") or value_text(n)
    m = _ORDER_OF_MAGNITUDE.match(text)
    if m:  # "order-of-magnitude" reads "an order of magnitude"
        return (m.group(1) or "an") + " order of magnitude"
    return text


def describe(n: dict) -> str:
    """A claim in words, direction- and unit-aware, as every export shows it: "up to 44% lower
    node-level CPU consumption than the production baseline", "20-100x fewer host servers", "an
    order of magnitude lower start-up time", "3.7x faster than a traditional fork", "1.75x speedup
    over Jemalloc", "response time within 20% of bare metal", "84.7% code coverage on Intel VT-x"."""
    text = claim_text(n)
    metric = n.get("metric") or ""
    base = n.get("baseline")
    if n.get("qualifier") == "within":
        s = f"{metric} within {text.removeprefix('within ').strip()}".strip()
        return s + (f" of {base}" if base else "")
    word = "" if (n.get("unit") or "") == "" or _SAYS_DIRECTION.search(text) else _comparative(n, metric)
    if word in ("faster", "slower"):
        metric = ""  # "3.7x faster", not "3.7x faster speed"
    s = " ".join(p for p in (text, word, metric, n.get("condition") or "") if p)
    if base:
        if word:
            s += f" than {base}"
        elif metric.lower().startswith(("speedup", "speed-up")) or metric.lower().endswith(("speedup", "speed-up")):
            s += f" over {base}"
        else:
            s += f" (vs. {base})"
    return s


def review_of(n: dict) -> dict:
    return n.get("review") or {}


def original_words(n: dict) -> str:
    """An edited claim as the engine gave it, in words ("" for any other claim)."""
    rv = review_of(n)
    if rv.get("decision") != "edit" or not rv.get("original"):
        return ""
    o = {**{k: v for k, v in n.items() if k != "review"}, **rv["original"]}
    if not rv["original"].get("verified"):  # the engine's own value, not the span's words
        o["review"] = {"decision": "edit", "corrected": {"value_text": value_text(o)}}
    return describe(o)


def review_mark(n: dict, with_original: bool = True) -> str:
    """What a reviewer did to a claim, as every export appends it to the claim's words."""
    rv = review_of(n)
    d = rv.get("decision")
    if d == "edit":
        was = original_words(n) if with_original else ""
        override = "; reviewer override" if rv.get("override") else ""
        return f" (edited{override}; was: {was})" if was else f" (edited{override})"
    return {"accept": " (reviewed: accepted)", "add": " (added by a reviewer)", "reject": " (rejected)"}.get(
        d or "", ""
    )


def stated(n: dict) -> bool:
    """Whether a claim is shown as the paper's result: verified by the verifier, or accepted,
    edited or added by a reviewer; never a rejected one, never context or setup."""
    d = review_of(n).get("decision")
    return n.get("kind") == "result" and d != "reject" and (bool(n.get("verified")) or d in ("accept", "edit", "add"))


def headline_summary(rec: dict, limit: int = 3) -> str:
    """The top result claims, in words, with what a reviewer did to them; unverified claims are
    never presented as fact (a reviewer's decision is what makes one stand)."""
    nums = [n for n in rec.get("headline_numbers") or [] if stated(n)]
    return "; ".join(describe(n) + review_mark(n, with_original=False) for n in nums[:limit])


def claim_rows(records: Iterable[dict]) -> Iterable[dict]:
    for rec in records:
        for i, n in enumerate(rec.get("headline_numbers") or []):
            rv = review_of(n)
            corrected = rv.get("corrected") or {}
            yield {
                "claim_id": claim_id(rec, i),
                "paper_id": id_text(rec["id"]),
                "system": rec.get("system_name") or "",
                "metric": n.get("metric") or "",
                "metric_class": n.get("metric_class") or "",
                "condition": n.get("condition") or "",
                "value": n.get("value"),
                "low": n.get("low"),
                "high": n.get("high"),
                "unit": n.get("unit") or "",
                "qualifier": n.get("qualifier") or "",
                "direction": n.get("direction") or "",
                "better": {True: "yes", False: "no", None: ""}[n.get("better")],
                "baseline": n.get("baseline") or "",
                "kind": n.get("kind") or "",
                "evidence": n.get("text") or "",
                "sentence": n.get("sentence") or "",
                "verified": bool(n.get("verified")),
                "why": n.get("why") or "",
                "original": original_words(n),
                "decision": rv.get("decision") or "",
                "corrected_value": corrected.get("value_text", ""),
                "corrected_unit": corrected.get("unit", ""),
                "corrected_metric": corrected.get("metric", ""),
                "corrected_metric_class": corrected.get("metric_class", ""),
                "corrected_kind": corrected.get("kind", ""),
                "note": rv.get("note") or "",
                "fingerprint": ids.fingerprint(n),
            }


def uncovered_id(paper_id: str, start: int) -> str:
    """A number of the abstract, by where it starts (an abstract's text is fixed per version)."""
    return f"{paper_id}@{start}"


def split_uncovered_id(uid: str) -> tuple[str, int] | None:
    pid, sep, n = uid.rpartition("@")
    if not sep or not n.isdigit():
        return None
    return pid, int(n)


def uncovered_rows(records: Iterable[dict]) -> Iterable[dict]:
    for rec in records:
        for u in rec.get("uncovered_numbers") or []:
            yield {
                "uncovered_id": uncovered_id(rec["id"], u["start"]),
                "paper_id": id_text(rec["id"]),
                "system": rec.get("system_name") or "",
                "evidence": u.get("text") or "",
                "value": u.get("value"),
                "low": u.get("low"),
                "high": u.get("high"),
                "unit": u.get("unit") or "",
                "qualifier": u.get("qualifier") or "",
                "sentence": u.get("sentence") or "",
                "decision": "",
                "metric": "",
                "direction": "",
                "kind": "",
                "baseline": "",
                "note": "",
            }


def paper_rows(records: Iterable[dict]) -> Iterable[dict]:
    for rec in records:
        nums = rec.get("headline_numbers") or []
        yield {
            **{field_column(name): shown(fv) for name, fv in (rec.get("fields") or {}).items()},
            "paper_id": id_text(rec["id"]),
            "title": rec.get("title") or "",
            **sheet_bib(rec),
            "system": rec.get("system_name") or "",
            "system_verified": {True: "yes", False: "no", None: ""}[rec.get("system_name_verified")],
            "problem": rec.get("problem") or "",
            "technique": rec.get("technique") or "",
            "headline_numbers": headline_summary(rec),
            "verified_claims": sum(1 for n in nums if n.get("verified")),
            "unverified_claims": sum(1 for n in nums if not n.get("verified")),
            "reviewed_claims": sum(1 for n in nums if review_of(n).get("decision")),
            "original_of_edits": "; ".join(
                f"{describe(n)} was: {original_words(n)}" for n in nums if original_words(n)
            ),
            "status": rec.get("status") or "",
            "error": rec.get("error") or "",
            "url": rec.get("url") or "",
        }


_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f<>\"'`\\]")


def safe_url(url: Optional[str]) -> Optional[str]:
    """A link target safe in every format: an absolute http(s) URL with a host. Anything else
    (javascript:, data:, file:///etc/passwd, \\\\host\\share, a relative path) is no link; the
    text is still shown, as text. Characters that could end the link in Markdown or HTML are
    percent-encoded."""
    if not url or not isinstance(url, str) or len(url) > 2048:
        return None
    u = url.strip()
    try:
        parts = urlsplit(u)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or _URL_UNSAFE.search(parts.netloc):
        return None

    def enc(part: str) -> str:  # "(", ")", "[", "]", spaces, quotes: what could end a link in Markdown or HTML
        return quote(part, safe="/:@!$&*+,;=%-._~?")

    link = f"{parts.scheme}://{parts.netloc}{enc(parts.path)}"
    if parts.query:
        link += "?" + enc(parts.query)
    if parts.fragment:
        link += "#" + enc(parts.fragment)
    return link


# a cell's text can be split into cells by a spreadsheet whose list separator is not ours (";" in
# much of Europe, a tab, "|"), and a quoted cell is no protection once the line has been split
# wrongly before it: every formula character after a separator (or a line break, or at the start)
# gets a quote before it, as OWASP advises for the start of a cell
_SEPARATED = re.compile(r"(^|[,;\t|\r\n])(\s*)('*)(?=[=+\-@])")
_NEUTRALISED = re.compile(r"(^|[,;\t|\r\n])(\s*)'('*)(?=[=+\-@])")


def safe_text(s: str) -> str:
    """Text for a CSV cell that no spreadsheet reads as a formula, however it splits the line: a
    quote goes before a formula character at the start and after every separator (one more quote
    where there were some already, so that unsafe_text undoes exactly this)."""
    if not isinstance(s, str) or not s:
        return s
    return _SEPARATED.sub(lambda m: f"{m.group(1)}{m.group(2)}'{m.group(3)}", s)


def unsafe_text(s: str) -> str:
    """Undo safe_text when a sheet comes back."""
    if not isinstance(s, str) or "'" not in s:
        return s
    return _NEUTRALISED.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}", s)
