"""Errors a user can act on. The CLI prints them as one line, never as a traceback."""


class ExtractorError(Exception):
    """Base for every error whose message is meant for the user."""


class InputError(ExtractorError):
    """An input cannot be read at all (missing, malformed, empty, wrong encoding, unreachable)."""


class ConfigError(ExtractorError):
    """Bad options or configuration."""


class FatalEngineError(ExtractorError):
    """The engine cannot work at all (bad key, unknown model): stop the run now."""
