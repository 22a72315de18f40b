"""The chat-completions protocol: what a request says, how a reply is read, how a re-ask is put.

Shared by the online engine and the Batch API path (`batch prepare` writes these request bodies,
`batch ingest` reads replies with `read_reply`). Nothing here sends anything.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Optional

import json_repair

from ...contract import ClaimDraft, EngineResult, Usage
from ...core.limits import MAX_MEND
from .prompting import Prompts, strict_schema

MODES = ("json_schema", "json_object", "tools")
TOOL_NAME = "record_extraction"
MAX_USAGE = 10**9  # a token count above this is no token count


@dataclass
class Answer:
    """What the model said about one paper, as it said it."""

    system_name: Any
    problem: Any
    technique: Any
    numbers: list[ClaimDraft] = field(default_factory=list)
    fields: Any = None  # the user fields' answers, when fields are declared

    def result(
        self, usage: Optional[Usage], reasks: int, mode: Optional[str], gain: int = 0, checked: Optional[list] = None
    ) -> EngineResult:
        """The engine's result for this answer, after `reasks` re-asks in `mode`."""
        return EngineResult(
            system_name=self.system_name,
            problem=self.problem,
            technique=self.technique,
            numbers=self.numbers,
            usage=usage,
            reasks=reasks,
            mode=mode,
            fields=self.fields,
            reasks_verified=gain,
            checked=checked,
        )


@dataclass
class Reply:
    """One chat completion, read. `error` is what a re-ask would tell the model."""

    answer: Optional[Answer] = None
    error: Optional[str] = None
    refusal: Optional[str] = None
    raw: str = ""  # the reply's text: the message content, or the tool call's arguments
    tool_call_id: Optional[str] = None


@dataclass
class Reask:
    """The last reply and what was wrong with it: a re-ask carries only these (the context never
    grows with re-asks)."""

    reply: Reply
    problem: str


def _get(obj: Any, key: str, default=None):
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


_THINK = re.compile(r"^\s*<(think|thinking|reasoning)>.*?</\1>", re.S)
_FENCED = re.compile(r"```(?:json|JSON)?[ \t]*\n(.*?)\n?```", re.S)


def _json_of(raw: str) -> Any:
    """The JSON a reply holds, as models actually write it: bare; after a reasoning block
    ("<think>...</think>", as Qwen3 and DeepSeek-R1 write when the server does not split it off); in
    ``` fences (small models do, even in JSON mode); as one object in prose ("Here is the JSON:
    {...} Let me know ..."); or almost JSON (a trailing comma, single quotes, a comment, Python's
    None / True), mended by json_repair. Raises json.JSONDecodeError, for the re-ask, when none of
    these gives a JSON object."""
    t = _THINK.sub("", raw, count=1).strip()
    try:
        return _decoded(t)
    except json.JSONDecodeError as first:
        fenced = _FENCED.search(t)
        if fenced:
            try:
                return _decoded(fenced.group(1))
            except json.JSONDecodeError:
                pass
        start = t.find("{")
        if start >= 0:  # also at 0: "{...} Let me know ..." fails json.loads with "Extra data"
            try:
                return _decoded(t, start)
            except json.JSONDecodeError:
                pass
            mended = _mended(fenced.group(1) if fenced else t[start:])
            if mended is not None:
                return mended
        raise first


def _decoded(text: str, start: Optional[int] = None) -> Any:
    """The JSON value of `text` (all of it), or of the value that starts at `start` (what follows it
    is ignored). Nesting deeper than the interpreter's recursion limit is invalid JSON too, so such
    a reply is re-asked like any other, not an internal error."""
    try:
        if start is None:
            return json.loads(text)
        return json.JSONDecoder().raw_decode(text, start)[0]
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", text, start or 0) from None


