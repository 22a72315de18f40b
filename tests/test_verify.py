"""The verifier: tolerant where a claim means what its span says, strict where it does not.

Each case is named; a case is one claim as a model might write it, checked against one abstract."""

import pytest

from extractor.analysis.document import Document
from extractor.contract import ClaimDraft
from extractor.verification import read_number, uncovered_numbers, verify_claims, verify_name

ABS = (
    "Compared to the production baseline, Nexus reduces overall node-level CPU and memory consumption by up to "
    "44% and 31%, respectively, thus increasing deployment density by 37%. It is 2.42x faster, uses 25% less "
    "energy and saves 57 GB of memory and 0.5 ms per call. Jobs moved from 8,054 GPUs to 20-100x fewer servers, "
    "a 4.07× speedup over llama.cpp. It halves the cost, finds $2.7\\times$ more bugs and lowers false positives "
    "by 68\\%. It runs on Python 3.13 today. The cold start takes from 51 to 21 minutes."
)
DOC = Document(ABS)


def check(**claim):
    d = ClaimDraft(**{"unit": "", **claim}, answer=dict(claim))
    [n] = verify_claims(Document(ABS), [d])
    return n


@pytest.mark.parametrize(
    "claim, span, value, unit",
    [
        pytest.param(dict(text="up to 44%", value=44, unit="%"), "up to 44%", 44, "%", id="exact"),
        pytest.param(dict(text="44%", value=44), "up to 44%", 44, "%", id="unit_left_out"),
        pytest.param(dict(text="31%", value=31, unit="percent"), "31%", 31, "%", id="unit_synonym_percent"),
        pytest.param(dict(text="2.42x", value=2.42, unit="x faster"), "2.42x", 2.42, "x", id="unit_x_faster"),
        pytest.param(
            dict(text="4.07x", value=4.07, unit="speedup"), "4.07×", 4.07, "x", id="unit_speedup_and_times_sign"
        ),
        pytest.param(dict(text="4.07$\\times$", value=4.07, unit="multiplier"), "4.07×", 4.07, "x", id="latex_times"),
        pytest.param(dict(text="up to 44%.", value=0.44, unit="%"), "up to 44%", 44, "%", id="fraction_and_period"),
        pytest.param(
            dict(text="44 %", value=-44, unit="%", direction="decrease"), "up to 44%", 44, "%", id="negative_decrease"
        ),
        pytest.param(dict(text="44", value="44%"), "up to 44%", 44, "%", id="digits_only_value_string"),
        pytest.param(
            dict(text="8,054", value="8,054", unit="GPUs"), "8,054", 8054, "", id="thousands_string_count_noun"
        ),
        pytest.param(dict(text="57 GB", value=58368, unit="MB"), "57 GB", 57, "GB", id="binary_megabytes"),
        pytest.param(dict(text="57 GB", value=57000, unit="megabytes"), "57 GB", 57, "GB", id="decimal_megabytes"),
        pytest.param(dict(text="0.5 ms", value=500, unit="microseconds"), "0.5 ms", 0.5, "ms", id="milliseconds_as_us"),
        pytest.param(dict(text="“2.7x”", value=2.7, unit="x"), "$2.7\\times$", 2.7, "x", id="curly_quotes_latex_span"),
        pytest.param(dict(text="68 %", value=68, unit="%"), "68\\%", 68, "%", id="space_added_latex_percent"),
        pytest.param(
            dict(text="halves", value=2, unit="x", direction="decrease"), "halves", 2, "x", id="halve_as_2x_down"
        ),
        pytest.param(dict(text="halves", value=0.5, unit="x"), "halves", 2, "x", id="halve_as_half"),
        pytest.param(
            dict(text="halves", value=50, unit="%", direction="decrease"), "halves", 2, "x", id="halve_as_50pct"
        ),
        pytest.param(
            dict(text="a 4.07× speedup over llama.cpp", value=4.07, unit="x"), "4.07×", 4.07, "x", id="whole_phrase"
        ),
        pytest.param(
            dict(text="by up to 44% and 31%", value=31, unit="%"), "31%", 31, "%", id="two_numbers_value_picks"
        ),
        pytest.param(
            dict(text="51", value=51, unit="minutes"), "51", 51, "min", id="unit_written_after_the_next_number"
        ),
    ],
)
def test_tolerant(claim, span, value, unit):
    n = check(**claim)
    assert n.verified, n.why
    assert (ABS[n.start : n.end], n.value, n.unit) == (span, value, unit)
    assert n.model_answer == claim  # the model's own answer is kept beside the canonical claim


