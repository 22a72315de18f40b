"""Turn an engine's answer into a verified Record (one code path for every engine)."""

from __future__ import annotations

import re
from typing import Optional

from .analysis.document import Document
from .analysis.lexicon import LEADING_CONNECTIVES, LEADING_PURPOSE
from .analysis.text import clean_text
from .claim_ids import claim_ids
from .contract import Built, EngineResult, Usage, bounded
from .core.clock import now_iso
from .core.limits import MAX_SENTENCE, MAX_STORED_TEXT, capped
from .core.version import __version__
from .schema import Paper, Provenance, Record
from .verification import check_name, uncovered_numbers, verify_claims
from .verification.fields import verify_fields

# what models write for "no name"
_NO_NAME = frozenset({"", "none", "null", "n/a", "na", "unknown", "unnamed", "not specified", "not named", "-"})


def _paper_fields(paper: Paper) -> dict:
    return paper.model_dump(exclude={"links", "source"})


def provenance(
    engine, paper: Paper, reasks: int = 0, mode: Optional[str] = None, reasks_verified: Optional[int] = None
) -> Provenance:
    return Provenance(
        fields_hash=engine.fields_hash,
        engine=engine.name,
        model=engine.model,
        prompt_hash=engine.prompt_hash,
        extractor_version=__version__,
        time=now_iso(),
        source=paper.source,
        reasks=reasks,
        reasks_verified=reasks_verified,
        mode=mode,
    )


def _as_text(value, sep: str) -> Optional[str]:
    """A paper-level answer as text. Models wrap a value in a list at times (["Nexus"], ["VMs
    duplicate I/O stacks."]): its items are the text, joined by `sep`; no items is no answer."""
    if isinstance(value, (list, tuple)):
        items = [str(v) for v in value if v is not None and str(v).strip()]
        return sep.join(items) if items else None
    return None if value is None else str(value)


def _name(value) -> Optional[str]:
    text = _as_text(value, ", ")
    if text is None:
        return None
    name = clean_text(text)
    return None if name.lower().strip(".") in _NO_NAME else name


_CONNECTIVE = re.compile(
    r"^(?:"
    + "|".join(re.escape(c).replace(r"\ ", r"\s+") for c in sorted(LEADING_CONNECTIVES, key=len, reverse=True))
    + r")\b\s*,?\s+|^"
    + LEADING_PURPOSE
    + r"\s+",
    re.I,
)


def drop_connective(text: str) -> str:
    """ "However, cold starts dominate ..." -> "Cold starts dominate ..."; "In this paper, we
    present X" -> "We present X". A name keeps its case ("However, μFork ...")."""
    rest = _CONNECTIVE.sub("", _CONNECTIVE.sub("", text, count=1), count=1)  # "Thus, to overcome these challenges,"
    if rest == text or len(rest) < 12:
        return text
    first = rest.split(" ", 1)[0]
    plain_word = first.isascii() and first.isalpha() and first.islower()  # not "μFork", "eBPF"
    return rest[0].upper() + rest[1:] if plain_word else rest


def _sentence_field(value) -> Optional[str]:
    """A problem or technique sentence: text without a leading connective, at most MAX_SENTENCE
    characters (an unbroken text is no sentence)."""
    raw = _as_text(value, " ")
    text = drop_connective(clean_text(raw)) if raw is not None else ""
    if len(text) > MAX_SENTENCE:
        text = text[:MAX_SENTENCE].rsplit(" ", 1)[0] + "…"
    return text or None


def build_record(doc: Document, result: EngineResult, engine) -> Record:
    paper = doc.paper
    assert paper is not None
    if engine.capabilities.networked or result.usage is not None and result.usage.requests:
        capped = bounded(result)  # what a model says is stored, but never more than a line can hold
        if capped is not result:
            result = capped
            result.checked = None  # verified before its texts were cut: verify what is stored
    # the engine may have verified the claims already (to decide on a re-ask): the same answer,
    # the same document, the same verdict
    numbers = result.checked if result.checked is not None else verify_claims(doc, result.numbers)
    for n, cid in zip(numbers, claim_ids(paper.id, paper.abstract, numbers)):
        n.id = cid
    name = _name(result.system_name)
    # a verified name is stored as the paper spells it: "NEXUS-2" for the model's "Nexus2 (a hypervisor)"
    name_ok, evidence, name_why, name = check_name(name, paper.title, paper.abstract)
    return Record(
        **_paper_fields(paper),
        system_name=name,
        system_name_verified=name_ok,
        system_name_evidence=evidence,
        system_name_why=name_why,
        problem=_sentence_field(result.problem),
        technique=_sentence_field(result.technique),
        headline_numbers=numbers,
        uncovered_numbers=uncovered_numbers(doc, numbers),
        fields=_fields(doc, engine, result),
        status="ok",
        error=None,
        usage=result.usage,
        provenance=provenance(
            engine, paper, result.reasks, result.mode, result.reasks_verified if result.reasks else None
        ),
    )


def _fields(doc: Document, engine, result: EngineResult) -> Optional[dict]:
    specs = getattr(engine, "fields", None) or []
    if not specs:
        return None
    checked = verify_fields(doc.title, doc.text, specs, result.fields)
    return {name: fv.model_dump() for name, fv in checked.items()}


def error_record(paper: Paper, engine, message: str, usage: Optional[Usage] = None, reasks: int = 0) -> Record:
    return Record(
        **_paper_fields(paper),
        status="error",
        error=capped(message, MAX_STORED_TEXT),
        usage=usage,
        provenance=provenance(engine, paper, reasks),
    )


def built(rec: Record | Built) -> Built:
    """A record as a worker gives it to the run driver: its table line, and what the summary
    counts of it."""
    if isinstance(rec, Built):
        return rec
    from .store import dumps

    return Built(
        rec.id,
        dumps(rec),
        rec.status == "ok",
        len(rec.headline_numbers),
        sum(1 for n in rec.headline_numbers if n.verified),
        bool(rec.system_name),
        rec.usage,
        rec.provenance.reasks,
        rec.provenance.reasks_verified or 0,
    )
