"""A perfect model, through the real CLI: a scripted OpenAI-compatible server on 127.0.0.1 answers
every abstract with its hand-labelled claims, as a careful model would state them (the verbatim
text, the value, the unit, the qualifier its words say, the metric, kind and direction). Whatever
the verifier flags or re-asks here is a correct answer doubted.

    python benchmarks/perfect_model.py [--set labelled tuning heldout-systems heldout-others] [--show-failures]

Prints, per set: claims verified, papers re-asked, requests per paper. `--show-failures` lists the
flagged claims and why, but never for a held-out set (tune on the others; the held-out figures are
reported, not looked into: issue 28).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from conftest import LocalServer, read_jsonl, run_cli  # noqa: E402
from perfect import HELD_OUT, SETS, handler, load  # noqa: E402


def measure(name: str, tmp: Path, show: bool) -> dict:
    papers = load(name)
    server = LocalServer(handler(papers))
    inp = tmp / f"{name}.jsonl"
    with open(inp, "w", encoding="utf-8") as f:
        for p, _ in papers.values():
            f.write(json.dumps({"id": p.id, "title": p.title, "abstract": p.abstract}) + "\n")
    out = tmp / f"{name}.out.jsonl"
    try:
        r = run_cli(
            "extract", inp, "-o", out, "--model", "perfect", "--base-url", f"{server.url}/v1", "--no-cache", "-q"
        )
    finally:
        server.close()
    if r.returncode not in (0, 1):
        sys.exit(r.stderr)
    recs = read_jsonl(out)
    claims = [n for rec in recs for n in rec["headline_numbers"]]
    verified = sum(1 for n in claims if n["verified"])
    requests = sum((rec.get("usage") or {}).get("requests", 0) for rec in recs)
    reasked = sum(1 for rec in recs if rec["provenance"]["reasks"])
    twice = sum(1 for rec in recs if rec["provenance"]["reasks"] >= 2)
    names = [rec for rec in recs if rec.get("system_name")]
    row = {
        "set": name,
        "papers": len(recs),
        "claims": len(claims),
        "verified": verified,
        "verified_share": round(verified / max(len(claims), 1), 3),
        "names_verified": f"{sum(1 for rec in names if rec['system_name_verified'])}/{len(names)}",
        "papers_reasked": reasked,
        "papers_reasked_twice": twice,
        "requests_per_paper": round(requests / max(len(recs), 1), 2),
    }
    if show:
        if name in HELD_OUT:
            print(f"({name}: failures are not shown for a held-out set)", file=sys.stderr)
        else:
            for rec in recs:
                for n in rec["headline_numbers"]:
                    if not n["verified"]:
                        print(f"  {rec['id']}: {n['text']!r}: {n['why']}")
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", nargs="+", default=["labelled", "heldout-systems", "heldout-others"], choices=list(SETS))
    ap.add_argument("--show-failures", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="perfect-"))
    for name in args.set:
        print(json.dumps(measure(name, tmp, args.show_failures)), flush=True)


if __name__ == "__main__":
    main()
