"""Prompts as files, the strict JSON schema the model fills in, and their hash for provenance."""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Optional

from ...core.errors import ConfigError
from ...schema import SCHEMA_VERSION, LLMExtraction


def strict_schema(model=LLMExtraction) -> dict:
    """JSON schema in OpenAI's strict structured-output subset.

    Every property required, `additionalProperties: false`, optional values as nullable, and no
    `title`/`default` keywords (strict mode rejects or ignores them and they cost tokens).
    """
    schema = copy.deepcopy(model.model_json_schema())

    def walk(node):
        if isinstance(node, dict):
            node.pop("title", None)
            node.pop("default", None)
            if node.get("type") == "object" and "properties" in node:
                node["required"] = list(node["properties"])
                node["additionalProperties"] = False
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(schema)
    return _compact(schema)


def _compact(node):
    """`{"anyOf": [{"type": "number"}, {"type": "null"}]}` as `{"type": ["number", "null"]}`: the
    same schema in OpenAI's strict subset, in fewer tokens (every request carries it)."""
    if isinstance(node, list):
        return [_compact(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _compact(v) for k, v in node.items()}
    alts = node.get("anyOf")
    if isinstance(alts, list) and len(node) == 1 and all(isinstance(a, dict) and set(a) == {"type"} for a in alts):
        return {"type": [a["type"] for a in alts]}
    if isinstance(alts, list) and len(alts) == 2 and {"type": "null"} in alts:
        other = next(a for a in alts if a != {"type": "null"})
        if isinstance(other, dict) and "enum" in other and other.get("type") == "string":
            rest = {k: v for k, v in node.items() if k != "anyOf"}
            return {**rest, "type": ["string", "null"], "enum": [*other["enum"], None]}
    return node


@dataclass
class Prompts:
    system: str
    user_template: str
    examples: list[dict]
    source: str

    def render_user(self, title: str, abstract: str) -> str:
        return self.user_template.replace("{title}", title).replace("{abstract}", abstract)

    @property
    def hash(self) -> str:
        h = hashlib.sha256()
        for part in (
            self.system,
            self.user_template,
            json.dumps(self.examples, sort_keys=True),
            json.dumps(strict_schema(), sort_keys=True),
            SCHEMA_VERSION,
        ):
            h.update(part.encode())
            h.update(b"\0")
        return "sha256:" + h.hexdigest()[:16]

    def messages(
        self, title: str, abstract: str, schema_in_prompt: bool = False, schema: Optional[dict] = None
    ) -> list[dict]:
        msgs = [{"role": "system", "content": self.system}]
        for ex in self.examples:
            msgs.append({"role": "user", "content": self.render_user(ex["title"], ex["abstract"])})
            msgs.append(
                {"role": "assistant", "content": json.dumps(ex["output"], ensure_ascii=False, separators=(",", ":"))}
            )
        user = self.render_user(title, abstract)
        if schema_in_prompt:
            user += "\n\nReply with one JSON object that matches this JSON schema:\n" + json.dumps(
                schema or strict_schema(), separators=(",", ":")
            )
        msgs.append({"role": "user", "content": user})
        return msgs


def load_prompts(directory: Optional[str] = None) -> Prompts:
    """Read system.md, user.md and optional examples.jsonl from `directory` or the bundled set."""
    if directory:
        base = Path(directory)
        if not base.is_dir():
            raise ConfigError(f"--prompts {directory}: not a directory")
        read = lambda name: (base / name).read_text(encoding="utf-8") if (base / name).exists() else None  # noqa: E731
        source = str(base)
    else:
        pkg = resources.files("extractor.prompts")
        read = lambda name: pkg.joinpath(name).read_text(encoding="utf-8") if pkg.joinpath(name).is_file() else None  # noqa: E731
        source = "bundled"
    system, user = read("system.md"), read("user.md")
    if system is None or user is None:
        raise ConfigError(f"prompts in {source}: need system.md and user.md")
    if "{abstract}" not in user:
        raise ConfigError(f"prompts in {source}: user.md must contain {{abstract}}")
    examples = []
    raw = read("examples.jsonl")
    if raw:
        for i, line in enumerate(raw.splitlines(), start=1):
            if line.strip():
                try:
                    ex = json.loads(line)
                    LLMExtraction.model_validate(ex["output"])
                    examples.append({"title": ex["title"], "abstract": ex["abstract"], "output": ex["output"]})
                except Exception as e:
                    raise ConfigError(f"examples.jsonl:{i}: {e.__class__.__name__}: {e}") from None
    return Prompts(system.strip() + "\n", user, examples, source)
