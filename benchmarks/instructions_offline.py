"""Instructions per abstract for the offline path (read, extract, verify, serialise), by callgrind.

    python benchmarks/instructions_offline.py [--papers 300] [--vary] [--stages]

Wall-clock throughput on a shared machine moves by several percent from one run to the next;
`valgrind --tool=callgrind` counts executed instructions, which stay the same (hash seed fixed), so
a change of a fraction of a percent shows. Runs the same script twice under callgrind, once
without papers (start-up and imports) and once with N papers from a JSONL built from the sample
feed, and reports the difference per paper. With --stages it runs the papers once more per stage,
each run stopping after one more stage, and reports what each stage adds (where a change moved the
cost). Needs valgrind (Debian package `valgrind`).
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
from extractor.analysis.document import Document
from extractor.sources import read_papers
from extractor.engines.offline import OfflineEngine
from extractor.analysis.reading import intro_index, read_numbers, system_name
from extractor.records import build_record
from extractor.store import dumps
eng = OfflineEngine()
src, n, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def one(p, last):
    doc = Document.of(p)
    steps = (
        lambda: doc.sentences,
        lambda: doc.quantities,
        lambda: (system_name(doc), intro_index(doc)),
        lambda: read_numbers(doc),
    )
    for step in steps[:last]:
        step()
    if last > 4:
        result = eng.extract(doc)
    if last > 5:
        record = build_record(doc, result, eng)
    if last > 6:
        dumps(record)
for p in islice(read_papers(src), 15):  # warm up, every stage: imports, compiled patterns
    one(p, 7)
for p in islice(read_papers(src), n):
    one(p, last)
"""
# what each stage adds, in order (`last` = the number of stages run)
STAGES = (
    "read the input, one Document",
    "sentences",
    "quantities (the scanner)",
    "system name, intro sentence",
    "claims: metric, direction, baseline, kind",
    "problem, technique, the engine's result",
    "verify and build the record",
    "serialise",
)


def instructions(src: Path, n: int, last: int = len(STAGES) - 1) -> int:
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
            str(last),
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
    ap.add_argument("--stages", action="store_true", help="also report what each stage adds per paper")
    args = ap.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    from sample_input import write_sample_jsonl

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.jsonl"
        write_sample_jsonl(src, args.papers + 15, vary=args.vary)
        base = instructions(src, 0)
        per_paper = {}
        for last in range(len(STAGES)) if args.stages else [len(STAGES) - 1]:
            per_paper[last] = (instructions(src, args.papers, last) - base) // args.papers
    report = {"papers": args.papers, "vary": args.vary, "instructions_per_paper": per_paper[len(STAGES) - 1]}
    if args.stages:
        report["stages"] = {name: per_paper[i] - per_paper.get(i - 1, 0) for i, name in enumerate(STAGES)}
    print(json.dumps(report, indent=1 if args.stages else None))


if __name__ == "__main__":
    main()
