import pytest

from extractor.analysis.quantities import parse_span, scan


def one(text):
    qs = scan(text)
    assert len(qs) == 1, [text[q.start : q.end] for q in qs]
    q = qs[0]
    return text[q.start : q.end], q.value, q.low, q.high, q.unit, q.qualifier


@pytest.mark.parametrize(
    "text, span, value, low, high, unit, qualifier",
    [
        ("reduces memory by up to 44% overall", "up to 44%", 44, None, None, "%", "up_to"),
        ("is 4.07x faster than llama.cpp", "4.07x", 4.07, None, None, "x", "exact"),
        ("a 7.8X reduction in tail latency", "7.8X", 7.8, None, None, "x", "exact"),
        ("gives a 3× speedup", "3×", 3, None, None, "x", "exact"),
        ("lowers it by 2.7\\% overall", "2.7\\%", 2.7, None, None, "%", "exact"),
        ("finds $2.7\\times$ more bugs", "$2.7\\times$", 2.7, None, None, "x", "exact"),
        ("needs 20-100x fewer servers", "20-100x", None, 20, 100, "x", "exact"),
        ("incurring <5% TTFT increase", "<5%", 5, None, None, "%", "less_than"),
        ("keeps it within 20% of the best", "within 20%", 20, None, None, "%", "within"),
        ("consumes over 80% of tasks", "over 80%", 80, None, None, "%", "over"),
        ("lowers start-up by an order of magnitude", "an order of magnitude", 10, None, None, "x", "approx"),
        ("may double the CPU cycles", "double", 2, None, None, "x", "exact"),
        ("deployed on 8,054 GPUs", "8,054", 8054, None, None, "", "exact"),
        ("range from 0.993%-51.82% for MAE", "0.993%-51.82%", None, 0.993, 51.82, "%", "exact"),
        ("adds <50 microseconds of overhead", "<50 microseconds", 50, None, None, "µs", "less_than"),
        ("adds ~8x memory overhead", "~8x", 8, None, None, "x", "approx"),
        ("forecasts 5-80 minutes ahead", "5-80 minutes", None, 5, 80, "min", "exact"),
        ("on devices with 512 MB-2 GB RAM", "512 MB-2 GB", None, 0.512, 2, "GB", "exact"),
        ("improves accuracy by 2.3 percentage points", "2.3 percentage points", 2.3, None, None, "pp", "exact"),
        ("cuts latency to 12 ms", "12 ms", 12, None, None, "ms", "exact"),
        ("serves 1.5M requests", "1.5M", 1.5e6, None, None, "", "exact"),
        ("sustains 10k QPS", "10k QPS", 1e4, None, None, "QPS", "exact"),
        ("serves 1,200 requests per second", "1,200 requests per second", 1200, None, None, "req/s", "exact"),
        ("decodes 30 tokens per second", "30 tokens per second", 30, None, None, "tokens/s", "exact"),
        ("reads 3 GB/sec", "3 GB/sec", 3, None, None, "GB/s", "exact"),
        ("on 100 Gbit/s links", "100 Gbit/s", 100, None, None, "Gbps", "exact"),
        ("answers 5k queries per second", "5k queries per second", 5e3, None, None, "QPS", "exact"),
        ("with 128k tokens of context", "128k", 1.28e5, None, None, "", "exact"),
        ("in 64kB pages", "64kB", 64, None, None, "KB", "exact"),
        ("handles 10^6 requests", "10^6", 1e6, None, None, "", "exact"),
        (r"handles $10^{6}$ requests", r"$10^{6}$", 1e6, None, None, "", "exact"),
        ("about 3 × 10^4 ops", "about 3 × 10^4", 3e4, None, None, "", "approx"),
        (r"an error of $2.5 \times 10^{-3}$", r"$2.5 \times 10^{-3}$", 2.5e-3, None, None, "", "exact"),
        ("an error of 3.2e-4 at most", "3.2e-4", 3.2e-4, None, None, "", "exact"),
        ("up to 1e6 operations", "up to 1e6", 1e6, None, None, "", "up_to"),
        ("serves 2.5E+3 req/s", "2.5E+3 req/s", 2.5e3, None, None, "req/s", "exact"),
        ("a bit error rate below 1e−9.", "below 1e−9", 1e-9, None, None, "", "less_than"),
        ("reaching 1.2 TB/s", "1.2 TB/s", 1.2, None, None, "TB/s", "exact"),
        ("faster by 2 orders of magnitude", "2 orders of magnitude", 100, None, None, "x", "approx"),
        ("faster by 2-3 orders of magnitude", "2-3 orders of magnitude", None, 100, 1000, "x", "approx"),
        ("faster by orders of magnitude", "orders of magnitude", None, None, None, "x", "approx"),
        (r"faster by 2--3 orders of magnitude \& more", "2--3 orders of magnitude", None, 100, 1000, "x", "approx"),
        ("speeds it up 1.3--2.1x overall", "1.3--2.1x", None, 1.3, 2.1, "x", "exact"),
        (r"speeds it up 1.3--2.1$\times$ overall", r"1.3--2.1$\times$", None, 1.3, 2.1, "x", "exact"),
        ("cuts the latency by half", "by half", 2, None, None, "x", "exact"),
        ("cuts the cost in half", "in half", 2, None, None, "x", "exact"),
        ("a twofold speedup", "twofold", 2, None, None, "x", "exact"),
        ("a two-fold speedup", "two-fold", 2, None, None, "x", "exact"),
        ("a 5-fold increase in goodput", "5-fold", 5, None, None, "x", "exact"),
        ("is three times faster than vLLM", "three times", 3, None, None, "x", "exact"),
        ("serves ten times more requests", "ten times", 10, None, None, "x", "exact"),
        ("is up to twice as fast", "up to twice", 2, None, None, "x", "up_to"),
        ("up to an order of magnitude faster", "up to an order of magnitude", 10, None, None, "x", "up_to"),
        ("nearly an order of magnitude faster", "nearly an order of magnitude", 10, None, None, "x", "approx"),
    ],
)
def test_shapes(text, span, value, low, high, unit, qualifier):
    got = one(text)
    assert got[0] == span
    assert got[1] == pytest.approx(value) if value is not None else got[1] is None
    assert (got[2], got[3]) == (pytest.approx(low) if low else None, pytest.approx(high) if high else None)
    assert got[4:] == (unit, qualifier)


