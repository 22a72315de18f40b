"""Past one machine: `extract --on ray`, on a local 2-CPU Ray and on several Ray nodes on this
machine, against the real CLI and a scripted OpenAI-compatible server on 127.0.0.1. The table is
the one a single-machine run writes: the same records, resumable, nothing lost or duplicated."""

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import perfect
import pytest
from conftest import EXTRA, FIXTURE, ROOT, LocalServer, read_jsonl, run_cli

ray = pytest.importorskip("ray", reason="install the test extras: pip install -e '.[test]' (ray[data])")

LABELLED = [FIXTURE, EXTRA]


def comparable(path):
    """A table's records by id, without what differs between two runs of the same job (the time
    of the run, where the input line came from)."""
    out = {}
    for rec in read_jsonl(path):
        rec["provenance"].pop("time", None)
        out[rec["id"]] = rec
    return out


@pytest.fixture(scope="module")
def one_machine_offline(tmp_path_factory):
    out = tmp_path_factory.mktemp("one") / "t.jsonl"
    r = run_cli("extract", *LABELLED, "-o", out, "-q")
    assert r.returncode == 0, r.stderr
    return out


def test_the_offline_engine_on_ray_writes_what_one_machine_writes(tmp_path, one_machine_offline):
    out = tmp_path / "t.jsonl"
    r = run_cli("extract", *LABELLED, "-o", out, "--on", "ray", "--actors", "2", timeout=600)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.strip().splitlines()
    assert lines[-1].startswith("extractor: done: 60 papers (60 ok, 0 errors); 166 numbers (166 verified"), r.stderr
    assert all(x.startswith("extractor: ") for x in lines), r.stderr  # Ray's own logs stay out of the output
    assert comparable(out) == comparable(one_machine_offline)
    again = run_cli("extract", *LABELLED, "-o", out, "--on", "ray", timeout=600)  # resumed: nothing to do
    assert again.returncode == 0 and "60 already done" in again.stderr
    assert len(read_jsonl(out)) == 60


