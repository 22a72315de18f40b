"""extractor: research abstracts in, a verified comparison table out.

The Python API (`extractor.api`, documented in docs/python-api.md):

    import extractor

    for rec in extractor.extract(extractor.read_papers("feed.xml")):
        print(rec.system_name, [n.text for n in rec.headline_numbers if n.verified])

Its names are loaded on first use, so that `import extractor` (and the CLI) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .core.errors import ExtractorError
from .core.version import __version__

if TYPE_CHECKING:
    from .api import (
        Estimate,
        Paper,
        Record,
        Summary,
        aextract,
        apply_review,
        as_paper,
        declare_fields,
        engine,
        estimate,
        export,
        extract,
        ingest_batch,
        read_papers,
        read_table,
        run,
        verify,
        write_table,
    )

__all__ = [
    "Estimate",
    "ExtractorError",
    "Paper",
    "Record",
    "Summary",
    "__version__",
    "aextract",
    "apply_review",
    "as_paper",
    "engine",
    "estimate",
    "export",
    "extract",
    "declare_fields",
    "ingest_batch",
    "read_papers",
    "read_table",
    "run",
    "verify",
    "write_table",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'extractor' has no attribute {name!r}")
