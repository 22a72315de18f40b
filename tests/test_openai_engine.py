"""The LLM engine through the real openai client against a real local OpenAI-compatible server."""

import json
import time

import pytest
from conftest import read_jsonl, run_cli
from openai_fake import PAPERS, Script, answer, bodies, completion, error, num, ok

FAST = {"EXTRACTOR_BACKOFF": "0.05"}


@pytest.fixture
def papers(tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_text("".join(json.dumps(x) + "\n" for x in PAPERS))
    return p


@pytest.fixture
def one_paper(tmp_path):
    p = tmp_path / "one.jsonl"
    p.write_text(json.dumps(PAPERS[0]) + "\n")
    return p


def extract(s, inp, out, *extra, env=None):
    return run_cli(
        "extract",
        inp,
        "-o",
        out,
        "--model",
        "test-model",
        "--base-url",
        f"{s.url}/v1",
        "--timeout",
        "1",
        "--retries",
        "3",
        "--concurrency",
        "1",
        *extra,
        env={**FAST, **(env or {})},
    )


def test_happy_path_structured_output(tmp_path, server, one_paper):
    s = server(Script())
    out = tmp_path / "t.jsonl"
    r = extract(s, one_paper, out, env={"OPENAI_API_KEY": "sk-secret-test-key"})
    assert r.returncode == 0, r.stderr
    assert len(s.requests) == 1
    [body] = bodies(s)
    assert body["model"] == "test-model" and body["temperature"] == 0
    rf = body["response_format"]
    assert rf["type"] == "json_schema" and rf["json_schema"]["strict"] is True
    sch = rf["json_schema"]["schema"]
    assert set(sch["required"]) == {"system_name", "problem", "technique", "headline_numbers"}
    assert sch["additionalProperties"] is False
    assert "Nexus reduces CPU consumption" in body["messages"][-1]["content"]
    assert s.requests[0]["headers"]["authorization"] == "Bearer sk-secret-test-key"
    [rec] = read_jsonl(out)
    assert rec["status"] == "ok" and rec["system_name"] == "Nexus" and rec["system_name_verified"]
    a, b = rec["headline_numbers"]
    assert a["verified"] and rec["abstract"][a["start"] : a["end"]] == "up to 44%"
    assert b["verified"] and b["direction"] == "increase"
    prov = rec["provenance"]
    assert prov["engine"] == "openai" and prov["model"] == "test-model" and prov["mode"] == "json_schema"
    assert prov["prompt_hash"].startswith("sha256:") and prov["reasks"] == 0
    assert rec["usage"] == {"prompt_tokens": 300, "completion_tokens": 80, "cached_tokens": 100, "requests": 1}
    assert "sk-secret-test-key" not in out.read_text() and "sk-secret-test-key" not in r.stderr


def test_429_with_retry_after_then_success(tmp_path, server, one_paper):
    stamps = []

    def limited(req):
        stamps.append(time.monotonic())
        return error(429, "Rate limit reached", {"Retry-After": "1"}, "rate_limit_error")

    def fine(req):
        stamps.append(time.monotonic())
        return ok()

    s = server(Script(limited, fine))
    out = tmp_path / "t.jsonl"
    r = extract(s, one_paper, out)
    assert r.returncode == 0, r.stderr
    assert len(s.requests) == 2 and stamps[1] - stamps[0] >= 0.9
    [rec] = read_jsonl(out)
    assert rec["status"] == "ok" and rec["usage"]["requests"] == 2 and rec["provenance"]["reasks"] == 0


def test_500_twice_then_success(tmp_path, server, one_paper):
    s = server(Script(error(500, "boom", type_="server_error"), error(502, "bad gateway", type_="server_error")))
    out = tmp_path / "t.jsonl"
    r = extract(s, one_paper, out)
    assert r.returncode == 0, r.stderr
    assert len(s.requests) == 3
    assert read_jsonl(out)[0]["status"] == "ok"


def test_timeout_then_success(tmp_path, server, one_paper):
    def slow(req):
        time.sleep(2.5)
        return ok()

    s = server(Script(slow))
    out = tmp_path / "t.jsonl"
    r = extract(s, one_paper, out)
    assert r.returncode == 0, r.stderr
    assert len(s.requests) == 2
    assert read_jsonl(out)[0]["status"] == "ok"


def test_transport_failures_exhausted_become_error_record_and_batch_goes_on(tmp_path, server, papers):
    e = error(503, "overloaded", type_="server_error")
    s = server(Script(e, e, e))
    out = tmp_path / "t.jsonl"
    r = extract(s, papers, out)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert len(s.requests) == 4
    recs = {x["id"]: x for x in read_jsonl(out)}
    assert recs["2604.06682"]["status"] == "error" and "HTTP 503" in recs["2604.06682"]["error"]
    assert recs["2604.00002"]["status"] == "ok"
    # --retry-errors redoes only the error record
    r = extract(s, papers, out, "--retry-errors")
    assert r.returncode == 0, r.stderr
    assert len(s.requests) == 5
    recs = read_jsonl(out)
    assert len(recs) == 2 and all(x["status"] == "ok" for x in recs)


def test_truncated_then_invalid_then_valid_reasks_with_last_error_only(tmp_path, server, one_paper):
    good = json.dumps(answer())
    s = server(
        Script(
            completion(good[:60], finish="length"),
            completion(json.dumps({"system_name": "Nexus", "problem": None})),
            completion(good),
        )
    )
    out = tmp_path / "t.jsonl"
    r = extract(s, one_paper, out)
    assert r.returncode == 0, r.stderr
    assert len(s.requests) == 3
    b = bodies(s)
    base = len(b[0]["messages"])  # system, the few-shot examples, the paper
    assert b[0]["messages"][-1]["role"] == "user" and "Title: Nexus" in b[0]["messages"][-1]["content"]
    assert len(b[1]["messages"]) == base + 2 and "finish_reason=length" in b[1]["messages"][-1]["content"]
    assert b[1]["messages"][-2] == {"role": "assistant", "content": good[:60]}
    assert len(b[2]["messages"]) == base + 2  # the context does not grow with re-asks
    assert "does not match the schema" in b[2]["messages"][-1]["content"]
    assert "headline_numbers" in b[2]["messages"][-1]["content"]
    [rec] = read_jsonl(out)
    assert rec["status"] == "ok" and rec["provenance"]["reasks"] == 2 and rec["usage"]["requests"] == 3


def test_not_json_then_valid(tmp_path, server, one_paper):
    s = server(Script(completion("Sure! Here is the JSON: {oops")))
    out = tmp_path / "t.jsonl"
    assert extract(s, one_paper, out).returncode == 0
    assert len(s.requests) == 2 and "not valid JSON" in bodies(s)[1]["messages"][-1]["content"]


@pytest.mark.parametrize(
    "content, env",
    [
        pytest.param("[" * 100_000, {}, id="nested_past_the_recursion_limit"),
        pytest.param("Here: {" + '{"a": [' * 9_000, {}, id="nested_past_json_repairs_own_limit"),
        pytest.param(json.dumps(answer())[:-1] + ",}", {"EXTRACTOR_MAX_MEND": "100"}, id="almost_json_past_MAX_MEND"),
    ],
)
def test_a_reply_that_cannot_be_read_is_reasked_not_an_internal_error(tmp_path, server, one_paper, content, env):
    """Nesting deeper than the parsers go, or almost-JSON longer than MAX_MEND (json_repair spends
    seconds on a megabyte of stray quotes, in the event loop every request shares), is invalid JSON:
    the model is asked again and the paper is not lost."""
    s = server(Script(completion(content)))
    out = tmp_path / "t.jsonl"
    assert extract(s, one_paper, out, env=env).returncode == 0
    [rec] = read_jsonl(out)
    assert len(s.requests) == 2 and "not valid JSON" in bodies(s)[1]["messages"][-1]["content"]
    assert rec["status"] == "ok" and rec["provenance"]["reasks"] == 1


def test_invented_number_ends_unverified(tmp_path, server, one_paper):
    invented = answer(numbers=[num("up to 44%", 44, "%"), num("57%", 57, "%", "decrease", "latency")])
    s = server(Script(ok(invented), ok(invented), ok(invented)))
    out = tmp_path / "t.jsonl"
    r = extract(s, one_paper, out)
    assert r.returncode == 0, r.stderr
    assert len(s.requests) == 2  # a re-ask naming the number; the same claim again ends the re-asks, flagged
    assert '"57%"' in bodies(s)[1]["messages"][-1]["content"]
    [rec] = read_jsonl(out)
    good, bad = rec["headline_numbers"]
    assert good["verified"] is True
    assert bad["verified"] is False and bad["why"] == "text not found in abstract" and bad["start"] is None


def test_wrong_value_is_reasked_naming_the_span_then_flagged(tmp_path, server, one_paper):
    wrong = ok(answer(numbers=[num("up to 44%", 45, "%")]))
    s = server(Script(wrong, wrong, wrong))
    out = tmp_path / "t.jsonl"
    assert extract(s, one_paper, out).returncode == 0
    assert len(s.requests) == 2  # a value mismatch is re-asked too; the same answer again is kept, flagged
    assert "the span 'up to 44%' says 44%" in bodies(s)[1]["messages"][-1]["content"]
    [n] = read_jsonl(out)[0]["headline_numbers"]
    assert n["verified"] is False and "value 45% but the span 'up to 44%' says 44%" in n["why"]
    assert n["model_answer"]["value"] == 45 and n["value"] == 44  # the span's reading, and the model's kept


def test_refusal_is_an_error_record(tmp_path, server, papers):
    s = server(Script(completion(None, refusal="I can't help with that.")))
    out = tmp_path / "t.jsonl"
    r = extract(s, papers, out)
    assert r.returncode == 1
    assert len(s.requests) == 2
    recs = {x["id"]: x for x in read_jsonl(out)}
    assert recs["2604.06682"]["status"] == "error"
    assert recs["2604.06682"]["error"] == "the model refused: I can't help with that."
    assert recs["2604.00002"]["status"] == "ok"


def test_401_stops_the_run(tmp_path, server, papers):
    s = server(lambda req: error(401, "Incorrect API key provided", type_="invalid_request_error"))
    out = tmp_path / "t.jsonl"
    r = extract(s, papers, out)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(s.requests) == 1
    assert "authentication failed" in r.stderr
    assert not out.exists()


def test_404_model_stops_the_run(tmp_path, server, papers):
    s = server(lambda req: error(404, "The model `test-model` does not exist"))
    r = extract(s, papers, tmp_path / "t.jsonl")
    assert r.returncode == 2 and "not found" in r.stderr and len(s.requests) == 1


def test_unreachable_endpoint_is_one_line(tmp_path, one_paper):
    r = run_cli(
        "extract",
        one_paper,
        "-o",
        tmp_path / "t.jsonl",
        "--model",
        "m",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--retries",
        "2",
        env=FAST,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "cannot reach http://127.0.0.1:9/v1" in r.stderr


def test_auto_mode_falls_back_once_and_remembers(tmp_path, server, papers):
    def h(req):
        body = json.loads(req["body"])
        if body.get("response_format", {}).get("type") == "json_schema":
            return error(400, "response_format json_schema is not supported by this model")
        from openai_fake import for_paper

        return for_paper(req)

    s = server(h)
    out = tmp_path / "t.jsonl"
    r = extract(s, papers, out)
    assert r.returncode == 0, r.stderr
    kinds = [b.get("response_format", {}).get("type") for b in bodies(s)]
    assert kinds == ["json_schema", "json_object", "json_object"]
    assert "JSON schema" in bodies(s)[1]["messages"][-1]["content"]  # the schema rides in the prompt too
    assert bodies(s)[1]["response_format"]["schema"]["additionalProperties"] is False
    assert {x["provenance"]["mode"] for x in read_jsonl(out)} == {"json_object"}


def test_llama_cpp_500_validation_error_falls_back(tmp_path, server, one_paper):
    # what llama-cpp-python's server answers for a response_format it cannot take
    msg = "1 validation error for CreateChatCompletionRequest\nresponse_format\n  Input should be a valid dictionary"

    def h(req):
        body = json.loads(req["body"])
        if body.get("response_format", {}).get("type") == "json_schema":
            return error(500, msg, type_="internal_server_error")
        return ok()

    s = server(h)
    r = extract(s, one_paper, tmp_path / "t.jsonl")
    assert r.returncode == 0, r.stderr
    assert len(s.requests) == 2  # no transport retries spent on a mode rejection


def test_tools_mode(tmp_path, server, one_paper):
    s = server(Script(completion(tool_args=json.dumps(answer()))))
    out = tmp_path / "t.jsonl"
    r = extract(s, one_paper, out, "--mode", "tools")
    assert r.returncode == 0, r.stderr
    [body] = bodies(s)
    assert body["tool_choice"]["function"]["name"] == "record_extraction"
    assert read_jsonl(out)[0]["system_name"] == "Nexus"


def test_engine_choice(tmp_path, server, one_paper):
    s = server(Script())
    out = tmp_path / "t.jsonl"
    r = run_cli(
        "extract", one_paper, "-o", out, "--model", "test-model", env={"OPENAI_BASE_URL": f"{s.url}/v1", **FAST}
    )
    assert r.returncode == 0, r.stderr
    assert read_jsonl(out)[0]["provenance"]["engine"] == "openai" and len(s.requests) == 1
    r = run_cli("extract", one_paper, "-o", tmp_path / "u.jsonl", env={"OPENAI_BASE_URL": f"{s.url}/v1"})
    assert r.returncode == 2 and "--model is required" in r.stderr


def test_platform_headers_are_sent(tmp_path, server, papers):
    # the engine works the SDK's platform headers out once, before the first request
    from openai._base_client import get_platform

    s = server(Script())
    r = extract(s, papers, tmp_path / "t.jsonl", "--concurrency", "4")
    assert r.returncode == 0, r.stderr
    assert s.requests and all(q["headers"].get("x-stainless-os") == str(get_platform()) for q in s.requests)
    assert all(q["headers"].get("x-stainless-arch") for q in s.requests)


def test_tls_context_by_endpoint_scheme():
    import asyncio
    import ssl

    from extractor.engines.llm.transport import http_client as _http_client

    async def ctx(url):
        c = _http_client(4, 1.0, url)
        try:
            return c._transport.ssl_context
        finally:
            await c.aclose()

    plain = asyncio.run(ctx("http://127.0.0.1:8000/v1"))
    # no CA store for a plain-http endpoint, but still a verifying context: TLS would be refused
    assert plain.verify_mode == ssl.CERT_REQUIRED and plain.check_hostname
    assert plain.cert_store_stats()["x509_ca"] == 0
    default = asyncio.run(ctx("https://api.openai.com/v1"))
    assert default.verify_mode == ssl.CERT_REQUIRED and default.check_hostname
    if ssl.create_default_context().cert_store_stats()["x509_ca"]:
        assert default.cert_store_stats()["x509_ca"] > 0  # the system's CAs, as the SDK loads them


def test_numbers_the_model_left_out_are_listed_and_can_be_asked_about(tmp_path, server, one_paper):
    partial = ok(answer(numbers=[num("up to 44%", 44, "%", "decrease", "CPU consumption", "up_to")]))
    s = server(Script(partial))
    out = tmp_path / "t.jsonl"
    assert extract(s, one_paper, out).returncode == 0
    assert len(s.requests) == 1  # by default a complete-looking answer costs no re-ask
    [rec] = read_jsonl(out)
    assert [u["text"] for u in rec["uncovered_numbers"]] == ["37%"]
    assert rec["headline_numbers"][0]["verified"]
    # with --reask-uncovered, one re-ask names them; the second answer has both claims
    s2 = server(Script(partial, partial))
    out2 = tmp_path / "u.jsonl"
    assert extract(s2, one_paper, out2, "--reask-uncovered", "--no-cache").returncode == 0
    assert len(s2.requests) == 2  # asked once, not again: the second reply still lacks 37%
    assert '"37%"' in bodies(s2)[1]["messages"][-1]["content"]
    s3 = server(Script(partial))
    out3 = tmp_path / "v.jsonl"
    assert extract(s3, one_paper, out3, "--reask-uncovered", "--no-cache").returncode == 0
    [rec3] = read_jsonl(out3)
    assert rec3["uncovered_numbers"] == [] and len(rec3["headline_numbers"]) == 2


def test_tools_mode_reasks_with_a_tool_message(tmp_path, server, one_paper):
    bad = json.dumps(answer(numbers=[num("57%", 57, "%")]))
    s = server(Script(completion(tool_args=bad), completion(tool_args=json.dumps(answer()))))
    out = tmp_path / "t.jsonl"
    r = extract(s, one_paper, out, "--mode", "tools")
    assert r.returncode == 0, r.stderr
    second = bodies(s)[1]["messages"]
    assert second[-2]["role"] == "assistant" and second[-2]["tool_calls"][0]["id"] == "call_1"
    assert second[-1]["role"] == "tool" and second[-1]["tool_call_id"] == "call_1"
    assert '"57%"' in second[-1]["content"]
    assert read_jsonl(out)[0]["provenance"]["reasks"] == 1


@pytest.mark.parametrize(
    "broken, why",
    [
        pytest.param({"value": "thirty-seven"}, "'thirty-seven' is not a number", id="a_value_in_words"),
        pytest.param({"text": None}, "no text given", id="no_text"),  # None: the key left out
    ],
)
def test_a_claim_with_a_bad_field_fails_that_claim_not_the_paper(tmp_path, server, one_paper, broken, why):
    nums = [num("up to 44%", "44%", "", "decrease", "CPU consumption"), num("37%", 37, "%")]
    for key, value in broken.items():
        if value is None:
            del nums[1][key]
        else:
            nums[1][key] = value
    s = server(Script(ok(answer(numbers=nums)), ok(answer(numbers=nums)), ok(answer(numbers=nums))))
    out = tmp_path / "t.jsonl"
    assert extract(s, one_paper, out).returncode == 0
    [rec] = read_jsonl(out)
    assert rec["status"] == "ok"
    a, b = rec["headline_numbers"]
    assert a["verified"] and a["value"] == 44 and a["unit"] == "%" and a["model_answer"]["value"] == "44%"
    assert not b["verified"] and why in b["why"]
    assert b["model_answer"] == nums[1]  # the model's answer, as given


def test_paper_fields_the_model_wraps_in_a_list_are_read_as_their_text(tmp_path, server, one_paper):
    data = answer(name=["Nexus"])
    data["problem"] = ["VMs duplicate I/O stacks.", "Each copy costs CPU."]
    data["technique"] = []
    s = server(Script(ok(data)))
    out = tmp_path / "t.jsonl"
    assert extract(s, one_paper, out).returncode == 0
    [rec] = read_jsonl(out)
    assert rec["system_name"] == "Nexus" and rec["system_name_verified"] is True
    assert rec["problem"] == "VMs duplicate I/O stacks. Each copy costs CPU."
    assert rec["technique"] is None


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("<think>The system is Nexus; 44% is CPU.</think>\n{body}", id="reasoning_block"),
        pytest.param("```json\n{body}\n```", id="fenced"),
        pytest.param(
            "Here is the extraction:\n```json\n{body}\n```\nLet me know if you need more.", id="fenced_in_prose"
        ),
        pytest.param("Sure! Here is the JSON: {body} I hope this helps.", id="object_in_prose"),
        pytest.param("{body}\nLet me know if you need anything else.", id="object_then_prose"),
        pytest.param("[{body}]", id="one_object_in_a_list"),
    ],
)
def test_json_as_models_wrap_it_is_read_without_a_reask(tmp_path, server, one_paper, content):
    s = server(Script(completion(content.replace("{body}", json.dumps(answer())))))
    out = tmp_path / "t.jsonl"
    assert extract(s, one_paper, out).returncode == 0
    [rec] = read_jsonl(out)
    assert len(s.requests) == 1 and rec["provenance"]["reasks"] == 0
    assert rec["status"] == "ok" and [n["verified"] for n in rec["headline_numbers"]] == [True, True]


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(w.title() for w in rest)


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(lambda a: json.dumps(a)[:-1] + ",}", id="trailing_comma"),
        pytest.param(lambda a: repr(a), id="python_dict_with_single_quotes_and_None"),
        pytest.param(
            lambda a: "```json\n" + json.dumps(a, indent=1).replace("\n}", ",\n}") + "\n```", id="fenced_trailing_comma"
        ),
        pytest.param(lambda a: json.dumps({"extraction": a}), id="wrapped_in_one_key"),
        pytest.param(
            lambda a: json.dumps(
                {
                    _camel(k): ([{_camel(nk): nv for nk, nv in n.items()} for n in v] if k == "headline_numbers" else v)
                    for k, v in a.items()
                }
            ),
            id="camel_case_keys",
        ),
        pytest.param(
            lambda a: json.dumps({k.replace("_", " ").title(): v for k, v in a.items()}), id="title_case_keys"
        ),
    ],
)
def test_almost_json_and_renamed_keys_are_read_without_a_reask(tmp_path, server, one_paper, reply):
    s = server(Script(completion(reply(answer()))))
    out = tmp_path / "t.jsonl"
    assert extract(s, one_paper, out).returncode == 0
    [rec] = read_jsonl(out)
    assert len(s.requests) == 1 and rec["provenance"]["reasks"] == 0
    assert rec["status"] == "ok" and rec["system_name"] == "Nexus"
    assert [n["verified"] for n in rec["headline_numbers"]] == [True, True]


