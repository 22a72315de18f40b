"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions protocol, scripted per test."""

import json
import time

NEXUS = (
    "Serverless computing relies on VMs. We introduce Nexus, a serverless-native hypervisor. "
    "Compared to the production baseline, Nexus reduces CPU consumption by up to 44% and "
    "increases deployment density by 37%."
)
PAPERS = [
    {"id": "2604.06682v2", "title": "Nexus: Transparent I/O Offloading", "abstract": NEXUS},
    {
        "id": "2604.00002v1",
        "title": "Second: another paper",
        "abstract": "We present Second, a cache. It is 3x faster.",
    },
]


def answer(name="Nexus", numbers=None):
    if numbers is None:
        numbers = [
            num("up to 44%", 44, "%", "decrease", "CPU consumption", "up_to"),
            num("37%", 37, "%", "increase", "deployment density"),
        ]
    return {
        "system_name": name,
        "problem": "VMs duplicate I/O stacks.",
        "technique": "Offload I/O to the host.",
        "headline_numbers": numbers,
    }


def num(text, value, unit, direction="none", metric=None, qualifier="exact", kind="result"):
    return {
        "text": text,
        "value": value,
        "low": None,
        "high": None,
        "unit": unit,
        "qualifier": qualifier,
        "metric": metric,
        "direction": direction,
        "kind": kind,
        "baseline": None,
    }


def completion(content=None, finish="stop", refusal=None, tool_args=None, prompt_tokens=300, completion_tokens=80):
    msg = {"role": "assistant", "content": content, "refusal": refusal}
    if tool_args is not None:
        msg["content"] = None
        msg["tool_calls"] = [
            {"id": "call_1", "type": "function", "function": {"name": "record_extraction", "arguments": tool_args}}
        ]
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "test-model",
        "choices": [{"index": 0, "message": msg, "finish_reason": finish, "logprobs": None}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 100},
        },
    }
    return 200, {"content-type": "application/json"}, json.dumps(body)


def ok(data=None):
    return completion(json.dumps(data if data is not None else answer()))


def error(status, message, headers=None, type_="invalid_request_error"):
    h = {"content-type": "application/json"}
    h.update(headers or {})
    return status, h, json.dumps({"error": {"message": message, "type": type_, "param": None, "code": None}})


def for_paper(req, second=None):
    """The right answer for whichever paper the request is about."""
    user = paper_message(json.loads(req["body"]))
    if "Second" in user:
        return ok(second or answer("Second", [num("3x", 3, "x", "increase", "speed")]))
    return ok()


class Script:
    """Serve the scripted replies in order, then the right answer for each paper."""

    def __init__(self, *steps):
        self.steps = list(steps)

    def __call__(self, req):
        if self.steps:
            step = self.steps.pop(0)
            return step(req) if callable(step) else step
        return for_paper(req)


def bodies(server):
    return [json.loads(r["body"]) for r in server.requests]


def paper_message(body):
    """The request's message about the paper: the last user message with a title (few-shot
    examples come before it, a re-ask after it)."""
    return next(
        m["content"]
        for m in reversed(body["messages"])
        if m["role"] == "user" and "Title: " in (m.get("content") or "")
    )
