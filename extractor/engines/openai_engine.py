"""LLM extraction through the openai SDK (async client), for any OpenAI-compatible endpoint.

Two kinds of retry, kept apart and bounded:
- transport retries (tenacity) for 408/409/429/5xx, timeouts and connection errors, honouring
  Retry-After; the SDK's own retries are off so that one policy rules;
- re-asks for replies that are not JSON, fail the schema, stop at the token limit or quote
  numbers that are not in the abstract; each re-ask carries only the last error.
What the model returns is then verified by the same code as every other engine; the Batch API
path reads replies with the same `interpret_reply`.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
from dataclasses import dataclass
from typing import Any, Optional

import openai
import orjson
from pydantic import ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from ..errors import FatalEngineError
from ..grounding import Aligner
from ..prompting import load_prompts, strict_schema
from ..ratelimit import AdaptiveLimiter
from ..schema import HeadlineNumber, LLMExtraction, Paper, Usage
from .base import EngineFailure, EngineResult

MODES = ("json_schema", "json_object", "tools")
TOOL_NAME = "record_extraction"


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

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        ra = _retry_after(exc) if exc else None
        if ra is not None:
            return min(ra, 120.0)
        return self.expo(state)


def _connect_failure(e: BaseException) -> bool:
    """No connection could be made at all (refused, unresolvable, connect timeout), as opposed to a
    request that timed out on a live server. The aiohttp transport reports a refused connection
    as a ConnectTimeout, so look at the whole cause chain."""
    seen = 0
    cur: Optional[BaseException] = e
    while cur is not None and seen < 8:
        if isinstance(cur, ConnectionError) or "Connect" in type(cur).__name__:
            return True
        cur = cur.__cause__ or cur.__context__
        seen += 1
    return isinstance(e, openai.APIConnectionError) and not isinstance(e, openai.APITimeoutError)


def _describe(e: BaseException) -> str:
    if isinstance(e, openai.APIStatusError):
        return f"HTTP {e.status_code}: {_short(e.message)}"
    if isinstance(e, openai.APITimeoutError):
        return f"connection failed ({_short(str(e.__cause__ or e))})" if _connect_failure(e) else "request timed out"
    if isinstance(e, openai.APIConnectionError):
        return f"connection failed ({_short(str(e.__cause__ or e))})"
    return f"{e.__class__.__name__}: {_short(str(e))}"


def _short(s: str, n: int = 200) -> str:
    s = " ".join(str(s).split())
    return s if len(s) <= n else s[: n - 3] + "..."


# --- reading a reply: shared by the online engine and Batch API ingestion ----------------------

@dataclass
class Reply:
    """What one chat completion said, after checks; `error` is what a re-ask would tell the model."""

    extraction: Optional[LLMExtraction] = None
    error: Optional[str] = None
    refusal: Optional[str] = None
    raw: str = ""
    missing: tuple[str, ...] = ()


def _get(obj: Any, key: str, default=None):
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def interpret_reply(completion: Any, mode: str, abstract: str) -> Reply:
    """Check one chat completion (an SDK object or the JSON of one) against schema and abstract."""
    choices = _get(completion, "choices") or []
    if not choices:
        return Reply(error="the reply had no choices")
    choice = choices[0]
    msg = _get(choice, "message") or {}
    refusal = _get(msg, "refusal")
    if refusal:
        return Reply(refusal=str(refusal))
    content = _get(msg, "content")
    calls = _get(msg, "tool_calls") or []
    if calls and (mode == "tools" or not content):
        content = _get(_get(calls[0], "function") or {}, "arguments")
    raw = content or ""
    if _get(choice, "finish_reason") == "length":
        return Reply(raw=raw, error=(f"the reply was cut off at the token limit (finish_reason=length) after "
                                     f"{len(raw)} characters; answer more briefly"))
    try:
        data = json.loads(_strip_fences(raw))
    except json.JSONDecodeError as e:
        return Reply(raw=raw, error=f"the reply is not valid JSON ({e.msg} at position {e.pos})")
    try:
        ext = LLMExtraction.model_validate(data)
    except ValidationError as e:
        return Reply(raw=raw, error="the JSON does not match the schema: " + "; ".join(
            f"{'.'.join(map(str, er['loc']))}: {er['msg']}" for er in e.errors()[:8]))
    aligner = Aligner(abstract)
    missing = tuple(n.text for n in ext.headline_numbers if aligner.align(n.text)[0] is None)
    if missing:
        return Reply(extraction=ext, raw=raw, missing=missing, error=(
            "these headline_numbers text values do not occur in the abstract: "
            + ", ".join(json.dumps(t) for t in missing[:10])
            + ". Copy each claim's text exactly from the abstract, or drop it."))
    return Reply(extraction=ext, raw=raw)


def to_result(ext: LLMExtraction, usage: Usage, reasks: int, mode: str) -> EngineResult:
    return EngineResult(
        system_name=ext.system_name,
        problem=ext.problem,
        technique=ext.technique,
        numbers=[HeadlineNumber(**n.model_dump()) for n in ext.headline_numbers],
        usage=usage,
        reasks=reasks,
        mode=mode,
    )


def add_usage(usage: Usage, resp: Any) -> None:
    u = _get(resp, "usage")
    if not u:
        return
    usage.prompt_tokens += _get(u, "prompt_tokens") or 0
    usage.completion_tokens += _get(u, "completion_tokens") or 0
    details = _get(u, "prompt_tokens_details")
    if details and _get(details, "cached_tokens"):
        usage.cached_tokens += _get(details, "cached_tokens")


def _strip_fences(s: str) -> str:
    """Small models wrap JSON in ``` fences even in JSON mode."""
    t = s.strip()
    if t.startswith("```"):
        t = t.split("\n", 1)[1] if "\n" in t else t[3:]
        if t.rstrip().endswith("```"):
            t = t.rstrip()[:-3]
    return t


