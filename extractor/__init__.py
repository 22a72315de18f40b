"""extractor: research abstracts in, a verified comparison table out."""

__version__ = "0.1.0"
