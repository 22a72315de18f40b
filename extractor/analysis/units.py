"""Units: the canonical names records use, the ways models and reviewers write them, and whether
two quantities in different units say the same thing.

Physical units (time, data size, data rate, frequency, power, energy, temperature, area, length)
are converted by Pint, which is made for it. Pint has no notion of the units this field uses most:
a factor ("4.07x", "3-fold"), a percentage change ("44%") or percentage points ("2.3 pp"), and a
count ("8,054 GPUs"); those stay here, as plain rules. Data sizes are compared under both the
decimal and the binary reading (papers and models write "MB" for either: 57 GB is given as
58,368 MB as often as 57,000 MB).
"""

from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache
from typing import Any, Optional

# canonical unit -> Pint expression (units that Pint cannot express are absent)
PINT_NAMES: dict[str, str] = {
    "ns": "nanosecond",
    "µs": "microsecond",
    "ms": "millisecond",
    "s": "second",
    "min": "minute",
    "h": "hour",
    "d": "day",
    "wk": "week",
    "mo": "month",
    "yr": "year",
    "B": "byte",
    "KB": "kilobyte",
    "MB": "megabyte",
    "GB": "gigabyte",
    "TB": "terabyte",
    "KiB": "kibibyte",
    "MiB": "mebibyte",
    "GiB": "gibibyte",
    "TiB": "tebibyte",
    "bit": "bit",
    "Mbps": "megabit/second",
    "Gbps": "gigabit/second",
    "Tbps": "terabit/second",
    "MB/s": "megabyte/second",
    "GB/s": "gigabyte/second",
    "TB/s": "terabyte/second",
    "tokens/s": "token/second",
    "ops/s": "operation/second",
    "req/s": "request/second",
    "QPS": "query/second",
    "IOPS": "io_operation/second",
    "PFLOPS": "petaflop/second",
    "TFLOPS": "teraflop/second",
    "GFLOPS": "gigaflop/second",
    "GHz": "gigahertz",
    "MHz": "megahertz",
    "kWh": "kilowatt_hour",
    "kW": "kilowatt",
    "MW": "megawatt",
    "mW": "milliwatt",
    "W": "watt",
    "J": "joule",
    "°C": "degree_Celsius",
    "mm2": "millimeter**2",
    "µm2": "micrometer**2",
    "nm": "nanometer",
}

# Units with no physical dimension in Pint's sense; each is its own kind.
FACTOR, PERCENT, POINTS, COUNT = "x", "%", "pp", ""

# Scores that papers name like units ("2.3 BLEU", "F1: 0.712", "+4.1 mAP"): a number on the score's
# own scale, with no dimension. A score's name as a claim's unit agrees with a span that states the
# bare number (its metric names it: "an F1 of 0.712"), and with points of it ("2.3 points"). No unit
# library knows these; the names are this field's. Lower-case spelling -> the name records use.
SCORES: dict[str, str] = {
    s.lower(): s
    for s in (
        "F1", "F1-score", "BLEU", "ROUGE", "ROUGE-1", "ROUGE-2", "ROUGE-L", "METEOR", "CIDEr", "chrF", "mAP",
        "AP", "AP50", "AUC", "AUROC", "AUPRC", "Dice", "IoU", "mIoU", "NDCG", "MRR", "EM", "perplexity", "PPL",
        "accuracy", "precision", "recall", "top-1", "top-5", "pass@1", "SSIM", "FID", "BPC", "WER", "CER",
    )
}  # fmt: skip
SCORES["f1 score"] = "F1"
SCORES["f1-score"] = "F1"
CANONICAL: frozenset[str] = (
    frozenset(PINT_NAMES) | {FACTOR, PERCENT, POINTS, COUNT, "cycles", "$", "€", "£"} | frozenset(SCORES.values())
)


def is_score(unit: str) -> bool:
    """A score's name used as a unit ("F1", "BLEU"), or any other name a model gives a unit-less
    score ("Jain's index", "accuracy")."""
    return unit in SCORES.values()