def test_the_llm_engine_on_ray_writes_what_one_machine_writes(tmp_path):
    """The LLM engine in the actors: requests, verification and the record's line made there,
    the same as a single-machine run against the same perfect-model server."""
    srv = LocalServer(perfect.handler(perfect.load("labelled")))
    try:
        common = ["--base-url", srv.url + "/v1", "--model", "m", "--no-cache", "--retries", "1"]
        one = tmp_path / "one.jsonl"
        r = run_cli("extract", *LABELLED, "-o", one, *common, "-q", timeout=600)
        assert r.returncode == 0, r.stderr
        on_ray = tmp_path / "ray.jsonl"
        r = run_cli(
            "extract", *LABELLED, "-o", on_ray, *common, "--on", "ray", "--concurrency", "8", "--no-warm-start",
            timeout=600,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        assert "60 papers (60 ok, 0 errors)" in r.stderr
    finally:
        srv.close()
    a, b = comparable(one), comparable(on_ray)
    assert a.keys() == b.keys() and len(a) == 60
    for pid in a:
        assert a[pid] == b[pid], pid


def test_while_ray_starts_the_driver_extracts_and_no_paper_is_asked_twice(tmp_path):
    """The warm start: on a Ray the run starts, the driver extracts papers itself until the first
    actor is up, then the actors do the rest and skip what it did. Every paper is asked once, the
    requests in flight never pass --concurrency, and the table is the one a single-machine run
    writes."""
    import threading

    papers = perfect.load("labelled")
    answer = perfect.handler(papers)
    seen, lock, flight = [], threading.Lock(), {"now": 0, "max": 0}

    def slow(req):
        with lock:
            flight["now"] += 1
            flight["max"] = max(flight["max"], flight["now"])
            seen.append(json.loads(req["body"])["messages"][-1]["content"])
        time.sleep(0.5)  # 4 papers a second: Ray is up long before the driver could do all 60
        with lock:
            flight["now"] -= 1
        return answer(req)

    srv = LocalServer(slow)
    summary = tmp_path / "s.json"
    try:
        common = ["--base-url", srv.url + "/v1", "--model", "m", "--no-cache", "-q", "--concurrency", "2"]
        on_ray = tmp_path / "ray.jsonl"
        r = run_cli("extract", *LABELLED, "-o", on_ray, *common, "--on", "ray", "--summary-json", summary, timeout=600)
        assert r.returncode == 0, r.stderr
    finally:
        srv.close()
    s = json.loads(summary.read_text())
    assert s["papers"] == s["ok"] == 60
    assert 0 < s["warm_started"] < 60, s["warm_started"]  # both the driver and the actors did some
    assert len(seen) == 60 and len(set(seen)) == 60  # each paper asked once
    assert flight["max"] <= 2
    srv2 = LocalServer(answer)
    try:
        one = tmp_path / "one.jsonl"
        r = run_cli("extract", *LABELLED, "-o", one, "--base-url", srv2.url + "/v1", "--model", "m", "--no-cache", "-q")
        assert r.returncode == 0, r.stderr
    finally:
        srv2.close()
    assert comparable(one) == comparable(on_ray)


def test_a_driver_killed_mid_run_loses_and_duplicates_nothing(tmp_path):
    """kill -9 of the driver while actors work: the table keeps every whole line written; the
    same command again finishes the job, and every paper is in the table once."""
    papers = perfect.load("labelled")
    answer = perfect.handler(papers)

    def slow(req):
        time.sleep(0.6)  # 60 papers, 2 at a time, in blocks of 16: 18 s, to kill the driver in
        return answer(req)

    srv = LocalServer(slow)
    out = tmp_path / "t.jsonl"
    args = ["extract", *map(str, LABELLED), "-o", str(out), "--base-url", srv.url + "/v1", "--model", "m"]
    args += ["--no-cache", "--on", "ray", "--concurrency", "2", "--actors", "1", "--no-warm-start"]
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "extractor", *args], stderr=subprocess.PIPE, env=env, start_new_session=True
        )
        deadline = time.time() + 300
        while time.time() < deadline and (not out.exists() or len(out.read_bytes().splitlines()) < 5):
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and the local Ray it started
        proc.wait()
        before = read_jsonl(out)
        assert 5 <= len(before) < 60
        r = run_cli(*args, timeout=600)
        assert r.returncode == 0, r.stderr
    finally:
        srv.close()
    ids = [rec["id"] for rec in read_jsonl(out)]
    assert len(ids) == 60 and len(set(ids)) == 60
    assert f"{len(before)} already done" in r.stderr


CRASHY = textwrap.dedent(
    """
    import os
    from extractor.engines.offline import OfflineEngine

    class CrashyEngine(OfflineEngine):
        '''The offline engine, in a process that dies on some papers: once (a marker file says it
        died already), or every time (POISON).'''
        name = "offline"

        def extract(self, doc):
            marker = os.path.join(os.environ["CRASH_DIR"], doc.paper.id.replace("/", "_"))
            if doc.paper.id == os.environ.get("POISON"):
                os._exit(1)
            if doc.paper.id in os.environ["CRASH_ON"].split(",") and not os.path.exists(marker):
                open(marker, "w").close()
                os._exit(1)
            return super().extract(doc)
    """
)

RUN_CRASHY = """
import sys, extractor
from extractor.engines import registry
registry.register("crashy", "crashy_engine:CrashyEngine")
s = extractor.run(sys.argv[1:-1], sys.argv[-1], extractor.engine("crashy"), on="ray", actors=2)
print(s.papers, s.ok, s.errors)
"""


def _counts(stdout):
    """The script's line "papers ok errors" (Ray says on stdout which workers died, in lines of its own)."""
    (line,) = [x for x in stdout.splitlines() if re.fullmatch(r"\d+ \d+ \d+", x.strip())]
    return [int(x) for x in line.split()]


