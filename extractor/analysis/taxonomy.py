"""Metric classes: what kind of thing a claim measures, and which way is better.

Claims from different papers line up in the comparison only when they measure the same kind of
thing: every claim gets one class of this taxonomy (`metric_class`) and, from the class and the
claim's direction, whether the claim is an improvement (`better`: True / False / None).

The taxonomy was refined from the labelled systems abstracts (tests/data, data/): the issue's
classes plus `overhead` (the commonest cost in systems papers: "within 5% overhead"), `findings`
(bugs and vulnerabilities found by tools) and `availability`; CPU use and utilisation are
separate because their better directions are opposite ("44% less CPU" vs "34.6% higher
utilisation").

A class is found from the metric's words, as data: multi-word phrases first ("tail latency",
"energy efficiency"), then single words from the last word of the phrase backwards (the head noun
decides: "memory bandwidth" is throughput, "GPU utilization loss" is utilisation, "node-level CPU
consumption" is CPU). With no metric words, the unit decides (a time is a latency, a byte count
memory). No library classifies systems metrics; this is the project's own vocabulary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from .units import dimension


@dataclass(frozen=True)
class MetricClass:
    key: str
    label: str
    better: Optional[str]  # "lower", "higher", or None: neither is better (a size, a scale)
    words: tuple[str, ...]  # single words (lower-case) whose presence as a head names the class
    about: str  # one line for the docs and the LLM prompt


CLASSES: tuple[MetricClass, ...] = (
    MetricClass(
        "tail_latency",
        "Tail latency",
        "lower",
        (),
        "high-percentile latency: p99, 99th-percentile, tail latency",
    ),
    MetricClass(
        "latency",
        "Latency / time",
        "lower",
        tuple(
            """latency latencies time times delay delays duration durations ttft tpot jct makespan rtt startup
            start-up cold-start warm-start stall stalls lag""".split()
        ),
        "how long something takes: latency, response / start-up / completion / boot time",
    ),
    MetricClass(
        "throughput",
        "Throughput / bandwidth",
        "higher",
        tuple("throughput throughputs goodput bandwidth qps rps iops tps ops/s requests/s tokens/s".split()),
        "work per unit of time: throughput, bandwidth, requests or tokens per second",
    ),
    MetricClass(
        "speedup",
        "Speed-up / performance",
        "higher",
        tuple("speedup speedups speed-up speed-ups speed performance perf acceleration efficiency".split()),
        "a generic speed-up or performance gain with no more specific metric",
    ),
    MetricClass(
        "memory",
        "Memory",
        "lower",
        tuple("memory ram dram hbm footprint rss heap kv-cache".split()),
        "memory use and footprint",
    ),
    MetricClass(
        "space",
        "Storage / space",
        "lower",
        tuple("storage disk space area buffer buffers".split()),
        "storage, disk space, chip area, code or binary size",
    ),
    MetricClass(
        "cpu",
        "CPU / compute use",
        "lower",
        tuple("cpu cpus cycles instructions core-hours gpu-hours".split()),
        "processor time or work spent: CPU consumption, cycles, instructions",
    ),
    MetricClass(
        "utilization",
        "Utilisation",
        "higher",
        tuple("utilization utilisation occupancy".split()),
        "how much of a resource is put to use: GPU / cluster utilisation",
    ),
    MetricClass(
        "energy",
        "Energy / power",
        "lower",
        tuple("energy power watts joules carbon emissions".split()),
        "energy, power draw, emissions",
    ),
    MetricClass(
        "cost",
        "Cost",
        "lower",
        tuple("cost costs tco dollars price prices spend spending expense expenses bill".split()),
        "money: cost, total cost of ownership, price",
    ),
    MetricClass(
        "density",
        "Density / consolidation",
        "higher",
        tuple("density consolidation colocation".split()),
        "how much fits on one machine: deployment density, tenants per node",
    ),
    MetricClass(
        "accuracy",
        "Accuracy / quality",
        "higher",
        tuple(
            """accuracy precision recall f1 f1-score quality fidelity coverage entropy score scores bleu rouge
            correlation agreement dsc mdice
            rouge-l meteor dice iou miou auc auroc auprc ndcg mrr ssim psnr top-1 top-5""".split()
        ),
        "how good the output is: accuracy, quality, hit / success rate, coverage",
    ),
    MetricClass(
        "error",
        "Error rate",
        "lower",
        tuple("error errors rmse mse mae mape misprediction mispredictions violations perplexity wer cer fid".split()),
        "how often or how far it is wrong: error, RMSE, false positives, SLO violations",
    ),
    MetricClass(
        "overhead",
        "Overhead / slowdown",
        "lower",
        tuple("overhead overheads slowdown slowdowns interference degradation penalty".split()),
        "what a mechanism costs the system it runs in: overhead, slowdown, interference",
    ),
    MetricClass(
        "availability",
        "Availability / reliability",
        "higher",
        tuple("availability uptime durability reliability resilience".split()),
        "staying up: availability, durability, fault tolerance",
    ),
    MetricClass(
        "findings",
        "Findings (bugs, vulnerabilities)",
        "higher",
        tuple("bug bugs vulnerabilities vulnerability cves cve exploits".split()),
        "what a tool finds: bugs, vulnerabilities, CVEs",
    ),
    MetricClass(
        "model_size",
        "Model size",
        "lower",
        tuple("parameters params parameter".split()),
        "how big a model is: parameters, model size",
    ),
    MetricClass(
        "scale",
        "Scale / size",
        None,
        tuple(
            """size sizes nodes node servers gpus cores machines clusters users rows lines tasks threads
            counts count articles papers workloads frameworks benchmarks applications traces reports chips vms
            containers instances""".split()
        ),
        "how big the system or experiment is: nodes, GPUs, message size, lines of code",
    ),
    MetricClass("other", "Other", None, (), "anything else"),
)

BY_KEY = {c.key: c for c in CLASSES}
KEYS = tuple(BY_KEY)
ORDER = {c.key: i for i, c in enumerate(CLASSES)}

# phrases that decide before single words (the text is searched lower-cased, hyphens kept);
# the third field overrides the class's better direction ("energy efficiency": higher is better)
PHRASES: tuple[tuple[str, str, Optional[str]], ...] = (
    (r"\btail\b|\bp9\d(?:\.\d+)?\b|\b9\d(?:\.\d+)?(?:th|%)(?:[- ]percentile)?\b", "tail_latency", None),
    (r"\benergy[- ]efficiency\b|\bperformance per watt\b|\bperf(?:ormance)?/watt\b", "energy", "higher"),
    (r"\bcost[- ]efficiency\b|\bperformance per dollar\b", "cost", "higher"),
    (r"\bcompression ratio\b", "space", "higher"),
    (r"\bmodel (?:size|footprint)\b|\bparameter count\b|\bnumber of parameters\b", "model_size", None),
    (r"\b(?:code|binary|image|index|firmware code) size\b", "space", None),
    (r"\bfalse[- ]positives?\b|\bfalse[- ]negatives?\b|\bmiss (?:rate|ratio)\b", "error", None),
    (r"\b(?:hit|success|pass|completion) (?:rates?|ratios?)\b|\btasks completed\b", "accuracy", None),
    (r"\bcpu time\b|\bcpu (?:usage|consumption|utili[sz]ation)\b", "cpu", None),
    (r"\bfault tolerance\b", "availability", None),
    (r"\brequests per second\b|\btokens per second\b|\boperations per second\b", "throughput", None),
    (r"\bper (?:node|server|host|machine)\b", "density", None),
    (r"\bbug reports?\b", "scale", None),
    (r"\bsys(?:tem)?[- ]?calls?\b", "cpu", None),
    (r"\b(?:sellable|allocatable|usable) (?:memory|capacity|cpu)\b", "utilization", None),
)
# the head of "throughput for individual workloads" is before the preposition, of "fraction of
# parties" after it (these nouns only count what follows them)
_PREPOSITIONS = frozenset("for under in on with during per across at when of from over against".split())
_COUNTING = frozenset("number numbers fraction share percentage proportion amount amounts".split())
_PHRASES = [(re.compile(p), k, b) for p, k, b in PHRASES]
_ANY_PHRASE = re.compile("|".join(f"(?:{p})" for p, _, _ in PHRASES))  # most metrics have none of them
# words that turn the better direction round: less "utilisation loss" and more "TCO savings" are better
INVERTERS = frozenset("loss losses savings saving saved save".split())
_BY_WORD = {w: c.key for c in CLASSES for w in c.words}
# with no metric words: the unit's kind (units.dimension), or one of these units
_DIMENSION_CLASS = {"time": "latency", "size": "memory", "rate": "throughput"}
_UNIT_CLASS = {
    "W": "energy",
    "kW": "energy",
    "mW": "energy",
    "J": "energy",
    "kWh": "energy",
    "Wh": "energy",
    "$": "cost",
    "USD": "cost",
    "€": "cost",
    "£": "cost",
    "cycles": "cpu",
    "µm2": "space",
    "mm2": "space",
}
_TOKEN = re.compile(r"[a-z0-9][a-z0-9\-/.]*[a-z0-9]|[a-z0-9]")


@dataclass(frozen=True)
class Classification:
    key: str
    better_when: Optional[str]  # "lower" / "higher" / None, after phrase overrides and inverters


@lru_cache(maxsize=8192)  # a pure function of short strings that repeat across a corpus ("throughput")
def classify(metric: Optional[str], unit: str = "", key: Optional[str] = None) -> Classification:
    """The class of a metric phrase ("cold-start latency" -> latency), and which way is better.
    With `key` (a class an engine named), only the better direction is read from the words."""
    low = (metric or "").lower()
    words = _TOKEN.findall(low)
    found, better, overridden = None, None, False
    for rx, k, b in _PHRASES if _ANY_PHRASE.search(low) else ():
        if (key is None or k == key) and rx.search(low):
            found, overridden = k, b is not None
            better = b if b is not None else BY_KEY[k].better
            break
    if found is None and key is not None:
        found, better = key, BY_KEY[key].better
    if found is None and unit == "" and _counted(words) and not head_class(_head(words)[-1]):
        found, better = (
            "scale",
            None,
        )  # "183 papers", "13 vulnerability categories": the head noun counts the study's things
    if found is None:
        for w in [*reversed(_head(words)), *reversed(words)]:
            k2 = _BY_WORD.get(w) or (_BY_WORD.get(w.split("-")[-1]) if "-" in w else None)
            if k2:
                found, better = k2, BY_KEY[k2].better
                break
    if found is None and unit == "" and _counted(words):
        found, better = "scale", None  # "183 papers", "23 time series datasets": a count of the study's things
    if found is None:
        found = _UNIT_CLASS.get(unit) or _DIMENSION_CLASS.get(dimension(unit)) or "other"
        better = BY_KEY[found].better
    if better is not None and not overridden and any(w in INVERTERS for w in words):
        better = "higher" if better == "lower" else "lower"
    return Classification(found, better)


# plurals that count no thing of a study: a span of time ("15 years"), statements ("11 observations"),
# or the part of a ratio ("fraction of active parties")
_NOT_COUNTED = frozenset(
    """years months weeks days hours minutes seconds observations insights lessons takeaways implications
    challenges questions principles guidelines""".split()
)


def _counted(words: list[str]) -> bool:
    """A count's metric whose head noun is a plural ("configurations", "vulnerability categories")."""
    if any(w in _COUNTING or w in ("ratio", "rate", "rates") for w in words):
        return False
    head = _head(words)
    last = head[-1] if head else ""
    return (
        len(last) > 3
        and last.endswith("s")
        and not last.endswith(("ss", "us", "is"))
        and last.isalpha()
        and last not in _NOT_COUNTED
    )


