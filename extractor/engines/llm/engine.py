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
from dataclasses import dataclass
from functools import partial
from typing import Optional

from ...deadlines import Deadline
from ...document import Document
from ...errors import ConfigError, redact
from ...prompting import load_prompts
from ...ratelimit import AdaptiveLimiter
from ...schema import Usage
from ...verify import generic_name, reask_problems, uncovered_numbers, verify_claims
from ..base import Capabilities, Engine, EngineFailure, EngineResult
from .checking import Checker, Meta
from .protocol import MODES, Answer, Protocol, Reask, read_reply, usage_of
from .transport import Transport, _short, describe

__all__ = ["OpenAIEngine", "MODES", "describe"]


def problems_with(doc: Document, answer: Answer, uncovered: str = "no", fields: Optional[list] = None) -> Optional[str]:
    """What to tell the model about an answer that reads but does not hold up, or None."""
    return review(doc, answer, uncovered, fields).problem


@dataclass
class Review:
    """An answer checked as its record will be: what a re-ask would tell the model (None: nothing the
    model can fix), how many claims verify, the failing claims (to tell a repeat), and the claims
    as verified (the record takes them rather than verify again)."""

    problem: Optional[str]
    verified: int
    failing: frozenset
    numbers: list


def review(doc: Document, answer: Answer, uncovered: str = "no", fields: Optional[list] = None) -> Review:
    """Check an answer. A re-ask is paid for, so only what the model can fix counts: a claim whose
    text is not in the abstract, whose value (or unit, when its text does not quote the span's)
    the span contradicts, that states no quantity or takes another claim's span; a field that does
    not hold up; a common word for a name. `uncovered`: whether to name the abstract's numbers that
    no claim covers: "no", "with" (only beside another problem) or "alone" (a reason by itself)."""
    numbers = verify_claims(doc, answer.numbers)
    parts = []
    bad = reask_problems(numbers)
    if bad:
        parts.append(
            "these headline_numbers do not match the abstract: "
            + "; ".join(bad[:10])
            + ". Copy each claim's text exactly from the abstract (one number per text), with the "
            "value and unit the text states, or drop the claim."
        )
    if fields:
        from ...fields import verify_fields

        checked = verify_fields(doc.title, doc.text, fields, answer.fields)
        wrong = [f"{name}: {fv.why}" for name, fv in checked.items() if fv.verified is False]
        if wrong:
            parts.append(
                "these fields do not hold up: "
                + "; ".join(wrong[:10])
                + ". Quote the abstract's own words as evidence, use one of the listed choices, or give null."
            )
    name = answer.system_name
    if isinstance(name, str) and name.strip() and generic_name(name):
        parts.append(
            f"system_name {name!r} is a common word, not a name: give the name of the system the paper "
            "proposes as written, or null"
        )
    if uncovered == "alone" or (uncovered == "with" and parts):
        missed = uncovered_numbers(doc, numbers)
        if missed:
            parts.append(
                "these numbers in the abstract are in no claim: "
                + ", ".join(json.dumps(m.text) for m in missed[:10])
                + ". Add each that is a quantity claim; leave out the ones that are not."
            )
    failing = frozenset(
        (str((n.model_answer or {}).get("text", n.text)), n.value, n.low, n.high, n.unit)
        for n in numbers
        if not n.verified
    )
    return Review(" ".join(parts) or None, sum(1 for n in numbers if n.verified), failing, numbers)


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
                    return self._result(reask.reply.answer, usage, attempt - 1, reask_mode)
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
                    return self._result(reask.reply.answer, usage, attempt - 1, reask_mode)
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
                result = self._result(reply.answer, usage, attempt, mode, gain)
                result.checked, result.record = checked.numbers, checked.record
                return result
            failed_before = checked.failing
            asked_uncovered = asked_uncovered or "in no claim" in problem
            reask = Reask(reply, problem)
        raise EngineFailure(
            f"no valid reply after {self.max_reasks} re-asks: {reask.problem if reask else ''}", usage, self.max_reasks
        )

    @staticmethod
    def _result(a: Answer, usage: Usage, reasks: int, mode: str, gain: int = 0) -> EngineResult:
        return EngineResult(
            system_name=a.system_name,
            problem=a.problem,
            technique=a.technique,
            numbers=a.numbers,
            usage=usage,
            reasks=reasks,
            mode=mode,
            fields=a.fields,
            reasks_verified=gain,
        )

    def extract(self, doc: Document) -> EngineResult:
        """Synchronous convenience for one paper (the pipeline uses aextract)."""

        async def run():
            try:
                return await self.aextract(doc)
            finally:
                await self.aclose()

        return asyncio.run(run())