# How units are written by models, reviewers and abstracts, lower-cased, mapped to canonical names.
# A unit not listed here is looked up case-sensitively among the canonical names, then as written.
_SPELLINGS: dict[str, str] = {
    # factors
    "x": "x",
    "×": "x",
    "times": "x",
    "fold": "x",
    "-fold": "x",
    "speedup": "x",
    "speed-up": "x",
    "speedups": "x",
    "multiplier": "x",
    "factor": "x",
    "\\times": "x",
    "$\\times$": "x",
    "x speedup": "x",
    # percentages and percentage points
    "%": "%",
    "percent": "%",
    "percentage": "%",
    "pct": "%",
    "per cent": "%",
    "\\%": "%",
    "percents": "%",
    "pp": "pp",
    "p.p.": "pp",
    "percentage point": "pp",
    "percentage points": "pp",
    "points": "pp",
    "pts": "pp",
    "percent points": "pp",
    # money
    "$": "$",
    "usd": "$",
    "us$": "$",
    "dollar": "$",
    "dollars": "$",
    "us dollars": "$",
    "€": "€",
    "eur": "€",
    "euro": "€",
    "euros": "€",
    "£": "£",
    "gbp": "£",
    "pounds": "£",
    # counts
    "count": "",
    "counts": "",
    "none": "",
    "null": "",
    "n/a": "",
    "number": "",
    "items": "",
    "unitless": "",
    "-": "",
    # time
    "ns": "ns",
    "nanosecond": "ns",
    "nanoseconds": "ns",
    "nsec": "ns",
    "µs": "µs",
    "us": "µs",
    "microsecond": "µs",
    "microseconds": "µs",
    "usec": "µs",
    "usecs": "µs",
    "ms": "ms",
    "millisecond": "ms",
    "milliseconds": "ms",
    "msec": "ms",
    "msecs": "ms",
    "s": "s",
    "sec": "s",
    "secs": "s",
    "second": "s",
    "seconds": "s",
    "min": "min",
    "mins": "min",
    "minute": "min",
    "minutes": "min",
    "h": "h",
    "hr": "h",
    "hrs": "h",
    "hour": "h",
    "hours": "h",
    "d": "d",
    "day": "d",
    "days": "d",
    "wk": "wk",
    "week": "wk",
    "weeks": "wk",
    "mo": "mo",
    "month": "mo",
    "months": "mo",
    "yr": "yr",
    "yrs": "yr",
    "year": "yr",
    "years": "yr",
    # data size
    "b": "B",
    "byte": "B",
    "bytes": "B",
    "bit": "bit",
    "bits": "bit",
    "kb": "KB",
    "kbyte": "KB",
    "kbytes": "KB",
    "kilobyte": "KB",
    "kilobytes": "KB",
    "mb": "MB",
    "mbyte": "MB",
    "mbytes": "MB",
    "megabyte": "MB",
    "megabytes": "MB",
    "gb": "GB",
    "gbyte": "GB",
    "gbytes": "GB",
    "gigabyte": "GB",
    "gigabytes": "GB",
    "tb": "TB",
    "tbyte": "TB",
    "terabyte": "TB",
    "terabytes": "TB",
    "kib": "KiB",
    "mib": "MiB",
    "gib": "GiB",
    "tib": "TiB",
    "kibibyte": "KiB",
    "mebibyte": "MiB",
    "gibibyte": "GiB",
    "tebibyte": "TiB",
    "kibibytes": "KiB",
    "mebibytes": "MiB",
    "gibibytes": "GiB",
    "tebibytes": "TiB",
    # rates
    "gb/s": "GB/s",
    "gbps": "Gbps",
    "gbit/s": "Gbps",
    "gigabits/s": "Gbps",
    "gigabit/s": "Gbps",
    "mb/s": "MB/s",
    "mbps": "Mbps",
    "mbit/s": "Mbps",
    "megabits/s": "Mbps",
    "tbps": "Tbps",
    "tbit/s": "Tbps",
    "gigabytes/s": "GB/s",
    "tb/s": "TB/s",
    "terabytes/s": "TB/s",
    "megabytes/s": "MB/s",
    "tokens/s": "tokens/s",
    "token/s": "tokens/s",
    "tok/s": "tokens/s",
    "tokens/sec": "tokens/s",
    "tps": "tokens/s",
    "ops/s": "ops/s",
    "op/s": "ops/s",
    "operations/s": "ops/s",
    "req/s": "req/s",
    "requests/s": "req/s",
    "request/s": "req/s",
    "rps": "req/s",
    "qps": "QPS",
    "queries/s": "QPS",
    "query/s": "QPS",
    "iops": "IOPS",
    "pflops": "PFLOPS",
    "pflop/s": "PFLOPS",
    "tflops": "TFLOPS",
    "tflop/s": "TFLOPS",
    "tflop": "TFLOPS",
    "gflops": "GFLOPS",
    "gflop/s": "GFLOPS",
    "gflop": "GFLOPS",
    # other physical units
    "ghz": "GHz",
    "mhz": "MHz",
    "kwh": "kWh",
    "kw": "kW",
    "watt": "W",
    "watts": "W",
    "joule": "J",
    "joules": "J",
    "°c": "°C",
    "degc": "°C",
    "celsius": "°C",
    "degrees celsius": "°C",
    "nanometer": "nm",
    "nanometers": "nm",
    "nanometre": "nm",
    "nanometres": "nm",
    "square millimeters": "mm2",
    "square micrometers": "µm2",
    "mm^2": "mm2",
    "µm^2": "µm2",
    "um^2": "µm2",
    "mm2": "mm2",
    "mm²": "mm2",
    "µm2": "µm2",
    "um2": "µm2",
    "µm²": "µm2",
    "nm": "nm",
    "cycle": "cycles",
    "cycles": "cycles",
}

