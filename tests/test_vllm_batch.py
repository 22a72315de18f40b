"""vLLM's `run-batch` output ingests like OpenAI's. The file is built in the shape vLLM's
entrypoints/openai/run_batch.py writes (its BatchRequestOutput): one line per request, in input
order, `{"id": "vllm-<hex>", "custom_id": ..., "response": {"status_code": ..., "request_id":
"vllm-batch-<hex>", "body": <the chat completion> | null}, "error": null | <a message>}`, with a
failed request's error inline (`body: null`, `error` a string or an object) instead of OpenAI's
separate error file."""

import json
import uuid

import perfect
from conftest import EXTRA, FIXTURE, read_jsonl, run_cli


def vllm_line(custom_id, body=None, status=200, error=None):
    return {
        "id": f"vllm-{uuid.uuid4().hex}",
        "custom_id": custom_id,
        "response": {"status_code": status, "request_id": f"vllm-batch-{uuid.uuid4().hex}", "body": body},
        "error": error,
    }


def test_vllm_run_batch_output_ingests(tmp_path):
    req = tmp_path / "requests.jsonl"
    bad = run_cli("batch", "prepare", FIXTURE, "-o", req, "--model", "m", "--for", "vllm", "--mode", "json_object")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "json_object" in bad.stderr
    r = run_cli(
        "batch", "prepare", FIXTURE, EXTRA, "-o", req, "--model", "Qwen/Qwen2.5-7B-Instruct", "--for", "vllm", "-q"
    )
    assert r.returncode == 0, r.stderr
    requests = read_jsonl(req)
    assert len(requests) == 60
    for x in requests:  # what vLLM's BatchRequestInput takes: custom_id, method, url, body
        assert set(x) == {"custom_id", "method", "url", "body"} and x["url"] == "/v1/chat/completions"
        assert x["body"]["response_format"]["type"] == "json_schema"  # what vLLM's structured output follows
    answer = perfect.handler(perfect.load("labelled"))
    out = []
    for i, x in enumerate(requests):
        if i == 3:
            out.append(
                vllm_line(x["custom_id"], status=400, error="This model's maximum context length is 4096 tokens")
            )
        elif i == 7:
            out.append(vllm_line(x["custom_id"], status=500, error={"message": "CUDA out of memory", "code": 500}))
        else:
            _, _, body = answer({"body": json.dumps(x["body"]).encode()})
            out.append(vllm_line(x["custom_id"], json.loads(body)))
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps(x) + "\n" for x in out))
    table = tmp_path / "t.jsonl"
    r = run_cli("batch", "ingest", results, "--papers", tmp_path / "requests.papers.jsonl", "-o", table)
    assert r.returncode == 1, r.stderr  # two papers are error records
    assert "60 records (58 ok, 2 errors)" in r.stderr
    recs = {rec["id"]: rec for rec in read_jsonl(table)}
    errors = {pid: rec["error"] for pid, rec in recs.items() if rec["status"] == "error"}
    assert sorted(errors) == sorted([requests[3]["custom_id"], requests[7]["custom_id"]])
    assert any("maximum context length" in e for e in errors.values())
    assert any("CUDA out of memory" in e for e in errors.values())
    ok = [rec for rec in recs.values() if rec["status"] == "ok"]
    numbers = [n for rec in ok for n in rec["headline_numbers"]]
    assert numbers and all(n["verified"] for n in numbers)
    # ingesting the same file again adds nothing (resumable, idempotent)
    r = run_cli("batch", "ingest", results, "--papers", tmp_path / "requests.papers.jsonl", "-o", table, "-q")
    assert len(read_jsonl(table)) == 60
