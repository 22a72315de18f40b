"""`extract --on ray` beside the single-machine run, in the same session, against a scripted
OpenAI-compatible server with a fixed latency (the LLM path; no model).

    python benchmarks/bench_ray.py [--papers 20000] [--latency 0.2] [--concurrency 64] [--actors 1 2]

Reports each run's own clock (`--summary-json` elapsed) and, for Ray, its overhead per paper
against the single-machine run. Target (issue 31): the Ray run's clock within 15% of the
single-machine run on one machine.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import openai_fake as fake  # noqa: E402
from sample_input import write_sample_jsonl  # noqa: E402


def serve(latency: float) -> ThreadingHTTPServer:
    body = fake.completion(json.dumps(fake.answer("Nexus", [])))[2].encode()

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length") or 0))
            time.sleep(latency)
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
    httpd.daemon_threads = True
    httpd.request_queue_size = 1024
    Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def run(src: Path, out: Path, url: str, concurrency: int, extra: list) -> float:
    summary = out.with_suffix(".summary.json")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    r = subprocess.run(
        [sys.executable, "-m", "extractor", "extract", str(src), "-o", str(out), "--base-url", url, "--model", "m"]
        + ["--no-cache", "-q", "--concurrency", str(concurrency), "--max-reasks", "0", "--summary-json", str(summary)]
        + extra,
        capture_output=True,
        text=True,
        env=env,
    )
    if r.returncode != 0:
        sys.exit(r.stderr[-2000:])
    return json.loads(summary.read_text())["elapsed"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--papers", type=int, default=20000)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--actors", type=int, nargs="+", default=[1, 2])
    a = ap.parse_args()
    httpd = serve(a.latency)
    url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "in.jsonl"
        write_sample_jsonl(src, a.papers)
        ideal = a.papers * a.latency / a.concurrency
        base = run(src, Path(d) / "one.jsonl", url, a.concurrency, [])
        print(
            json.dumps({"run": "one machine", "papers": a.papers, "seconds": round(base, 1), "ideal": round(ideal, 1)})
        )
        for n in a.actors:
            t = run(src, Path(d) / f"ray{n}.jsonl", url, a.concurrency, ["--on", "ray", "--actors", str(n)])
            print(
                json.dumps(
                    {
                        "run": f"ray, {n} actor(s)",
                        "papers": a.papers,
                        "seconds": round(t, 1),
                        "vs_one_machine": round(t / base, 3),
                        "overhead_ms_per_paper": round((t - base) / a.papers * 1000, 2),
                    }
                )
            )
    httpd.shutdown()


if __name__ == "__main__":
    main()