@pytest.mark.parametrize(
    "claim, low, high",
    [
        pytest.param(dict(text="20–100x", low=20, high=100, unit="x"), 20, 100, id="en_dash"),
        pytest.param(dict(text="20-100x", value=60, low=20, high=100, unit="times"), 20, 100, id="value_is_midpoint"),
        pytest.param(dict(text="20-100x", value=20, low=20, high=100, unit="x"), 20, 100, id="value_is_low"),
        pytest.param(dict(text="20 - 100 x", low=100, high=20, unit="x"), 20, 100, id="ends_swapped_spaces"),
    ],
)
def test_tolerant_ranges(claim, low, high):
    n = check(**claim)
    assert n.verified, n.why
    assert (n.value, n.low, n.high) == (None, low, high)


@pytest.mark.parametrize(
    "abstract, claim, span, value, low, high",
    [
        pytest.param(
            "It is 2.1x/1.6x higher than the baseline.",
            dict(text="1.6x", value=1.6, unit="x"),
            "1.6x",
            1.6,
            None,
            None,
            id="second_of_a_slashed_pair",
        ),
        pytest.param(
            "It speeds up training by 1.3--2.1x overall.",
            dict(text="1.3--2.1x", low=1.3, high=2.1, unit="x"),
            "1.3--2.1x",
            None,
            1.3,
            2.1,
            id="tex_en_dash_range",
        ),
        pytest.param(
            "It cuts the tail latency by half on all traces.",
            dict(text="half", value=50, unit="%", direction="decrease"),
            "by half",
            2,
            None,
            None,
            id="by_half_as_50pct",
        ),
        pytest.param(
            "It gives a twofold speedup over vLLM.",
            dict(text="twofold", value=2, unit="x"),
            "twofold",
            2,
            None,
            None,
            id="twofold",
        ),
        pytest.param(
            "It is three times faster than vLLM.",
            dict(text="three times faster", value=3, unit="x"),
            "three times",
            3,
            None,
            None,
            id="three_times_faster",
        ),
        pytest.param(
            "It is up to twice as fast as vLLM.",
            dict(text="up to twice", value=2, unit="x", qualifier="up_to"),
            "up to twice",
            2,
            None,
            None,
            id="qualified_word_number",
        ),
    ],
)
def test_word_numbers_and_pairs_as_models_write_them(abstract, claim, span, value, low, high):
    [n] = verify_claims(Document(abstract), [ClaimDraft(**{"unit": "", **claim})])
    assert n.verified, n.why
    assert (abstract[n.start : n.end], n.value, n.low, n.high) == (span, value, low, high)


