"""LLM extraction through the openai SDK, for any OpenAI-compatible endpoint.

Two kinds of retry, kept apart and bounded:
- transport retries (tenacity) for 408/409/429/5xx, timeouts and connection errors, honouring
  Retry-After; the SDK's own retries are off so that one policy rules;
- re-asks for replies that are not JSON, fail the schema, stop at the token limit or quote
  numbers that are not in the abstract; each re-ask carries only the last error.
What the model returns is then verified by the same code as every other engine.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Optional

import openai
from pydantic import ValidationError
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from ..errors import FatalEngineError
from ..grounding import Aligner
from ..prompting import load_prompts, strict_schema
from ..schema import HeadlineNumber, LLMExtraction, Paper, Usage
from .base import EngineFailure, EngineResult

MODES = ("json_schema", "json_object", "tools")
_TOOL_NAME = "record_extraction"


class ModeRejected(Exception):
    """The server does not support this request mode."""


def _status(e: BaseException) -> Optional[int]:
    return getattr(e, "status_code", None)


def _mode_rejected(e: BaseException) -> bool:
    """OpenAI answers 400 for an unsupported mode; llama-cpp-python's server answers 500 with a
    validation message naming response_format. Recognise both."""
    if not isinstance(e, openai.APIStatusError) or e.status_code not in (400, 422, 500, 501):
        return False
    text = (str(e) + " " + (e.response.text if e.response is not None else "")).lower()
    return any(k in text for k in ("response_format", "json_schema", "json_object", "tool_choice", "tools",
                                   "structured output", "grammar"))


def _transient(e: BaseException) -> bool:
    if isinstance(e, (openai.APITimeoutError, openai.APIConnectionError)):
        return True
    if isinstance(e, openai.APIStatusError):
        if _mode_rejected(e):
            return False
        return e.status_code in (408, 409, 429) or e.status_code >= 500
    return False


def _retry_after(e: BaseException) -> Optional[float]:
    resp = getattr(e, "response", None)
    if resp is None:
        return None
    for h in ("retry-after-ms", "retry-after"):
        v = resp.headers.get(h)
        if v:
            try:
                return float(v) / (1000 if h.endswith("ms") else 1)
            except ValueError:
                return None
    return None


class _Wait:
    """Retry-After when the server sent one, else exponential backoff with full jitter."""

    def __init__(self, base: float, cap: float):
        self.expo = wait_random_exponential(multiplier=base, max=cap)
        self.cap = cap

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        ra = _retry_after(exc) if exc else None
        if ra is not None:
            return min(ra, 120.0)
        return self.expo(state)


def _describe(e: BaseException) -> str:
    if isinstance(e, openai.APIStatusError):
        return f"HTTP {e.status_code}: {_short(e.message)}"
    if isinstance(e, openai.APITimeoutError):
        return "request timed out"
    if isinstance(e, openai.APIConnectionError):
        return f"connection failed ({_short(str(e.__cause__ or e))})"
    return f"{e.__class__.__name__}: {_short(str(e))}"


def _short(s: str, n: int = 200) -> str:
    s = " ".join(str(s).split())
    return s if len(s) <= n else s[: n - 3] + "..."


class OpenAIEngine:
    name = "openai"

    def __init__(
        self,
        model: str,
        base_url: Optional[str] = None,
        prompts_dir: Optional[str] = None,
        mode: str = "auto",
        max_reasks: int = 2,
        timeout: float = 120.0,
        retries: int = 5,
        max_tokens: int = 2048,
        backoff: Optional[float] = None,
        api_key: Optional[str] = None,
    ):
        if mode != "auto" and mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.model = model
        self.prompts = load_prompts(prompts_dir)
        self.prompt_hash = self.prompts.hash
        self.schema = strict_schema()
        self.max_reasks = max_reasks
        self.retries = retries
        self.max_tokens = max_tokens
        self.backoff = backoff if backoff is not None else float(os.environ.get("EXTRACTOR_BACKOFF", "1.0"))
        self._fixed_mode = mode != "auto"
        self._modes = [mode] if mode != "auto" else list(MODES)
        self._mode_lock = threading.Lock()
        self._reachable = False  # set once any HTTP answer arrives
        key = api_key or os.environ.get("OPENAI_API_KEY") or "sk-no-key-needed"  # local servers need none
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        self.client = openai.OpenAI(api_key=key, base_url=self.base_url, max_retries=0, timeout=timeout)

    # -- one request, with transport retries ------------------------------------------------
    @property
    def mode(self) -> str:
        return self._modes[0]

    def _request(self, messages: list[dict], mode: str):
        kw: dict = {"model": self.model, "messages": messages, "temperature": 0, "max_tokens": self.max_tokens}
        if mode == "json_schema":
            kw["response_format"] = {"type": "json_schema",
                                     "json_schema": {"name": "extraction", "strict": True, "schema": self.schema}}
        elif mode == "json_object":
            # llama.cpp-style servers also read the schema here and constrain decoding with it
            kw["response_format"] = {"type": "json_object", "schema": self.schema}
        else:
            kw["tools"] = [{"type": "function", "function": {"name": _TOOL_NAME, "parameters": self.schema,
                                                             "strict": True}}]
            kw["tool_choice"] = {"type": "function", "function": {"name": _TOOL_NAME}}
        return self.client.chat.completions.create(**kw)

    def _call(self, messages_for, usage: Usage):
        """One logical request: transport retries, mode fallback, fatal errors."""
        while True:
            mode = self.mode
            messages = messages_for(mode)
            retrying = Retrying(
                retry=retry_if_exception(_transient),
                stop=stop_after_attempt(self.retries),
                wait=_Wait(self.backoff, 30.0),
                reraise=True,
            )
            try:
                for attempt in retrying:
                    with attempt:
                        usage.requests += 1
                        resp = self._request(messages, mode)
                self._reachable = True
                return resp, mode
            except openai.APIStatusError as e:
                self._reachable = True
                if _mode_rejected(e) and not self._fixed_mode:
                    with self._mode_lock:
                        if self.mode == mode and len(self._modes) > 1:
                            self._modes.pop(0)  # remembered for the rest of the run
                            continue
                        if self.mode != mode:
                            continue  # another request already moved on
                    raise EngineFailure(f"the server rejected every request mode ({_describe(e)})", usage) from None
                where = self.base_url or "api.openai.com"
                if e.status_code in (401, 403):
                    raise FatalEngineError(f"authentication failed at {where} ({_describe(e)}); check OPENAI_API_KEY") from None
                if e.status_code == 404:
                    raise FatalEngineError(f"model {self.model!r} not found at {where} ({_describe(e)})") from None
                if _transient(e):
                    raise EngineFailure(f"request failed after {self.retries} attempts: {_describe(e)}", usage) from None
                raise EngineFailure(f"request rejected: {_describe(e)}", usage) from None
            except (openai.APITimeoutError, openai.APIConnectionError) as e:
                if not self._reachable and not isinstance(e, openai.APITimeoutError):
                    # nothing has ever answered: stop the run instead of failing every paper
                    raise FatalEngineError(f"cannot reach {self.base_url or 'api.openai.com'}: {_describe(e)}") from None
                raise EngineFailure(f"request failed after {self.retries} attempts: {_describe(e)}", usage) from None

    # -- the extraction, with re-asks ---------------------------------------------------------
    def extract(self, paper: Paper) -> EngineResult:
        usage = Usage()
        last_reply: Optional[str] = None
        last_error: Optional[str] = None
        aligner = Aligner(paper.abstract)
        for attempt in range(self.max_reasks + 1):
            def messages_for(mode: str) -> list[dict]:
                msgs = self.prompts.messages(paper.title, paper.abstract, schema_in_prompt=(mode == "json_object"))
                if last_error is not None:
                    # only the last reply and its error: re-asks never grow the context
                    msgs.append({"role": "assistant", "content": last_reply or ""})
                    msgs.append({"role": "user", "content": f"Your reply had a problem: {last_error}\n"
                                 "Reply again with the complete, corrected JSON object only."})
                return msgs

            resp, mode = self._call(messages_for, usage)
            _add_usage(usage, resp)
            choice = resp.choices[0] if resp.choices else None
            if choice is None:
                last_reply, last_error = "", "the reply had no choices"
                continue
            msg = choice.message
            if getattr(msg, "refusal", None):
                raise EngineFailure(f"the model refused: {_short(msg.refusal)}", usage, attempt)
            content = msg.content
            if mode == "tools" and msg.tool_calls:
                content = msg.tool_calls[0].function.arguments
            last_reply = content or ""
            if choice.finish_reason == "length":
                last_error = (f"the reply was cut off at the token limit (finish_reason=length) after "
                              f"{len(last_reply)} characters; answer more briefly")
                continue
            try:
                data = json.loads(_strip_fences(last_reply))
            except json.JSONDecodeError as e:
                last_error = f"the reply is not valid JSON ({e.msg} at position {e.pos})"
                continue
            try:
                ext = LLMExtraction.model_validate(data)
            except ValidationError as e:
                last_error = "the JSON does not match the schema: " + "; ".join(
                    f"{'.'.join(map(str, er['loc']))}: {er['msg']}" for er in e.errors()[:8])
                continue
            missing = [n.text for n in ext.headline_numbers if aligner.align(n.text)[0] is None]
            aligner = Aligner(paper.abstract)  # fresh span bookkeeping for the verifier
            if missing and attempt < self.max_reasks:
                last_error = ("these headline_numbers text values do not occur in the abstract: "
                              + ", ".join(json.dumps(t) for t in missing[:10])
                              + ". Copy each claim's text exactly from the abstract, or drop it.")
                continue
            return EngineResult(
                system_name=ext.system_name,
                problem=ext.problem,
                technique=ext.technique,
                numbers=[HeadlineNumber(**n.model_dump()) for n in ext.headline_numbers],
                usage=usage,
                reasks=attempt,
                mode=mode,
            )
        raise EngineFailure(f"no valid reply after {self.max_reasks} re-asks: {last_error}", usage, self.max_reasks)


def _add_usage(usage: Usage, resp) -> None:
    u = getattr(resp, "usage", None)
    if not u:
        return
    usage.prompt_tokens += u.prompt_tokens or 0
    usage.completion_tokens += u.completion_tokens or 0
    details = getattr(u, "prompt_tokens_details", None)
    if details is not None and getattr(details, "cached_tokens", None):
        usage.cached_tokens += details.cached_tokens


def _strip_fences(s: str) -> str:
    """Small models wrap JSON in ``` fences even in JSON mode."""
    t = s.strip()
    if t.startswith("```"):
        t = t.split("\n", 1)[1] if "\n" in t else t[3:]
        if t.rstrip().endswith("```"):
            t = t.rstrip()[:-3]
    return t
