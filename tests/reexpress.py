"""A scripted model: answers each paper from the labelled gold, re-expressed in one of the ways
real models write the same (or a wrong) answer. The request's `model` names the shape.

Tolerant shapes re-express a correct answer (the claims must still verify); strict shapes make it
wrong (nothing wrong may pass). Used by tests/test_reexpressions.py through a real HTTP server and
the real CLI, and by benchmarks/verification_shapes.py to print the table in the README.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from extractor.analysis.quantities import parse_span
from extractor.sources import read_papers

ROOT = Path(__file__).resolve().parent.parent
INPUTS = [ROOT / "data" / "arxiv-systems-2026-04.atom.xml", ROOT / "tests" / "data" / "systems-abstracts-extra.jsonl"]
GOLDS = [
    ROOT / "data" / "arxiv-systems-2026-04.gold.jsonl",
    ROOT / "tests" / "data" / "systems-abstracts-extra.gold.jsonl",
]


def load():
    """{title: (paper, gold)} for the 60 labelled papers."""
    gold = {}
    for path in GOLDS:
        for line in open(path, encoding="utf-8"):
            if line.strip():
                g = json.loads(line)
                gold[g["id"]] = g
    out = {}
    for path in INPUTS:
        for p in read_papers(str(path)):
            if p.id in gold:
                out[p.title] = (p, gold[p.id])
    return out


def claim(n: dict) -> dict:
    """A gold number as a perfect model would give it."""
    return {
        "text": n["text"],
        "value": n.get("value"),
        "low": n.get("low"),
        "high": n.get("high"),
        "unit": n["unit"],
        "qualifier": "exact",
        "metric": n.get("metric"),
        "direction": n.get("direction", "none"),
        "kind": n.get("kind", "result"),
        "baseline": None,
    }


def _is_range(c):
    return c["low"] is not None or c["high"] is not None


_SYNONYMS = {
    "%": ["percent", "percentage", "pct", "% lower", "per cent"],
    "x": ["x faster", "speedup", "multiplier", "times", "fold", "×", "X", "times faster"],
    "ms": ["milliseconds"],
    "µs": ["microseconds", "us", "usec"],
    "ns": ["nanoseconds"],
    "min": ["minutes"],
    "s": ["seconds", "sec"],
    "d": ["days"],
    "GB": ["gigabytes", "GB"],
    "MiB": ["MiB", "mebibytes"],
    "KB": ["kilobytes"],
    "nm": ["nanometers"],
    "°C": ["degrees Celsius", "°C"],
    "µm2": ["µm²"],
    "cycles": ["cycles"],
}
# to a smaller unit, as a model that "normalises" units would
_DIMENSION = {
    "GB": ("MB", 1024),
    "MiB": ("KiB", 1024),
    "KB": ("B", 1000),
    "ms": ("µs", 1000),
    "µs": ("ns", 1000),
    "ns": ("ps", None),
    "min": ("s", 60),
    "s": ("ms", 1000),
    "d": ("h", 24),
}


def _next_word(abstract: str, text: str) -> str | None:
    i = abstract.find(text)
    if i < 0:
        return None
    m = re.match(r"\s+([A-Za-z][\w\-]*)", abstract[i + len(text) :])
    return m.group(1) if m else None


def _fmt(v: float) -> str:
    return f"{v:,.10g}" if abs(v) >= 1000 and float(v).is_integer() else f"{v:g}"


# --- tolerant shapes: the same meaning, written another way -------------------------------------------


def t_perfect(c, p, i):
    return c


def t_unit_empty(c, p, i):
    return {**c, "unit": ""}


def t_unit_synonyms(c, p, i):
    syn = _SYNONYMS.get(c["unit"])
    if syn:
        return {**c, "unit": syn[i % len(syn)]}
    if c["unit"] == "":
        noun = _next_word(p.abstract, c["text"])
        if noun and noun.isalpha() and noun.lower() not in ("and", "to", "of", "in", "the", "by", "for", "with"):
            return {**c, "unit": noun}  # "GPUs" for "8,054 GPUs"
    return c


def t_range_value_low(c, p, i):
    return {**c, "value": c["low"]} if _is_range(c) else c


def t_range_value_mid(c, p, i):
    return {**c, "value": (c["low"] + c["high"]) / 2} if _is_range(c) else c


def t_single_low_high(c, p, i):
    return c if _is_range(c) else {**c, "low": c["value"], "high": c["value"]}


def t_fraction(c, p, i):
    if c["unit"] == "%" and not _is_range(c):
        return {**c, "value": c["value"] / 100}
    return c


def t_negative(c, p, i):
    if c["direction"] == "decrease" and c["value"] is not None:
        return {**c, "value": -c["value"]}
    return c


def t_value_string(c, p, i):
    if c["value"] is None:
        return c
    v = _fmt(c["value"])
    if c["unit"] == "%":
        return {**c, "value": v + "%", "unit": ""}
    return {**c, "value": v}


def t_text_trailing_period(c, p, i):
    return {**c, "text": c["text"] + "."}


def t_text_space_added(c, p, i):
    return {**c, "text": re.sub(r"(\d)(%|x\b|X\b|×)", r"\1 \2", c["text"])}


def t_text_space_dropped(c, p, i):
    return {**c, "text": re.sub(r"(\d) ([A-Za-zµμ%])", r"\1\2", c["text"])}


def t_text_curly_quotes(c, p, i):
    return {**c, "text": "“" + c["text"] + "”"}


def t_text_dashes(c, p, i):
    return {**c, "text": c["text"].replace("-", "–" if i % 2 else "—")}


def t_text_times(c, p, i):
    t = re.sub(
        r"(\d)(?:x|X|×|\$\\times\$|\\times)", lambda m: m.group(1) + ["×", "x", "X", "$\\times$"][i % 4], c["text"]
    )
    return {**c, "text": t}


def t_text_digits_only(c, p, i):
    m = re.search(r"\d[\d,.]*\d|\d", c["text"])
    if not m or _is_range(c):
        return c
    return {**c, "text": m.group(0)}


def t_text_word_shorter(c, p, i):
    words = c["text"].split()
    if len(words) < 2 or _is_range(c) or not any(ch.isdigit() for ch in words[-1]):
        return c
    return {**c, "text": " ".join(words[1:])}  # "to 44%" for "up to 44%"


def t_text_word_longer(c, p, i):
    nxt = _next_word(p.abstract, c["text"])
    return {**c, "text": f"{c['text']} {nxt}"} if nxt else c


def t_text_phrase(c, p, i):
    """A whole phrase around the number, with a word the abstract does not have."""
    j = p.abstract.find(c["text"])
    if j < 0:
        return c
    before = p.abstract[:j].split()[-3:]
    after = p.abstract[j + len(c["text"]) :].split()[:3]
    if before:
        before[0] = "reportedly"  # not in the abstract here
    return {**c, "text": " ".join(before + [c["text"]] + after)}


def t_dimension(c, p, i):
    conv = _DIMENSION.get(c["unit"])
    if not conv or conv[1] is None:
        return c
    unit, f = conv
    out = {**c, "unit": unit}
    for k in ("value", "low", "high"):
        if c[k] is not None:
            out[k] = c[k] * f
    return out


def t_word_encodings(c, p, i):
    """double -> 100% more, halve -> 50% less, an order of magnitude -> 90% less when it is a decrease."""
    t = c["text"].lower()
    if c["unit"] != "x" or any(ch.isdigit() for ch in t):
        return c
    f = c["value"]
    if c["direction"] == "decrease":
        return {**c, "value": round((1 - 1 / f) * 100, 10), "unit": "%"}
    return {**c, "value": round((f - 1) * 100, 10), "unit": "%"}


def t_number_respelled(c, p, i):
    """The number written another way than the abstract: "2.42 times" for "2.42x" (and back),
    "8054" for "8,054", "20x to 100x" for "20-100x"."""
    t = re.sub(r"(?<=\d),(?=\d{3})", "", c["text"])
    t = re.sub(r"(\d) times\b", r"\1x", t) if " times" in t else re.sub(r"(\d)(?:x|X|×)(?![A-Za-z])", r"\1 times", t)
    if _is_range(c):
        t = re.sub(r"(\d[\d.]*)\s?[-–]\s?(\d[\d.]*)\s?(%|x|×)", r"\1\3 to \2\3", t)
    return {**c, "text": t}


def t_range_as_value(c, p, i):
    """A range given as the value, as one string or a list: "20-100" or [20, 100]."""
    if not _is_range(c):
        return c
    value = [c["low"], c["high"]] if i % 2 else f"{_fmt(c['low'])}-{_fmt(c['high'])}"
    return {**c, "value": value, "low": None, "high": None}


def t_unit_with_metric(c, p, i):
    """The metric's words after the unit: "% memory consumption", "ms latency"."""
    if c["unit"] in ("", "x") or not c.get("metric"):
        return c
    return {**c, "unit": f"{c['unit']} {c['metric']}"}


