"""The offline engine: rules as data (lexicon), names, problem and technique sentences, claims."""

from .engine import RULES_VERSION, OfflineEngine, extract_offline, read_numbers

__all__ = ["OfflineEngine", "RULES_VERSION", "extract_offline", "read_numbers"]
