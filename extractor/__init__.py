"""extractor: research abstracts in, a verified comparison table out."""

__version__ = "0.1.0"

from ._native import NATIVE  # noqa: E402,F401  (before any compiled module is imported)