# words a model adds to a unit that say the direction, not the unit: "x faster", "% lower"
_DIRECTION_WORDS = frozenset(
    {
        "faster",
        "slower",
        "higher",
        "lower",
        "more",
        "less",
        "fewer",
        "smaller",
        "larger",
        "greater",
        "better",
        "worse",
        "reduction",
        "reductions",
        "improvement",
        "improvements",
        "increase",
        "increases",
        "decrease",
        "decreases",
        "gain",
        "gains",
        "speedup",
        "speedups",
        "speed-up",
        "drop",
        "savings",
        "saving",
        "overhead",
        "of",
        "in",
        "the",
        "a",
        "an",
        "improved",
        "reduced",
        "increased",
        "decreased",
    }
)
_PER = re.compile(r"\s*(?:/|\bper\b)\s*")


def _clean(unit: str) -> str:
    u = unicodedata.normalize("NFKC", unit).replace("μ", "µ").strip().strip(".")
    return " ".join(u.split())


_METRIC_WORD = re.compile(r"[\w-]*[^\W\d_][\w-]*")  # a word with a letter in it: "latency", "p99"


def canonical_unit(unit: Optional[str]) -> str:
    """The canonical name of a unit as a model, a reviewer or an abstract writes it.

    "percent" -> "%", "x faster" -> "x", "milliseconds" -> "ms", "GB/sec" -> "GB/s", "tokens per
    second" -> "tokens/s", "" -> "" (a count). A unit this table does not know comes back cleaned,
    as written, and then agrees only with itself."""
    if unit is None:
        return ""
    if unit in CANONICAL:
        return unit
    u = _clean(unit)
    if u in CANONICAL:
        return u
    low = u.lower()
    if low in _SPELLINGS:
        return _SPELLINGS[low]
    if low in SCORES:
        return SCORES[low]
    # "x faster", "% lower", "times speedup": drop the words that only say the direction
    words = [w for w in low.split() if w not in _DIRECTION_WORDS]
    if words and len(words) < len(low.split()):
        rest = " ".join(words)
        if rest in _SPELLINGS:
            return _SPELLINGS[rest]
        if len(low.split()) > 1 and not words:
            return u
    if not words and low.split() and low.split()[0] in ("speedup", "speedups", "speed-up"):
        return "x"
    # rates: "GB/sec", "tokens per second", "requests / s"
    parts = _PER.split(low)
    if len(parts) == 2 and all(parts):
        num, den = parts
        den = _SPELLINGS.get(den, den)
        if den == "s":
            key = f"{num}/s"
            if key in _SPELLINGS:
                return _SPELLINGS[key]
            base = _SPELLINGS.get(num)
            if base in ("GB", "MB"):
                return f"{base}/s"
    # a unit with the metric's words after it: "% accuracy", "ms latency", "GB of memory"
    head, _, tail = " ".join(words).partition(" ")
    if tail and head in _SPELLINGS and all(_METRIC_WORD.fullmatch(w) for w in tail.split()):
        return _SPELLINGS[head]
    return u


