"""The data contract: papers in, records out, and the schema the LLM fills in.

`Record` is one line of the output JSONL. Its shape is versioned by SCHEMA_VERSION;
bump the minor version for added fields, the major version for anything that breaks readers.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from .analysis.taxonomy import KEYS
from .analysis.text import clean_text
from .contract import Usage
from .core.limits import MAX_ABSTRACT, MAX_AUTHORS, MAX_FIELD, MAX_ID, MAX_TITLE

SCHEMA_VERSION = "1.5"

Kind = Literal["result", "context", "setup"]
Direction = Literal["increase", "decrease", "none"]
Qualifier = Literal["exact", "up_to", "over", "at_least", "less_than", "at_most", "within", "approx", "average"]
MetricClass = Literal[KEYS]  # type: ignore[valid-type]  # the taxonomy's keys (extractor.taxonomy)


class Paper(BaseModel):
    """A normalised paper, whatever the input format."""

    id: str  # arXiv id without version ("2604.06682"), or the input's own id
    version: Optional[str] = None  # "v2"
    title: str
    abstract: str  # whitespace-collapsed; the text every offset refers to
    authors: list[str] = Field(default_factory=list)
    published: Optional[str] = None
    updated: Optional[str] = None
    categories: list[str] = Field(default_factory=list)
    primary_category: Optional[str] = None
    url: Optional[str] = None
    pdf_url: Optional[str] = None
    links: list[str] = Field(default_factory=list)
    comment: Optional[str] = None
    journal_ref: Optional[str] = None
    doi: Optional[str] = None
    source: Optional[str] = None  # "file.jsonl:17" or "feed.xml#3": where the paper was read

    @classmethod
    def of(cls, **fields) -> Paper:
        """A paper from an input's fields: text as a reader sees it (no invisible or control
        characters, whitespace collapsed), every length within its limit (else ValueError)."""
        for key in ("title", "abstract"):
            fields[key] = clean_text(fields.get(key))
        for key in (
            "version",
            "published",
            "updated",
            "primary_category",
            "url",
            "pdf_url",
            "comment",
            "journal_ref",
            "doi",
        ):
            if fields.get(key) is not None:
                fields[key] = clean_text(fields[key]) or None
        fields["authors"] = [a for a in (clean_text(x) for x in fields.get("authors") or []) if a]
        fields["categories"] = [c for c in (clean_text(x) for x in fields.get("categories") or []) if c]
        for key, limit, what in (
            ("id", MAX_ID, "an id"),
            ("title", MAX_TITLE, "a title"),
            ("abstract", MAX_ABSTRACT, "an abstract"),
        ):
            if len(fields.get(key) or "") > limit:
                raise ValueError(f"{what} of {len(fields[key]):,} characters (the limit is {limit:,})")
        if len(fields["authors"]) > MAX_AUTHORS:
            raise ValueError(f"{len(fields['authors']):,} authors (the limit is {MAX_AUTHORS:,})")
        for key in (
            "comment",
            "journal_ref",
            "doi",
            "url",
            "pdf_url",
            "published",
            "updated",
            "version",
            "primary_category",
        ):
            if len(fields.get(key) or "") > MAX_FIELD:
                raise ValueError(f"field {key!r} of {len(fields[key]):,} characters (the limit is {MAX_FIELD:,})")
        if any(len(a) > MAX_FIELD for a in fields["authors"] + fields["categories"]):
            raise ValueError(f"an author or category longer than {MAX_FIELD:,} characters")
        if not fields["abstract"]:
            raise LookupError("no abstract")
        return cls(**fields)


class HeadlineNumber(BaseModel):
    """One quantity claim, aligned to a verbatim span of the abstract."""

    id: Optional[str] = None  # "<paper id>#<key>" from the evidence and its occurrence (extractor.reviews)
    text: str  # verbatim abstract[start:end] once aligned
    start: Optional[int] = None
    end: Optional[int] = None
    value: Optional[float] = None  # null for ranges
    low: Optional[float] = None
    high: Optional[float] = None
    unit: str = ""  # "%", "x", "pp", a physical unit ("ms", "GB"), or "" for counts
    qualifier: Qualifier = "exact"
    kind: Kind = "result"
    metric: Optional[str] = None
    metric_class: Optional[str] = None  # a key of extractor.taxonomy ("latency", "throughput" ...)
    better: Optional[bool] = None  # an improvement in the class's better direction (null: neither)
    condition: Optional[str] = None  # where the number holds, when the abstract pairs it ("on Intel VT-x")
    direction: Direction = "none"
    baseline: Optional[str] = None
    sentence: Optional[str] = None  # the abstract sentence the span stands in
    verified: bool = False
    why: Optional[str] = None  # why it is not verified, and any doubt about its metric
    alignment: Optional[Literal["exact", "normalized", "partial"]] = None
    metric_supported: Optional[bool] = None  # the sentence says this number measures `metric`
    model_answer: Optional[dict] = None  # the model's own answer for this claim, as given


class UncoveredNumber(BaseModel):
    """A quantity in the abstract that no verified claim covers (what a model left out)."""

    text: str
    start: int
    end: int
    value: Optional[float] = None
    low: Optional[float] = None
    high: Optional[float] = None
    unit: str = ""
    qualifier: Qualifier = "exact"
    sentence: Optional[str] = None


class NameEvidence(BaseModel):
    field: Literal["title", "abstract"]
    start: int
    end: int


class Provenance(BaseModel):
    engine: str
    model: Optional[str] = None
    prompt_hash: Optional[str] = None
    schema_version: str = SCHEMA_VERSION
    extractor_version: str
    time: str  # ISO 8601, UTC
    source: Optional[str] = None
    reasks: int = 0
    reasks_verified: Optional[int] = None  # claims the re-asks turned from flagged to verified (LLM engines)
    mode: Optional[str] = None
    fields_hash: Optional[str] = None  # the user's field declarations (extractor.fields), when any


class FieldValue(BaseModel):
    """One user field of one paper, as verified."""

    type: str = "text"  # the declared type (text, number, boolean, choice, list)
    value: Any = None
    evidence: Optional[str] = None
    start: Optional[int] = None  # where the evidence is in the abstract (null: not found, or in the title)
    end: Optional[int] = None
    verified: Optional[bool] = None  # null when there is no value
    why: Optional[str] = None
    model_answer: Optional[Any] = None  # the engine's answer for this field, as given


class Record(BaseModel):
    """One line of the comparison table."""

    model_config = ConfigDict(extra="allow")  # keep fields added by later tools (review)

    schema_version: str = SCHEMA_VERSION
    id: str
    version: Optional[str] = None
    title: str
    authors: list[str] = Field(default_factory=list)
    published: Optional[str] = None
    updated: Optional[str] = None
    categories: list[str] = Field(default_factory=list)
    primary_category: Optional[str] = None
    url: Optional[str] = None
    pdf_url: Optional[str] = None
    comment: Optional[str] = None
    journal_ref: Optional[str] = None
    doi: Optional[str] = None
    abstract: str
    system_name: Optional[str] = None
    system_name_verified: Optional[bool] = None  # null when system_name is null
    system_name_evidence: Optional[NameEvidence] = None
    system_name_why: Optional[str] = None  # why the name is not verified
    problem: Optional[str] = None
    technique: Optional[str] = None
    headline_numbers: list[HeadlineNumber] = Field(default_factory=list)
    uncovered_numbers: list[UncoveredNumber] = Field(default_factory=list)
    fields: Optional[dict[str, dict]] = None  # the user's own fields, verified: {name: FieldValue}
    status: Literal["ok", "error"] = "ok"
    error: Optional[str] = None
    usage: Optional[Usage] = None
    provenance: Provenance


class ReviewRound(BaseModel):
    """One round of a review's history (extractor.reviews)."""

    model_config = ConfigDict(extra="allow")

    decision: str  # accept, reject, edit, add, or carried (to a new record)
    time: Optional[str] = None
    source: Optional[str] = None
    before: Optional[dict[str, Any]] = None
    after: Optional[dict[str, Any]] = None
    note: Optional[str] = None


