"""LLM extraction through the openai SDK, for any OpenAI-compatible endpoint: the re-ask loop.

A reply is read (protocol.py) and verified against the abstract with the same verifier every
record goes through; a reply that cannot be read, or whose claims do not say what their spans
say, is asked again with that one problem, at most `max_reasks` times. What the model returns
in the end is kept as it said it (each claim's own answer), verified and flagged in the record.
"""

from __future__ import annotations

import asyncio
import json
import os
from functools import partial
from typing import Optional

from ...analysis.document import Document
from ...contract import EngineFailure, EngineResult, Usage
from ...core.deadlines import Deadline
from ...core.errors import ConfigError, redact
from ..base import Capabilities, Engine
from .checking import Checker, Meta
from .prompting import load_prompts
from .protocol import MODES, Protocol, Reask, read_reply, usage_of
from .ratelimit import AdaptiveLimiter
from .transport import Transport, _short, describe

__all__ = ["OpenAIEngine", "MODES", "describe"]


class OpenAIEngine(Engine):
    """Any OpenAI-compatible chat-completions endpoint (OpenAI, Azure, vLLM, Ollama, llama.cpp)."""

    name = "openai"
    capabilities = Capabilities(networked=True, priced=True, concurrent=True)

    @classmethod
    def from_options(cls, o) -> OpenAIEngine:
        model = o.model or os.environ.get("EXTRACTOR_MODEL")
        if not model:
            raise ConfigError("--model is required with the openai engine (or set EXTRACTOR_MODEL)")
        if o.mode != "auto" and o.mode not in MODES:
            raise ConfigError(f"--mode {o.mode!r}: choose auto, {', '.join(MODES)}")
        return cls(
            model=model,
            base_url=o.base_url,
            prompts_dir=o.prompts,
            mode=o.mode,
            max_reasks=o.max_reasks,
            timeout=o.timeout,
            paper_timeout=o.paper_timeout,
            retries=o.retries,
            max_tokens=o.max_tokens,
            max_connections=o.concurrency,
            rpm=o.rpm,
            tpm=o.tpm,
            reask_uncovered=o.reask_uncovered,
            fields=o.fields,
        )

    def stats(self) -> dict:
        return {"rate_limited": self.limiter.rate_limited}

    def __init__(
        self,
        model: str,
        base_url: Optional[str] = None,
        prompts_dir: Optional[str] = None,
        mode: str = "auto",
        max_reasks: int = 2,
        timeout: float = 120.0,
        paper_timeout: Optional[float] = None,
        retries: int = 5,
        max_tokens: int = 2048,
        backoff: Optional[float] = None,
        api_key: Optional[str] = None,
        max_connections: int = 64,
        rpm: Optional[float] = None,
        tpm: Optional[float] = None,
        reask_uncovered: bool = False,
        fields: Optional[list] = None,
    ):
        if mode != "auto" and mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.model = model
        self.fields = list(fields or [])
        self.protocol = Protocol(load_prompts(prompts_dir), model, max_tokens, self.fields)
        self.prompt_hash = self.protocol.prompt_hash
        self.max_reasks = max_reasks
        if paper_timeout is not None and not paper_timeout > 0:
            raise ConfigError(f"--paper-timeout {paper_timeout:g}: a paper needs more than 0 seconds")
        # one deadline for all of a paper's requests, retries, waits and re-asks
        self.paper_timeout = paper_timeout or timeout * (1 + max_reasks)
        self.reask_uncovered = reask_uncovered
        self.limiter = AdaptiveLimiter(max_connections, rpm, tpm)
        self.checker = Checker(0)  # inline until the run gives it workers (prepare)
        self.transport = Transport(
            model, base_url, api_key, mode, timeout, retries, backoff, max_connections, self.limiter
        )

    @property
    def base_url(self) -> Optional[str]:
        return self.transport.base_url

    def prepare(self, workers: int, close_fds: tuple[int, ...] = ()) -> None:
        """Check answers in `workers` processes beside the event loop (see checking.py); called
        before the loop starts."""
        if workers > 0:
            self.checker = Checker(workers)
            self.checker.start(close_fds)

    async def aclose(self) -> None:
        await self.transport.aclose()
        self.checker.close()

    def prompt_overhead(self) -> int:
        """Prompt tokens per request besides title and abstract: the messages as sent (system
        prompt, few-shot examples, template) and the schema."""
        from ...costs import count_tokens

        msgs = self.protocol.messages("", "", self.transport.mode)
        n = sum(count_tokens(m.get("content") or "") + 4 for m in msgs)  # ~4 tokens of framing a message
        return n + count_tokens(json.dumps(self.protocol.schema, separators=(",", ":")))

    def fields_overhead(self) -> int:
        from .fields import prompt_tokens

        return prompt_tokens(self.fields) if self.fields else 0

    def _body(self, doc: Document, reask: Optional[Reask], mode: str) -> dict:
        return self.protocol.body(doc.title, doc.text, mode, reask)

    async def aextract(self, doc: Document, est_tokens: int = 0) -> EngineResult:
        """One paper: a request, and re-asks while its answer can be fixed, all within one deadline
        (--paper-timeout, counted from the first request): a retry's wait or a re-ask the deadline
        leaves no room for is not sent, and the last answer is the paper's, flagged where wrong."""
        usage = Usage()
        reask: Optional[Reask] = None
        asked_uncovered = False
        deadline = Deadline(self.paper_timeout)
        reask_mode = self.transport.mode
        first_verified: Optional[int] = None  # claims the first answer had verified
        failed_before: Optional[frozenset] = None
        for attempt in range(self.max_reasks + 1):
            if attempt and deadline.passed():
                if reask is not None and reask.reply.answer is not None:
                    return reask.reply.answer.result(usage, attempt - 1, reask_mode)
                raise EngineFailure(
                    f"no valid reply within the paper's deadline of {deadline.seconds:g} s (--paper-timeout): "
                    f"{reask.problem if reask else ''}",
                    usage,
                    attempt - 1,
                )
            build = partial(self._body, doc, reask)  # the body for whichever mode the transport uses
            try:
                completion, mode = await self.transport.send(build, usage, est_tokens, deadline)
            except EngineFailure:
                if reask is not None and reask.reply.answer is not None:
                    # a re-ask that cannot be sent (its deadline, a server gone) costs the paper
                    # nothing it had: the last answer stands, verified and flagged where wrong
                    return reask.reply.answer.result(usage, attempt - 1, reask_mode)
                raise
            reask_mode = mode
            usage.add(usage_of(completion))
            reply = read_reply(completion, mode)
            if reply.refusal:
                raise EngineFailure(f"the model refused: {_short(redact(reply.refusal))}", usage, attempt)
            if reply.answer is None:
                reask = Reask(reply, reply.error or "the reply could not be read")
                continue
            # the abstract's numbers that no claim covers are named in one re-ask at most
            uncovered = "no" if asked_uncovered else ("alone" if self.reask_uncovered else "with")
            meta = Meta(
                self.name, self.model, self.prompt_hash, self.fields, usage.model_copy(), attempt, mode, first_verified
            )
            checked = await self.checker.check(doc, reply.answer, uncovered, meta)
            if first_verified is None:
                first_verified = checked.verified
            gain = max(0, checked.verified - first_verified)
            problem = None if attempt >= self.max_reasks else checked.problem
            if problem is not None and checked.failing and checked.failing == failed_before:
                problem = None  # the same claims failed again: another re-ask would buy the same answer
            if problem is None:
                result = reply.answer.result(usage, attempt, mode, gain)
                result.checked, result.record = checked.numbers, checked.record
                return result
            failed_before = checked.failing
            asked_uncovered = asked_uncovered or "in no claim" in problem
            reask = Reask(reply, problem)
        raise EngineFailure(
            f"no valid reply after {self.max_reasks} re-asks: {reask.problem if reask else ''}", usage, self.max_reasks
        )

    def extract(self, doc: Document) -> EngineResult:
        """Synchronous convenience for one paper (the pipeline uses aextract)."""

        async def run():
            try:
                return await self.aextract(doc)
            finally:
                await self.aclose()

        return asyncio.run(run())