def is_known(unit: str) -> bool:
    """A canonical unit: one of this field's, or one Pint reads (a name it made: "K", "m/s")."""
    if unit in CANONICAL:
        return True
    words = [w for w in re.split(r"[/ ]", unit.replace("^", "")) if w]
    if not words or not all(_SYMBOL_WORD.fullmatch(w.rstrip("0123456789-")) for w in words):
        return False
    return _pint_name(unit.replace("^", "**")) == unit


# --- comparing quantities across units -------------------------------------------------------------

REL_TOL = 1e-6  # two values agree when they differ by less than a millionth (a float's rounding)
ABS_TOL = 1e-9


def values_agree(a: Optional[float], b: Optional[float]) -> bool:
    """The one tolerance for "these two numbers are the same number", used by verification,
    review and evaluation alike. Both None agree; None and a number do not."""
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)


# "MB" as papers write it may mean either prefix; "MiB" means only the binary one
_AS_BINARY = {"KB": "KiB", "MB": "MiB", "GB": "GiB", "TB": "TiB"}


@lru_cache(maxsize=1)
def _registry():
    import pint  # imported on first use: most runs compare only quantities in the same unit

    reg: Any = pint.UnitRegistry()
    for name in ("token", "request", "operation", "query", "io_operation", "flop"):
        reg.define(f"{name} = [{name}]")
    reg.define("petaflop = 1e15 * flop")
    reg.define("teraflop = 1e12 * flop")
    reg.define("gigaflop = 1e9 * flop")
    return reg


def convert(value: float, unit: str, to: str) -> Optional[float]:
    """`value` in `unit` expressed in `to`, or None when the two are not of one dimension (or
    either is not a physical unit)."""
    if unit == to:
        return value
    f = _factor(unit, to)
    return None if f is None else value * f


# Time and data sizes convert by exact factors of their base unit; these need no Pint, whose
# registry takes half a second to load (the scanner meets "512 MB-2 GB" in ordinary abstracts).
_EXACT: dict[str, tuple[str, float]] = {
    "ns": ("s", 1e-9),
    "µs": ("s", 1e-6),
    "ms": ("s", 1e-3),
    "s": ("s", 1.0),
    "min": ("s", 60.0),
    "h": ("s", 3600.0),
    "d": ("s", 86400.0),
    "wk": ("s", 7 * 86400.0),
    "mo": ("s", 365.25 / 12 * 86400.0),  # Pint's month and year: a twelfth of a Julian year, and the year
    "yr": ("s", 365.25 * 86400.0),
    "B": ("B", 1.0),
    "KB": ("B", 1e3),
    "MB": ("B", 1e6),
    "GB": ("B", 1e9),
    "TB": ("B", 1e12),
    "KiB": ("B", 2.0**10),
    "MiB": ("B", 2.0**20),
    "GiB": ("B", 2.0**30),
    "TiB": ("B", 2.0**40),
    "bit": ("B", 0.125),
}


@lru_cache(maxsize=1024)
def _factor(unit: str, to: str) -> Optional[float]:
    """How many `to` one `unit` is: exact for time and data sizes, else Pint's answer (asked once
    per pair; every unit in PINT_NAMES but °C is a plain multiple of its base, and °C converts
    only to itself)."""
    if unit in _EXACT and to in _EXACT:
        (base_a, fa), (base_b, fb) = _EXACT[unit], _EXACT[to]
        return fa / fb if base_a == base_b else None
    a, b = _pint_expression(unit), _pint_expression(to)
    if a is None or b is None or "degree" in a or "degree" in b:
        return None
    reg = _registry()
    try:
        return float(reg.Quantity(1.0, a).to(b).magnitude)
    except Exception:  # pint's DimensionalityError and friends: not the same kind of quantity
        return None


def conversions(value: float, unit: str, to: str) -> list[float]:
    """Every reading of `value unit` in `to`: one for most units, up to four for data sizes (each
    decimal prefix also read as binary), none when the dimensions differ."""
    out = []
    for u in (unit, _AS_BINARY.get(unit)):
        for t in (to, _AS_BINARY.get(to)):
            if u is not None and t is not None:
                v = convert(value, u, t)
                if v is not None:
                    out.append(v)
    return out