def _run_crashy(tmp_path, out, poison="", inputs=LABELLED):
    (tmp_path / "mod").mkdir(exist_ok=True)
    (tmp_path / "mod" / "crashy_engine.py").write_text(CRASHY)
    (tmp_path / "crash").mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(
        PYTHONPATH=str(tmp_path / "mod"),
        CRASH_DIR=str(tmp_path / "crash"),
        CRASH_ON="2604.06682,2604.07874,2309.14016",
        POISON=poison,
    )
    return subprocess.run(
        [sys.executable, "-c", RUN_CRASHY, *map(str, inputs), str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def test_an_actor_that_dies_mid_batch_costs_no_paper(tmp_path, one_machine_offline):
    """Three papers kill their worker process once: Ray restarts the actor and retries the block;
    every paper ends in the table, as one machine writes it."""
    out = tmp_path / "t.jsonl"
    r = _run_crashy(tmp_path, out)
    assert r.returncode == 0, r.stderr
    assert _counts(r.stdout) == [60, 60, 0], r.stdout + r.stderr
    assert len(os.listdir(tmp_path / "crash")) == 3  # they did die
    mine, theirs = comparable(out), comparable(one_machine_offline)
    assert mine.keys() == theirs.keys()
    for pid in mine:
        mine[pid]["provenance"].pop("model"), theirs[pid]["provenance"].pop("model")
        assert mine[pid] == theirs[pid]


def test_a_paper_that_always_kills_its_worker_becomes_an_error_record(tmp_path):
    """A poison paper: its block is retried, then every paper of the block is an error record
    that says why (and --retry-errors can redo them); no paper is silently missing, no hang."""
    out = tmp_path / "t.jsonl"
    r = _run_crashy(tmp_path, out, poison="2604.12300", inputs=[FIXTURE])
    assert r.returncode == 0, r.stderr
    papers, ok, errors = _counts(r.stdout)
    assert (papers, ok, errors) == (15, 14, 1)
    recs = {rec["id"]: rec for rec in read_jsonl(out)}
    assert len(recs) == 15
    assert recs["2604.12300"]["status"] == "error"
    assert "the Ray worker running it died on every attempt" in recs["2604.12300"]["error"]


def test_a_ray_dataset_of_papers_through_the_api():
    """extract_dataset: a ray.data.Dataset of paper rows in, a Dataset of records out."""
    from extractor.cluster import extract_dataset

    rows = [json.loads(line) for line in open(EXTRA, encoding="utf-8")][:10]
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        ds = ray.data.from_items([{k: r.get(k) for k in ("id", "title", "abstract")} for r in rows])
        got = extract_dataset(ds, "offline", actors=1).take_all()
    finally:
        ray.shutdown()
    assert sorted(g["id"] for g in got) == sorted(re.sub(r"v\d+$", "", r["id"]) for r in rows)
    for g in got:
        rec = json.loads(g["line"])
        assert rec["status"] == "ok" and g["verified"] == sum(n["verified"] for n in rec["headline_numbers"])


MULTI_NODE = """
import sys, threading, time
from ray.cluster_utils import Cluster
import extractor

cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
workers = [cluster.add_node(num_cpus=1) for _ in range(2)]
cluster.wait_for_nodes()
import ray
ray.init(address=cluster.address, log_to_driver=False)

def lose_a_node():
    time.sleep(float(sys.argv[4]))
    cluster.remove_node(workers[0])
    print("node removed", flush=True)

threading.Thread(target=lose_a_node, daemon=True).start()
eng = extractor.engine("openai", base_url=sys.argv[5], model="m")
s = extractor.run(sys.argv[1:3], sys.argv[3], eng, on="ray", actors=3, cache_path=None, concurrency=6)
print(s.papers, s.ok, s.errors, flush=True)
ray.shutdown()
cluster.shutdown()
"""


def test_a_job_finishes_when_a_worker_node_is_lost(tmp_path):
    """Three Ray nodes on this machine (ray.cluster_utils.Cluster), one lost mid-run: its actor's
    blocks are retried on the others, the job finishes, every paper is in the table once."""
    papers = perfect.load("labelled")
    answer = perfect.handler(papers)

    def slow(req):
        time.sleep(0.2)
        return answer(req)

    srv = LocalServer(slow)
    out = tmp_path / "t.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAY_ADDRESS"))}
    try:
        r = subprocess.run(
            [sys.executable, "-c", MULTI_NODE, *map(str, LABELLED), str(out), "3", srv.url + "/v1"],
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
        )
    finally:
        srv.close()
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    assert "node removed" in r.stdout
    ids = [rec["id"] for rec in read_jsonl(out)]
    assert len(ids) == 60 and len(set(ids)) == 60
    assert _counts(r.stdout)[0] == 60