@pytest.mark.parametrize(
    "abstract, claim, span",
    [
        pytest.param("It is 2.5 times faster.", dict(text="2.5x", value=2.5, unit="x"), "2.5 times", id="x_for_times"),
        pytest.param(
            "It serves 10,000 QPS.", dict(text="10000 QPS", value=10000, unit="QPS"), "10,000 QPS", id="no_thousands"
        ),
        pytest.param(
            "It cuts latency by 30%–50%.",
            dict(text="30-50%", low=30, high=50, unit="%"),
            "30%–50%",
            id="range_unit_once",
        ),
        pytest.param(
            "It cuts latency by 30–50%.",
            dict(text="30%-50%", low=30, high=50, unit="%"),
            "30–50%",
            id="range_unit_twice",
        ),
        pytest.param(
            "It achieves a 1.8-2.4x speedup.",
            dict(text="1.8x to 2.4x", low=1.8, high=2.4, unit="x"),
            "1.8-2.4x",
            id="range_written_with_to",
        ),
        pytest.param("It is 44% smaller.", dict(text="44.0%", value=44.0, unit="%"), "44%", id="trailing_zero"),
        pytest.param(
            "It serves 1,200 requests per second.",
            dict(text="1.2k req/s", value=1.2, unit="k req/s"),
            "1,200 requests per second",
            id="k_for_thousands_and_a_short_rate",
        ),
        pytest.param(
            "It sustains 10k QPS.", dict(text="10,000 QPS", value=10000, unit="QPS"), "10k QPS", id="k_written_out"
        ),
        pytest.param(
            "It adds 0.5 ms per call.", dict(text="500 µs", value=500, unit="us"), "0.5 ms", id="another_time_unit"
        ),
        pytest.param(
            "It keeps the error below 3.2e-4.",
            dict(text="3.2 × 10^-4", value="3.2e-4"),
            "below 3.2e-4",
            id="e_notation_as_a_power_of_ten",
        ),
        pytest.param(
            "It moves 12-16 GB per step.",
            dict(text="12,000-16,000 MB", low=12000, high=16000, unit="MB"),
            "12-16 GB",
            id="a_range_in_another_size_unit",
        ),
    ],
)
def test_the_same_number_spelled_another_way(abstract, claim, span):
    [n] = verify_claims(Document(abstract), [ClaimDraft(**claim)])
    assert n.verified, n.why
    assert (abstract[n.start : n.end], n.alignment) == (span, "normalized")


@pytest.mark.parametrize(
    "abstract, claim",
    [
        pytest.param("It halves the cost.", dict(text="2x", value=2, unit="x"), id="digits_are_not_a_word_number"),
        pytest.param("It is 2.42x faster.", dict(text="2.4x", value=2.4, unit="x"), id="other_digits"),
        pytest.param("It serves 10,000 QPS.", dict(text="10000 QPS", value=1000, unit="QPS"), id="other_value"),
        pytest.param("It is 25% faster.", dict(text="25x", value=25, unit="x"), id="other_unit"),
        pytest.param(
            "It gains 2.3 percentage points.", dict(text="2.3%", value=2.3, unit="%"), id="percent_for_points"
        ),
        pytest.param("It is 2.42x faster.", dict(text="2x", value=2, unit="x"), id="a_rounded_number"),
        pytest.param("It adds 0.5 ms per call.", dict(text="50 µs", value=50, unit="us"), id="converted_wrongly"),
        pytest.param("It adds 0.5 ms per call.", dict(text="0.5 MB", value=0.5, unit="MB"), id="another_kind_of_unit"),
    ],
)
def test_a_respelling_must_state_the_same_number(abstract, claim):
    [n] = verify_claims(Document(abstract), [ClaimDraft(**claim)])
    assert not n.verified


@pytest.mark.parametrize(
    "value, low, high",
    [
        pytest.param("1.5-2", 1.5, 2, id="string"),
        pytest.param("1.5x–2x", 1.5, 2, id="string_with_units"),
        pytest.param("1.5 to 2", 1.5, 2, id="string_with_to"),
        pytest.param([1.5, 2], 1.5, 2, id="list"),
    ],
)
def test_a_range_given_as_the_value(value, low, high):
    [n] = verify_claims(
        Document("It improves throughput by 1.5-2x."), [ClaimDraft(text="1.5-2x", value=value, unit="x")]
    )
    assert n.verified, n.why
    assert (n.value, n.low, n.high) == (None, low, high)


