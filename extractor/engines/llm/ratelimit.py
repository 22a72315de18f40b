"""Client-side flow control for LLM requests: a concurrency limit that adapts to 429s (AIMD)
and token buckets for requests and tokens per minute.

Written by hand: the libraries that exist (aiolimiter, limits) are fixed-rate buckets; none
adapts concurrency to a server's 429 answers, which is what lets a run ride out a 429 storm
without failing papers.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from contextlib import asynccontextmanager
from typing import Optional


class TokenBucket:
    def __init__(self, per_minute: float, clock=time.monotonic):
        self.rate = per_minute / 60.0
        self.capacity = per_minute
        self.tokens = per_minute
        self.clock = clock
        self.t = clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.t) * self.rate)
        self.t = now

    async def take(self, n: float) -> None:
        n = min(n, self.capacity)  # one request larger than the bucket still goes, alone
        while True:
            self._refill()
            if self.tokens >= n:
                self.tokens -= n
                return
            await asyncio.sleep((n - self.tokens) / self.rate)


class AdaptiveLimiter:
    """At most `limit` requests in flight; `limit` halves on a 429 (once per second at most) and
    grows back by one request per `limit` successes, up to the configured maximum.

    A slot is taken without a lock or a wake-up when one is free (the common case: one call per
    request, on the hot path); waiters queue first-come first-served and a released slot is handed
    straight to the next of them."""

    def __init__(
        self, max_concurrency: int, rpm: Optional[float] = None, tpm: Optional[float] = None, clock=time.monotonic
    ):
        self.max = max(1, max_concurrency)
        self.limit = float(self.max)
        self.inflight = 0
        self.clock = clock
        self._waiters: deque[asyncio.Future] = deque()
        self._last_cut = -1e9
        self.requests = TokenBucket(rpm, clock) if rpm else None
        self.tokens = TokenBucket(tpm, clock) if tpm else None
        self.rate_limited = 0  # 429s seen
        self.min_limit_seen = self.limit

    def _room(self) -> bool:
        return self.inflight < max(1, int(self.limit))

    async def acquire(self) -> None:
        if not self._waiters and self._room():
            self.inflight += 1
            return
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await fut  # whoever resolves it has counted this request in
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # granted and cancelled at once: give the slot on
            else:
                try:
                    self._waiters.remove(fut)
                except ValueError:
                    pass
            raise

    def release(self) -> None:
        self.inflight -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self._room():
            fut = self._waiters.popleft()
            if not fut.done():
                self.inflight += 1
                fut.set_result(None)

    @asynccontextmanager
    async def slot(self, est_tokens: int = 0):
        await self.acquire()
        try:
            if self.requests:
                await self.requests.take(1)
            if self.tokens and est_tokens:
                await self.tokens.take(est_tokens)
            yield
        finally:
            self.release()

    def on_rate_limited(self) -> None:
        self.rate_limited += 1
        now = self.clock()
        if now - self._last_cut >= 1.0:  # one cut per burst, not one per failed request
            self.limit = max(1.0, self.limit / 2)
            self._last_cut = now
            self.min_limit_seen = min(self.min_limit_seen, self.limit)

    def on_success(self) -> None:
        if self.limit < self.max:
            self.limit = min(float(self.max), self.limit + 1.0 / self.limit)
            self._wake()  # more room: let waiters in