def test_null_for_no_numbers_is_an_empty_list(tmp_path, server, one_paper):
    data = answer()
    data["headline_numbers"] = None
    s = server(Script(ok(data)))
    out = tmp_path / "t.jsonl"
    assert extract(s, one_paper, out).returncode == 0
    [rec] = read_jsonl(out)
    assert len(s.requests) == 1 and rec["status"] == "ok" and rec["headline_numbers"] == []
    assert rec["uncovered_numbers"]  # the abstract's numbers the model left out are still listed


def test_a_decorated_name_is_stored_as_the_paper_writes_it(tmp_path, server, one_paper):
    s = server(Script(ok(answer(name="**Nexus** (a serverless hypervisor)"))))
    out = tmp_path / "t.jsonl"
    assert extract(s, one_paper, out).returncode == 0
    [rec] = read_jsonl(out)
    assert rec["system_name"] == "Nexus" and rec["system_name_verified"] is True
    ev = rec["system_name_evidence"]
    assert rec["abstract"][ev["start"] : ev["end"]] == "Nexus"


# --- one deadline policy (issue 27) -----------------------------------------------------------------


@pytest.mark.parametrize("header", ["999999", "inf", "nan", "Wed, 21 Oct 2099 07:28:00 GMT"])
def test_a_huge_retry_after_never_holds_a_paper_past_its_deadline(tmp_path, server, one_paper, header):
    s = server(lambda req: error(429, "slow down", {"Retry-After": header}, "rate_limit_error"))
    out = tmp_path / "t.jsonl"
    t0 = time.monotonic()
    r = extract(s, one_paper, out, "--paper-timeout", "3")
    assert time.monotonic() - t0 < 30
    assert r.returncode == 1 and "internal error" not in r.stderr, r.stderr
    [rec] = read_jsonl(out)
    assert rec["status"] == "error", rec
    if header != "nan":  # no time in it: no Retry-After, the backoff's retries ran out instead
        assert "past the paper's deadline of 3 s" in rec["error"], rec["error"]