@pytest.mark.parametrize(
    "abstract, claim",
    [
        pytest.param("It reaches 95.2% accuracy.", dict(text="95.2%", value=95.2, unit="% accuracy"), id="percent"),
        pytest.param("It cuts p99 latency to 12 ms.", dict(text="12 ms", value=12, unit="ms latency"), id="ms"),
        pytest.param("It saves 57 GB of memory.", dict(text="57 GB", value=57, unit="GB of memory"), id="gb_of"),
        pytest.param("It saves \\$1.2M per year.", dict(text="$1.2M", value=1.2e6, unit="$"), id="currency_sign"),
    ],
)
def test_a_unit_with_the_metric_words_after_it(abstract, claim):
    [n] = verify_claims(Document(abstract), [ClaimDraft(**claim)])
    assert n.verified, n.why


MULT = "We train a 70B model on 1.5M requests and 2 billion tokens, moving 64B cache lines."


@pytest.mark.parametrize(
    "claim, value, unit",
    [
        pytest.param(dict(text="70B", value=70, unit="billion"), 70e9, "", id="billion_as_the_unit"),
        pytest.param(dict(text="70B", value=70, unit="billion parameters"), 70e9, "", id="billion_parameters"),
        pytest.param(dict(text="70B", value=70, unit="B"), 70e9, "", id="b_suffix_as_the_unit"),
        pytest.param(dict(text="70B", value=70, unit="B parameters"), 70e9, "", id="b_parameters"),
        pytest.param(dict(text="1.5M", value=1.5, unit="million requests"), 1.5e6, "", id="million_requests"),
        pytest.param(dict(text="1.5M", value=1.5, unit="M"), 1.5e6, "", id="m_as_the_unit"),
        pytest.param(dict(text="2 billion tokens", value=2, unit="billion tokens"), 2e9, "", id="billion_tokens"),
        pytest.param(dict(text="64B", value=64, unit="bytes"), 64, "B", id="bytes_of_a_cache_line"),
        pytest.param(dict(text="64B cache lines", value=64, unit="B"), 64, "B", id="bytes_with_the_noun"),
        pytest.param(dict(text="70B", value="70B", unit="billion"), 70e9, "", id="multiplier_in_value_and_unit"),
    ],
)
def test_a_multiplier_written_in_the_unit(claim, value, unit):
    [n] = verify_claims(Document(MULT), [ClaimDraft(**claim)])
    assert n.verified, n.why
    assert (n.value, n.unit) == (value, unit)


@pytest.mark.parametrize(
    "claim",
    [
        pytest.param(dict(text="70B", value=70, unit="parameters"), id="billion_dropped"),
        pytest.param(dict(text="64B", value=64e9, unit=""), id="bytes_read_as_a_billion"),
        pytest.param(dict(text="1.5M", value=1.5, unit="billion"), id="other_multiplier"),
    ],
)
def test_a_multiplier_must_give_the_spans_number(claim):
    [n] = verify_claims(Document(MULT), [ClaimDraft(**claim)])
    assert not n.verified


@pytest.mark.parametrize("value", ["up to 44%", "Up to 44 %", "by up to 44%", "<= 44%", "≤44%"])
def test_a_qualifier_written_into_the_value(value):
    [n] = verify_claims(Document(ABS), [ClaimDraft(text="up to 44%", value=value, unit="")])
    assert n.verified, n.why
    assert (n.value, n.unit, n.qualifier) == (44, "%", "up_to")


def test_a_word_number_is_found_from_a_longer_model_text():
    doc = Document("It cuts the tail latency in half on all traces.")
    [n] = verify_claims(doc, [ClaimDraft(text="tail latency cut in half", value=50, unit="%", direction="decrease")])
    assert n.verified, n.why
    assert doc.text[n.start : n.end] == "in half"


def test_a_number_inside_a_tex_range_is_not_verified():
    [n] = verify_claims(
        Document("It speeds up training by 1.3--2.1x overall."), [ClaimDraft(text="2.1x", value=2.1, unit="x")]
    )
    assert not n.verified and "inside a longer number" in n.why, n.why


