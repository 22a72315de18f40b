"""Sending one request: the openai client, transport retries, Retry-After, a deadline per request,
a cap on the reply's size, the request-mode fallback and the errors that stop a run.

Transport retries (tenacity) are for 408/409/429/5xx, timeouts and dropped connections; the SDK's
own retries are off so that one policy rules. They never become re-asks: the model is asked again
only about what it said (engine.py).
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
from collections.abc import Callable
from typing import Any, Optional
from urllib.parse import urlsplit

import httpx
import openai
import orjson
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from ...contract import EngineFailure, Usage
from ...core.deadlines import Deadline
from ...core.deadlines import retry_after as retry_after_header
from ...core.errors import ConfigError, FatalEngineError, redact, register_secret
from ...core.limits import MAX_REPLY, size
from .protocol import MODES
from .ratelimit import AdaptiveLimiter

MAX_REPLY_BYTES = MAX_REPLY  # a chat completion of 2,048 tokens is ~10 KB; past the limit, no reply


class RequestTimeout(Exception):
    """The whole request (connect, send, every byte of the reply) took longer than the deadline."""


class ReplyTooLarge(Exception):
    pass


class PastDeadline(Exception):
    """The next wait or request would pass the paper's deadline (--timeout)."""


def mode_rejected(e: BaseException) -> bool:
    """OpenAI answers 400 for an unsupported mode; llama-cpp-python's server answers 500 with a
    validation message naming response_format. Recognise both."""
    if not isinstance(e, openai.APIStatusError) or e.status_code not in (400, 422, 500, 501):
        return False
    text = (str(e) + " " + (e.response.text if e.response is not None else "")).lower()
    return any(
        k in text
        for k in (
            "response_format",
            "json_schema",
            "json_object",
            "tool_choice",
            "tools",
            "structured output",
            "grammar",
        )
    )


def transient(e: BaseException) -> bool:
    if isinstance(e, (RequestTimeout, openai.APITimeoutError, openai.APIConnectionError)):
        return True
    if isinstance(e, openai.APIStatusError):
        if mode_rejected(e):
            return False
        return e.status_code in (408, 409, 429) or e.status_code >= 500
    return False


_CONNECT_ERRORS = {
    "ClientConnectorError",
    "ClientConnectorDNSError",
    "ConnectError",
    "ConnectTimeout",
    "ConnectTimeoutError",
    "ServerTimeoutError_connect",
}


def connect_failure(e: BaseException) -> bool:
    """No connection could be made at all (refused, unresolvable, connect timeout), as opposed to a
    server that answered, dropped a connection or took too long. The transports name these
    differently (aiohttp reports a refused connection as a ConnectTimeout), so look at the whole
    cause chain."""
    seen = 0
    cur: Optional[BaseException] = e
    while cur is not None and seen < 8:
        if isinstance(cur, (ConnectionRefusedError, socket.gaierror)) or type(cur).__name__ in _CONNECT_ERRORS:
            return True
        cur = cur.__cause__ or cur.__context__
        seen += 1
    return False


def retry_after(e: BaseException) -> Optional[float]:
    """The server's Retry-After, read and capped as on every path (extractor.deadlines)."""
    resp = getattr(e, "response", None)
    return None if resp is None else retry_after_header(resp.headers)


def _short(s: str, n: int = 200) -> str:
    s = " ".join(str(s).split())
    return s if len(s) <= n else s[: n - 3] + "..."


def describe(e: BaseException) -> str:
    """One line for an error, with any key or token in it redacted."""
    if isinstance(e, openai.APIStatusError):
        text = f"HTTP {e.status_code}: {_short(e.message)}"
    elif isinstance(e, RequestTimeout):
        text = str(e)
    elif isinstance(e, openai.APITimeoutError):
        text = f"connection failed ({_short(str(e.__cause__ or e))})" if connect_failure(e) else "request timed out"
    elif isinstance(e, openai.APIConnectionError):
        text = f"connection failed ({_short(str(e.__cause__ or e))})"
    else:
        text = f"{e.__class__.__name__}: {_short(str(e))}"
    return redact(text)