def test_a_paper_never_takes_longer_than_its_deadline_whatever_the_retries(tmp_path, server, one_paper):
    s = server(lambda req: error(503, "busy", type_="server_error"))
    out = tmp_path / "t.jsonl"
    t0 = time.monotonic()
    r = extract(s, one_paper, out, "--retries", "50", "--paper-timeout", "2", env={"EXTRACTOR_BACKOFF": "0.5"})
    took = time.monotonic() - t0
    assert r.returncode == 1 and took < 15, (took, r.stderr)
    [rec] = read_jsonl(out)
    assert rec["status"] == "error" and len(s.requests) < 50


def test_a_reask_past_the_deadline_keeps_the_answer_it_had(tmp_path, server, one_paper):
    wrong = answer("Nexus", [num("up to 44%", 45, "%", "decrease", "CPU consumption", "up_to")])

    calls = []

    def first_wrong_then_slow(req):
        calls.append(1)
        if len(calls) == 1:
            return ok(wrong)
        time.sleep(4)
        return ok()

    s = server(first_wrong_then_slow)
    out = tmp_path / "t.jsonl"
    r = extract(s, one_paper, out, "--paper-timeout", "1.5")
    assert r.returncode == 0, r.stderr
    [rec] = read_jsonl(out)
    assert rec["status"] == "ok" and rec["provenance"]["reasks"] == 0
    n = rec["headline_numbers"][0]
    assert n["value"] == 44 or n["verified"] is False  # the first answer, verified against its span


