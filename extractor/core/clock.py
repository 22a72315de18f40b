"""The one clock: every time a record or a review round states, ISO 8601 in UTC to the second."""

from __future__ import annotations

import time
from datetime import UTC, datetime

_last_time: list = [-1, ""]  # (the second, its ISO text): records written in one second share it


def now_iso() -> str:
    t = int(time.time())
    if t != _last_time[0]:
        _last_time[:] = [t, datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")]
    return _last_time[1]
