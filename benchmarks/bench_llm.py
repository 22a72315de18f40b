"""LLM engine throughput against a local OpenAI-compatible server with a fixed 200 ms latency.

    python benchmarks/bench_llm.py [--papers 2000] [--concurrency 64] [--rss-papers 20000] [--empty]

The server answers each paper with correct claims (the offline engine's reading of its abstract,
computed before the clock starts, as a model's answer), so the run pays for what a user's run pays
for: verification, and a re-ask only where one is needed (--empty: no claims at all).

Runs, in one go and against the same server:
  1. `extractor extract ... --concurrency 64` (the real CLI, cache off);
  2. a hand-written asyncio.gather + semaphore loop around the openai SDK (what users write today);
and reports both against the ideal time N x latency / concurrency, twice: for the run as each program
times itself (job start to last record written) and for the whole process (plus interpreter start-up
and imports, a fixed ~0.9 s of which `import openai` is ~0.7 s). With --rss-papers it also runs the
CLI on a larger input and compares peak RSS. Target: >= 90% of ideal throughput; flat RSS.
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sample_input import write_sample_jsonl  # noqa: E402

REPLY = json.dumps(
    {
        "id": "chatcmpl-b",
        "object": "chat.completion",
        "created": 0,
        "model": "bench",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {
                    "role": "assistant",
                    "content": json.dumps(
                        {"system_name": None, "problem": "p", "technique": "t", "headline_numbers": []}
                    ),
                },
            }
        ],
        "usage": {"prompt_tokens": 700, "completion_tokens": 40, "total_tokens": 740},
    }
).encode()


def reply_for(answer: dict) -> bytes:
    body = json.loads(REPLY)
    body["choices"][0]["message"]["content"] = json.dumps(answer)
    return json.dumps(body).encode()


def correct_answers(src: Path) -> dict[str, bytes]:
    """{abstract: the reply a model that gets it right gives}, from the offline engine's reading."""
    from extractor.analysis.document import Document
    from extractor.engines.offline.engine import extract_offline
    from extractor.schema import Paper

    out = {}
    for line in open(src):
        d = json.loads(line)
        if d["abstract"] in out:
            continue
        r = extract_offline(Document.of(Paper(id=d["id"], title=d["title"], abstract=d["abstract"])))
        out[d["abstract"]] = reply_for(
            {
                "system_name": r.system_name,
                "problem": r.problem,
                "technique": r.technique,
                "headline_numbers": [n.as_answer() for n in r.numbers],
            }
        )
    return out


def serve(port: int, latency: float, answers: dict | None = None) -> None:
    """A minimal keep-alive HTTP/1.1 server on asyncio: answers every POST after `latency` s, with
    the paper's own answer when `answers` holds one."""

    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length) if length else b""
                reply = REPLY
                if answers:
                    msgs = json.loads(body)["messages"]
                    user = next(
                        m["content"]
                        for m in reversed(msgs)
                        if m["role"] == "user" and "Abstract:" in (m["content"] or "")
                    )
                    reply = answers.get(user.split("Abstract:\n", 1)[1].strip(), REPLY)
                await asyncio.sleep(latency)
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                    + str(len(reply)).encode()
                    + b"\r\n\r\n"
                    + reply
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionResetError):
            pass
        finally:
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


BASELINE = r"""
import asyncio, json, sys, time
import openai
from extractor.engines.llm.prompting import load_prompts, strict_schema

src, out, url, conc = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
prompts = load_prompts()
schema = strict_schema()

async def main():
    t0 = time.perf_counter()
    client = openai.AsyncOpenAI(api_key="x", base_url=url, max_retries=3)
    sem = asyncio.Semaphore(conc)
    papers = [json.loads(l) for l in open(src)]

    async def one(p):
        async with sem:
            r = await client.chat.completions.create(
                model="bench", messages=prompts.messages(p["title"], p["abstract"]), temperature=0,
                response_format={"type": "json_schema", "json_schema": {"name": "extraction", "strict": True,
                                                                        "schema": schema}})
            return {"id": p["id"], "reply": json.loads(r.choices[0].message.content)}

    results = await asyncio.gather(*(one(p) for p in papers))
    with open(out, "w") as f:
        for r in results:
            f.write(json.dumps(r) + "\n")
    print(f"run-seconds {time.perf_counter() - t0}")

asyncio.run(main())
"""

MEASURE = r"""
import resource, subprocess, sys, time
t = time.perf_counter()
r = subprocess.run(sys.argv[1:], capture_output=True, text=True)
dt = time.perf_counter() - t
run = [l.split()[1] for l in r.stdout.splitlines() if l.startswith("run-seconds ")]
print(dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, r.returncode, run[0] if run else "nan")
if r.returncode not in (0, 1):
    print(r.stderr[-2000:], file=sys.stderr)
"""