@pytest.mark.parametrize(
    "text",
    [
        "Experiments with Python 3.13t (free-threading) show",
        "different LLMs (o4-mini, GPT-5, Sonnet 4, and Sonnet 4.5)",
        "throughout the early decades of the 21st century",
        "published in 2024 at a workshop",
        "as shown in prior work [12, 14]",
        "EdgeFlow leverages 1) an NPU-aware algorithm, 2) a packing format",
        "with ONNX Runtime MobileNetV2 and Llama 2 models",
        "in the 1990s",
        "a bound of $O(n^2)$",
        "we repeat each run three times and report the median",
        "accuracy under 10-fold cross-validation",
        "accuracy under ten-fold cross-validation",
        "available 24/7 to users",
    ],
)
def test_not_claims(text):
    assert [text[q.start : q.end] for q in scan(text)] == []


@pytest.mark.parametrize(
    "text, span, value, unit",
    [
        pytest.param("We train a 64B model.", "64B", 64e9, "", id="billion_before_model"),
        pytest.param("with 70B parameters", "70B", 70e9, "", id="billion_before_parameters"),
        pytest.param("on 1B keys", "1B", 1e9, "", id="billion_before_a_counted_noun"),
        pytest.param("moves 64B cache lines", "64B", 64, "B", id="bytes_before_cache_lines"),
        pytest.param("sends 64B packets", "64B", 64, "B", id="bytes_before_packets"),
        pytest.param("uses 64B of memory per entry", "64B", 64, "B", id="bytes_of_memory"),
        pytest.param("sends 1.5B packets", "1.5B", 1.5e9, "", id="no_fraction_of_a_byte"),
    ],
)
def test_a_b_suffix_is_bytes_before_a_unit_of_data_else_a_billion(text, span, value, unit):
    got = one(text)
    assert (got[0], got[1], got[4]) == (span, value, unit)


@pytest.mark.parametrize(
    "text, span",
    [
        pytest.param("It stores 3 times as many keys.", "3 times", id="digits_as_many"),
        pytest.param("It stores three times as many keys.", "three times", id="word_as_many"),
        pytest.param("It is 3 times as fast as X.", "3 times", id="digits_as_fast_as"),
        pytest.param("It is three times as fast as X.", "three times", id="word_as_fast_as"),
    ],
)
def test_n_times_as_many_is_a_factor_in_digits_and_in_words(text, span):
    assert one(text)[0::4] == (span, "x")


def test_n_times_as_something_else_is_a_count():
    assert one("We run it 3 times as a warm-up.")[4] == ""
    assert scan("We run it three times as a warm-up.") == []


def test_parse_span_reads_its_characters_with_the_words_after_it():
    assert parse_span("64B", " cache lines")[0].unit == "B"
    assert parse_span("64B")[0].value == 64e9
    assert parse_span("51", " to 21 minutes")[0].value == 51  # the next number is not taken