def same_quantity(value: Optional[float], unit: str, other: Optional[float], other_unit: str) -> bool:
    """Whether `value unit` and `other other_unit` are one quantity: 1,200 ms and 1.2 s,
    512 MiB and 0.5 GiB (and, as papers write it, 57 GB and 58,368 MB)."""
    if value is None or other is None:
        return value is None and other is None
    if unit == other_unit:
        return values_agree(value, other)
    return any(values_agree(v, other) for v in conversions(value, unit, other_unit))


def dimension(unit: str) -> str:
    """A coarse kind for grouping: "time", "size", "rate", "factor", "percent", "points", "count",
    "other"."""
    if unit in ("ns", "µs", "ms", "s", "min", "h", "d", "wk", "mo", "yr"):
        return "time"
    if unit in ("B", "KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB", "bit"):
        return "size"
    if "/" in unit or unit in ("Mbps", "Gbps", "Tbps", "QPS", "IOPS", "TFLOPS", "GFLOPS"):
        return "rate"
    return {"x": "factor", "%": "percent", "pp": "points", "": "count"}.get(unit, "other")


# --- how units are written in abstracts, for the scanner -----------------------------------------------
# (canonical unit, spellings in the order to try). A spelling is literal text, matched case-
# sensitively and ending at a word boundary when it ends in a letter or digit; a few need more:
# "x" must not be followed by a letter or digit ("2x" but not "2xl"), "times" not by "a", "per" ...
# ("3 times a day" is no factor). Longer spellings of a unit come first.
SCANNER_UNITS: list[tuple[str, tuple[str, ...]]] = [
    (
        "pp",
        (
            "pp",
            "p.p.",
            "percentage points",
            "percentage point",
            "percentage-points",
            "percentage-point",
            "absolute points",
            "absolute point",
            "points",
            "point",
        ),
    ),  # fmt: skip
    ("%", ("%", "percent")),
    (
        "x",
        ("x", "X", "times", "-fold", "fold", "speedups", "speedup", "speed-up"),
    ),  # "1.14-14.3 speedups": a page that lost its ×
    ("ns", ("ns", "nanoseconds", "nanosecond")),
    ("µs", ("µs", "μs", "us", "microseconds", "microsecond", "usecs", "usec")),
    ("ms", ("ms", "milliseconds", "millisecond", "msecs", "msec")),
    ("min", ("minutes", "minute", "mins", "min")),
    ("h", ("hours", "hour", "hrs", "hr", "h")),
    ("d", ("days", "day")),
    ("wk", ("weeks", "week")),
    ("mo", ("months", "month")),
    ("yr", ("years", "year", "yrs")),
    ("s", ("seconds", "second", "secs", "sec", "s")),
    ("Gbps", ("Gbps", "Gb/s", "Gbit/s")),
    ("Mbps", ("Mbps", "Mb/s", "Mbit/s")),
    ("Tbps", ("Tbps", "Tb/s")),
    ("TB/s", ("TB/s", "TBps")),
    ("GB/s", ("GB/s", "GB/sec", "GBps")),
    ("MB/s", ("MB/s", "MB/sec", "MBps")),
    ("TiB", ("TiB",)),
    ("GiB", ("GiB",)),
    ("MiB", ("MiB",)),
    ("KiB", ("KiB",)),
    ("TB", ("TB", "terabytes", "terabyte")),
    ("GB", ("GB", "gigabytes", "gigabyte")),
    ("MB", ("MB", "megabytes", "megabyte")),
    ("KB", ("KB", "kB", "kilobytes", "kilobyte")),
    ("B", ("bytes", "B")),
    ("tokens/s", ("tokens per second", "tokens/sec", "tokens/s", "token/s", "tok/s")),
    ("ops/s", ("operations per second", "ops/sec", "ops/s", "op/s")),
    ("req/s", ("requests per second", "requests/sec", "requests/s", "req/sec", "req/s", "RPS")),
    ("QPS", ("queries per second", "QPS")),
    ("IOPS", ("IOPS",)),
    ("PFLOPS", ("PFLOPS", "PFLOPs", "PFLOP/s")),
    ("TFLOPS", ("TFLOPS", "TFLOPs", "TFLOP/s", "TFLOP")),
    ("GFLOPS", ("GFLOPS", "GFLOPs", "GFLOP/s", "GFLOP")),
    ("GHz", ("GHz",)),
    ("MHz", ("MHz",)),
    ("kWh", ("kWh",)),
    ("kW", ("kW",)),
    ("MW", ("MW",)),
    ("mW", ("mW",)),
    ("W", ("W", "watts", "watt")),
    ("J", ("J", "joules", "joule")),
    ("°C", ("°C",)),
    ("mm2", ("mm2", "mm²")),
    ("nm", ("nm",)),
    ("µm2", ("µm2", "μm2", "um2", "µm²", "μm²", "um²")),
    ("cycles", ("cycles", "CC")),
]
# "64B" is 64 billion ("a 64B model", "70B parameters") unless a word for a unit of data follows
# ("64B packets", "64B cache lines", "64B of memory"): then it is 64 bytes. Words that also count
# things by the billion ("1B keys", "2B requests") are not here: there "B" stays a billion.
BYTE_NOUNS = (
    "packets?", "cache[ -]lines?", "lines?", "blocks?", "pages?", "chunks?", "payloads?", "granularity",
    "aligned", "alignment", "I/Os?", "buffers?", "segments?", "frames?", "headers?", "slots?",
    "of (?:memory|data|storage|metadata|state|DRAM|RAM|SRAM|HBM)",
)  # fmt: skip
BYTES_FOLLOW = r"(?=[ -](?:" + "|".join(BYTE_NOUNS) + r")\b)"
# spellings that are a unit only in some contexts (regex lookaheads after the spelling)
SCANNER_NOT_FOLLOWED = {
    "B": BYTES_FOLLOW,
    "x": r"(?![A-Za-z0-9])",
    "X": r"(?![A-Za-z0-9])",
    # "3 times as many" / "3 times as fast as" is a factor; "3 times as a warm-up" is not
    "times": r"\b(?!\s+(?:a|an|per|each|the|in|of)\b)(?!\s+as\b(?!\s+(?:many|much|\w+\s+as)\b))",
    "-fold": r"\b(?![ -]cross)",  # "10-fold cross-validation" is a count of folds
    "point": r"\b(?![ -]?(?:of|clouds?|sets?|estimates?|mutations?|queries)\b)",  # "3 points" but not "a 3 point cloud"
    "points": r"\b(?![ -]?(?:of|clouds?|sets?|estimates?|mutations?|queries)\b)",
    "fold": r"\b(?![ -]cross)",
}