def measured(cmd: list[str]) -> tuple[float, float, float]:
    """Whole-process wall time, peak RSS (MB), and the run phase as the program itself timed it."""
    r = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True)
    if r.stderr:
        print(r.stderr, file=sys.stderr)
    dt, rss, rc, run = r.stdout.split()
    return float(dt), float(rss), float(run)


def extractor_run(cmd: list[str], summary: Path) -> tuple[float, float, float]:
    dt, rss, _ = measured(cmd + ["--summary-json", str(summary)])
    return dt, rss, json.loads(summary.read_text())["elapsed"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--papers", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--rss-papers", type=int, default=0)
    ap.add_argument("--empty", action="store_true", help="the server answers no claims at all")
    args = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = Path(tempfile.mkdtemp(prefix="extractor-llm-bench-"))
    src = tmp / "in.jsonl"
    write_sample_jsonl(src, args.papers, authors=False, vary=True)
    answers = None if args.empty else correct_answers(src)
    server = multiprocessing.Process(target=serve, args=(port, args.latency, answers), daemon=True)
    server.start()
    time.sleep(0.5)
    url = f"http://127.0.0.1:{port}/v1"
    ideal = args.papers * args.latency / args.concurrency
    env_cmd = [
        sys.executable,
        "-m",
        "extractor",
        "extract",
        str(src),
        "--model",
        "bench",
        "--base-url",
        url,
        "--concurrency",
        str(args.concurrency),
        "--no-cache",
        "-q",
    ]
    try:
        t_ours, rss_ours, run_ours = extractor_run(env_cmd + ["-o", str(tmp / "ours.jsonl")], tmp / "s1.json")
        t_base, rss_base, run_base = measured(
            [sys.executable, "-c", BASELINE, str(src), str(tmp / "base.jsonl"), url, str(args.concurrency)]
        )
        lines = sum(1 for _ in open(tmp / "ours.jsonl"))
        summary = json.loads((tmp / "s1.json").read_text())
        report = {
            "papers": args.papers,
            "concurrency": args.concurrency,
            "latency_s": args.latency,
            "ideal_s": round(ideal, 2),
            # the run: from the start of the job (input opened, client made) to the last record written
            "extractor_run_s": round(run_ours, 2),
            "extractor_run_vs_ideal": round(ideal / run_ours, 3),
            "baseline_run_s": round(run_base, 2),
            "baseline_run_vs_ideal": round(ideal / run_base, 3),
            "extractor_vs_baseline_run": round(run_base / run_ours, 3),
            # the whole process: also interpreter start-up and imports (`import openai` alone is ~0.7 s)
            "extractor_process_s": round(t_ours, 2),
            "extractor_process_vs_ideal": round(ideal / t_ours, 3),
            "baseline_process_s": round(t_base, 2),
            "baseline_process_vs_ideal": round(ideal / t_base, 3),
            "extractor_vs_baseline_process": round(t_base / t_ours, 3),
            "extractor_records": lines,
            "extractor_requests_per_paper": round(summary["usage"]["requests"] / max(lines, 1), 3),
            "extractor_claims_verified": f"{summary['verified']}/{summary['numbers']}",
            "extractor_peak_rss_mb": round(rss_ours, 1),
            "baseline_peak_rss_mb": round(rss_base, 1),
        }
        if args.rss_papers:
            big = tmp / "big.jsonl"
            write_sample_jsonl(big, args.rss_papers, authors=False)
            t_big, rss_big, run_big = extractor_run(
                [
                    sys.executable,
                    "-m",
                    "extractor",
                    "extract",
                    str(big),
                    "--model",
                    "bench",
                    "--base-url",
                    url,
                    "--concurrency",
                    str(args.concurrency),
                    "--no-cache",
                    "-q",
                    "-o",
                    str(tmp / "big-out.jsonl"),
                ],
                tmp / "s2.json",
            )
            big_ideal = args.rss_papers * args.latency / args.concurrency
            report.update(
                {
                    "rss_papers": args.rss_papers,
                    "large_run_s": round(run_big, 2),
                    "large_run_vs_ideal": round(big_ideal / run_big, 3),
                    "large_process_s": round(t_big, 2),
                    "large_process_vs_ideal": round(big_ideal / t_big, 3),
                    "peak_rss_mb_large": round(rss_big, 1),
                }
            )
        print(json.dumps(report, indent=2))
    finally:
        server.terminate()
        for p in tmp.iterdir():
            os.unlink(p)
        tmp.rmdir()


if __name__ == "__main__":
    main()