class _Wait:
    """Retry-After when the server sent one (capped), else exponential backoff with full jitter;
    never a wait that would pass the paper's deadline (the retries stop there instead)."""

    def __init__(self, base: float, cap: float, deadline: Optional[Deadline] = None):
        self.expo = wait_random_exponential(multiplier=base, max=cap)
        self.deadline = deadline

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        ra = retry_after(exc) if exc else None
        wait = ra if ra is not None else self.expo(state)
        if self.deadline is not None and wait >= self.deadline.left():
            why = f"the server asked to wait {wait:.0f} s" if ra is not None else f"the next retry is {wait:.0f} s away"
            raise PastDeadline(
                f"{why}, past the paper's deadline of {self.deadline.seconds:g} s (--paper-timeout)"
            ) from exc
        return wait


def endpoint(base_url: Optional[str]) -> Optional[str]:
    """The endpoint to use: --base-url, else OPENAI_BASE_URL, else None (OpenAI's own). Anything but
    an absolute http(s) URL is refused before any request, naming where it came from (it made every
    paper an error record, after every retry)."""
    url = base_url or os.environ.get("OPENAI_BASE_URL") or None
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            where = "--base-url" if base_url else "OPENAI_BASE_URL"
            raise ConfigError(f"{where} {url!r} is not an http(s) URL (like http://127.0.0.1:8080/v1)")
    return url