# --- the engine ------------------------------------------------------------------------------------

def _http_client(max_connections: int, timeout: float, base_url: Optional[str]):
    """aiohttp under the SDK when installed (openai[aiohttp], a dependency of extractor): httpx's
    pool scans every connection on each request and costs ms of CPU per request at 64 in flight.
    Falls back to the SDK's default httpx client; both get the same connection limits."""
    import importlib

    # the HTTP library the installed SDK is built on (httpx, or httpx2 in newer SDKs)
    mod = importlib.import_module(openai.DefaultAsyncHttpxClient.__mro__[1].__module__.split(".")[0])
    limits = mod.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    kw: dict = {"limits": limits, "timeout": timeout}
    if base_url and base_url.lower().startswith("http://"):
        kw["verify"] = _no_tls_context()
    try:
        import aiohttp  # noqa: F401

        return openai.DefaultAioHttpClient(**kw)
    except (ImportError, AttributeError, RuntimeError):
        return openai.DefaultAsyncHttpxClient(**kw)


def _no_tls_context() -> ssl.SSLContext:
    """The TLS context for a plain-http endpoint (a local vLLM, Ollama or llama.cpp server). The
    default one loads the system's CA store (~40 ms, in the run, before the first request) for
    connections that never use it. This one verifies certificates and host names like the default
    but trusts no CA, so if TLS ever came into play (a redirect or proxy to https) it would refuse
    the connection rather than skip the check."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and check_hostname by default


def _settle_platform(client: openai.AsyncOpenAI) -> None:
    """Give the client its platform headers (X-Stainless-OS/-Arch) now. The SDK works them out on the
    first request, in a worker thread, and every request sent before one of those threads is done
    starts its own: at --concurrency 64, the whole first round goes through the thread pool (seen
    in profiles, with `uname -p` subprocesses). Done here once, before any request (a few ms,
    blocking). The attribute is the SDK's own; when a later SDK drops it, nothing is set and it
    works as before."""
    if getattr(client, "_platform", "absent") is None:
        from openai._base_client import get_platform

        client._platform = get_platform()


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
        max_connections: int = 64,
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
        self.timeout = timeout
        self.backoff = backoff if backoff is not None else float(os.environ.get("EXTRACTOR_BACKOFF", "1.0"))
        self._fixed_mode = mode != "auto"
        self._modes = [mode] if mode != "auto" else list(MODES)
        self._reachable = False  # set once any HTTP answer arrives
        self.limiter: Any = AdaptiveLimiter(max_connections)  # the pipeline installs its own
        self._key = api_key or os.environ.get("OPENAI_API_KEY") or "sk-no-key-needed"  # local servers need none
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        self.max_connections = max_connections
        self._client: Optional[openai.AsyncOpenAI] = None
        self._endpoint = "/chat/completions"

    @property
    def client(self) -> openai.AsyncOpenAI:
        # created inside the running event loop that uses it
        if self._client is None:
            self._client = openai.AsyncOpenAI(
                api_key=self._key, base_url=self.base_url, max_retries=0, timeout=self.timeout,
                http_client=_http_client(self.max_connections, self.timeout, self.base_url),
            )
            # absolute, so the SDK does not merge it with the base URL on every request
            self._endpoint = str(self._client.base_url).rstrip("/") + "/chat/completions"
            _settle_platform(self._client)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    @property
    def mode(self) -> str:
        return self._modes[0]

    def prompt_overhead(self) -> int:
        """Prompt tokens per request besides title and abstract: system prompt, template, schema."""
        from ..costs import count_tokens

        n = count_tokens(self.prompts.system) + count_tokens(self.prompts.render_user("", ""))
        n += count_tokens(json.dumps(self.schema, separators=(",", ":")))
        for ex in self.prompts.examples:
            n += count_tokens(ex["title"] + ex["abstract"] + json.dumps(ex["output"]))
        return n + 12  # message framing

    def request_body(self, messages: list[dict], mode: str) -> dict:
        """The chat-completions request, as sent online and as written into Batch API files."""
        body: dict = {"model": self.model, "messages": messages, "temperature": 0, "max_tokens": self.max_tokens}
        if mode == "json_schema":
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "extraction", "strict": True, "schema": self.schema}}
        elif mode == "json_object":
            # llama.cpp-style servers also read the schema here and constrain decoding with it
            body["response_format"] = {"type": "json_object", "schema": self.schema}
        else:
            body["tools"] = [{"type": "function", "function": {"name": TOOL_NAME, "parameters": self.schema,
                                                               "strict": True}}]
            body["tool_choice"] = {"type": "function", "function": {"name": TOOL_NAME}}
        return body

    def messages(self, paper: Paper, mode: str, last_reply: Optional[str] = None,
                 last_error: Optional[str] = None) -> list[dict]:
        msgs = self.prompts.messages(paper.title, paper.abstract, schema_in_prompt=(mode == "json_object"))
        if last_error is not None:
            # only the last reply and its error: re-asks never grow the context
            msgs.append({"role": "assistant", "content": last_reply or ""})
            msgs.append({"role": "user", "content": f"Your reply had a problem: {last_error}\n"
                         "Reply again with the complete, corrected JSON object only."})
        return msgs

    async def _send(self, body: dict, usage: Usage, est_tokens: int) -> Any:
        usage.requests += 1
        async with self.limiter.slot(est_tokens):
            # The SDK's generic `post` (its documented way to send a request body as is) with the
            # body already serialised, and the reply as bytes: the typed `chat.completions.create`
            # would walk the schema and messages in Python to transform params, JSON-encode them with
            # the stdlib and build pydantic objects from the reply, ~1 ms of CPU per request and the
            # bottleneck at high concurrency. Errors, auth, headers and transport stay the SDK's.
            client = self.client
            raw = await client.post(self._endpoint, cast_to=bytes, body=orjson.dumps(body))
        return orjson.loads(raw)

    async def _send_with_retries(self, body: dict, usage: Usage, est_tokens: int) -> Any:
        try:
            return await self._send(body, usage, est_tokens)
        except Exception as e:
            if not _transient(e) or self.retries <= 1:
                raise
            first: Optional[BaseException] = e
        # Only a failed request pays for tenacity's machinery: the first failure is replayed into it
        # as attempt 1, so the wait (Retry-After or backoff), the hooks and the attempt count are the
        # same as if tenacity had run from the start.
        retrying = AsyncRetrying(
            retry=retry_if_exception(_transient),
            stop=stop_after_attempt(self.retries),
            wait=_Wait(self.backoff, 30.0),
            reraise=True,
            before_sleep=self._before_sleep,
        )
        async for attempt in retrying:
            with attempt:
                if first is not None:
                    replay, first = first, None
                    raise replay
                return await self._send(body, usage, est_tokens)

    async def _call(self, paper: Paper, last_reply, last_error, usage: Usage, est_tokens: int):
        """One logical request: transport retries, mode fallback, fatal errors."""
        while True:
            mode = self.mode
            body = self.request_body(self.messages(paper, mode, last_reply, last_error), mode)
            try:
                resp = await self._send_with_retries(body, usage, est_tokens)
                self._reachable = True
                self.limiter.on_success()
                return resp, mode
            except openai.APIStatusError as e:
                self._reachable = True
                if _mode_rejected(e) and not self._fixed_mode:
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
                if not self._reachable and _connect_failure(e):
                    # nothing has ever answered: stop the run instead of failing every paper
                    raise FatalEngineError(f"cannot reach {self.base_url or 'api.openai.com'}: {_describe(e)}") from None
                raise EngineFailure(f"request failed after {self.retries} attempts: {_describe(e)}", usage) from None

    def _before_sleep(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, openai.RateLimitError):
            self.limiter.on_rate_limited()  # fewer requests in flight until the storm passes

    async def aextract(self, paper: Paper, est_tokens: int = 0) -> EngineResult:
        usage = Usage()
        last_reply: Optional[str] = None
        last_error: Optional[str] = None
        for attempt in range(self.max_reasks + 1):
            resp, mode = await self._call(paper, last_reply, last_error, usage, est_tokens)
            add_usage(usage, resp)
            reply = interpret_reply(resp, mode, paper.abstract)
            if reply.refusal:
                raise EngineFailure(f"the model refused: {_short(reply.refusal)}", usage, attempt)
            if reply.extraction is not None and (not reply.missing or attempt >= self.max_reasks):
                return to_result(reply.extraction, usage, attempt, mode)
            last_reply, last_error = reply.raw, reply.error
        raise EngineFailure(f"no valid reply after {self.max_reasks} re-asks: {last_error}", usage, self.max_reasks)

    def extract(self, paper: Paper) -> EngineResult:
        """Synchronous convenience for one paper (the batch pipeline uses aextract)."""

        async def run():
            try:
                return await self.aextract(paper)
            finally:
                await self.aclose()

        return asyncio.run(run())