def test_the_vllm_processor_steps_with_a_reask_pass():
    """preprocess / postprocess for ray.data.llm's vLLM processor, run here on Ray Data with the
    processor's own step played by the perfect model (ray.data.llm itself needs CUDA-only vLLM):
    a request per row with the schema for vLLM's structured output; a reply that does not hold
    up comes back as a re-ask row, and the second pass gives the verified record."""
    from extractor.cluster import vllm_processor_steps

    papers = perfect.load("labelled")
    answer = perfect.handler(papers)
    wrong_first = set(sorted(papers)[:5])  # titles whose first answer misquotes a number

    def processor_step(row):  # what vLLM in the processor does: messages in, generated_text out
        assert row["sampling_params"]["guided_decoding"]["json"]["type"] == "object"
        user = [m for m in row["messages"] if m["role"] == "user" and "Title: " in (m["content"] or "")][-1]
        title = re.search(r"Title: (.*)", user["content"]).group(1).strip()
        _, _, body = answer({"body": json.dumps({"messages": row["messages"], "model": "m"}).encode()})
        text = json.loads(body)["choices"][0]["message"]["content"]
        if title in wrong_first and row["attempt"] == 0:
            data = json.loads(text)
            data["headline_numbers"].append({"text": "99.97% faster", "value": 99.97, "unit": "%"})
            text = json.dumps(data)
        return {**row, "generated_text": text, "num_input_tokens": 900, "num_generated_tokens": 120}

    steps = vllm_processor_steps("m", max_reasks=1)
    rows = [{"title": p.title, "abstract": p.abstract, "id": p.id} for p, _ in papers.values()]
    tests_dir = str(ROOT / "tests")  # the workers import this test's helpers (perfect.py)
    ray.init(
        num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": {"PYTHONPATH": tests_dir}}
    )
    try:
        processor = lambda ds: ds.map(steps.preprocess).map(processor_step).map(steps.postprocess)  # noqa: E731
        first = processor(ray.data.from_items(rows)).take_all()
        again = [r for r in first if not r["done"]]
        second = processor(ray.data.from_items(again)).take_all() if again else []
    finally:
        ray.shutdown()
    assert len(first) == 60 and len(again) == 5
    assert all("99.97% faster" in r["reask_problem"] for r in again)
    done = [r for r in first if r["done"]] + second
    recs = [json.loads(r["line"]) for r in done]
    assert len(recs) == 60 and all(r["done"] for r in done)
    assert all(n["verified"] for rec in recs for n in rec["headline_numbers"])
    reasked = [rec for rec in recs if rec["provenance"]["reasks"] == 1]
    assert len(reasked) == 5 and all(rec["usage"]["requests"] == 2 for rec in reasked)


def test_max_cost_holds_for_the_whole_cluster(tmp_path):
    """--max-cost on Ray: the driver stops sending parts once the budget is spent (exit 4), having
    passed it by at most one part (--concurrency x 8 papers)."""
    srv = LocalServer(perfect.handler(perfect.load("labelled")))
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"m": {"input": 1000, "cached_input": 1000, "output": 1000}}))  # $0.15 a paper
    out = tmp_path / "t.jsonl"
    summary = tmp_path / "s.json"
    try:
        r = run_cli(
            "extract", *LABELLED, "-o", out, "--base-url", srv.url + "/v1", "--model", "m", "--no-cache",
            "--prices", prices, "--max-cost", "3", "--on", "ray", "--concurrency", "2", "--actors", "1",
            "--summary-json", summary, timeout=600,
        )  # fmt: skip
    finally:
        srv.close()
    assert r.returncode == 4, r.stderr
    spent = json.loads(summary.read_text())["cost"]
    written = len(read_jsonl(out))
    assert 3 <= spent <= 3 + 16 * 0.15 + 1e-9 and 20 <= written < 60, (spent, written)