# --- units of other sciences, read by Pint ----------------------------------------------------------------
# After a number, a unit the spellings above do not name ("300 K", "5 keV", "10 μm", "3.2 m s−1",
# "1 mW m−2", "4.2 Å", "45°", "250 Hz") is read by Pint, which parses, names and converts it. Pint
# would take prose for units too ("in" is an inch, "a" a year, "at" an atmosphere, "points"
# printer's points) and takes a third of a second to import, so a word is offered to it only when it
# is written as an SI symbol with an optional SI prefix, or names an SI unit in full; the two
# patterns below say which words those are (they name no unit themselves: Pint does).
_SI_PREFIX = r"(?:Y|Z|E|P|T|G|M|k|h|da|d|c|m|µ|μ|u|n|p|f)?"
_SI_SYMBOL = r"(?:m|g|s|K|A|V|W|J|N|Hz|Pa|eV|Ω|T|mol|cd|lm|lx|L|l|Wh|Ah|C|Gy|Bq|Sv|rad|sr|dB|Å)"
_SYMBOL_WORD = re.compile(_SI_PREFIX + _SI_SYMBOL + r"|ppm|ppb|°|deg")
_UNIT_NAME_WORD = re.compile(
    r"(?:kilo|milli|micro|nano|mega|giga|centi|pico|tera)?"
    r"(?:met(?:er|re)s?|grams?|kelvins?|hertz|volts?|amperes?|pascals?|newtons?|joules?|electronvolts?|"
    r"lit(?:er|re)s?|degrees?|angstroms?|ohms?|teslas?|moles?|calories?|lux|lumens?|radians?|coulombs?|"
    r"decibels?|siemens|farads?|becquerels?|sieverts?)",
    re.I,
)
# prose that fits the symbol grammar: never a unit after a number ("3 at a time", "20 in the wild")
_PROSE_SYMBOLS = frozenset(
    {"a", "as", "at", "in", "Pa", "pa", "Ms", "ms", "M", "B", "C", "T", "h", "d", "s", "da", "cd"}
)
# one unit word with an optional exponent: "m", "s−1", "m^-2", "μm2", "m²"
_UNIT_WORD = re.compile(r"(?P<w>[A-Za-zµμΩÅ]+|°)(?P<e>(?:\^|\*\*)?[-−]?[1-4](?![\d.,])|[⁻]?[¹²³⁴])?")
_SUPERSCRIPT = str.maketrans("⁻¹²³⁴", "-1234")


