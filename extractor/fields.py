"""User-declared fields: your own columns ("hardware", "open source?", "deployment"), grounded in
the abstract like every number.

A field is declared in TOML (`--fields fields.toml`, or the `[fields]` section of `extractor.toml`
in the working directory) or inline (`--field 'hardware: GPUs or accelerators used'`):

    [fields.deployment]
    type = "choice"                      # text, number, boolean, choice, list
    choices = ["cloud", "edge", "HPC"]
    description = "Where the system is meant to run"
    evidence = true                      # an evidence quote is required (the default)
    keywords = { cloud = ["serverless", "cloud"], edge = ["edge device"] }   # offline engine
    # pattern = '(?P<value>[\\d,]+) GPUs'                                   # offline engine

Every answer, from any engine, goes through `verify_fields`: the evidence quote must be text of the
abstract (or title); a number is re-read from its quote; a choice must be one of the list; list
items must occur in the abstract. What does not verify is kept and flagged, never dropped. The
offline engine fills a field only where its declaration gives it a way (`pattern`, `keywords`);
otherwise the value is null with `why: "needs an LLM engine"`: it never guesses.

Written by hand: the declarations are a small TOML dialect (stdlib tomllib reads the file), the
runtime Pydantic model is `pydantic.create_model`, and the checks reuse the verifier's number
reading; no library verifies an answer against the text it came from.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import re._parser as re_parser  # the standard library's regex parser: weighs a pattern before `regex` compiles it
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

import regex
from pydantic import BaseModel, ConfigDict, Field, create_model

from .errors import ConfigError, InputError
from .files import read_toml
from .limits import PATTERN_SECONDS
from .quantities import scan
from .schema import FieldValue, LLMExtraction, Record
from .units import values_agree
from .verify import read_number

TYPES = ("text", "number", "boolean", "choice", "list")
ALIASES = {
    "str": "text",
    "string": "text",
    "int": "number",
    "float": "number",
    "num": "number",
    "bool": "boolean",
    "enum": "choice",
    "one-of": "choice",
    "oneof": "choice",
    "array": "list",
}
MAX_FIELDS = 30
MAX_DESCRIPTION = 500  # characters of one description
MAX_DECLARED = 4000  # characters of every field's description and choices together (~1,000 tokens a request)
# names an export already gives a column (extractor.export.common.PAPER_COLUMNS; a test keeps the
# two lists together): a field named `year` would share the bibliography's column
EXPORT_COLUMNS = frozenset(
    {"paper_id", "title", "authors", "year", "venue", "arxiv_id", "system", "system_verified", "problem",
     "technique", "headline_numbers", "verified_claims", "unverified_claims", "reviewed_claims",
     "original_of_edits", "status", "error", "url"}
)  # fmt: skip
RESERVED = (
    frozenset(Record.model_fields)
    | frozenset(LLMExtraction.model_fields)
    | {"fields", "id", "paper_id"}
    | EXPORT_COLUMNS
)
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,39}")
NEEDS_LLM = "needs an LLM engine"


@dataclass
class FieldSpec:
    name: str
    type: str
    description: str = ""
    evidence: bool = True  # an evidence quote is required
    choices: list[str] = field(default_factory=list)
    unit: Optional[str] = None  # a number field's expected unit, said to the model
    pattern: Optional[str] = None  # offline: a regex; group "value" (or 1) is the value
    keywords: dict[str, list[str]] = field(default_factory=dict)  # offline: value -> words that say it

    def prompt_line(self) -> str:
        kind = {"choice": f"one of {', '.join(self.choices)}", "list": "a list of short texts"}.get(
            self.type, self.type
        )
        unit = f" (in {self.unit})" if self.unit else ""
        quote = "; quote the words of the abstract that say it as evidence" if self.evidence else ""
        return f"- {self.name} ({kind}{unit}): {self.description or self.name}{quote}"


# -- declarations ------------------------------------------------------------------------------------
def _spec(name: str, d: Any, where: str) -> FieldSpec:
    if not isinstance(d, dict):
        raise ConfigError(f"{where}: field {name!r} must be a table of settings")
    known = {"type", "description", "evidence", "choices", "unit", "pattern", "keywords"}
    extra = set(d) - known
    if extra:
        raise ConfigError(f"{where}: field {name!r}: unknown setting(s) {', '.join(sorted(extra))}")
    raw_type = str(d.get("type", "text")).strip().lower()
    ftype = ALIASES.get(raw_type, raw_type)
    if ftype not in TYPES:
        raise ConfigError(f"{where}: field {name!r}: unknown type {raw_type!r} (use {', '.join(TYPES)})")
    choices = d.get("choices", [])
    if not isinstance(choices, list) or not all(isinstance(c, str) and c.strip() for c in choices):
        raise ConfigError(f"{where}: field {name!r}: choices must be a list of texts")
    choices = [c.strip() for c in choices]
    if ftype == "choice" and not choices:
        raise ConfigError(f'{where}: field {name!r} is a choice with no choices (add choices = ["a", "b"])')
    if len({c.lower() for c in choices}) != len(choices):
        raise ConfigError(f"{where}: field {name!r}: a choice is listed twice")
    desc = d.get("description", "")
    if not isinstance(desc, str):
        raise ConfigError(f"{where}: field {name!r}: description must be text")
    if len(desc) > MAX_DESCRIPTION:
        raise ConfigError(
            f"{where}: field {name!r}: a description of {len(desc):,} characters (the limit is {MAX_DESCRIPTION}: "
            "it is sent with every request)"
        )
    evidence = d.get("evidence", True)
    if not isinstance(evidence, bool):
        raise ConfigError(f"{where}: field {name!r}: evidence must be true or false")
    pattern = d.get("pattern")
    if pattern is not None:
        if not isinstance(pattern, str) or not pattern:
            raise ConfigError(f"{where}: field {name!r}: pattern must be a regular expression")
        weight = pattern_weight(pattern)
        if weight > MAX_PATTERN_WEIGHT:
            raise ConfigError(
                f"{where}: field {name!r}: pattern repeats too much ({weight:,} copies of its parts once nested "
                f"counts are multiplied; the limit is {MAX_PATTERN_WEIGHT:,}): use + or * instead of large {{n}}"
            )
        try:
            regex.compile(pattern)
        except regex.error as e:
            raise ConfigError(f"{where}: field {name!r}: pattern is not a regular expression ({e})") from None
    keywords = d.get("keywords", {})
    if not isinstance(keywords, dict) or not all(
        isinstance(v, list) and v and all(isinstance(w, str) and w.strip() for w in v) for v in keywords.values()
    ):
        raise ConfigError(f"{where}: field {name!r}: keywords must map each value to a list of words")
    keywords = {str(k): [w.strip() for w in v] for k, v in keywords.items()}
    if ftype == "choice":
        bad = [k for k in keywords if k.lower() not in {c.lower() for c in choices}]
        if bad:
            raise ConfigError(f"{where}: field {name!r}: keywords for {', '.join(bad)}, which is not a choice")
    if ftype == "boolean":
        bad = [k for k in keywords if k.lower() not in ("true", "false")]
        if bad:
            raise ConfigError(f"{where}: field {name!r}: a boolean's keywords are for true or false, not {bad[0]!r}")
    if ftype == "number" and keywords:
        raise ConfigError(f"{where}: field {name!r}: a number field is found by a pattern, not keywords")
    unit = d.get("unit")
    if unit is not None and (not isinstance(unit, str) or ftype != "number"):
        raise ConfigError(f"{where}: field {name!r}: unit is text, for a number field")
    return FieldSpec(name, ftype, desc.strip(), evidence, choices, unit, pattern, keywords)


MAX_PATTERN_WEIGHT = 100_000  # copies a pattern's counted repeats make (the regex engine compiles each)


def pattern_weight(pattern: str) -> int:
    """How many copies of its parts a pattern's counted repeats make once nested counts are
    multiplied: `((a{100}){100}){100}` is 1,000,000. The `regex` module compiles a counted repeat
    copy by copy, so a few nested counts take seconds and gigabytes before any text is searched; this
    is measured first, on the parse tree of the standard library's parser. A pattern that parser
    cannot read (syntax only `regex` knows) is weighed by its counts, all multiplied."""
    try:
        tree = re_parser.parse(pattern)
    except (re.error, RecursionError, OverflowError, ValueError):
        counts = [int(m.group(2) or m.group(1)) for m in re.finditer(r"\{(\d{1,9})(?:,(\d{1,9}))?\}", pattern)]
        total = 1
        for c in counts:
            total = min(total * max(c, 1), 10**12)
        return total
    return _weight(tree)


def _weight(items) -> int:
    total = 0
    for op, arg in items:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, sub = arg
            times = hi if hi != re_parser.MAXREPEAT else max(lo, 1)
            total += max(times, 1) * _weight(sub)
        elif name == "SUBPATTERN":
            total += _weight(arg[-1])
        elif name == "BRANCH":
            total += sum(_weight(b) for b in arg[1])
        elif name in ("ASSERT", "ASSERT_NOT"):
            total += _weight(arg[1])
        elif name == "ATOMIC_GROUP":
            total += _weight(arg)
        else:
            total += 1
        total = min(total, 10**12)
    return total


def _check_name(name: str, where: str, seen: set[str]) -> None:
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"{where}: field name {name!r} must be lower-case letters, digits and _ (at most 40, not starting with a digit)"
        )
    if name in RESERVED:
        raise ConfigError(f"{where}: field name {name!r} is reserved (a key of the record or a column of the exports)")
    if name in seen:
        raise ConfigError(f"{where}: field {name!r} is declared twice")
    seen.add(name)


def parse_inline(text: str, seen: set[str]) -> FieldSpec:
    """`name: description`, `name type: description`, `name choice(a|b|c): description` (in the
    spirit of llm's concise schema syntax)."""
    head, sep, desc = text.partition(":")
    if not sep:
        raise ConfigError(f"--field {text!r}: write 'name: description' or 'name type: description'")
    parts = head.split(None, 1)
    if not parts:
        raise ConfigError(f"--field {text!r}: no field name")
    name, typ = parts[0].strip(), (parts[1].strip() if len(parts) > 1 else "text")
    _check_name(name, "--field", seen)
    choices: list[str] = []
    m = re.fullmatch(r"(choice|enum|one-of)\((.*)\)", typ, re.I)
    if m:
        typ, choices = "choice", [c.strip() for c in m.group(2).split("|") if c.strip()]
    return _spec(name, {"type": typ, "description": desc.strip(), "choices": choices}, "--field")


def load_file(path: str, seen: set[str], section_required: bool = True) -> list[FieldSpec]:
    try:
        data = read_toml(path, "a fields file")
    except InputError as e:
        raise ConfigError(str(e)) from None
    decl = data.get("fields")
    if decl is None:
        if section_required:
            raise ConfigError(f"{path}: no [fields] section (declare fields as [fields.NAME] tables)")
        return []
    if not isinstance(decl, dict):
        raise ConfigError(f"{path}: [fields] must hold one table per field ([fields.NAME])")
    out = []
    for name, d in decl.items():
        _check_name(name, path, seen)
        out.append(_spec(name, d, path))
    return out


PROJECT_CONFIG = "extractor.toml"


def declare(fields_file: Optional[str], inline: list[str], cwd: str = ".") -> list[FieldSpec]:
    """The run's fields: --fields FILE (else the [fields] of ./extractor.toml, if any), then every
    --field. Any problem is one ConfigError, raised before any request is made."""
    seen: set[str] = set()
    specs: list[FieldSpec] = []
    if fields_file:
        specs += load_file(fields_file, seen)
    elif os.path.isfile(os.path.join(cwd, PROJECT_CONFIG)):
        specs += load_file(os.path.join(cwd, PROJECT_CONFIG), seen, section_required=False)
    specs += [parse_inline(t, seen) for t in inline]
    if len(specs) > MAX_FIELDS:
        raise ConfigError(f"{len(specs)} fields declared; the limit is {MAX_FIELDS}")
    total = sum(len(s.description) + sum(len(c) for c in s.choices) for s in specs)
    if total > MAX_DECLARED:
        raise ConfigError(
            f"the fields' descriptions and choices come to {total:,} characters; the limit is {MAX_DECLARED:,} "
            "(they are sent with every request)"
        )
    return specs


def fields_hash(specs: list[FieldSpec]) -> Optional[str]:
    """A hash of the declarations: in provenance and in the LLM prompt hash (so in the cache key)."""
    if not specs:
        return None
    raw = json.dumps([asdict(s) for s in specs], sort_keys=True, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()[:16]


def to_dicts(specs: list[FieldSpec]) -> list[dict]:
    return [asdict(s) for s in specs]


def from_dicts(items: list[dict]) -> list[FieldSpec]:
    return [FieldSpec(**d) for d in items]


# -- the LLM's schema ------------------------------------------------------------------------------
def _value_type(spec: FieldSpec) -> Any:
    if spec.type == "number":
        return Optional[float]
    if spec.type == "boolean":
        return Optional[bool]
    if spec.type == "list":
        return Optional[list[str]]
    return Optional[str]


def answer_model(specs: list[FieldSpec]) -> type[BaseModel]:
    """LLMExtraction plus a `fields` object: one {value, evidence} object per declared field,
    with the field's description (Pydantic models made at run time)."""
    members: dict[str, Any] = {}
    for s in specs:
        desc = s.description or s.name
        if s.type == "choice":
            desc += f" One of: {', '.join(s.choices)}."
        if s.unit:
            desc += f" In {s.unit}."
        sub = create_model(
            f"Field_{s.name}",
            __config__=ConfigDict(extra="forbid"),
            value=(_value_type(s), Field(description="null when the abstract does not say")),
            evidence=(
                Optional[str],
                Field(description="the abstract's own words that say it, verbatim" if s.evidence else "optional quote"),
            ),
        )
        members[s.name] = (sub, Field(description=desc))
    user = create_model("UserFields", __config__=ConfigDict(extra="forbid"), **members)
    return create_model(
        "LLMExtractionWithFields",
        __base__=LLMExtraction,
        fields=(user, Field(description="the user's own columns, each with its evidence quote")),
    )


def prompt_section(specs: list[FieldSpec]) -> str:
    lines = [
        "",
        'Also fill `fields`, one entry per column below, each {"value": ..., "evidence": ...}. The evidence '
        "is a verbatim quote of the abstract that says the value; give null for a value the abstract does not state "
        "(never guess).",
    ]
    lines += [s.prompt_line() for s in specs]
    return "\n".join(lines) + "\n"


def prompt_tokens(specs: list[FieldSpec]) -> int:
    """Prompt tokens the fields add to every request (their prompt lines and schema), for --dry-run."""
    from .costs import count_tokens
    from .prompting import strict_schema

    if not specs:
        return 0
    with_fields = json.dumps(strict_schema(answer_model(specs)), separators=(",", ":"))
    without = json.dumps(strict_schema(), separators=(",", ":"))
    return count_tokens(prompt_section(specs)) + max(0, count_tokens(with_fields) - count_tokens(without))


# -- the offline engine ----------------------------------------------------------------------------
def _keyword_hits(text: str, words: list[str]) -> list[re.Match]:
    out = []
    for w in words:
        m = re.search(r"(?<!\w)" + re.escape(w) + r"(?!\w)", text, re.I)
        if m:
            out.append(m)
    return out


def offline_answers(title: str, abstract: str, specs: list[FieldSpec]) -> dict[str, dict]:
    """What the declarations let a rule find; null with `why` otherwise (never a guess). The
    patterns of all fields share one budget per abstract (PATTERN_SECONDS): thirty fields cannot hold
    one abstract for thirty times the budget."""
    out: dict[str, dict] = {}
    ends = time.monotonic() + PATTERN_SECONDS
    for s in specs:
        ans: dict = {"value": None, "evidence": None}
        if s.pattern:
            # `regex`, not `re`: a user's pattern that backtracks without end ("(?:\w+\s?){1,40}\d+" on a
            # long run of words with no digit) stops at the deadline, where re holds the run for ever
            left = ends - time.monotonic()
            try:
                if left <= 0:
                    raise TimeoutError
                m = regex.search(s.pattern, abstract, regex.I, timeout=left)
            except TimeoutError:
                ans["why"] = (
                    f"the fields' patterns took more than {PATTERN_SECONDS} s on this abstract "
                    "(a pattern backtracks: make its repeats unambiguous)"
                )
                out[s.name] = ans
                continue
            if m:
                groups = m.groupdict()
                val = groups.get("value") if "value" in groups else (m.group(1) if m.re.groups else m.group(0))
                ans = {"value": True if s.type == "boolean" else val, "evidence": m.group(0)}
                if s.type == "list":
                    ans["value"] = [val]
            else:
                ans["why"] = "the field's pattern is not in the abstract"
        elif s.keywords:
            found = []
            for value, words in s.keywords.items():
                hits = _keyword_hits(abstract, words)
                if hits:
                    found.append((min(h.start() for h in hits), value, min(hits, key=lambda h: h.start()).group(0)))
            if found:
                found.sort()
                if s.type == "list":
                    ans = {"value": [v for _, v, _ in found], "evidence": found[0][2]}
                else:
                    _, value, ev = found[0]
                    ans = {"value": (value.lower() == "true") if s.type == "boolean" else value, "evidence": ev}
            else:
                ans["why"] = "none of the field's keywords is in the abstract"
        else:
            ans["why"] = NEEDS_LLM
        out[s.name] = ans
    return out


# -- verification ----------------------------------------------------------------------------------
def _find(text: str, quote: str) -> Optional[tuple[int, int]]:
    """The quote in `text`: exactly, or with case, spacing, quotes and a trailing period ignored."""
    q = quote.strip().strip("\"'“”‘’").rstrip(".").strip()
    if not q:
        return None
    i = text.find(q)
    if i >= 0:
        return i, i + len(q)
    words = q.split()
    pat = r"\s+".join(re.escape(w).replace("'", "['’]").replace('"', '["“”]') for w in words)
    m = re.search(pat, text, re.I)
    return (m.start(), m.end()) if m else None


def read_bool(v: Any) -> Optional[bool]:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in ("true", "yes", "y", "1"):
        return True
    if isinstance(v, str) and v.strip().lower() in ("false", "no", "n", "0"):
        return False
    return None


def verify_field(title: str, abstract: str, spec: FieldSpec, answer: Any) -> FieldValue:
    if not isinstance(answer, dict):  # a bare value
        answer = {"value": answer, "evidence": None}
    raw_value, evidence = answer.get("value"), answer.get("evidence")
    given = {k: answer.get(k) for k in ("value", "evidence")}
    fv = FieldValue(
        type=spec.type, value=raw_value, evidence=evidence if isinstance(evidence, str) else None, model_answer=given
    )
    if isinstance(raw_value, str) and raw_value.strip().lower() in ("", "null", "none", "n/a", "unknown"):
        raw_value = None
    if raw_value is None or raw_value == []:
        fv.value, fv.verified = None, None
        fv.why = answer.get("why") or "the abstract does not say"
        return fv
    problems = []
    # the value, read as the declared type
    if spec.type == "number":
        v, _, problem = read_number(raw_value)
        fv.value = v
        if problem:
            problems.append(problem)
    elif spec.type == "boolean":
        b = read_bool(raw_value)
        fv.value = b if b is not None else raw_value
        if b is None:
            problems.append(f"value {raw_value!r} is not true or false")
    elif spec.type == "choice":
        canon = {c.lower(): c for c in spec.choices}
        got = canon.get(str(raw_value).strip().lower())
        fv.value = got or raw_value
        if got is None:
            problems.append(f"{str(raw_value)[:60]!r} is not one of: {', '.join(spec.choices)}")
    elif spec.type == "list":
        items = raw_value if isinstance(raw_value, list) else [x for x in str(raw_value).split(",")]
        fv.value = [str(x).strip() for x in items if str(x).strip()]
    else:
        fv.value = str(raw_value).strip()
    # the evidence, in the abstract (or the title)
    span = None
    if fv.evidence and fv.evidence.strip():
        span = _find(abstract, fv.evidence)
        if span is not None:
            fv.start, fv.end = span
            fv.evidence = abstract[span[0] : span[1]]
        elif _find(title, fv.evidence) is None:
            problems.append(f"evidence {fv.evidence[:80]!r} is not in the abstract")
    elif spec.evidence:
        problems.append("no evidence quote")
    # what the evidence says
    if span is not None and spec.type == "number" and isinstance(fv.value, float):
        qs = scan(fv.evidence or "")
        nums = [x for q in qs for x in (q.value, q.low, q.high) if x is not None]
        if not any(values_agree(fv.value, x) for x in nums):
            read = ", ".join(f"{x:g}" for x in nums) or "no number"
            problems.append(f"value {fv.value:g} is not what the evidence says ({read})")
    if spec.type == "list" and isinstance(fv.value, list):
        missing = [x for x in fv.value if _find(abstract, x) is None and not _keyword_says(spec, x, abstract)]
        if missing:
            problems.append(f"not in the abstract: {', '.join(missing[:5])}")
    fv.verified = not problems
    fv.why = "; ".join(problems) or None
    return fv


def _keyword_says(spec: FieldSpec, value: str, abstract: str) -> bool:
    """A declared value whose keywords occur in the abstract ("GPU" for "8,054 GPUs")."""
    words = next((w for k, w in spec.keywords.items() if k.lower() == value.lower()), None)
    return bool(words and _keyword_hits(abstract, words))


def verify_fields(title: str, abstract: str, specs: list[FieldSpec], answers: Any) -> dict[str, FieldValue]:
    """Every declared field, verified; a field the engine left out is null, said so."""
    answers = answers if isinstance(answers, dict) else {}
    out = {}
    for s in specs:
        if s.name in answers:
            out[s.name] = verify_field(title, abstract, s, answers[s.name])
        else:
            out[s.name] = FieldValue(type=s.type, why="the engine gave no answer for this field")
    return out


def shown(fv: dict) -> str:
    """A field's value as a cell shows it: lists joined, booleans yes/no, flagged when unverified."""
    v = fv.get("value")
    if v is None:
        return ""
    if isinstance(v, bool):
        text = "yes" if v else "no"
    elif isinstance(v, list):
        text = "; ".join(str(x) for x in v)
    elif isinstance(v, float):
        text = f"{v:,g}" if abs(v) >= 1000 else f"{v:g}"
    else:
        text = str(v)
    d = ((fv.get("review") or {}).get("decision")) or ""
    if d == "edit":
        text += " (edited)"
    elif fv.get("verified") is False and d != "accept":
        text += " (unverified)"
    return text