def _mended(text: str) -> Optional[dict]:
    """The answer json_repair makes of almost-JSON, or None. Taken only when it is an answer (not
    "{oops" mended to {"oops": ""}, which the re-ask should call invalid JSON); every number in it is
    still verified against the abstract. Bounded: json_repair is a parser in Python that spends
    seconds on a megabyte of stray quotes, in the event loop every request shares, and raises
    ValueError on deep nesting; an answer is a few kilobytes, so a longer text is not mended."""
    if len(text) > MAX_MEND:
        return None
    try:
        mended = json_repair.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(mended, dict) and "headline_numbers" in _unwrapped(_keys_snake(mended)):
        return mended
    return None


_SNAKE = re.compile(r"[a-z0-9_]+")


def _snake(key: str) -> str:
    """ "System Name", "systemName", "headline-numbers" -> "system_name", "headline_numbers"."""
    if _SNAKE.fullmatch(key):
        return key  # the schema's own keys, as nearly every reply has them
    key = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key.strip())
    return re.sub(r"[\s\-]+", "_", key).lower()


def _keys_snake(d: dict) -> dict:
    return {(_snake(k) if isinstance(k, str) else k): v for k, v in d.items()}


_ANSWER_KEYS = ("system_name", "problem", "technique", "headline_numbers")


def _unwrapped(data: dict) -> dict:
    """The answer object when a model put it under one key ({"extraction": {...}}, or the schema's
    {"properties": {...}} filled in with values)."""
    if "headline_numbers" not in data and len(data) <= 2:
        inner = [v for v in data.values() if isinstance(v, dict)]
        if len(inner) == 1 and "headline_numbers" in _keys_snake(inner[0]):
            return _keys_snake(inner[0])
    return data


def read_answer(data: Any) -> tuple[Optional[Answer], Optional[str]]:
    """The answer in a reply's JSON, read leniently: a claim with a bad field fails alone, in the
    verifier; only a reply whose shape cannot be read at all is an error."""
    if isinstance(data, list) and len(data) == 1:
        data = data[0]  # [{...}]: the one object, in a list
    if not isinstance(data, dict):
        return None, "the JSON does not match the schema: the reply must be one JSON object"
    data = _unwrapped(_keys_snake(data))
    if "headline_numbers" in data and data["headline_numbers"] is None:
        data = {**data, "headline_numbers": []}  # null for "no numbers"
    missing = [k for k in _ANSWER_KEYS if k not in data]
    nums = data.get("headline_numbers")
    if "headline_numbers" in missing or not isinstance(nums, list):
        why = "; ".join(f"{k}: Field required" for k in missing) if missing else "headline_numbers: not a list"
        return None, f"the JSON does not match the schema: {why}"
    drafts = []
    for i, n in enumerate(nums):
        if isinstance(n, dict):
            drafts.append(ClaimDraft.from_answer(_keys_snake(n)))
        elif isinstance(n, str):
            drafts.append(ClaimDraft(text=n, answer={"text": n}))  # a bare "44%"
        else:
            return None, f"the JSON does not match the schema: headline_numbers.{i}: not an object"
    return Answer(data.get("system_name"), data.get("problem"), data.get("technique"), drafts, data.get("fields")), None


def read_reply(completion: Any, mode: str) -> Reply:
    """Read one chat completion (an SDK object or its JSON) down to an Answer, or say what is wrong."""
    choices = _get(completion, "choices") or []
    if not isinstance(choices, list) or not choices:
        return Reply(error="the reply had no choices")
    choice = choices[0]
    msg = _get(choice, "message") or {}
    refusal = _get(msg, "refusal")
    if refusal:
        return Reply(refusal=str(refusal))
    content = _get(msg, "content")
    calls = _get(msg, "tool_calls") or []
    call_id = None
    if calls and isinstance(calls, list) and (mode == "tools" or not content):
        call_id = _get(calls[0], "id")
        content = _get(_get(calls[0], "function") or {}, "arguments")
    raw = content if isinstance(content, str) else ("" if content is None else json.dumps(content))
    if _get(choice, "finish_reason") == "length":
        return Reply(
            raw=raw,
            tool_call_id=call_id,
            error=(
                f"the reply was cut off at the token limit (finish_reason=length) after {len(raw)} characters; "
                "answer more briefly"
            ),
        )
    try:
        data = _json_of(raw)
    except json.JSONDecodeError as e:
        return Reply(raw=raw, tool_call_id=call_id, error=f"the reply is not valid JSON ({e.msg} at position {e.pos})")
    answer, error = read_answer(data)
    return Reply(answer=answer, error=error, raw=raw, tool_call_id=call_id)