_QUALIFIER_TEXT = {
    "up_to": "up to",
    "over": "over",
    "less_than": "less than",
    "at_least": "at least",
    "at_most": "at most",
    "approx": "about",
    "within": "within",
    "average": "on average",
}


def t_value_with_qualifier(c, p, i):
    """One number given as text with its qualifier and unit: "up to 44%", "about 2.1x"."""
    if c["value"] is None:
        return c
    parsed, _ = parse_span(c["text"])
    q = _QUALIFIER_TEXT.get(parsed.qualifier if parsed else "", "")
    return {**c, "value": f"{q} {_fmt(c['value'])}{c['unit']}".strip(), "unit": ""}


def t_trailing_zero(c, p, i):
    """Whole numbers in the text written with a decimal zero: "44.0%" for "44%", "20.0-100.0x"."""
    return {**c, "text": re.sub(r"(?<![\d.,])(\d+)(?![\d,]|\.\d)", r"\1.0", c["text"])}


TOLERANT = {k[2:]: v for k, v in globals().items() if k.startswith("t_")}


# --- strict shapes: a different meaning --------------------------------------------------------------


def _standalone(abstract: str, text: str) -> bool:
    return re.search(r"(?<![\d.,])" + re.escape(text) + r"(?![\d]|[.,]\d)", abstract) is not None