def test_one_number_with_low_equal_high():
    n = check(text="37%", value=37, low=37, high=37, unit="%")
    assert n.verified and (n.value, n.low, n.high) == (37, None, None)


@pytest.mark.parametrize(
    "claim, why",
    [
        pytest.param(dict(text="2x", value=2, unit="x"), "inside a longer number", id="inside_2.42x"),
        pytest.param(dict(text="5%", value=5, unit="%"), "inside a longer number", id="inside_25pct"),
        pytest.param(dict(text="57%", value=57, unit="%"), "text not found", id="invented"),
        pytest.param(dict(text="31%", value=13, unit="%"), "value 13% but the span '31%' says 31%", id="wrong_value"),
        pytest.param(dict(text="31", value=31, unit="x"), "value 31x but the span '31%' says 31%", id="wrong_unit"),
        pytest.param(dict(text="20-100x", value=20, unit="x"), "says a range", id="range_as_one_number"),
        pytest.param(dict(text="37%", value=37, low=30, high=40, unit="%"), "range 30-40", id="one_number_as_range"),
        pytest.param(dict(text="37", value=37, unit="%", qualifier="up_to"), "qualifier up_to", id="qualifier_added"),
        pytest.param(
            dict(text="44", value=44, unit="%", qualifier="over"), "qualifier over", id="qualifier_other_bound"
        ),
        pytest.param(dict(text="3.13", value=3.13), "is no quantity claim there", id="version_number"),
        pytest.param(dict(text="the cost", value=2), "states no number", id="no_number"),
        pytest.param(dict(text="44%", value="many", unit="%"), "'many' is not a number", id="value_not_a_number"),
        pytest.param(dict(text="", value=44, unit="%"), "no text given", id="no_text"),
    ],
)
def test_strict(claim, why):
    n = check(**claim)
    assert not n.verified
    assert why in n.why


@pytest.mark.parametrize(
    "claim, unit, qualifier",
    [
        pytest.param(dict(text="31%", value=31, unit="x"), "%", "up_to", id="unit"),  # "by up to 44% and 31%"
        pytest.param(dict(text="37%", value=37, unit="%", qualifier="up_to"), "%", "exact", id="qualifier_added"),
        pytest.param(dict(text="up to 44%", value=44, unit="%", qualifier="over"), "%", "up_to", id="qualifier_other"),
    ],
)
def test_a_verbatim_span_says_which_unit_and_qualifier_are_stored(claim, unit, qualifier):
    """A claim whose text quotes the span (with its unit, or with its qualifier's words) is what the
    span says: the record stores the span's unit and qualifier, the model's stay in model_answer.
    Nothing wrong is stored as verified."""
    n = check(**claim)
    assert n.verified, n.why
    assert (n.unit, n.qualifier) == (unit, qualifier)
    assert n.model_answer == claim


def test_repeated_text_takes_distinct_occurrences_in_order():
    text = "A gains 10% in one test and 10% in another."
    a, b, c = verify_claims(Document(text), [ClaimDraft(text="10%", value=10, unit="%") for _ in range(3)])
    assert a.verified and b.verified and a.start < b.start
    assert a.sentence == b.sentence == text
    assert not c.verified and "already another claim's" in c.why  # a third claim has no occurrence left


def test_a_claim_never_overlaps_another():
    a, b = verify_claims(
        DOC, [ClaimDraft(text="up to 44%", value=44, unit="%"), ClaimDraft(text="44%", value=44, unit="%")]
    )
    assert a.verified and not b.verified