def test_list_keeps_each_number():
    text = "by up to 44% and 31%, respectively"
    assert [text[q.start : q.end] for q in scan(text)] == ["up to 44%", "31%"]


def test_a_slashed_pair_of_factors_is_two_numbers():
    text = "is 2.1x/1.6x higher than the baseline"
    assert [(text[q.start : q.end], q.value, q.listed) for q in scan(text)] == [
        ("2.1x", 2.1, False),
        ("1.6x", 1.6, True),
    ]


def test_a_word_number_is_one_quantity():
    text = "a 5-fold increase and three times faster"
    assert [(text[q.num_start : q.num_end], q.value) for q in scan(text)] == [("5-fold", 5), ("three times", 3)]
    assert [q.value for q in scan("cuts it by half")] == [2]
    p, _ = parse_span("by half")
    assert (p.value, p.unit) == (2, "x")


def test_from_to_is_two_numbers_not_a_range():
    text = "error drops from 12.3% to 8.1%"
    assert [(q.value, q.low) for q in scan(text)] == [(12.3, None), (8.1, None)]


def test_parse_span_rejects_two_numbers_and_no_number():
    assert parse_span("44% and 31%")[0] is None
    assert parse_span("latency")[1] == "no number in span"
    p, _ = parse_span("up to 4.07x")
    assert (p.value, p.unit, p.qualifier) == (4.07, "x", "up_to")


# each context rule, by name, with a case it rejects and a neighbour it keeps
@pytest.mark.parametrize(
    "rule, text, digits, rejected",
    [
        pytest.param("glued_to_a_word", "runs on o4 today", "4", True, id="glued_to_a_word"),
        pytest.param("model_name", "unlike GPT-5 alone", "5", True, id="model_name"),
        pytest.param("model_name", "a sub-0.5 us response", "0.5", False, id="model_name_keeps_sub"),
        pytest.param("version_tail", "with Python 3.13 now", "13", True, id="version_tail"),
        pytest.param("compound_modifier", "a 64-bit word", "64", True, id="compound_modifier"),
        pytest.param("compound_modifier", "cuts it 20-100x down", "20", False, id="compound_modifier_keeps_ranges"),
        pytest.param("arithmetic", "needs f+1 replicas", "1", True, id="arithmetic"),
        pytest.param("glued_word_after", "the 21st century", "21", True, id="glued_word_after"),
        pytest.param("fraction", "cuts cost by 1/3 overall", "1", True, id="fraction"),
        pytest.param("fraction", "cuts cost by 1/ 3", "1", False, id="fraction_needs_a_digit_after_the_slash"),
        pytest.param("fraction", "is 2.1x/1.6x higher", "2.1", False, id="fraction_keeps_a_pair_of_factors"),
        pytest.param(
            "glued_to_a_word", "is 2.1x/1.6x higher", "1.6", False, id="glued_to_a_word_keeps_a_pair_of_factors"
        ),
        pytest.param("glued_to_a_word", "runs path/2 twice", "2", True, id="glued_to_a_word_after_a_slash"),
        pytest.param(
            "compound_modifier", "by 1.3--2.1x overall", "1.3", False, id="compound_modifier_keeps_tex_ranges"
        ),
        pytest.param("dotted_version", "release 3.13.1 is out", "3.13", True, id="dotted_version"),
        pytest.param("decade", "since the 1990s", "1990", True, id="decade"),
        pytest.param("year", "published in 2024 at", "2024", True, id="year"),
        pytest.param("year", "uses 2048 tokens", "2048", False, id="year_keeps_counts_before_plurals"),
        pytest.param("citation", "as in prior work [12, 14]", "12", True, id="citation"),
        pytest.param("enumerator", "with 1) an NPU-aware", "1", True, id="enumerator"),
        pytest.param("enumerator", "sizes (2, 4, and 32), data", "32", False, id="enumerator_keeps_lists"),
        pytest.param("name_with_number", "runs Llama 2 models", "2", True, id="name_with_number"),
        pytest.param(
            "name_with_number", "Across 17 workloads it", "17", False, id="name_with_number_keeps_sentence_words"
        ),
    ],
)
def test_context_rules(rule, text, digits, rejected):
    from extractor.analysis.quantities import Around, _read_quantity, excluded

    s = text.index(digits)
    value, unit, end = _read_quantity(text, s, s + len(digits))
    got = excluded(Around(text, s, end, value, unit, digits))
    assert (got == rule) if rejected else (got is None), got