def s_inside_longer(c, p, i):
    """A round number that occurs only inside a longer one: "2x" where the abstract says "2.42x"."""
    m = re.fullmatch(r"(?:up to |over |about |within |~|<)?(\d+)[.,](\d+)\s?(%|x|X|×)?", c["text"])
    if not m:
        m2 = re.fullmatch(r"(\d)(\d+)\s?(%|x|X)", c["text"])  # "25%" -> "5%"
        if not m2:
            return None
        text, value = m2.group(2) + m2.group(3), float(m2.group(2))
    else:
        text, value = m.group(1) + (m.group(3) or ""), float(m.group(1))
    if _standalone(p.abstract, text):
        return None  # the abstract says it on its own too: not an invention
    return {**c, "text": text, "value": value, "low": None, "high": None}


def s_wrong_value(c, p, i):
    if c["value"] is None:
        return {**c, "low": c["low"] + 1, "high": c["high"] + 1}
    return {**c, "value": c["value"] * 1.1 + 1}


def s_wrong_unit(c, p, i):
    swap = {"%": "x", "x": "%", "": "ms", "ms": "GB", "µs": "GB", "min": "MB", "GB": "ms", "MiB": "s"}
    u = swap.get(c["unit"], "%")
    return {**c, "unit": u}


def s_range_as_single(c, p, i):
    return {**c, "value": c["low"], "low": None, "high": None} if _is_range(c) else None


def s_wrong_qualifier(c, p, i):
    parsed, _ = parse_span(c["text"])
    if parsed is None:
        return None
    group = {"up_to": "upper", "at_most": "upper", "less_than": "upper", "over": "lower", "at_least": "lower"}
    stated = group.get(parsed.qualifier, parsed.qualifier)
    # a qualifier of another group whose words are nowhere in the sentence
    sentence = next((s for s in re.split(r"(?<=[.!?])\s+", p.abstract) if c["text"] in s), p.abstract).lower()
    for q, cues in (
        ("over", ("over", "more than", "above", "exceed")),
        ("up_to", ("up to", "as much", "maximum", "peak")),
        ("average", ("average", "mean")),
        ("approx", ("about", "approx", "around", "roughly", "nearly", "~")),
    ):
        if group.get(q, q) != stated and not any(cue in sentence for cue in cues):
            return {**c, "qualifier": q}
    return None