@pytest.mark.parametrize(
    "claim, supported",
    [
        pytest.param(
            dict(text="44%", value=44, unit="%", metric="node-level CPU consumption"), True, id="respectively_first"
        ),
        pytest.param(dict(text="31%", value=31, unit="%", metric="memory consumption"), True, id="respectively_second"),
        pytest.param(dict(text="31%", value=31, unit="%", metric="CPU consumption"), False, id="respectively_swapped"),
        pytest.param(dict(text="37%", value=37, unit="%", metric="deployment density"), True, id="own_clause"),
        pytest.param(
            dict(text="up to 44%", value=44, unit="%", metric="deployment density"), False, id="another_numbers_metric"
        ),
        pytest.param(
            dict(text="37%", value=37, unit="%", metric="GPU training throughput"), False, id="not_in_the_sentence"
        ),
        pytest.param(dict(text="37%", value=37, unit="%", metric="performance"), None, id="says_nothing"),
        pytest.param(
            dict(text="25%", value=25, unit="%", metric="deployment density"),
            False,
            id="named_only_in_the_sentence_before",
        ),
    ],
)
def test_metric_support(claim, supported):
    n = check(**claim)
    assert n.verified
    assert n.metric_supported is supported, n.why


@pytest.mark.parametrize(
    "metric, supported",
    [
        pytest.param("SLO violations", True, id="in_its_clause"),
        pytest.param("training throughput", False, id="named_outside_the_numbers_clause"),
    ],
)
def test_metric_support_within_the_numbers_clause(metric, supported):
    text = (
        "The scheduler reduces SLO violations by 21.2% relative to default placement, "
        "while training throughput stays high."
    )
    [n] = verify_claims(Document(text), [ClaimDraft(text="21.2%", value=21.2, unit="%", metric=metric)])
    assert n.verified
    assert n.metric_supported is supported, n.why


@pytest.mark.parametrize(
    "value, parsed",
    [
        pytest.param(44, (44.0, None, None), id="int"),
        pytest.param("8,054", (8054.0, None, None), id="thousands"),
        pytest.param("-44 %", (-44.0, "%", None), id="negative_with_unit"),
        pytest.param("1.2e3", (1200.0, None, None), id="exponent"),
        pytest.param("10k", (10000.0, None, None), id="multiplier_suffix"),
        pytest.param("1.5M requests", (1500000.0, "requests", None), id="multiplier_then_unit"),
        pytest.param("2 million", (2000000.0, None, None), id="multiplier_word"),
        pytest.param("5 kB", (5.0, "kB", None), id="a_unit_is_no_multiplier"),
        pytest.param(None, (None, None, None), id="none"),
        pytest.param(True, (None, None, "value True is not a number"), id="bool"),
        pytest.param([44], (None, None, "value '[44]' is not a number"), id="list"),
        pytest.param(float("nan"), (None, None, "value nan is not a finite number"), id="nan"),
    ],
)
def test_read_number(value, parsed):
    assert read_number(value) == parsed


@pytest.mark.parametrize(
    "name, ok, why",
    [
        pytest.param("Nexus", True, None, id="in_the_abstract"),
        pytest.param("we", False, "'we' is a common word, not a name", id="we"),
        pytest.param("the framework", False, "common word", id="the_framework"),
        pytest.param("LLM", False, "common word", id="llm"),
        pytest.param("Our approach", False, "common word", id="our_approach"),
        pytest.param("Phantom", False, "not in the title or abstract", id="absent"),
    ],
)
def test_names(name, ok, why):
    got, _, reason = verify_name(name, "Nexus: a title", ABS)
    assert got is ok
    assert (reason is None) if why is None else (why in reason)


