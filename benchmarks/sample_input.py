"""The benchmarks' input: N JSONL lines made from the bundled sample feed's 15 papers, ids distinct."""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_sample_jsonl(path: Path, n: int, authors: bool = True) -> None:
    from extractor.sources import read_papers

    papers = list(read_papers(str(ROOT / "data" / "arxiv-systems-2026-04.atom.xml")))
    with open(path, "w") as f:
        for i in range(n):
            p = papers[i % len(papers)]
            d = {"id": f"bench.{i:07d}", "title": p.title, "abstract": p.abstract}
            if authors:
                d["authors"] = p.authors
            f.write(json.dumps(d) + "\n")
