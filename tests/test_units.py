"""Units as models and reviewers write them, and quantities that are one quantity in two units."""

import pytest

from extractor.analysis.units import canonical_unit, same_quantity, values_agree


@pytest.mark.parametrize(
    "written, canonical",
    [
        ("times", "x"),
        ("percent", "%"),
        ("microseconds", "µs"),
        ("percentage points", "pp"),
        ("", ""),
        ("x faster", "x"),
        ("speedup", "x"),
        ("multiplier", "x"),
        ("×", "x"),
        ("X", "x"),
        ("fold", "x"),
        ("% lower", "%"),
        ("pct", "%"),
        ("milliseconds", "ms"),
        ("GB/sec", "GB/s"),
        ("tokens per second", "tokens/s"),
        ("tok/s", "tokens/s"),
        ("bits", "bit"),
        ("μs", "µs"),
        ("requests per second", "req/s"),
        (None, ""),
        ("nanometers", "nm"),
        ("GPUs", "GPUs"),  # a counted noun stays as written (the verifier reads it as a count)
        ("% accuracy", "%"),  # the metric's words after the unit
        ("ms p99 latency", "ms"),
        ("GB of memory", "GB"),
        ("times higher throughput", "x"),
        ("GB per second", "GB/s"),  # a rate stays a rate
        ("ms per request", "ms"),
        ("GPU hours", "GPU hours"),  # no known unit first: as written
    ],
)
def test_canonical_units(written, canonical):
    assert canonical_unit(written) == canonical


@pytest.mark.parametrize(
    "a, b, same",
    [
        ((58368, "MB"), (57, "GB"), True),  # binary prefixes, as papers write them
        ((57000, "MB"), (57, "GB"), True),
        ((512, "MiB"), (0.5, "GB"), True),
        ((1200, "ms"), (1.2, "s"), True),
        ((500, "µs"), (0.5, "ms"), True),
        ((5, "ms"), (5, "s"), False),
        ((44, "%"), (44, "x"), False),  # Pint does not cover factors and percentages: never equal across them
        ((1, "GB/s"), (8, "Gbps"), True),
    ],
)
def test_same_quantity_across_units(a, b, same):
    assert same_quantity(a[0], a[1], b[0], b[1]) is same


def test_one_tolerance():
    assert values_agree(39.00000000000001, 39) and not values_agree(39.1, 39)
    assert values_agree(None, None) and not values_agree(None, 0.0)
