"""Past one machine, the engines' side: Batch API request files for any OpenAI-compatible batch
runner (OpenAI's Batch API, `vllm run-batch`, a Ray Data pipeline), the OpenAI Batch API driven
through the SDK, and results read back as an engine's answers (`BatchResults`), which the one run
driver (`extractor.pipeline`) turns into records like any run's.

This is the engines' public surface for it: the run layers and the CLI import this module, never
the LLM engine's own modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

from ..fields import FieldSpec
from ..schema import Paper
from .llm.batch import BatchResults, Prepared, download, sidecar_path, status, submit
from .llm.batch import prepare as _prepare
from .llm.prompting import load_prompts
from .llm.protocol import MODES, Protocol
from .llm.rowwise import RowSteps

__all__ = [
    "BatchResults",
    "MODES",
    "Prepared",
    "RowSteps",
    "download",
    "prepare",
    "row_steps",
    "sidecar_path",
    "status",
    "submit",
]


def prepare(
    papers: Iterator[Paper],
    out: str,
    model: str,
    *,
    prompts: Optional[str] = None,
    mode: str = "json_schema",
    max_tokens: int = 2048,
    fields: Optional[list[FieldSpec]] = None,
    max_requests: int = 50_000,
    max_bytes: int = 200 * 1024 * 1024,
) -> Prepared:
    """Write the chat-completions requests for `papers` (custom_id = paper id) to `out` (split into
    `-0002` ... parts past `max_requests` or `max_bytes`), and the papers sidecar ingest reads."""
    protocol = Protocol(load_prompts(prompts), model, max_tokens, list(fields or []))
    return _prepare(papers, protocol, out, mode, max_requests, max_bytes)


def row_steps(
    model: str,
    *,
    prompts: Optional[str] = None,
    max_tokens: int = 2048,
    fields: Optional[list[FieldSpec]] = None,
    max_reasks: int = 2,
    structured_key: str = "guided_decoding",
) -> RowSteps:
    """The LLM engine as a `preprocess` (paper row -> request) and a `postprocess` (reply -> record
    or re-ask) for pipelines that send requests themselves (ray.data.llm's vLLM processor)."""
    return RowSteps(model, prompts, max_tokens, list(fields or []), max_reasks, structured_key)
