"""The package's version (one place: `extractor.__version__` and every record's provenance read it)."""

__version__ = "0.1.0"