STRICT = {k[2:]: v for k, v in globals().items() if k.startswith("s_")}
GENERIC_NAMES = ["we", "system", "framework", "LLM"]


def answer(shape: str, paper, gold: dict) -> dict:
    """The scripted model's reply content (a JSON object) for one paper."""
    claims = [claim(n) for n in gold["numbers"]]
    name = gold.get("system_name")
    if shape in TOLERANT:
        nums = [TOLERANT[shape](c, paper, i) for i, c in enumerate(claims)]
    elif shape in STRICT:
        nums = [x for x in (STRICT[shape](c, paper, i) for i, c in enumerate(claims)) if x is not None]
    elif shape == "swapped_metric":
        nums = swap_metrics(claims)
    elif shape == "duplicate":
        nums = claims + claims[:1]
    elif shape.startswith("generic_name_"):
        nums, name = claims, shape[len("generic_name_") :]
    elif shape == "decorated_name":
        nums, name = claims, (f"**{name}** (the proposed system)" if name else name)
    else:
        raise KeyError(shape)
    return {"system_name": name, "problem": "p", "technique": "t", "headline_numbers": nums}


def swap_metrics(claims: list[dict]) -> list[dict]:
    """Each claim takes the metric of the next claim with a different metric (a correct number
    given another number's metric); claims with no other metric to take are left out."""
    from extractor.analysis.metrics import content_words, shared

    out = []
    for i, c in enumerate(claims):
        mine = content_words(c["metric"])
        others = [
            d
            for d in claims[i + 1 :] + claims[:i]
            if content_words(d["metric"]) and not shared(content_words(d["metric"]), mine)
        ]
        if others:
            out.append({**c, "metric": others[0]["metric"], "swapped": True})
    return out


def handler(papers: dict):
    """An HTTP handler for tests/conftest.LocalServer: the shape is the request's model."""

    def h(req):
        body = json.loads(req["body"])
        # the paper's own message: the last user message with a title (a re-ask comes after it)
        user = next(
            m["content"]
            for m in reversed(body["messages"])
            if m["role"] == "user" and "Title: " in (m["content"] or "")
        )
        title = re.search(r"Title: (.*)", user).group(1).strip()
        paper, gold = papers[title]
        content = json.dumps(answer(body["model"], paper, gold))
        reply = {
            "id": "c",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": content, "refusal": None},
                }
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
        }
        return 200, {"content-type": "application/json"}, json.dumps(reply)

    return h


SHAPES = [
    *TOLERANT,
    *STRICT,
    "swapped_metric",
    "duplicate",
    *(f"generic_name_{n}" for n in GENERIC_NAMES),
    "decorated_name",
]


def _same_as_gold(n: dict, g: dict) -> bool:
    from extractor.analysis.units import canonical_unit, values_agree

    if canonical_unit(g["unit"]) != n["unit"]:
        return False
    if g.get("value") is not None:
        return values_agree(float(g["value"]), n["value"])
    return values_agree(float(g["low"]), n["low"]) and values_agree(float(g["high"]), n["high"])


