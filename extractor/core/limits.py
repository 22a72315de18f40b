"""Every bound on what extractor reads, in one place (docs/limits.md's "Limits" table is this file).

A limit is where a value stops being plausible for its field: an arXiv abstract has at most 1,920
characters, an id a few dozen. Past a limit the record is skipped with a message naming the file,
the line and the limit, or the input stops with one clear error; nothing past it is held in memory.
Each limit can be changed with an environment variable of its name (`EXTRACTOR_MAX_DOWNLOAD=...`).
"""

import os


def _limit(name: str, default: int) -> int:
    raw = os.environ.get(f"EXTRACTOR_{name}")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        return default
    return value if value > 0 else default


def size(n: int) -> str:
    """A byte count for a message: "4 MB", "512 KB", "1,000,000 bytes"."""
    if n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MB"
    if n % 1024 == 0:
        return f"{n // 1024} KB"
    return f"{n:,} bytes"


MAX_ID = _limit("MAX_ID", 256)  # characters of a paper id
MAX_TITLE = _limit("MAX_TITLE", 2_000)  # characters of a title
MAX_ABSTRACT = _limit("MAX_ABSTRACT", 20_000)  # characters of an abstract (arXiv allows 1,920)
MAX_AUTHORS = _limit("MAX_AUTHORS", 5_000)  # authors of one paper (large collaborations have ~3,000)
MAX_FIELD = _limit("MAX_FIELD", 20_000)  # characters of any other text field (comment, doi, url ...)
MAX_INPUT_LINE = _limit("MAX_INPUT_LINE", 1024 * 1024)  # bytes of one JSONL line or CSV row
MAX_FEED_ENTRY = _limit("MAX_FEED_ENTRY", 4 * 1024 * 1024)  # bytes of one Atom/RSS entry
MAX_DOWNLOAD = _limit("MAX_DOWNLOAD", 512 * 1024 * 1024)  # bytes of one URL input (spooled to disk)
DOWNLOAD_SECONDS = _limit("DOWNLOAD_SECONDS", 600)  # seconds one URL input may take, however it is sent
MAX_API_PAGE = _limit("MAX_API_PAGE", 64 * 1024 * 1024)  # bytes of one arXiv API page (2,000 entries: ~10 MB)
MAX_SENTENCE = _limit("MAX_SENTENCE", 600)  # characters of a claim's sentence (or problem/technique) kept
MAX_CLAIMS = _limit("MAX_CLAIMS", 500)  # claims of one paper taken from an engine
PATTERN_SECONDS = _limit("PATTERN_SECONDS", 1)  # seconds a user field's pattern may take on one abstract
MAX_REPLY = _limit("MAX_REPLY", 4 * 1024 * 1024)  # bytes of one LLM reply
MAX_MEND = _limit("MAX_MEND", 64 * 1024)  # characters of almost-JSON a reply's answer is mended from
MAX_SHEET_BYTES = _limit("MAX_SHEET_BYTES", 256 * 1024 * 1024)  # unpacked bytes of a reviewed .xlsx
MAX_SHEET_ROWS = _limit("MAX_SHEET_ROWS", 2_000_000)  # rows of a reviewed sheet
MAX_RETRY_AFTER = _limit("MAX_RETRY_AFTER", 120)  # seconds of a server's Retry-After that are honoured
MAX_STORED_TEXT = _limit("MAX_STORED_TEXT", 2_000)  # characters of a model's text kept in a record (name, metric ...)
MAX_NOTE = _limit("MAX_NOTE", 10_000)  # characters of a reviewer's note or correction kept in a record
IDS_IN_MEMORY = _limit("IDS_IN_MEMORY", 200_000)  # paper ids kept in memory before a temporary SQLite file


def capped(text: str, limit: int) -> str:
    """`text`, cut at `limit` characters with a visible marker of how much was left out: what a
    model or a reviewer supplies is stored, but never so much that a table line grows past what its
    readers take."""
    if len(text) <= limit:
        return text
    return text[:limit] + f" [... {len(text) - limit:,} more characters not stored]"
