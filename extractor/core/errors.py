"""Errors a user can act on, and the redaction every message passes through before anyone sees it.

The CLI prints an ExtractorError as one line, never as a traceback."""

from __future__ import annotations

import re


class ExtractorError(Exception):
    """Base for every error whose message is meant for the user."""


class InputError(ExtractorError):
    """An input cannot be read at all (missing, malformed, empty, wrong encoding, unreachable)."""


class ConfigError(ExtractorError):
    """Bad options or configuration."""


class FatalEngineError(ExtractorError):
    """The engine cannot work at all (bad key, unknown model): stop the run now."""


# --- secrets never leave the process --------------------------------------------------------------
# A server may echo the request's Authorization header in an error body; that text reaches the
# screen, an error record, the cache. Every message is passed through redact() on its way out.
_SECRETS: set[str] = set()
_TOKEN_SHAPES = re.compile(
    r"(?i)(?:\bbearer\s+|\bapi[-_ ]?key[\"']?\s*[:=]\s*[\"']?|\bauthorization[\"']?\s*[:=]\s*[\"']?(?:bearer\s+)?)"
    r"[A-Za-z0-9._~+/=\-]{6,}"
    r"|\bsk-[A-Za-z0-9_\-]{8,}"
)


def register_secret(secret: str | None) -> None:
    """Remember a key so that redact() removes it wherever it appears."""
    if secret and len(secret) >= 6:
        _SECRETS.add(secret)


def has_secrets() -> bool:
    return bool(_SECRETS)


def redact_bytes(data: bytes) -> bytes:
    """`data` (a stored line) with every registered key replaced. Only the registered keys: a
    stored abstract may well hold a word shaped like a token, and offsets point into it."""
    for s in _SECRETS:
        b = s.encode()
        if b in data:
            data = data.replace(b, b"[redacted]")
    return data


def redact_obj(obj):
    """A JSON-like object with every registered key replaced in its texts (keys included)."""
    if not _SECRETS:
        return obj
    if isinstance(obj, str):
        for s in _SECRETS:
            if s in obj:
                obj = obj.replace(s, "[redacted]")
        return obj
    if isinstance(obj, dict):
        return {redact_obj(k): redact_obj(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [redact_obj(v) for v in obj]
    return obj


def redact(text: str) -> str:
    """`text` with every registered key and anything shaped like a key or bearer token replaced."""
    if not text:
        return text
    for s in _SECRETS:
        if s in text:
            text = text.replace(s, "[redacted]")
    return _TOKEN_SHAPES.sub(lambda m: _keep_label(m.group(0)), text)


_LABEL = re.compile(
    r"(?i)bearer\s+|api[-_ ]?key[\"']?\s*[:=]\s*[\"']?|authorization[\"']?\s*[:=]\s*[\"']?(?:bearer\s+)?"
)


def _keep_label(token: str) -> str:
    """ "Bearer sk-abc" -> "Bearer [redacted]"; "sk-abc" -> "[redacted]"."""
    m = _LABEL.match(token)
    return (m.group(0) if m else "") + "[redacted]"
