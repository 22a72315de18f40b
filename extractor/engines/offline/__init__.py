"""The offline engine: the text analysis's reading of an abstract (`extractor.analysis.reading`),
with the problem and technique sentences, as an engine's answer."""

from .engine import RULES_VERSION, OfflineEngine, extract_offline

__all__ = ["OfflineEngine", "RULES_VERSION", "extract_offline"]
