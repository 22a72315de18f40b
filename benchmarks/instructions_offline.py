"""Instructions per abstract for the offline path (read, extract, verify, serialise), by callgrind.

    python benchmarks/instructions_offline.py [--papers 300] [--vary]

Wall-clock throughput on a shared machine moves by several percent from one run to the next;
`valgrind --tool=callgrind` counts executed instructions, which stay the same (hash seed fixed), so
a change of a fraction of a percent shows. Runs the same script twice under callgrind, once
without papers (start-up and imports) and once with N papers from a JSONL built from the sample
feed, and reports the difference per paper. Needs valgrind (Debian package `valgrind`).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORK = r"""
import sys
from itertools import islice
from extractor.document import Document
from extractor.sources import read_papers
from extractor.engines.offline import OfflineEngine
from extractor.records import build_record
from extractor.store import dumps
eng = OfflineEngine()
src, n = sys.argv[1], int(sys.argv[2])
def one(p):
    doc = Document.of(p)
    return dumps(build_record(doc, eng.extract(doc), eng))
for p in islice(read_papers(src), 15):  # warm up: imports, compiled patterns
    one(p)
for p in islice(read_papers(src), n):
    one(p)
"""


def instructions(src: Path, n: int) -> int:
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONPATH=str(ROOT))
    r = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            WORK,
            str(src),
            str(n),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    m = re.search(r"Collected : (\d+)", r.stderr)
    if not m:
        sys.exit(f"callgrind failed: {r.stderr[-500:]}")
    return int(m.group(1))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--papers", type=int, default=300)
    ap.add_argument(
        "--vary", action="store_true", help="random digits in each copy, so no per-span cache hits a repeat"
    )
    args = ap.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    from sample_input import write_sample_jsonl

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.jsonl"
        write_sample_jsonl(src, args.papers + 15, vary=args.vary)
        base, full = instructions(src, 0), instructions(src, args.papers)
    print(
        json.dumps({"papers": args.papers, "vary": args.vary, "instructions_per_paper": (full - base) // args.papers})
    )


if __name__ == "__main__":
    main()
