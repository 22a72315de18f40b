"""One deadline policy for every path that waits on a server (arXiv, the LLM endpoint, the Batch
API): a server's Retry-After is honoured, but never past MAX_RETRY_AFTER, and an answer that is not a
finite number of seconds (or an HTTP date) is no answer. A run that obeyed `Retry-After: 999999`
would sleep eleven days."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Optional

from .limits import MAX_RETRY_AFTER


def retry_after(headers: Optional[Mapping[str, str]], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from `Retry-After` (seconds or an HTTP date) or `retry-after-ms`, capped at
    MAX_RETRY_AFTER; None when the server sent none that reads as a time."""
    if not headers:
        return None
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = headers.get(name)
        if not raw:
            continue
        raw = str(raw).strip()
        seconds: Optional[float]
        try:
            seconds = float(raw) / scale
        except ValueError:
            seconds = _http_date(raw, now)
        if seconds is None or math.isnan(seconds):
            continue
        return min(max(0.0, seconds), float(MAX_RETRY_AFTER))  # inf is the cap too
    return None


def _http_date(raw: str, now: Optional[float]) -> Optional[float]:
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    try:
        return when.timestamp() - (time.time() if now is None else now)
    except (OverflowError, OSError, ValueError):
        return None


class Deadline:
    """A point in time a piece of work must finish by (monotonic clock), counted from `start()`
    (the first call; before it, the whole time is left)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at: Optional[float] = None

    def start(self) -> None:
        if self.at is None:
            self.at = time.monotonic() + self.seconds

    def left(self) -> float:
        return self.seconds if self.at is None else self.at - time.monotonic()

    def passed(self) -> bool:
        return self.left() <= 0