def head_class(word: str) -> Optional[str]:
    """The class one word names ("sizes" -> scale, "latency" -> latency), if any."""
    w = word.lower()
    return _BY_WORD.get(w) or (_BY_WORD.get(w.split("-")[-1]) if "-" in w else None)


def word_class(metric: Optional[str]) -> Optional[str]:
    """The class the metric's words name, or None when no word of the taxonomy is in it."""
    if not metric:
        return None
    c = classify(metric, "\0")  # a unit no class has: the words alone decide
    return None if c.key == "other" else c.key


def _head(words: list[str]) -> list[str]:
    """The words before the first preposition, skipping "number of", "fraction of"."""
    for i, w in enumerate(words):
        if w in _PREPOSITIONS and not (w == "of" and i > 0 and words[i - 1] in _COUNTING):
            return words[:i]
    return words


def better(cls: Classification, direction: Optional[str], qualifier: Optional[str] = None) -> Optional[bool]:
    """Is the claim an improvement? A decrease of a lower-is-better metric is; "within 5%" and a
    claim with no direction say neither."""
    if cls.better_when is None or qualifier == "within" or direction not in ("increase", "decrease"):
        return None
    return (direction == "decrease") == (cls.better_when == "lower")


def label(key: Optional[str]) -> str:
    c = BY_KEY.get(key or "")
    return c.label if c else (key or "")


def valid(key: Optional[str]) -> bool:
    return key in BY_KEY


def prompt_list() -> str:
    """The taxonomy as the LLM prompt shows it: one line per class."""
    return "\n".join(f"- {c.key}: {c.about}" for c in CLASSES)