class Review(BaseModel):
    """A person's review of a claim or a user field (extractor.reviews; docs/commands.md, review apply)."""

    model_config = ConfigDict(extra="allow")

    decision: Literal["accept", "reject", "edit", "add"]
    time: Optional[str] = None
    source: Optional[str] = None
    note: Optional[str] = None
    original: Optional[dict[str, Any]] = None  # the engine's claim or field, written once
    corrected: Optional[dict[str, str]] = None  # value_text, unit, metric of an edit
    override: Optional[bool] = None
    history: list[ReviewRound] = Field(default_factory=list)
    added: Optional[bool] = None


class ClaimSnapshot(BaseModel):
    """A claim as a review keeps it (extractor.reviews.SNAPSHOT): the engine's original, or the claim
    before and after a round."""

    model_config = ConfigDict(extra="allow")

    value: Optional[float] = None
    low: Optional[float] = None
    high: Optional[float] = None
    unit: Optional[str] = None
    metric: Optional[str] = None
    metric_class: Optional[str] = None
    better: Optional[bool] = None
    verified: Optional[bool] = None
    why: Optional[str] = None


class ClaimReview(Review):
    original: Optional[ClaimSnapshot] = None  # type: ignore[assignment]


class StoredNumber(HeadlineNumber):
    reviewed: Optional[bool] = None
    review: Optional[ClaimReview] = None