def http_client(max_connections: int, timeout: float, base_url: Optional[str]):
    """aiohttp under the SDK when installed (openai[aiohttp], a dependency of extractor): httpx's
    pool costs ms of CPU per request at 64 in flight. Falls back to the SDK's default client; both
    get the same connection limits."""
    limits = type(openai.DEFAULT_CONNECTION_LIMITS)(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    kw: dict = {"limits": limits, "timeout": timeout}
    if base_url and base_url.lower().startswith("http://"):
        # a local server over plain http: a TLS context that verifies like the default one but
        # loads no CA store (tens of ms) for connections that never use it; TLS would be refused
        kw["verify"] = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        return openai.DefaultAioHttpClient(**kw)
    except (ImportError, AttributeError, RuntimeError):
        return openai.DefaultAsyncHttpxClient(**kw)


class Transport:
    """One endpoint: sends request bodies and returns parsed replies, or raises EngineFailure (this
    paper failed) or FatalEngineError (nothing can work)."""

    def __init__(
        self,
        model: str,
        base_url: Optional[str] = None,
        api_key: Optional[str] = None,
        mode: str = "auto",
        timeout: float = 120.0,
        retries: int = 5,
        backoff: Optional[float] = None,
        max_connections: int = 64,
        limiter: Optional[AdaptiveLimiter] = None,
    ):
        if not timeout > 0:
            raise ConfigError(f"--timeout {timeout:g}: a request needs more than 0 seconds")
        self.model = model
        self.base_url = endpoint(base_url)
        self._key = api_key or os.environ.get("OPENAI_API_KEY") or "sk-no-key-needed"  # local servers need none
        register_secret(self._key)
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff if backoff is not None else float(os.environ.get("EXTRACTOR_BACKOFF", "1.0"))
        self.max_connections = max_connections
        self.limiter = limiter or AdaptiveLimiter(max_connections)
        self._fixed_mode = mode != "auto"
        self._modes = [mode] if mode != "auto" else list(MODES)
        self._reachable = False  # set once any HTTP answer arrives
        self._client: Optional[openai.AsyncOpenAI] = None
        self._endpoint = "/chat/completions"

    @property
    def mode(self) -> str:
        return self._modes[0]

    @property
    def where(self) -> str:
        return self.base_url or "api.openai.com"

    def _get_client(self) -> openai.AsyncOpenAI:
        # created inside the running event loop that uses it
        if self._client is None:
            self._client = openai.AsyncOpenAI(
                api_key=self._key,
                base_url=self.base_url,
                max_retries=0,
                timeout=self.timeout,
                http_client=http_client(self.max_connections, self.timeout, self.base_url),
            )
            # absolute, so the SDK does not merge it with the base URL on every request
            self._endpoint = str(self._client.base_url).rstrip("/") + "/chat/completions"
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def _post(self, body: bytes, deadline: Optional[Deadline] = None) -> Any:
        """One HTTP request with a deadline for all of it: a server that drips one byte a second
        cannot hold a run past --timeout (nor past what is left of the paper's). The reply is read
        with a size cap."""
        client = self._get_client()
        limit = self.timeout if deadline is None else min(self.timeout, deadline.left())
        if limit <= 0 and deadline is not None:
            raise PastDeadline(f"no time left of the paper's deadline of {deadline.seconds:g} s (--paper-timeout)")
        try:
            async with asyncio.timeout(limit):
                # The SDK's generic `post` (its documented way to send a request body as is) with
                # the body already serialised, streamed so its size can be capped. Errors, auth,
                # headers and transport stay the SDK's.
                resp = await client.post(self._endpoint, cast_to=httpx.Response, body=body, stream=True)
                try:
                    chunks, got = [], 0
                    async for chunk in resp.aiter_bytes():
                        got += len(chunk)
                        if got > MAX_REPLY_BYTES:
                            raise ReplyTooLarge(f"the reply is larger than {size(MAX_REPLY_BYTES)}")
                        chunks.append(chunk)
                finally:
                    await resp.aclose()
        except TimeoutError:
            raise RequestTimeout(f"request timed out (no complete reply within {limit:g} s)") from None
        try:
            return orjson.loads(b"".join(chunks))
        except orjson.JSONDecodeError:
            raise EngineFailure("the server's reply is not JSON (is the base URL an OpenAI-compatible API?)") from None

    def _retryable(self, e: BaseException) -> bool:
        # nothing has ever answered and the connection was refused: stop now, do not retry
        if not self._reachable and connect_failure(e) and not isinstance(e, RequestTimeout):
            return False
        return transient(e)

    async def _send(self, body: dict, usage: Usage, est_tokens: int, deadline: Optional[Deadline] = None) -> Any:
        payload = orjson.dumps(body)
        retrying = AsyncRetrying(
            retry=retry_if_exception(self._retryable),
            stop=stop_after_attempt(self.retries),
            wait=_Wait(self.backoff, 30.0, deadline),
            reraise=True,
            before_sleep=self._before_sleep,
        )
        async for attempt in retrying:
            with attempt:
                async with self.limiter.slot(est_tokens):
                    if deadline is not None:
                        deadline.start()  # a paper's clock starts with its first request, not in the queue
                    usage.requests += 1
                    return await self._post(payload, deadline)
        raise AssertionError("unreachable: tenacity reraises the last error")

    def _before_sleep(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, openai.RateLimitError):
            self.limiter.on_rate_limited()  # fewer requests in flight until the storm passes

    async def send(
        self, build: Callable[[str], dict], usage: Usage, est_tokens: int = 0, deadline: Optional[Deadline] = None
    ) -> tuple[Any, str]:
        """Send the body `build(mode)` for the current request mode; returns (reply, mode). With a
        deadline, no request or wait goes past it (EngineFailure says so)."""
        while True:
            mode = self.mode
            try:
                resp = await self._send(build(mode), usage, est_tokens, deadline)
                self._reachable = True
                self.limiter.on_success()
                return resp, mode
            except openai.APIStatusError as e:
                self._reachable = True
                if mode_rejected(e) and not self._fixed_mode:
                    if self.mode == mode and len(self._modes) > 1:
                        self._modes.pop(0)  # remembered for the rest of the run
                        continue
                    if self.mode != mode:
                        continue  # another request already moved on
                    raise EngineFailure(f"the server rejected every request mode ({describe(e)})", usage) from None
                if e.status_code in (401, 403):
                    raise FatalEngineError(
                        f"authentication failed at {self.where} ({describe(e)}); check OPENAI_API_KEY"
                    ) from None
                if e.status_code == 404:
                    raise FatalEngineError(f"model {self.model!r} not found at {self.where} ({describe(e)})") from None
                if transient(e):
                    raise EngineFailure(f"request failed after {self.retries} attempts: {describe(e)}", usage) from None
                raise EngineFailure(f"request rejected: {describe(e)}", usage) from None
            except (RequestTimeout, openai.APITimeoutError, openai.APIConnectionError) as e:
                if not self._reachable and connect_failure(e) and not isinstance(e, RequestTimeout):
                    # nothing has ever answered: stop the run instead of failing every paper
                    raise FatalEngineError(f"cannot reach {self.where}: {describe(e)}") from None
                raise EngineFailure(f"request failed after {self.retries} attempts: {describe(e)}", usage) from None
            except ReplyTooLarge as e:
                self._reachable = True
                raise EngineFailure(f"reply rejected: {e}", usage) from None
            except PastDeadline as e:
                cause = f" (after: {describe(e.__cause__)})" if e.__cause__ is not None else ""
                raise EngineFailure(f"gave up: {e}{cause}", usage) from None
