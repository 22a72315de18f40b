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
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

import regex

from ..core.errors import ConfigError, InputError
from ..core.files import read_toml
from ..schema import LLMExtraction, Record

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

# names an export already gives a column (extractor.exports.common.PAPER_COLUMNS; a test keeps the
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


def keyword_hits(text: str, words: list[str]) -> list[re.Match]:
    """Where each of a declaration's keywords occurs in `text`, as a whole word, any case."""
    out = []
    for w in words:
        m = re.search(r"(?<!\w)" + re.escape(w) + r"(?!\w)", text, re.I)
        if m:
            out.append(m)
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