def measure(shape: str, records: list[dict], papers: dict) -> dict:
    """Counts for one shape's run: claims, how many verified (and verified right), re-asks,
    metric support, and for names how many passed."""
    by_id = {r["id"]: r for r in records}
    out = {
        "shape": shape,
        "claims": 0,
        "verified": 0,
        "verified_right": 0,
        "supported": 0,
        "unsupported": 0,
        "papers": 0,
        "reasked": 0,
        "names_verified": 0,
        "names_right": 0,
        "names": 0,
    }
    for paper, gold in papers.values():
        rec = by_id.get(paper.id)
        if rec is None:
            continue
        out["papers"] += 1
        out["reasked"] += rec["provenance"]["reasks"] > 0
        out["names_verified"] += bool(rec.get("system_name_verified"))
        out["names_right"] += bool(rec.get("system_name_verified")) and rec["system_name"] == gold.get("system_name")
        out["names"] += bool(gold.get("system_name"))
        nums = rec["headline_numbers"]
        if shape in TOLERANT:
            for n, g in zip(nums, gold["numbers"]):
                out["claims"] += 1
                out["verified"] += n["verified"]
                out["verified_right"] += n["verified"] and _same_as_gold(n, g)
                out["supported"] += n.get("metric_supported") is not False
                out["unsupported"] += n.get("metric_supported") is False
        elif shape == "swapped_metric":
            for n in nums:
                out["claims"] += 1
                out["verified"] += n["verified"]
                out["unsupported"] += n.get("metric_supported") is False
        elif shape == "duplicate":
            # the first claim again, at the end: wrong unless its text stands twice in the abstract
            # (then each claim holds its own occurrence)
            if gold["numbers"] and nums:
                first, again = nums[0], nums[-1]
                twice = len(re.findall(re.escape(gold["numbers"][0]["text"]), paper.abstract)) > 1
                out["claims"] += 1
                out["verified"] += again["verified"] and (not twice or again["start"] == first["start"])
        elif shape in ("wrong_unit", "wrong_qualifier"):
            # the span is the authority for the unit and qualifier of a claim that quotes it: the
            # wrong answer passes only if the record stores it as verified
            given = {g["text"]: g for g in gold["numbers"]}
            for n in nums:
                out["claims"] += 1
                asked = n["model_answer"]
                if shape == "wrong_unit":
                    g = given.get(asked["text"])
                    wrong = g is not None and canonical(n["unit"]) != canonical(g["unit"])
                else:
                    wrong = n["qualifier"] == asked["qualifier"]
                out["verified"] += n["verified"] and wrong
        else:
            out["claims"] += len(nums)
            out["verified"] += sum(n["verified"] for n in nums)
    return out


def canonical(unit: str) -> str:
    from extractor.analysis.units import canonical_unit

    return canonical_unit(unit)


def write_inputs(papers: dict, path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for p, _ in papers.values():
            f.write(json.dumps({"id": p.id, "title": p.title, "abstract": p.abstract}) + "\n")


def run_shape(shape: str, base_url: str, inputs, out, run_cli) -> tuple[int, str]:
    """One shape through the real CLI against the scripted server."""
    r = run_cli(
        "extract",
        inputs,
        "-o",
        out,
        "--model",
        shape,
        "--base-url",
        base_url,
        "--no-cache",
        "--concurrency",
        "8",
        "-q",
        env={"EXTRACTOR_BACKOFF": "0.01"},
    )
    return r.returncode, r.stderr


def table(rows: list[dict]) -> str:
    """The README's table of shapes and what verification made of them."""
    lines = [
        "| the model answers | claims | verified (canonical value and unit right) | metric supported | re-asked papers |",
        "| --- | --- | --- | --- | --- |",
    ]
    for m in rows:
        s, n = m["shape"], max(m["claims"], 1)
        if s in TOLERANT:
            cells = (
                f"{m['verified_right']} of {m['claims']} ({m['verified_right'] / n:.0%})",
                f"{m['supported']} of {m['claims']}",
                f"{m['reasked']} of {m['papers']}",
            )
        elif s.startswith("generic_name_"):
            cells = ("name not verified in " + f"{m['papers'] - m['names_verified']} of {m['papers']} papers", "", "")
        elif s == "decorated_name":
            cells = (f"name verified, as the paper writes it, in {m['names_right']} of {m['names']} papers", "", "")
        elif s == "swapped_metric":
            cells = (
                f"{m['verified']} (the number is right)",
                f"**{m['unsupported']} of {m['claims']} caught ({m['unsupported'] / n:.0%})**",
                "",
            )
        else:
            cells = (f"**{m['verified']} wrong claims passed**", "", f"{m['reasked']} of {m['papers']}")
        lines.append(
            f"| {'tolerant' if s in TOLERANT or s == 'decorated_name' else 'strict'}: `{s}` | {m['claims']} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines)