def _offered(word: str) -> bool:
    return word not in _PROSE_SYMBOLS and bool(_SYMBOL_WORD.fullmatch(word) or _UNIT_NAME_WORD.fullmatch(word))


def unit_after(text: str, pos: int) -> Optional[tuple[str, int]]:
    """A unit of another science written at text[pos:] (after a number and at most one space):
    (its canonical name, where it ends), or None. "m s−1" and "mW m−2" are read whole: a later
    word joins when it carries an exponent or follows a "/"."""
    i = pos + 1 if text[pos : pos + 1] == " " else pos
    words: list[tuple[str, str, int]] = []  # (word, exponent, end; negative when a "/" follows)
    j, joined = i, False  # joined: a later word, after a "/" or with an exponent
    while True:
        m = _UNIT_WORD.match(text, j)
        if not m or (m.end() < len(text) and (text[m.end()].isalnum() or text[m.end()] in "_")):
            break
        w = m.group("w")
        if not (_offered(w) or (joined and _SYMBOL_WORD.fullmatch(w))):
            break
        nxt = text[m.end() : m.end() + 1]
        words.append((w, m.group("e") or "", -m.end() if nxt == "/" else m.end()))
        if nxt == "/":
            j, joined = m.end() + 1, True
            continue
        m2 = _UNIT_WORD.match(text, m.end() + 1) if nxt in (" ", "·", "⋅") else None
        if m2 and m2.group("e") and _SYMBOL_WORD.fullmatch(m2.group("w")):
            j, joined = m.end() + 1, True  # "m s−1": a word with an exponent joins
            continue
        break
    while words:
        expr, end = _expression(words)
        name = _pint_name(expr)
        if name is not None:
            return name, end
        words.pop()
    return None


def _expression(words: list[tuple[str, str, int]]) -> tuple[str, int]:
    parts, divide = [], False
    for w, e, end in words:
        e = e.replace("**", "").replace("^", "").replace("−", "-").translate(_SUPERSCRIPT)
        w = w.replace("μ", "µ")
        parts.append(("/" if divide else " ") + (f"{w}**{e}" if e else w))
        divide = end < 0
    return "".join(parts).strip(), abs(words[-1][2])


@lru_cache(maxsize=2048)
def _pint_name(expr: str) -> Optional[str]:
    """The canonical name of a unit expression Pint reads as a physical unit ("m/s", "mW/m^2",
    "K", "°"), or None."""
    if expr in ("°", "deg", "degree", "degrees"):
        return "°"
    reg = _registry()
    try:
        u = reg.parse_units(expr)
    except Exception:  # an unknown word, a syntax Pint does not take: no unit
        return None
    dims = str(u.dimensionality)
    if "printing" in dims or u == reg.dimensionless:
        return "dB" if expr == "dB" else ("°" if str(u) == "degree" else None)
    return format(u, "~C").replace("**", "^")


def _pint_expression(unit: str) -> Optional[str]:
    """What Pint reads for a canonical unit: its entry in PINT_NAMES, or a name it made itself."""
    if unit in PINT_NAMES:
        return PINT_NAMES[unit]
    if unit == "°":
        return "degree"
    if unit and not unit.isalpha() and "/" not in unit and "^" not in unit:
        return None
    return unit.replace("^", "**") if unit else None
