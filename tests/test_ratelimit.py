"""The adaptive limiter on its own: slots, FIFO hand-over, cancellation, AIMD cuts and recovery."""

import asyncio

from extractor.engines.llm.ratelimit import AdaptiveLimiter, TokenBucket


def run(coro):
    return asyncio.run(coro)


def test_never_more_than_the_limit_in_flight_and_waiters_go_in_order():
    async def main():
        lim = AdaptiveLimiter(3)
        peak, order = 0, []

        async def job(i):
            nonlocal peak
            async with lim.slot():
                peak = max(peak, lim.inflight)
                order.append(i)
                await asyncio.sleep(0.01)

        await asyncio.gather(*(job(i) for i in range(12)))
        return peak, order, lim.inflight

    peak, order, left = run(main())
    assert peak == 3
    assert order == list(range(12))  # first come, first served
    assert left == 0


def test_a_cancelled_waiter_neither_leaks_nor_blocks_a_slot():
    async def main():
        lim = AdaptiveLimiter(1)
        await lim.acquire()
        waiter = asyncio.create_task(lim.acquire())
        await asyncio.sleep(0)
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        lim.release()
        # granted and cancelled in the same step: the slot must pass on
        await lim.acquire()
        granted = asyncio.create_task(lim.acquire())
        await asyncio.sleep(0)
        lim.release()  # hands the slot to `granted`...
        granted.cancel()  # ...which is cancelled before it runs
        await asyncio.gather(granted, return_exceptions=True)
        assert lim.inflight == 0
        await asyncio.wait_for(lim.acquire(), 1)  # free again
        return lim.inflight

    assert run(main()) == 1


def test_429_halves_the_limit_once_per_burst_and_successes_bring_it_back():
    t = [0.0]
    lim = AdaptiveLimiter(16, clock=lambda: t[0])
    lim.on_rate_limited()
    lim.on_rate_limited()  # same burst: no second cut
    assert lim.limit == 8 and lim.rate_limited == 2
    t[0] = 2.0
    lim.on_rate_limited()
    assert lim.limit == 4

    async def grow():
        for _ in range(200):
            lim.on_success()
        return lim.limit

    assert run(grow()) == 16


def test_growth_wakes_waiters():
    async def main():
        lim = AdaptiveLimiter(4)
        lim.limit = 1.0
        await lim.acquire()
        waiting = asyncio.create_task(lim.acquire())
        await asyncio.sleep(0)
        assert not waiting.done()
        lim.on_success()  # limit 1 -> 2: room for the waiter without any release
        await asyncio.wait_for(waiting, 1)
        return lim.inflight

    assert run(main()) == 2


def test_token_bucket_waits_for_refill():
    t = [0.0]
    b = TokenBucket(60, clock=lambda: t[0])  # one per second

    async def main():
        await b.take(60)
        slept = []
        real_sleep = asyncio.sleep

        async def fake_sleep(s):
            slept.append(s)
            t[0] += s
            await real_sleep(0)

        asyncio.sleep = fake_sleep
        try:
            await b.take(2)
        finally:
            asyncio.sleep = real_sleep
        return slept

    slept = run(main())
    assert abs(sum(slept) - 2.0) < 1e-6
