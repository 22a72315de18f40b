"""Batch scale against a real local OpenAI-compatible server: resume after kill -9 and Ctrl-C,
the cache, a 429 storm, the cost budget, dry runs, and the Batch API round trip."""

import email.parser
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from conftest import read_jsonl, run_cli
from openai_fake import answer, completion, error, num, ok, paper_message

FAST = {"EXTRACTOR_BACKOFF": "0.05"}


def make_papers(path, n):
    rows = []
    for i in range(n):
        v = 10 + i % 80
        rows.append(
            {
                "id": f"2601.{i:05d}",
                "title": f"P{i}: paper {i}",
                "abstract": f"We present P{i}, a system. It cuts latency by {v}% on our tests.",
            }
        )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows


def answer_for(req):
    """The right answer for whichever paper a request is about (read from the prompt)."""
    body = json.loads(req["body"]) if isinstance(req.get("body"), (bytes, str)) else req
    user = paper_message(body)
    import re

    name = re.search(r"Title: (P\d+):", user).group(1)
    v = re.search(r"by (\d+)%", user).group(1)
    return answer(name, [num(f"{v}%", float(v), "%", "decrease", "latency")])


def start_until_lines(s, inp, out, lines, *extra, **popen):
    """Start `extractor extract` in the background (no cache) and return once `out` holds `lines`
    lines, so a test can kill or interrupt it mid-run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(FAST)
    p = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "extractor",
            "extract",
            str(inp),
            "-o",
            str(out),
            "--model",
            "m",
            "--base-url",
            f"{s.url}/v1",
            "--no-cache",
            *extra,
        ],
        env=env,
        **popen,
    )
    deadline = time.time() + 60
    while time.time() < deadline and (not out.exists() or out.read_bytes().count(b"\n") < lines):
        time.sleep(0.02)
    return p


def llm(s, inp, out, *extra, env=None):
    return run_cli(
        "extract",
        inp,
        "-o",
        out,
        "--model",
        "test-model",
        "--base-url",
        f"{s.url}/v1",
        "-q",
        *extra,
        env={**FAST, **(env or {})},
    )


def paper_of(req):
    import re

    return re.search(r"Title: (P\d+):", paper_message(json.loads(req["body"]))).group(1)


def test_kill_9_mid_run_then_resume_exactly_once(tmp_path, server):
    def slow(req):
        time.sleep(0.03)
        return ok(answer_for(req))

    s = server(slow)
    inp = tmp_path / "in.jsonl"
    make_papers(inp, 300)
    out = tmp_path / "t.jsonl"
    p = start_until_lines(s, inp, out, 60, "--concurrency", "8", "-q")
    p.send_signal(signal.SIGKILL)
    p.wait()
    first = {x["id"] for x in read_jsonl_tolerant(out)}
    assert 60 <= len(first) < 300
    asked_before = len(s.requests)
    r = llm(s, inp, out, "--concurrency", "8", "--no-cache")
    assert r.returncode == 0, r.stderr
    ids = [x["id"] for x in read_jsonl(out)]
    assert len(ids) == 300 == len(set(ids))  # no lost and no duplicated papers
    redone = {paper_of(q) for q in s.requests[asked_before:]}
    assert len(s.requests) - asked_before == 300 - len(first)  # nothing finished is redone
    assert not redone & {f"P{int(i.split('.')[1])}" for i in first}


def read_jsonl_tolerant(path):
    lines = path.read_bytes().split(b"\n")
    return [json.loads(line) for line in lines[:-1] if line.strip()]  # the last piece may be a partial line


def test_ctrl_c_writes_what_is_done_and_exits_130(tmp_path, server):
    def slow(req):
        time.sleep(0.05)
        return ok(answer_for(req))

    s = server(slow)
    inp = tmp_path / "in.jsonl"
    make_papers(inp, 400)
    out = tmp_path / "t.jsonl"
    # Ctrl-C as from a terminal: a shell starts background jobs with SIGINT ignored, and the CLI
    # (rightly) keeps an inherited "ignore"; so the child gets the default disposition back
    p = start_until_lines(
        s,
        inp,
        out,
        20,
        "--concurrency",
        "4",
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    p.send_signal(signal.SIGINT)
    _, stderr = p.communicate(timeout=60)
    assert p.returncode == 130, stderr
    assert "interrupted:" in stderr and "Traceback" not in stderr
    data = out.read_bytes()
    assert data.endswith(b"\n")  # only whole lines
    n = data.count(b"\n")
    assert 20 <= n < 400
    r = llm(s, inp, out, "--no-cache")
    assert r.returncode == 0 and f"{n} already done" in r.stderr
    ids = [x["id"] for x in read_jsonl(out)]
    assert len(ids) == 400 == len(set(ids))


def test_cache_hit_makes_no_request(tmp_path, server):
    s = server(lambda req: ok(answer_for(req)))
    inp = tmp_path / "in.jsonl"
    make_papers(inp, 5)
    cache = tmp_path / "cache.sqlite"
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert llm(s, inp, a, "--cache", cache).returncode == 0
    assert len(s.requests) == 5
    r = llm(s, inp, b, "--cache", cache)
    assert r.returncode == 0, r.stderr
    assert len(s.requests) == 5  # a re-run of a finished job makes zero requests
    ra, rb = {x["id"]: x for x in read_jsonl(a)}, {x["id"]: x for x in read_jsonl(b)}
    assert {k: v["headline_numbers"] for k, v in ra.items()} == {k: v["headline_numbers"] for k, v in rb.items()}
    rb = list(rb.values())
    assert all(x["usage"]["requests"] == 0 for x in rb)
    r = llm(s, inp, tmp_path / "c.jsonl", "--no-cache")
    assert len(s.requests) == 10


def test_429_storm_slows_the_run_but_fails_no_paper(tmp_path, server):
    # the storm is the first 24 requests, whenever they come (a slow machine must not dodge it)
    lock = threading.Lock()
    state = {"429": 0, "seen": 0}

    def h(req):
        with lock:
            state["seen"] += 1
            storm = state["seen"] <= 24
            if storm:
                state["429"] += 1
        if storm:
            return error(429, "Rate limit reached for requests", {"Retry-After": "0.3"}, "rate_limit_error")
        time.sleep(0.02)
        return ok(answer_for(req))

    s = server(h)
    inp = tmp_path / "in.jsonl"
    make_papers(inp, 60)
    out = tmp_path / "t.jsonl"
    r = llm(s, inp, out, "--concurrency", "16", "--retries", "10", "--no-cache", "--summary-json", tmp_path / "s.json")
    assert r.returncode == 0, r.stderr
    recs = read_jsonl(out)
    assert len(recs) == 60 and all(x["status"] == "ok" for x in recs)
    assert state["429"] == 24 and "24 rate-limit answers" in r.stderr
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["rate_limited"] == 24 and summary["usage"]["requests"] == 60 + 24


def test_max_cost_stops_before_the_budget(tmp_path, server):
    s = server(lambda req: ok(answer_for(req)))  # each reply: 300 prompt + 80 completion tokens
    inp = tmp_path / "in.jsonl"
    make_papers(inp, 50)
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"test-model": {"input": 10.0, "cached_input": 5.0, "output": 20.0}}))
    out = tmp_path / "t.jsonl"
    r = llm(s, inp, out, "--prices", prices, "--max-cost", "0.05", "--concurrency", "2", "--no-cache")
    assert r.returncode == 4, r.stderr
    assert "stopped before the --max-cost budget of $0.05" in r.stderr
    recs = read_jsonl(out)
    assert 0 < len(recs) < 50
    spent = (
        sum(
            (x["usage"]["prompt_tokens"] - x["usage"]["cached_tokens"]) * 10
            + x["usage"]["cached_tokens"] * 5
            + x["usage"]["completion_tokens"] * 20
            for x in recs
        )
        / 1e6
    )
    assert spent <= 0.05
    r = llm(s, inp, tmp_path / "u.jsonl", "--max-cost", "1")
    assert r.returncode == 2 and "needs a price for model 'test-model'" in r.stderr
    # a price that would never add up to the budget is refused before any request
    for bad, why in (
        ("NaN", "not valid JSON"),  # JSON has no NaN (Python's json module took it)
        ("1e999", "not valid JSON"),
        ("-1", "must be numbers of 0 or more"),
    ):
        prices.write_text('{"test-model": {"input": ' + bad + ', "output": 20.0}}')
        r = llm(s, inp, tmp_path / "v.jsonl", "--prices", prices, "--max-cost", "0.05")
        assert r.returncode == 2, r.stderr
        assert f"{prices}: " in r.stderr and why in r.stderr, r.stderr
    assert not (tmp_path / "v.jsonl").exists()


def test_dry_run_calls_nothing_and_writes_nothing(tmp_path, server):
    s = server(lambda req: ok(answer_for(req)))
    inp = tmp_path / "in.jsonl"
    make_papers(inp, 12)
    out = tmp_path / "t.jsonl"
    r = run_cli("extract", inp, "-o", out, "--model", "gpt-4o-mini", "--base-url", f"{s.url}/v1", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "dry run: 12 papers would be extracted with gpt-4o-mini" in r.stdout and "~$0.0" in r.stdout
    assert len(s.requests) == 0 and not out.exists()


# --- Batch API --------------------------------------------------------------------------------


class FakeBatchAPI:
    """/v1/files, /v1/batches and file contents, processing a batch at once with right answers."""

    def __init__(self):
        self.files = {}
        self.batches = {}

    def __call__(self, req):
        path = req["path"].split("?")[0]
        if req["method"] == "POST" and path == "/v1/files":
            ctype = req["headers"]["content-type"]
            msg = email.parser.BytesParser().parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + req["body"])
            content = next(p.get_payload(decode=True) for p in msg.get_payload() if p.get_filename())
            fid = f"file-{len(self.files) + 1}"
            self.files[fid] = content
            return (
                200,
                {"content-type": "application/json"},
                json.dumps(
                    {
                        "id": fid,
                        "object": "file",
                        "bytes": len(content),
                        "created_at": 0,
                        "filename": "in.jsonl",
                        "purpose": "batch",
                        "status": "processed",
                    }
                ),
            )
        if req["method"] == "POST" and path == "/v1/batches":
            b = json.loads(req["body"])
            lines = [json.loads(line) for line in self.files[b["input_file_id"]].splitlines() if line.strip()]
            out = []
            for i, line in enumerate(lines):
                status, _, body = ok(answer_for(line["body"])) if i else completion(None, refusal="no")
                out.append(
                    {
                        "id": f"r{i}",
                        "custom_id": line["custom_id"],
                        "response": {"status_code": 200, "request_id": f"q{i}", "body": json.loads(body)},
                        "error": None,
                    }
                )
            ofid = f"file-{len(self.files) + 1}"
            self.files[ofid] = "".join(json.dumps(o) + "\n" for o in out).encode()
            bid = f"batch_{len(self.batches) + 1}"
            self.batches[bid] = {
                "id": bid,
                "object": "batch",
                "endpoint": b["endpoint"],
                "errors": None,
                "input_file_id": b["input_file_id"],
                "completion_window": b["completion_window"],
                "status": "completed",
                "output_file_id": ofid,
                "error_file_id": None,
                "created_at": 0,
                "request_counts": {"total": len(out), "completed": len(out), "failed": 0},
            }
            return 200, {"content-type": "application/json"}, json.dumps(self.batches[bid])
        if req["method"] == "GET" and path.startswith("/v1/batches/"):
            return 200, {"content-type": "application/json"}, json.dumps(self.batches[path.rsplit("/", 1)[1]])
        if req["method"] == "GET" and path.startswith("/v1/files/") and path.endswith("/content"):
            return 200, {"content-type": "application/octet-stream"}, self.files[path.split("/")[3]]
        return 404, {"content-type": "application/json"}, json.dumps({"error": {"message": "no route " + path}})


def test_batch_prepare_submit_download_ingest(tmp_path, server):
    inp = tmp_path / "in.jsonl"
    make_papers(inp, 7)
    req = tmp_path / "requests.jsonl"
    r = run_cli("batch", "prepare", inp, "-o", req, "--model", "gpt-4o-mini", "--max-requests", "3")
    assert r.returncode == 0, r.stderr
    parts = [req, tmp_path / "requests-0002.jsonl", tmp_path / "requests-0003.jsonl"]
    assert [sum(1 for _ in open(p)) for p in parts] == [3, 3, 1]
    line = json.loads(parts[0].read_text().splitlines()[0])
    assert line["custom_id"] == "2601.00000" and line["method"] == "POST" and line["url"] == "/v1/chat/completions"
    assert line["body"]["response_format"]["json_schema"]["strict"] is True
    sidecar = tmp_path / "requests.papers.jsonl"
    assert sum(1 for _ in open(sidecar)) == 7
    api = FakeBatchAPI()
    s = server(api)
    env = {"OPENAI_API_KEY": "sk-test"}
    r = run_cli("batch", "submit", *parts, "--base-url", f"{s.url}/v1", env=env)
    assert r.returncode == 0, r.stderr
    ids = r.stdout.split()
    assert ids == ["batch_1", "batch_2", "batch_3"]
    r = run_cli("batch", "status", "batch_1", "--base-url", f"{s.url}/v1", env=env)
    assert r.stdout.strip() == "batch_1: completed (3 completed, 0 failed, 3 total)"
    results = []
    for i, bid in enumerate(ids):
        res = tmp_path / f"results-{i}.jsonl"
        r = run_cli("batch", "download", bid, "-o", res, "--base-url", f"{s.url}/v1", env=env)
        assert r.returncode == 0, r.stderr
        results.append(res)
    table = tmp_path / "table.jsonl"
    r = run_cli("batch", "ingest", *results, "--papers", sidecar, "-o", table)
    assert r.returncode == 1, r.stderr  # each batch's first request was refused: error records
    recs = {x["id"]: x for x in read_jsonl(table)}
    assert len(recs) == 7
    errors = [x for x in recs.values() if x["status"] == "error"]
    assert len(errors) == 3 and all(x["error"] == "the model refused: no" for x in errors)
    good = recs["2601.00001"]
    assert good["system_name"] == "P1" and good["provenance"]["engine"] == "openai-batch"
    assert good["provenance"]["model"] == "gpt-4o-mini" and good["headline_numbers"][0]["verified"]
    assert good["abstract"][good["headline_numbers"][0]["start"] : good["headline_numbers"][0]["end"]] == "11%"
    # ingesting again is idempotent; error records are redone only with --retry-errors, as in extract
    r = run_cli("batch", "ingest", *results, "--papers", sidecar, "-o", table)
    assert r.returncode == 0 and "7 already done" in r.stderr and len(read_jsonl(table)) == 7
    r = run_cli("batch", "ingest", *results, "--papers", sidecar, "-o", table, "--retry-errors")
    assert "3 records" in r.stderr and "4 already done" in r.stderr and len(read_jsonl(table)) == 7


def test_ingest_flags_ungrounded_numbers_and_bad_lines(tmp_path):
    inp = tmp_path / "in.jsonl"
    make_papers(inp, 2)
    req = tmp_path / "r.jsonl"
    assert run_cli("batch", "prepare", inp, "-o", req, "--model", "m").returncode == 0
    body = json.loads(ok(answer("P0", [num("57%", 57, "%")]))[2])
    res = tmp_path / "res.jsonl"
    res.write_text(
        json.dumps({"custom_id": "2601.00000", "response": {"status_code": 200, "body": body}})
        + "\n"
        + json.dumps(
            {
                "custom_id": "2601.00001",
                "response": {"status_code": 500, "body": {}},
                "error": {"message": "server exploded"},
            }
        )
        + "\n"
    )
    table = tmp_path / "t.jsonl"
    r = run_cli("batch", "ingest", res, "--papers", tmp_path / "r.papers.jsonl", "-o", table)
    recs = {x["id"]: x for x in read_jsonl(table)}
    n = recs["2601.00000"]["headline_numbers"][0]
    assert n["verified"] is False and n["why"] == "text not found in abstract"
    assert recs["2601.00001"]["status"] == "error" and "server exploded" in recs["2601.00001"]["error"]
    res.write_text("not json\n")
    r = run_cli("batch", "ingest", res, "--papers", tmp_path / "r.papers.jsonl", "-o", tmp_path / "u.jsonl")
    assert r.returncode == 2 and "res.jsonl:1: not a Batch API result line" in r.stderr and "Traceback" not in r.stderr


def test_a_damaged_papers_sidecar_line_is_named_before_any_record(tmp_path):
    """A sidecar line whose paper lacks a field (a damaged copy) is one error naming its line, before
    anything is written; it was an internal error in the middle of the run."""
    inp = tmp_path / "in.jsonl"
    make_papers(inp, 2)
    req = tmp_path / "r.jsonl"
    assert run_cli("batch", "prepare", inp, "-o", req, "--model", "m").returncode == 0
    sidecar = tmp_path / "r.papers.jsonl"
    lines = [json.loads(x) for x in sidecar.read_text().splitlines()]
    del lines[1]["paper"]["title"]
    sidecar.write_text("".join(json.dumps(x) + "\n" for x in lines))
    body = json.loads(ok(answer("P0", []))[2])
    res = tmp_path / "res.jsonl"
    res.write_text(
        "".join(
            json.dumps({"custom_id": x["paper"]["id"], "response": {"status_code": 200, "body": body}}) + "\n"
            for x in lines
        )
    )
    table = tmp_path / "t.jsonl"
    r = run_cli("batch", "ingest", res, "--papers", sidecar, "-o", table)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines() == [
        f"extractor: error: {sidecar}:2: not a papers sidecar line (title: Field required)"
    ]
    assert not table.exists() or table.read_text() == ""


# --- batch ingest under what result files really hold (issue 27) -----------------------------------


def _prepared(tmp_path, n=2):
    inp = tmp_path / "in.jsonl"
    make_papers(inp, n)
    req = tmp_path / "r.jsonl"
    assert run_cli("batch", "prepare", inp, "-o", req, "--model", "m").returncode == 0
    return tmp_path / "r.papers.jsonl"


def _ok_line(pid, claims=()):
    body = json.loads(ok(answer("P", list(claims)))[2])
    return json.dumps({"custom_id": pid, "response": {"status_code": 200, "body": body}}) + "\n"


def _err_line(pid):
    return json.dumps({"custom_id": pid, "response": {"status_code": 500, "body": None}, "error": "boom"}) + "\n"


def test_a_success_after_an_error_of_the_same_paper_replaces_it(tmp_path):
    sidecar = _prepared(tmp_path)
    res = tmp_path / "res.jsonl"
    res.write_text(_err_line("2601.00000") + _ok_line("2601.00001") + _ok_line("2601.00000") + _err_line("2601.00001"))
    table = tmp_path / "t.jsonl"
    r = run_cli("batch", "ingest", res, "--papers", sidecar, "-o", table)
    assert r.returncode == 0, r.stderr
    recs = read_jsonl(table)
    assert len(recs) == 2 and {x["status"] for x in recs} == {"ok"}


def test_a_results_file_cut_off_mid_line_says_so(tmp_path):
    sidecar = _prepared(tmp_path)
    res = tmp_path / "res.jsonl"
    whole = _ok_line("2601.00000") + _ok_line("2601.00001")
    res.write_text(whole[: len(whole) - 30])  # the download broke in the last line
    table = tmp_path / "t.jsonl"
    r = run_cli("batch", "ingest", res, "--papers", sidecar, "-o", table)
    assert r.returncode == 1 and "res.jsonl:2: the last line is cut off mid-way" in r.stderr, r.stderr
    assert len(read_jsonl(table)) == 1


@pytest.mark.parametrize(
    "line",
    [
        {"custom_id": ["2601.00000"], "response": {"status_code": 200, "body": {}}},
        {"custom_id": "2601.00000", "response": "HTTP 200 OK"},
        {"custom_id": "2601.00000", "response": {"status_code": 200, "body": {"error": {"message": "overloaded"}}}},
        {"custom_id": "2601.00000", "response": {"status_code": 200, "body": "not an object"}},
        {"custom_id": "2601.00000", "response": None, "error": {"code": "server_error"}},
    ],
    ids=["custom_id-list", "response-string", "body-error-object", "body-string", "response-null"],
)
def test_odd_result_lines_are_one_line_or_an_error_record(tmp_path, line):
    sidecar = _prepared(tmp_path)
    res = tmp_path / "res.jsonl"
    res.write_text(json.dumps(line) + "\n")
    table = tmp_path / "t.jsonl"
    r = run_cli("batch", "ingest", res, "--papers", sidecar, "-o", table)
    assert r.returncode in (1, 2) and "internal error" not in r.stderr and "Traceback" not in r.stderr, r.stderr
    if r.returncode == 1:
        [rec] = read_jsonl(table)
        assert rec["status"] == "error" and rec["error"].startswith("batch request failed")
    else:
        assert "res.jsonl:1: not a Batch API result line" in r.stderr


def test_a_huge_sidecar_line_is_refused_without_reading_it_whole(tmp_path):
    from conftest import run_cli_rss

    sidecar = _prepared(tmp_path)
    big = {"paper": {"id": "2601.09999", "title": "t", "abstract": "x" * (200 * 1024 * 1024)}}
    with open(sidecar, "a") as f:
        f.write(json.dumps(big) + "\n")
    res = tmp_path / "res.jsonl"
    res.write_text(_ok_line("2601.00000"))
    r, peak = run_cli_rss("batch", "ingest", res, "--papers", sidecar, "-o", tmp_path / "t.jsonl", timeout=120)
    assert r.returncode == 2 and "r.papers.jsonl:3: a line of" in r.stderr, r.stderr
    assert peak < 250, peak
