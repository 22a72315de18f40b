"""Export time and memory against the table's size, through the real CLI, for every format.

    python benchmarks/bench_export.py [--papers 10000 100000] [--formats xlsx csv md html bib]

Builds a table of N papers by extracting N distinct copies of the sample feed's abstracts (offline
engine, digits varied, a user field declared so the Papers sheet has a field column), then runs
`extractor export` once per format and size, and reports seconds, seconds per 1,000 papers and the
export process's peak RSS (VmHWM). The target (issue 27): time linear in the papers, that is the
same seconds per 1,000 papers at 10k and at 100k.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sample_input import write_sample_jsonl  # noqa: E402

PEAK = """
import runpy, sys
sys.argv = ["extractor", *sys.argv[1:]]
try:
    runpy.run_module("extractor", run_name="__main__")
finally:
    hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:")).split()[1]
    sys.stderr.write("\\nPEAK_RSS_KB=%s\\n" % hwm)
"""


def cli_peak(*args: str) -> tuple[float, float]:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", PEAK, *args], capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(r.stderr)
    kb = int(r.stderr.rsplit("PEAK_RSS_KB=", 1)[1].split()[0])
    return dt, kb / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--papers", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--formats", nargs="+", default=["xlsx", "csv", "md", "html", "bib"])
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="extractor-bench-export-"))
    fields = tmp / "fields.toml"
    fields.write_text("[fields.gpus]\ntype = \"number\"\npattern = '(?P<value>[\\d,]+) GPUs'\n")
    for n in args.papers:
        src, table = tmp / f"in-{n}.jsonl", tmp / f"table-{n}.jsonl"
        write_sample_jsonl(src, n, vary=True)
        r = subprocess.run(
            [sys.executable, "-m", "extractor", "extract", str(src), "-o", str(table), "-q", "--fields", str(fields)],
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            sys.exit(r.stderr)
        for fmt in args.formats:
            out = tmp / f"out-{n}.{fmt}"
            dt, peak = cli_peak("export", str(table), "-o", str(out))
            print(
                json.dumps(
                    {
                        "papers": n,
                        "format": fmt,
                        "seconds": round(dt, 1),
                        "seconds_per_1000": round(dt / n * 1000, 3),
                        "peak_rss_mb": round(peak),
                        "bytes": out.stat().st_size,
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
