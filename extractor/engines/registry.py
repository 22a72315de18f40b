"""Engines by name, loaded lazily by import path (as langextract's providers/router does), so that
the offline path never imports the openai SDK. The CLI, the pipeline and batch files create
engines here and ask only their capabilities."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Optional

from ..core.errors import ConfigError
from .base import Engine

_ENGINES: dict[str, str] = {
    "offline": "extractor.engines.offline:OfflineEngine",
    "openai": "extractor.engines.llm:OpenAIEngine",
}


@dataclass
class EngineOptions:
    """Every engine knob the CLI has; each engine reads the ones it needs."""

    model: Optional[str] = None
    base_url: Optional[str] = None
    prompts: Optional[str] = None
    mode: str = "auto"
    max_reasks: int = 2
    timeout: float = 120.0
    paper_timeout: Optional[float] = (
        None  # a paper's requests, retries, waits and re-asks in all (default: timeout x (1 + max_reasks))
    )
    retries: int = 5
    max_tokens: int = 2048
    concurrency: int = 16
    rpm: Optional[float] = None
    tpm: Optional[float] = None
    reask_uncovered: bool = False
    fields: list = field(default_factory=list)  # user field declarations (extractor.fields.FieldSpec)


def register(name: str, target: str) -> None:
    """Register an engine class by import path, "package.module:ClassName"."""
    _ENGINES[name] = target


def names() -> list[str]:
    return list(_ENGINES)


def engine_class(name: str) -> Any:
    target = _ENGINES.get(name)
    if target is None:
        raise ConfigError(f"unknown engine {name!r} (choose auto, {', '.join(_ENGINES)})")
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)


def endpoint_configured(base_url: Optional[str]) -> bool:
    """An LLM endpoint is configured: --base-url, or the openai SDK's own variables."""
    return bool(base_url or os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"))


NO_ENDPOINT = (
    "no LLM endpoint for model {model!r}: set OPENAI_API_KEY (OpenAI, Azure), pass --base-url for a "
    "local server (llama.cpp, Ollama, vLLM: http://127.0.0.1:8080/v1), or use --engine offline"
)


def create(name: str, options: EngineOptions, note: Callable[[str], None] = lambda s: None) -> Engine:
    """The engine `name` ("auto": the LLM engine when an endpoint is configured, else offline; a
    model named with no endpoint to ask it is an error, not a silent offline run)."""
    if name == "auto":
        name = "openai" if endpoint_configured(options.base_url) else "offline"
        if name == "offline" and options.model:
            raise ConfigError(NO_ENDPOINT.format(model=options.model))
        if name == "offline":
            note("no OPENAI_API_KEY, OPENAI_BASE_URL or --base-url set: using the offline engine (rules, no model)")
    engine = engine_class(name).from_options(options)
    # what a worker process needs to make the same engine (pipeline: engines that run in processes)
    engine.made_from = (_ENGINES[name], options)
    return engine


def recreate(made_from: tuple[str, EngineOptions]) -> Engine:
    """The engine `create` made, made again from its import path and options (in a worker process,
    where a name registered at run time may not be known)."""
    target, options = made_from
    module, _, cls = target.partition(":")
    engine = getattr(importlib.import_module(module), cls).from_options(options)
    engine.made_from = made_from
    return engine
