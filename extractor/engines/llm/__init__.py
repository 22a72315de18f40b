"""The LLM engine: protocol (what is said), transport (how it is sent), engine (the re-ask loop)."""

from .engine import OpenAIEngine
from .protocol import MODES, TOOL_NAME

__all__ = ["OpenAIEngine", "MODES", "TOOL_NAME"]
