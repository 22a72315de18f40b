"""The LLM engine on a labelled set, against any OpenAI-compatible endpoint: `extractor eval`
scores, verification rates, numbers copied from the prompt's examples, requests and tokens per
abstract.

    python benchmarks/eval_llm.py --base-url http://127.0.0.1:8011/v1 --model qwen --limit 12 [--set heldout]
        [--prompts DIR] [--show-failures]

`--set heldout` runs the held-out abstracts of tests/data (issue 28; their failures are not listed);
`--prompts DIR` runs another prompt (an older one, to compare).

The papers used as few-shot examples in prompts/examples.jsonl are left out (the model has seen
their answers). Runs the real CLI (cache off) and the real `extractor eval`; prints one report.
A local model, e.g. Qwen2.5-Coder-1.5B-Instruct (Q4_K_M) served by llama-cpp-python:

    python -m llama_cpp.server --model qwen.gguf --n_ctx 8192 --n_threads 2 --port 8011
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SETS = {
    "labelled": (
        [ROOT / "data" / "arxiv-systems-2026-04.atom.xml", ROOT / "tests" / "data" / "systems-abstracts-extra.jsonl"],
        [
            ROOT / "data" / "arxiv-systems-2026-04.gold.jsonl",
            ROOT / "tests" / "data" / "systems-abstracts-extra.gold.jsonl",
        ],
    ),
    "heldout": (
        [ROOT / "tests" / "data" / "heldout-2026-12.jsonl"],
        [ROOT / "tests" / "data" / "heldout-2026-12.gold.jsonl"],
    ),
    "tuning": (
        [ROOT / "tests" / "data" / "tuning-2026-12.jsonl"],
        [ROOT / "tests" / "data" / "tuning-2026-12.gold.jsonl"],
    ),
}


def numbers_in(text: str) -> list[float]:
    from extractor.analysis.quantities import scan

    return [x for q in scan(text, context=False) for x in (q.value, q.low, q.high) if x is not None]


def cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "extractor", *map(str, args)], capture_output=True, text=True, **kw)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--limit", type=int, default=None, help="papers at most (in input order)")
    ap.add_argument("--concurrency", type=int, default=1)
    ap.add_argument("--mode", default="auto")
    ap.add_argument("--max-tokens", type=int, default=1024)
    ap.add_argument("--max-reasks", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--out", default=None, help="keep the table here")
    ap.add_argument("--set", default="labelled", choices=list(SETS))
    ap.add_argument("--prompts", default=None, help="a prompts directory (default: the bundled prompts)")
    ap.add_argument("--show-failures", action="store_true", help="list why claims failed (never for the held-out set)")
    args = ap.parse_args()
    INPUTS, GOLDS = SETS[args.set]

    from extractor.core.ids import split_arxiv_id
    from extractor.sources import read_papers

    prompts_dir = Path(args.prompts) if args.prompts else ROOT / "prompts"
    example_rows = [json.loads(line) for line in open(prompts_dir / "examples.jsonl") if line.strip()]
    examples = {e["title"] for e in example_rows}
    example_numbers = {x for e in example_rows for x in numbers_in(e["abstract"])}
    tmp = Path(tempfile.mkdtemp(prefix="eval-llm-"))
    inp, gold = tmp / "in.jsonl", tmp / "gold.jsonl"
    gold_rows = {
        split_arxiv_id(json.loads(line)["id"])[0]: line for path in GOLDS for line in open(path) if line.strip()
    }
    chosen = []
    for path in INPUTS:
        for p in read_papers(str(path)):
            if p.title in examples or p.id not in gold_rows:
                continue
            chosen.append(p)
    chosen = chosen[: args.limit] if args.limit else chosen
    with open(inp, "w") as f:
        for p in chosen:
            f.write(json.dumps({"id": p.id, "title": p.title, "abstract": p.abstract}) + "\n")
    with open(gold, "w") as f:
        for p in chosen:
            f.write(gold_rows[p.id].rstrip("\n") + "\n")
    out = Path(args.out) if args.out else tmp / "table.jsonl"
    summary = tmp / "summary.json"
    t0 = time.time()
    r = cli(
        "extract",
        inp,
        "-o",
        out,
        "--model",
        args.model,
        "--base-url",
        args.base_url,
        "--no-cache",
        "--concurrency",
        args.concurrency,
        "--mode",
        args.mode,
        "--max-tokens",
        args.max_tokens,
        "--max-reasks",
        args.max_reasks,
        "--timeout",
        args.timeout,
        "--summary-json",
        summary,
        "-q",
        *(["--prompts", args.prompts] if args.prompts else []),
    )
    wall = time.time() - t0
    if r.returncode not in (0, 1):
        sys.exit(f"extract failed: {r.stderr}")
    ev = cli("eval", out, gold, "--json")
    if ev.returncode != 0:
        sys.exit(f"eval failed: {ev.stderr}")
    metrics = json.loads(ev.stdout)["metrics"]
    s = json.loads(summary.read_text())
    recs = [json.loads(line) for line in open(out) if line.strip()]
    claims = [n for rec in recs for n in rec["headline_numbers"]]
    ok = [rec for rec in recs if rec["status"] == "ok"]
    n = max(len(claims), 1)
    from extractor.analysis.units import values_agree

    golds = {json.loads(line)["id"]: json.loads(line) for line in open(gold)}
    value_correct = verified_correct = leaked = 0
    for rec in recs:
        g = golds.get(rec["id"], {"numbers": []})
        own = numbers_in(rec["abstract"])
        for c in rec["headline_numbers"]:
            said = c.get("model_answer") or c
            v, lo, hi = said.get("value"), said.get("low"), said.get("high")
            if v is None and (lo is None) != (hi is None):
                v = lo if hi is None else hi  # a single bound is the model's value ({"low": 36.8} for "36.8%")
            vals = [x for x in (v, lo, hi) if isinstance(x, (int, float))]
            if any(values_agree(float(x), e) for x in vals for e in example_numbers) and not any(
                values_agree(float(x), o) for x in vals for o in own
            ):
                leaked += 1  # a number of the prompt's examples, not of this paper
            right = any(
                (gn.get("value") is not None and isinstance(v, (int, float)) and values_agree(float(v), gn["value"]))
                or (
                    gn.get("low") is not None
                    and isinstance(lo, (int, float))
                    and isinstance(hi, (int, float))
                    and values_agree(float(lo), gn["low"])
                    and values_agree(float(hi), gn["high"])
                )
                for gn in g["numbers"]
            )
            value_correct += right
            verified_correct += right and c["verified"]
    report = {
        "model": args.model,
        "papers": len(recs),
        "error_records": len(recs) - len(ok),
        "wall_s": round(wall, 1),
        "eval": {k: round(v, 3) if isinstance(v, float) else v for k, v in metrics.items()},
        "claims": len(claims),
        "verified_share": round(sum(x["verified"] for x in claims) / n, 3),
        "value_correct_claims": value_correct,
        "value_correct_verified": verified_correct,
        "value_correct_verified_share": round(verified_correct / max(value_correct, 1), 3),
        "numbers_from_the_examples": leaked,
        "requests_per_paper": round(s["usage"]["requests"] / max(len(recs), 1), 2),
        "metric_supported_share": round(sum(x["metric_supported"] is True for x in claims) / n, 3),
        "metric_unsupported_share": round(sum(x["metric_supported"] is False for x in claims) / n, 3),
        # the class the model named (model_answer.metric_class): given, one of the taxonomy's, kept
        "metric_class_given": sum(bool((x.get("model_answer") or {}).get("metric_class")) for x in claims),
        "metric_class_not_in_taxonomy": sum("is not in the taxonomy" in (x["why"] or "") for x in claims),
        "metric_classes": sorted({x.get("metric_class") or "" for x in claims}),
        "uncovered_numbers": sum(len(rec.get("uncovered_numbers") or []) for rec in recs),
        "names_flagged": sum(rec.get("system_name_verified") is False for rec in recs),
        "reasked_papers": sum(rec["provenance"]["reasks"] > 0 for rec in recs),
        "requests": s["usage"]["requests"],
        "prompt_tokens_per_paper": round(s["usage"]["prompt_tokens"] / max(len(recs), 1)),
        "completion_tokens_per_paper": round(s["usage"]["completion_tokens"] / max(len(recs), 1)),
    }
    if args.show_failures and args.set != "heldout":
        report["why_not_verified"] = sorted(
            {(x["why"] or "").split(" but ")[0][:60] for x in claims if not x["verified"]}
        )
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
