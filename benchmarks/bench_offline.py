"""Offline engine throughput, end to end through the real CLI (read, select, extract, verify, write).

    python benchmarks/bench_offline.py [--lines 100000] [--workers 1 2] [--repeat 3] [--vary]

Builds a JSONL of N abstracts from the bundled sample feed (distinct ids), runs `extractor extract`
on it once per worker count (and repeat), and reports abstracts/s and the peak RSS of the largest
process (the parent or a worker). Targets (issue 13): >= 2,500/s with --workers 1, >= 1.8x that
with 2 workers on a 2-core machine, < 200 MB peak RSS at 100,000 lines.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sample_input import write_sample_jsonl  # noqa: E402


def run(src: Path, out: Path, workers: int) -> dict:
    for p in (out, Path(str(out) + ".lock")):
        if p.exists():
            p.unlink()
    t0 = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-m", "extractor", "extract", str(src), "-o", str(out), "-q", "--workers", str(workers)],
        capture_output=True,
        text=True,
    )
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(r.stderr)
    lines = sum(1 for _ in open(out))
    return {"workers": workers, "written": lines, "seconds": round(dt, 2), "abstracts_per_s": round(lines / dt)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument(
        "--vary", action="store_true", help="rotate the digits of each copy, so no per-span cache hits a repeat"
    )
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="extractor-bench-"))
    src, out = tmp / "in.jsonl", tmp / "out.jsonl"
    write_sample_jsonl(src, args.lines, vary=args.vary)
    for _ in range(args.repeat):
        for w in args.workers:
            print(json.dumps({"lines": args.lines, "vary": args.vary, **run(src, out, w)}))
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "peak_rss_mb_largest_process": round(rss_mb, 1),
                "input_mb": round(src.stat().st_size / 1e6, 1),
                "output_mb": round(out.stat().st_size / 1e6, 1),
            }
        )
    )
    for p in tmp.iterdir():
        os.unlink(p)
    tmp.rmdir()


if __name__ == "__main__":
    main()