NAMED = "We present NEXUS-2, a serverless hypervisor that offloads I/O."


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("**NEXUS-2**", id="markdown_emphasis"),
        pytest.param("NEXUS-2 (a serverless hypervisor)", id="description_in_parentheses"),
        pytest.param("NEXUS-2: serverless hypervisor", id="description_after_a_colon"),
        pytest.param("NEXUS-2 - a hypervisor", id="description_after_a_dash"),
        pytest.param("NEXUS-2 hypervisor", id="trailing_common_noun"),
        pytest.param("NEXUS 2", id="space_for_hyphen"),
        pytest.param("Nexus2", id="no_separator_other_case"),
    ],
)
def test_a_name_as_models_decorate_it_is_found_as_the_paper_writes_it(name):
    ok, ev, why = verify_name(name, "t", NAMED)
    assert ok, why
    assert NAMED[ev.start : ev.end] == "NEXUS-2"


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("Phantom hypervisor", id="absent_name_with_a_noun"),
        pytest.param("NEXUS-3", id="another_number"),
        pytest.param("the hypervisor", id="common_words_only"),
        pytest.param("**hypervisor**", id="common_word_in_emphasis"),
    ],
)
def test_a_decorated_name_must_still_be_the_papers(name):
    assert verify_name(name, "t", NAMED)[0] is False


def test_latex_wrapped_name_is_found():
    ok, ev, _ = verify_name("ClawVM", "t", "We present \\textsc{ClawVM}, a layer.")
    assert ok and ev.field == "abstract"
    assert verify_name(None, "t", "a") == (None, None, None)


def test_uncovered_numbers_are_what_no_verified_claim_covers():
    nums = verify_claims(
        DOC, [ClaimDraft(text="up to 44%", value=44, unit="%"), ClaimDraft(text="99%", value=99, unit="%")]
    )
    missed = [u.text for u in uncovered_numbers(DOC, nums)]
    assert "up to 44%" not in missed and "31%" in missed and "37%" in missed
    assert "3.13" not in missed  # a version number is no quantity claim


def test_a_thousands_suffix_verifies_as_the_model_writes_it():
    d = ClaimDraft(text="10k", value="10k", unit="QPS", metric="throughput")
    [n] = verify_claims(Document("It sustains 10k QPS on one node."), [d])
    assert n.verified and n.value == 10000 and n.unit == "QPS", n.why


@pytest.mark.parametrize(
    "claim, verified, why",
    [
        pytest.param(dict(text="several orders of magnitude", unit="x"), True, None, id="no_number_claimed"),
        pytest.param(
            dict(text="several orders of magnitude", value=100, unit="x"),
            False,
            "value 100x but the span 'several orders of magnitude' says no number",
            id="a_number_the_span_does_not_state",
        ),
    ],
)
def test_a_span_that_states_no_number(claim, verified, why):
    doc = Document("It cuts start-up time by several orders of magnitude over Docker.")
    [n] = verify_claims(doc, [ClaimDraft(**claim)])
    assert (n.verified, n.why) == (verified, why)
    assert (n.value, n.low, n.high) == (None, None, None)


def test_the_offline_engine_reads_several_orders_of_magnitude_without_failing_the_paper():
    from extractor.engines.offline import OfflineEngine
    from extractor.records import build_record
    from extractor.schema import Paper

    paper = Paper(id="x1", title="Foo: fast starts", abstract="Foo cuts start-up time by several orders of magnitude.")
    doc = Document.of(paper)
    rec = build_record(doc, OfflineEngine().extract(doc), OfflineEngine())
    assert rec.status == "ok"
    [n] = rec.headline_numbers
    assert n.text == "several orders of magnitude" and n.verified and n.value is None


@pytest.mark.parametrize(
    "claim, verified",
    [
        pytest.param(dict(text="10^6", value=1e6), True, id="the_power"),
        pytest.param(dict(text="$10^{6}$", value="1,000,000"), True, id="the_power_in_latex"),
        pytest.param(dict(text="10", value=10), False, id="the_base_alone_is_no_count"),
    ],
)
def test_a_power_of_ten_is_its_value(claim, verified):
    for abstract in ("It serves 10^6 requests per day.", "It serves $10^{6}$ requests per day."):
        [n] = verify_claims(Document(abstract), [ClaimDraft(**claim)])
        if n.verified:
            assert n.value == 1e6
        if claim["text"].startswith("$") and "$" not in abstract:
            continue
        assert n.verified is verified, (abstract, n.why)
