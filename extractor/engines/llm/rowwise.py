"""The LLM engine as two row functions, for pipelines that send the requests themselves: Ray
Data's `ray.data.llm` processors (vLLM inside the actors, on GPUs) take a `preprocess` (row ->
request) and a `postprocess` (reply -> row). A processor sends one request per row and has no
re-asks, so a re-ask is a second pass: `postprocess` marks a row whose answer the model can fix
(`done: False`, with the reply and its problem), and running the processor again on those rows
sends the re-ask (the last reply and its problem only, as the online engine does). A row that is
done holds its record's table line, verified as every engine's.
"""

from __future__ import annotations

from typing import Any, Optional

from ...analysis.document import Document
from ...contract import Usage
from ...records import build_record, error_record
from ...schema import Paper
from ...store import dumps
from ..base import Engine
from .prompting import load_prompts
from .protocol import Protocol, Reask, Reply, read_reply
from .reasks import review

MODE = "json_schema"  # vLLM's structured output follows the schema


class _RowEngineInfo(Engine):
    """What provenance records for answers a pipeline's own model server gave."""

    name = "openai-rows"

    def __init__(self, model: str, prompt_hash: str, fields: list):
        self.model = model
        self.prompt_hash = prompt_hash
        self.fields = fields


def _count(v: Any) -> int:
    try:
        n = int(v)
    except (TypeError, ValueError):
        return 0
    return n if n >= 0 else 0


class RowSteps:
    """`preprocess` and `postprocess` for one model, prompt set and field declarations."""

    def __init__(
        self,
        model: str,
        prompts: Optional[str] = None,
        max_tokens: int = 2048,
        fields: Optional[list] = None,
        max_reasks: int = 2,
        structured_key: str = "guided_decoding",
    ):
        self.protocol = Protocol(load_prompts(prompts), model, max_tokens, list(fields or []))
        self.info = _RowEngineInfo(model, self.protocol.prompt_hash, self.protocol.fields)
        self.max_reasks = max_reasks
        self.structured_key = structured_key

    def preprocess(self, row: dict) -> dict:
        """A paper row (its `title` and `abstract`, or `paper` as this step wrote it) to the
        processor's request: `messages` and `sampling_params` (the schema under
        `structured_key`: vLLM's `guided_decoding`, `structured_outputs` in later releases)."""
        if row.get("paper"):
            paper = Paper.model_validate_json(row["paper"])
        else:
            from ...sources.tabular import dict_to_paper

            paper = dict_to_paper({k: v for k, v in row.items() if v is not None}, "ray")
        reask = None
        if row.get("reask_problem"):
            reask = Reask(Reply(raw=str(row.get("reask_reply") or "")), str(row["reask_problem"]))
        return {
            "paper": paper.model_dump_json(),
            "attempt": _count(row.get("attempt")),
            "usage": row.get("usage") or "",
            "messages": self.protocol.messages(paper.title, paper.abstract, MODE, reask),
            "sampling_params": {
                "temperature": 0.0,
                "max_tokens": self.protocol.max_tokens,
                self.structured_key: {"json": self.protocol.schema},
            },
        }

    def postprocess(self, row: dict) -> dict:
        """The processor's reply (`generated_text`, token counts) to either a record (`done`,
        `line`) or a re-ask for the next pass (`done: False`, `reask_reply`, `reask_problem`)."""
        paper = Paper.model_validate_json(row["paper"])
        doc = Document.of(paper)
        attempt = _count(row.get("attempt"))
        usage = Usage.model_validate_json(row["usage"]) if row.get("usage") else Usage()
        usage.add(
            Usage(
                prompt_tokens=_count(row.get("num_input_tokens")),
                completion_tokens=_count(row.get("num_generated_tokens")),
                requests=1,
            )
        )
        text = str(row.get("generated_text") or "")
        reply = read_reply({"choices": [{"message": {"content": text}, "finish_reason": "stop"}]}, MODE)
        problem = reply.error if reply.answer is None else review(doc, reply.answer, "no", self.protocol.fields).problem
        out = {"paper": row["paper"], "id": paper.id, "attempt": attempt, "usage": "", "line": ""}
        if problem and attempt < self.max_reasks and not reply.refusal:
            return {**out, "done": False, "reask_reply": text, "reask_problem": problem, "attempt": attempt + 1,
                    "usage": usage.model_dump_json(), "ok": False}  # fmt: skip
        if reply.answer is None:
            why = f"the model refused: {reply.refusal}" if reply.refusal else f"invalid reply: {reply.error}"
            rec = error_record(paper, self.info, why, usage, attempt)
        else:
            result = reply.answer.result(usage, attempt, MODE)
            rec = build_record(doc, result, self.info)
        return {**out, "done": True, "reask_reply": "", "reask_problem": "", "line": dumps(rec).decode(),
                "ok": rec.status == "ok"}  # fmt: skip
