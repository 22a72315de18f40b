"""Reading lines with a bound: a line longer than the limit is skipped whole, never held in memory
(a 200 MB JSON line must not become 200 MB of bytes, then a gigabyte of objects)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, Optional

CHUNK = 1 << 20


def bounded_lines(stream: BinaryIO, limit: int) -> Iterator[tuple[int, Optional[bytes], int]]:
    """Yield (line number, the line's bytes, its length) for each line; the bytes are None for a
    line longer than `limit`, whose rest is read past in chunks. A UTF-8 byte-order mark at the
    start of the first line is dropped."""
    lineno = 0
    while True:
        raw = stream.readline(limit + 1)
        if not raw:
            return
        lineno += 1
        if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if raw.endswith(b"\n") or len(raw) <= limit:
            yield lineno, raw, len(raw)
            continue
        size = len(raw)
        while not raw.endswith(b"\n"):
            raw = stream.readline(CHUNK)
            if not raw:
                break
            size += len(raw)
        yield lineno, None, size