def _count(v: Any) -> int:
    """A usage count as a server reports it; anything that is not a plausible count is 0."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
        return 0
    return int(v) if 0 <= v <= MAX_USAGE else 0


def usage_of(completion: Any) -> Usage:
    u = _get(completion, "usage")
    if not u:
        return Usage()
    details = _get(u, "prompt_tokens_details") or {}
    return Usage(
        prompt_tokens=_count(_get(u, "prompt_tokens")),
        completion_tokens=_count(_get(u, "completion_tokens")),
        cached_tokens=_count(_get(details, "cached_tokens")),
    )


class Protocol:
    """Request bodies and re-ask messages for one model, prompt set and schema."""

    def __init__(self, prompts: Prompts, model: str, max_tokens: int = 2048, fields: Optional[list] = None):
        self.prompts = prompts
        self.model = model
        self.max_tokens = max_tokens
        self.fields = list(fields or [])
        if self.fields:
            from ...fields import fields_hash
            from .fields import answer_model, prompt_section

            self.schema = strict_schema(answer_model(self.fields))
            self.system = prompts.system + prompt_section(self.fields)
            self.prompt_hash = _hash(prompts.hash, fields_hash(self.fields) or "")
        else:
            self.schema = strict_schema()
            self.system = prompts.system
            self.prompt_hash = prompts.hash

    def request_body(self, messages: list[dict], mode: str) -> dict:
        """The chat-completions request, as sent online and as written into Batch API files."""
        body: dict = {"model": self.model, "messages": messages, "temperature": 0, "max_tokens": self.max_tokens}
        if mode == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "extraction", "strict": True, "schema": self.schema},
            }
        elif mode == "json_object":
            # llama.cpp-style servers also read the schema here and constrain decoding with it
            body["response_format"] = {"type": "json_object", "schema": self.schema}
        else:
            body["tools"] = [
                {"type": "function", "function": {"name": TOOL_NAME, "parameters": self.schema, "strict": True}}
            ]
            body["tool_choice"] = {"type": "function", "function": {"name": TOOL_NAME}}
        return body

    def messages(self, title: str, abstract: str, mode: str, reask: Optional[Reask] = None) -> list[dict]:
        msgs = self.prompts.messages(title, abstract, schema_in_prompt=(mode == "json_object"), schema=self.schema)
        msgs[0] = {"role": "system", "content": self.system}
        if reask is not None:
            msgs.extend(reask_messages(reask, mode))
        return msgs

    def body(self, title: str, abstract: str, mode: str, reask: Optional[Reask] = None) -> dict:
        return self.request_body(self.messages(title, abstract, mode, reask), mode)


def _hash(*parts: str) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def reask_messages(reask: Reask, mode: str) -> list[dict]:
    """The last reply and its problem, in the protocol's own shape: in tools mode the reply is a
    tool call and the problem its tool result (as instructor's reask_tools does)."""
    reply, problem = reask.reply, reask.problem
    if mode == "tools" and reply.tool_call_id:
        call = {"id": reply.tool_call_id, "type": "function", "function": {"name": TOOL_NAME, "arguments": reply.raw}}
        return [
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {
                "role": "tool",
                "tool_call_id": reply.tool_call_id,
                "content": f"Error: {problem}\nCall {TOOL_NAME} again with the complete, corrected arguments.",
            },
        ]
    return [
        {"role": "assistant", "content": reply.raw or ""},
        {
            "role": "user",
            "content": f"Your reply had a problem: {problem}\n"
            "Reply again with the complete, corrected JSON object only.",
        },
    ]