# --- a re-ask is paid for, so it must be able to help (issue 28) -------------------------------------


def test_the_summary_counts_reasks_and_the_claims_they_turned_verified(tmp_path, server, one_paper):
    wrong = ok(answer(numbers=[num("up to 44%", 45, "%"), num("37%", 37, "%", "increase", "deployment density")]))
    s = server(Script(wrong, ok()))
    out, summary = tmp_path / "t.jsonl", tmp_path / "s.json"
    r = extract(s, one_paper, out, "--summary-json", summary)
    assert r.returncode == 0, r.stderr
    assert len(s.requests) == 2
    assert "1 re-asks (1 claims turned verified)" in r.stderr
    got = json.loads(summary.read_text())
    assert got["reasks"] == 1 and got["reasks_verified"] == 1
    [rec] = read_jsonl(out)
    assert rec["provenance"]["reasks"] == 1 and rec["provenance"]["reasks_verified"] == 1


def test_a_doubt_the_model_cannot_fix_is_no_reask(tmp_path, server, one_paper):
    # the right numbers, given another number's metric: flagged as unsupported, not re-asked
    swapped = answer(
        numbers=[
            num("up to 44%", 44, "%", "decrease", "deployment density", "up_to"),
            num("37%", 37, "%", "increase", "CPU consumption"),
        ]
    )
    s = server(Script(ok(swapped)))
    out = tmp_path / "t.jsonl"
    assert extract(s, one_paper, out).returncode == 0
    assert len(s.requests) == 1
    [rec] = read_jsonl(out)
    assert all(n["verified"] for n in rec["headline_numbers"])


def test_answers_checked_in_worker_processes_make_the_same_records(tmp_path):
    """Past the first 32 papers, answers are checked (verified, built into records) in a worker
    process beside the event loop: the table is the same as when the loop checks them itself."""
    from conftest import LocalServer
    from perfect import handler, load

    papers = load("labelled")
    inp = tmp_path / "in.jsonl"
    inp.write_text(
        "".join(json.dumps({"id": p.id, "title": p.title, "abstract": p.abstract}) + "\n" for p, _ in papers.values())
    )
    server = LocalServer(handler(papers))
    tables = {}
    try:
        for workers in ("1", "2"):
            out = tmp_path / f"w{workers}.jsonl"
            r = run_cli(
                "extract",
                inp,
                "-o",
                out,
                "--model",
                "perfect",
                "--base-url",
                f"{server.url}/v1",
                "--no-cache",
                "--workers",
                workers,
                "--concurrency",
                "8",
                "-q",
            )
            assert r.returncode == 0, r.stderr
            tables[workers] = {
                x["id"]: {**x, "provenance": {k: v for k, v in x["provenance"].items() if k != "time"}}
                for x in read_jsonl(out)
            }
    finally:
        server.close()
    assert len(tables["1"]) == 60 and tables["1"] == tables["2"]
