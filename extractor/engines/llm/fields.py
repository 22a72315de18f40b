"""The user's fields as an LLM is asked for them: the answer's runtime Pydantic model
(`pydantic.create_model`), the prompt's section that declares them, and its size in tokens.
"""

from __future__ import annotations

import json
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, create_model

from ...fields import FieldSpec
from ...schema import LLMExtraction


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
    from ...costs import count_tokens
    from .prompting import strict_schema

    if not specs:
        return 0
    with_fields = json.dumps(strict_schema(answer_model(specs)), separators=(",", ":"))
    without = json.dumps(strict_schema(), separators=(",", ":"))
    return count_tokens(prompt_section(specs)) + max(0, count_tokens(with_fields) - count_tokens(without))
