"""The benchmarks' input: N JSONL lines made from the bundled sample feed's 15 papers, ids distinct.

With `vary=True` every copy after the first fifteen has each digit 1-9 replaced by a random one of
1-9 (seeded by the copy's number, so the file is the same every time; 0 stays, so no number gains
a leading zero): the sentences stay the sample feed's, but the numbers differ from copy to copy, so
no per-span cache hits on a repeated abstract, as none would on a corpus of distinct papers.
"""

import json
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_DIGITS = re.compile(r"[1-9]")


def _rotated(text: str, copy: int) -> str:
    if copy == 0:
        return text
    rng = random.Random(copy)
    return _DIGITS.sub(lambda m: str(rng.randint(1, 9)), text)


def write_sample_jsonl(path: Path, n: int, authors: bool = True, vary: bool = False) -> None:
    from extractor.sources import read_papers

    papers = list(read_papers(str(ROOT / "data" / "arxiv-systems-2026-04.atom.xml")))
    with open(path, "w") as f:
        for i in range(n):
            p = papers[i % len(papers)]
            abstract = _rotated(p.abstract, i // len(papers)) if vary else p.abstract
            d = {"id": f"bench.{i:07d}", "title": p.title, "abstract": abstract}
            if authors:
                d["authors"] = p.authors
            f.write(json.dumps(d) + "\n")
