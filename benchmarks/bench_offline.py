"""Offline engine throughput, end to end (read, extract, verify, write), single process.

    python benchmarks/bench_offline.py [--lines 100000]

Builds a JSONL of N abstracts from the bundled sample feed (distinct ids), runs the real CLI on
it, and reports abstracts/s and the peak RSS of the extractor process. Target: >= 3,000/s and
< 200 MB peak RSS for 100,000 lines. The 15 abstracts repeat; the engine's per-abstract caches
(normalisation, sentence split) hold 4 entries, so a line never reuses the work of an earlier one.
"compiled" says which build ran (see setup.py); EXTRACTOR_PURE_PYTHON=1 measures the Python source.
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

import extractor  # noqa: E402
from sample_input import write_sample_jsonl  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="extractor-bench-"))
    src, out = tmp / "in.jsonl", tmp / "out.jsonl"
    write_sample_jsonl(src, args.lines)
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "extractor", "extract", str(src), "-o", str(out), "-q"],
                       capture_output=True, text=True)
    dt = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    lines = sum(1 for _ in open(out))
    print(r.stderr.strip().splitlines()[-1])
    print(json.dumps({"lines": args.lines, "compiled": extractor.NATIVE, "written": lines, "seconds": round(dt, 2),
                      "abstracts_per_s": round(args.lines / dt), "peak_rss_mb": round(rss_mb, 1),
                      "input_mb": round(src.stat().st_size / 1e6, 1), "output_mb": round(out.stat().st_size / 1e6, 1)}))
    if not args.keep:
        for p in (src, out):
            os.unlink(p)
        tmp.rmdir()


if __name__ == "__main__":
    main()