class StoredField(FieldValue):
    review: Optional[Review] = None


class StoredRecord(Record):
    """A table line as readers take it back: a Record whose claims and user fields may carry a
    person's review, and an error record the decisions it holds for later. Records are written as
    Record; this is only what a line read back must look like (extractor.store.load_records)."""

    headline_numbers: list[StoredNumber] = Field(default_factory=list)  # type: ignore[assignment]
    fields: Optional[dict[str, StoredField]] = None  # type: ignore[assignment]
    pending_reviews: Optional[list[dict[str, Any]]] = None


class GoldNumber(BaseModel):
    """One labelled number of a gold line (docs/gold-format.md)."""

    model_config = ConfigDict(extra="allow")

    text: Optional[str] = None
    value: Optional[float] = None
    low: Optional[float] = None
    high: Optional[float] = None
    unit: Optional[str] = None
    kind: Optional[Kind] = None
    direction: Optional[Direction] = None
    metric: Optional[str] = None
    metric_class: Optional[str] = None


class GoldPaper(BaseModel):
    """One line of a gold file for `extractor eval` (docs/gold-format.md)."""

    model_config = ConfigDict(extra="allow")

    id: str
    system_name: Optional[str] = None
    system_aliases: list[str] = Field(default_factory=list)
    numbers: list[GoldNumber]


# --- what the LLM is asked to fill in -------------------------------------------------------
# Kept separate from Record: the model never sees offsets, provenance or verification fields,
# and every property is required (nullable instead of optional) to fit OpenAI's strict subset.


class LLMNumber(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Field meanings are explained once, in prompts/system.md; descriptions here would repeat
    # them in every request's schema and cost tokens.
    text: str
    value: Optional[float]
    low: Optional[float]
    high: Optional[float]
    unit: str
    qualifier: Qualifier
    metric: Optional[str]
    metric_class: Optional[MetricClass]  # extractor.taxonomy's keys; the schema lists them, so the prompt need not
    direction: Direction
    kind: Kind
    baseline: Optional[str]


class LLMExtraction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system_name: Optional[str]
    problem: Optional[str]
    technique: Optional[str]
    headline_numbers: list[LLMNumber]
