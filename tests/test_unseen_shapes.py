"""Abstracts the rules were not written on (issue 28): the shapes of correct claims that the
verifier doubted outside the 60 labelled systems abstracts, and the quantities of other sciences the
scanner misread. Every abstract here is written for the test (none is a held-out text); each case
is named by its shape."""

import pytest

from extractor.analysis.document import Document
from extractor.analysis.quantities import scan
from extractor.contract import ClaimDraft
from extractor.verification import verify_claims


def verify(abstract, *claims):
    drafts = [ClaimDraft(**{"unit": "", **c}, answer=dict(c)) for c in claims]
    return verify_claims(Document(abstract), drafts)


def one(abstract, **claim):
    [n] = verify(abstract, claim)
    return n


# --- setup and context numbers are claims too ---------------------------------------------------------

SETUP = [
    ("We evaluate it on a 16-GPU testbed with real traces.", dict(text="16-GPU", value=16, unit="GPUs"), 16, ""),
    ("Experiments on a 4-server cluster confirm it.", dict(text="4-server", value=4, unit="servers"), 4, ""),
    ("We train with a 32K-token context window.", dict(text="32K-token", value=32000, unit="tokens"), 32000, ""),
    ("It scales to 13B-scale models without retuning.", dict(text="13B-scale", value=13, unit="B"), 13e9, ""),
    ("The sensor is sampled at 250Hz during the trials.", dict(text="250Hz", value=250, unit="Hz"), 250, "Hz"),
    ("Each trace covers a 30-second period of load.", dict(text="30-second", value=30, unit="seconds"), 30, "s"),
    ("Weights are kept in 8-bit precision on device.", dict(text="8-bit", value=8, unit="bit"), 8, "bit"),
]


@pytest.mark.parametrize(
    "abstract, claim, value, unit", SETUP, ids=["gpus", "servers", "tokens", "model-scale", "hertz", "seconds", "bits"]
)
def test_a_number_used_as_a_modifier_is_a_claim(abstract, claim, value, unit):
    n = one(abstract, kind="setup", **claim)
    assert n.verified, n.why
    assert n.value == pytest.approx(value) and n.unit == unit


def test_a_modifier_and_a_quantity_of_the_same_digits_each_keep_their_place():
    a = "We quantize weights to 8-bit precision, which keeps the model in 8GB of memory."
    bits, gb = verify(
        a, dict(text="8-bit", value=8, unit="bit", kind="setup"), dict(text="8GB", value=8, unit="GB", kind="result")
    )
    assert bits.verified and gb.verified, (bits.why, gb.why)
    assert a[bits.start : bits.end] == "8-bit" and a[gb.start : gb.end] == "8GB"


def test_a_modifier_claim_with_a_metric_is_checked_like_any_claim():
    a = "On a 1024-GPU cluster, Hoist achieves up to 5.48x higher training throughput than prior systems."
    gpus, speed = verify(
        a,
        dict(text="1024-GPU", value=1024, unit="", kind="setup", metric="GPUs in the cluster"),
        dict(text="up to 5.48x", value=5.48, unit="x", metric="training throughput", qualifier="up_to"),
    )
    assert gpus.verified and speed.verified, (gpus.why, speed.why)


def test_a_modifier_is_no_claim_of_the_offline_reading_nor_an_uncovered_number():
    from extractor.verification import uncovered_numbers

    doc = Document("We use a 16-GPU testbed and 64-bit pointers.")
    assert uncovered_numbers(doc, []) == []


# --- a score named by its metric ------------------------------------------------------------------------

SCORES = [
    ("Our model reaches F1: 0.712 on the test split.", "0.712", 0.712, "F1"),
    ("On the benchmark it scores F1 = 0.701 overall.", "0.701", 0.701, "F1"),
    ("It obtains $F_{1} {=} 0.874$ on average.", "0.874", 0.874, "F1"),
    ("Fairness improves to a Jain's index of 0.93 under load.", "0.93", 0.93, "Jain's index"),
    ("The classifier reaches an accuracy of 0.79 on held-out data.", "0.79", 0.79, "accuracy"),
    ("It gains 2.3 BLEU over the baseline.", "2.3 BLEU", 2.3, "BLEU"),
    ("It improves detection by 4.1 mAP on COCO.", "4.1 mAP", 4.1, "mAP"),
]


@pytest.mark.parametrize(
    "abstract, text, value, unit", SCORES, ids=["colon", "equals", "latex", "index", "of", "bleu", "map"]
)
@pytest.mark.parametrize("given", ["metric", "none"])
def test_a_score_verifies_with_its_metric_as_unit_or_none(abstract, text, value, unit, given):
    n = one(abstract, text=text, value=value, unit=unit if given == "metric" else "", metric="score")
    assert n.verified, n.why
    assert n.value == pytest.approx(value)


# --- ranges: each end, or the pair as one range ------------------------------------------------------------

RANGES = [
    ("Message sizes range between 64 KB and 4 MB in the traces.", [dict(text="64 KB", value=64, unit="KB")]),
    ("Message sizes range between 64 KB and 4 MB in the traces.", [dict(text="4 MB", value=4, unit="MB")]),
    (
        "Message sizes range between 64 KB and 4 MB in the traces.",
        [dict(text="between 64 KB and 4 MB", low=64, high=4096, unit="KB")],
    ),
    ("We test models from 50M to 7B parameters.", [dict(text="50M to 7B", low=50e6, high=7e9, unit="")]),
    ("We test models from 50M to 7B parameters.", [dict(text="50M", value=50e6, unit=""), dict(text="7B", value=7e9)]),
    ("Gains ranging from 8.4% to 21.7% were seen.", [dict(text="from 8.4% to 21.7%", low=8.4, high=21.7, unit="%")]),
    ("The buffer shrinks (4,096KB to 512KB) under load.", [dict(text="4,096KB", value=4096, unit="KB")]),
    ("The buffer shrinks (4,096KB to 512KB) under load.", [dict(text="512KB", value=512, unit="KB")]),
]


@pytest.mark.parametrize(
    "abstract, claims",
    RANGES,
    ids=[
        "between-low",
        "between-high",
        "between-whole",
        "from-to-range",
        "from-to-ends",
        "ranging",
        "to-low",
        "to-high",
    ],
)
def test_each_end_of_a_range_or_the_pair_as_one_range_verifies(abstract, claims):
    for n in verify(abstract, *claims):
        assert n.verified, n.why


# --- units of other fields, and numbers glued to their noun ---------------------------------------------


@pytest.mark.parametrize(
    "abstract, claim, unit",
    [
        (
            "The kernel sustains 214.3 GFLOPs on one core.",
            dict(text="214.3 GFLOPs", value=214.3, unit="GFLOPS"),
            "GFLOPS",
        ),
        ("Dialogues last over 512turns in the longest runs.", dict(text="over 512turns", value=512, unit="turns"), ""),
        ("The gap closes at 300 K in our samples.", dict(text="300 K", value=300, unit="K"), "K"),
        ("Particles reach 5 keV in the detector.", dict(text="5 keV", value=5, unit="keV"), "keV"),
    ],
    ids=["gflops", "glued-noun", "kelvin", "kev"],
)
def test_units_of_other_fields_are_read(abstract, claim, unit):
    n = one(abstract, **claim)
    assert n.verified, n.why
    assert n.unit == unit


# --- two qualifiers on one number; the span is the authority for what it says ----------------------------------


def test_two_qualifiers_on_one_number():
    n = one(
        "Throughput improves by up to ~12X on skewed keys.", text="up to ~12X", value=12, unit="x", qualifier="up_to"
    )
    assert n.verified, n.why


@pytest.mark.parametrize(
    "abstract, claim, unit, qualifier",
    [
        (
            "It is up to 3.1 times faster on mixed loads.",
            dict(text="up to 3.1 times", value=3.1, unit="x", qualifier="average"),
            "x",
            "up_to",
        ),
        (
            "It saves approximately 64.5% of the energy.",
            dict(text="approximately 64.5%", value=64.5, unit="%", qualifier="average"),
            "%",
            "approx",
        ),
        (
            "Inference runs up to 7.5x faster on phones.",
            dict(text="up to 7.5x", value=7.5, unit="%", qualifier="up_to"),
            "x",
            "up_to",
        ),
        ("It is 2.42x faster than the old design.", dict(text="2.42x", value=2.42, unit="GB"), "x", "exact"),
    ],
    ids=["qualifier-average-for-up-to", "qualifier-average-for-approx", "unit-percent-for-x", "unit-gb-for-x"],
)
def test_a_verbatim_span_is_the_authority_for_its_unit_and_qualifier(abstract, claim, unit, qualifier):
    n = one(abstract, **claim)
    assert n.verified, n.why
    assert n.unit == unit and n.qualifier == qualifier
    assert n.model_answer["unit"] == claim["unit"] and n.model_answer.get("qualifier") == claim.get("qualifier")


@pytest.mark.parametrize(
    "abstract, claim",
    [
        (
            "Inference runs up to 7.5x faster on phones.",
            dict(text="7.5", value=7.5, unit="%"),
        ),  # not verbatim: the unit matters
        (
            "Inference runs up to 7.5x faster on phones.",
            dict(text="up to 7.5x", value=8.5, unit="x"),
        ),  # a value the span does not say
        ("It is 2.42x faster than the old design.", dict(text="2x", value=2, unit="x")),  # inside a longer number
        (
            "It is 2.42x faster than the old design.",
            dict(text="2.42", value=2.42, unit="GB"),
        ),  # the digits, another unit
    ],
    ids=["digits-only-wrong-unit", "wrong-value", "inside-longer", "digits-only-gigabytes"],
)
def test_what_the_span_does_not_say_still_fails(abstract, claim):
    n = one(abstract, **claim)
    assert not n.verified


# --- the scanner reads what other sciences write -----------------------------------------------------------


def quantities(text):
    return [(text[q.start : q.end], q.value, q.low, q.high, q.unit, q.qualifier) for q in scan(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("memory of ≥16 GB per node", [("≥16 GB", 16, None, None, "GB", "at_least")]),
        ("memory of >=16 GB per node", [(">=16 GB", 16, None, None, "GB", "at_least")]),
        ("latency of ≤ 5 ms in all runs", [("≤ 5 ms", 5, None, None, "ms", "at_most")]),
        ("a gain of ∼35% on average", [("∼35%", 35, None, None, "%", "approx")]),
        ("as shown in (Fig. 7B) and Table 3", []),
        ("see Section 4.2 and Eq. 5 for the proof", []),
        ("a patch of 2 × 2 μm2 on the wafer", [("2 μm2", 2, None, None, "µm2", "exact")]),
        ("an irradiance of 1 mW m−2 at noon", [("1 mW m−2", 1, None, None, "mW/m^2", "exact")]),
        ("a lattice constant a=4.2 Å was found", [("4.2 Å", 4.2, None, None, "Å", "exact")]),
        ("the wind reached 3.2 m s−1 there", [("3.2 m s−1", 3.2, None, None, "m/s", "exact")]),
        (
            "a spot of 10 μm at 300 K",
            [("10 μm", 10, None, None, "µm", "exact"), ("300 K", 300, None, None, "K", "exact")],
        ),
        ("tilted by 45° off axis", [("45°", 45, None, None, "°", "exact")]),
        (
            "it found 20 in the wild and 3 at a time",
            [("20", 20, None, None, "", "exact"), ("3", 3, None, None, "", "exact")],
        ),
        ("we ran over 3 000 trials in all", [("over 3 000", 3000, None, None, "", "over")]),
        (
            "a mean Dice/IoU of 81.25/70.40 on skin",
            [("81.25", 81.25, None, None, "", "exact"), ("70.40", 70.4, None, None, "", "exact")],
        ),
        ("it runs 24/7 and 3/4 of the time", []),
        ("it gains 1.14-14.3 speedups over them", [("1.14-14.3 speedups", None, 1.14, 14.3, "x", "exact")]),
        ("accuracy rises by up to 7 absolute points", [("up to 7 absolute points", 7, None, None, "pp", "up_to")]),
        ("papers published between 2018 and 2025 across venues", []),
        (
            "with one to two orders of magnitude fewer weights",
            [("one to two orders of magnitude", None, 10, 100, "x", "approx")],
        ),
        ("it went unnoticed for almost 20 years", [("almost 20 years", 20, None, None, "yr", "approx")]),
        (
            "a study of 6 weeks and 3 months of logs",
            [("6 weeks", 6, None, None, "wk", "exact"), ("3 months", 3, None, None, "mo", "exact")],
        ),
    ],
    ids=[
        "geq-sign",
        "geq-ascii",
        "leq-sign",
        "tilde-operator",
        "figure-and-table",
        "section-and-equation",
        "product-of-sizes",
        "compound-unit",
        "formula-value",
        "speed",
        "micrometres-and-kelvin",
        "degrees",
        "prose-is-no-unit",
        "space-grouped-thousands",
        "slashed-decimal-scores",
        "fractions-stay-out",
        "speedups-without-x",
        "absolute-points",
        "year-range",
        "magnitudes-in-words",
        "years",
        "weeks-and-months",
    ],
)
def test_the_scanner_reads_other_sciences(text, expected):
    got = quantities(text)
    assert len(got) == len(expected), got
    for g, e in zip(got, expected):
        assert g[0] == e[0] and g[4] == e[4] and g[5] == e[5], (g, e)
        assert (g[1] is None and e[1] is None) or g[1] == pytest.approx(e[1]), (g, e)


# --- the offline engine outside systems ------------------------------------------------------------------


def offline(abstract, categories=()):
    from extractor.engines.offline.engine import OfflineEngine, extract_offline
    from extractor.records import build_record
    from extractor.schema import Paper

    paper = Paper(id="x", title="Tern: a test paper", abstract=abstract, categories=list(categories))
    doc = Document.of(paper)
    return {n.text: n for n in build_record(doc, extract_offline(doc), OfflineEngine()).headline_numbers}


def test_a_score_named_before_its_value_is_a_result_of_its_metric():
    ns = offline("We present Tern. Tern achieves an average positive recall of 0.92 on the test set.")
    n = ns["0.92"]
    assert n.kind == "result" and n.metric_class == "accuracy" and "recall" in n.metric


def test_each_of_a_slashed_pair_of_scores_takes_its_own_name():
    ns = offline("We present Tern. Tern attains a mean Dice/IoU of 81.25/70.40 on skin lesions.")
    assert "Dice" in ns["81.25"].metric and "IoU" in ns["70.40"].metric
    assert ns["81.25"].kind == ns["70.40"].kind == "result"


def test_counts_of_the_study_are_setup_of_scale_with_no_direction():
    ns = offline("We present Tern. We evaluate hallucination detection across 40 configurations and 12 datasets.")
    for text in ("40", "12"):
        assert (ns[text].kind, ns[text].metric_class, ns[text].direction) == ("setup", "scale", "none"), ns[text]


def test_from_a_to_b_a_change_is_where_things_stood_and_where_they_went():
    ns = offline("We present Tern. Tern reduces the training time from 6 hours to 45 minutes on one node.")
    assert (ns["6 hours"].kind, ns["6 hours"].direction) == ("context", "none")
    assert (ns["45 minutes"].kind, ns["45 minutes"].direction) == ("result", "decrease")


def test_a_range_of_sizes_is_no_change():
    ns = offline("We present Tern. We release five models ranging from 7M to 200M parameters.")
    assert ns["7M"].kind == ns["200M"].kind == "setup"
    assert ns["7M"].direction == ns["200M"].direction == "none"


def test_outside_systems_a_bare_performance_gain_is_quality():
    abstract = (
        "We present Tern, a manipulation policy. Tern achieves an average performance gain of 12% over baselines."
    )
    assert offline(abstract, ["cs.RO"])["12%"].metric_class == "accuracy"
    assert offline(abstract, ["cs.DC"])["12%"].metric_class == "speedup"


def test_a_range_of_magnitudes_in_words_verifies_as_one_range():
    n = one(
        "Tern matches the baseline with one to two orders of magnitude fewer parameters.",
        text="one to two orders of magnitude",
        low=10,
        high=100,
        unit="x",
        qualifier="approx",
    )
    assert n.verified and (n.low, n.high) == (10, 100), n.why


def test_in_a_versus_pair_the_first_is_the_papers_and_the_second_the_baselines():
    ns = offline(
        "We present Tern. Tern reduced mean task time by 39.9% (70.1 s vs. 116.7 s) and needed fewer "
        "turns (4.3 vs. 5.8) than the baseline."
    )
    assert (ns["70.1 s"].kind, ns["116.7 s"].kind) == ("result", "context")
    assert (ns["4.3"].kind, ns["5.8"].kind) == ("result", "context")
    assert ns["116.7 s"].direction == "none"


def test_a_factor_that_lost_its_x_is_a_result_not_a_count():
    ns = offline(
        "We present Tern. Tern accelerates the total job time by 1.20 and achieves a speedup of up to 2.73 "
        "over prior systems on 16 nodes."
    )
    assert ns["1.20"].kind == "result" and ns["up to 2.73"].kind == "result"
    assert ns["16"].kind == "setup"  # a count stays the study's


def test_counts_said_found_after_the_number_are_results():
    ns = offline(
        "We present Tern, a fuzzer. Using Tern, we discovered 12 previously unknown bugs in two compilers, "
        "with 11 confirmed and 6 fixed by developers. Of the 9 bugs we reported, 5 were acknowledged."
    )
    for text in ("12", "11", "6"):
        assert ns[text].kind == "result", (text, ns[text])


def test_the_time_window_a_study_covers_is_setup():
    ns = offline("We present Tern. We analyse 370 articles published in the past 15 years with Tern.")
    assert (ns["15 years"].kind, ns["15 years"].unit) == ("setup", "yr")


@pytest.mark.parametrize(
    "abstract, text, kind",
    [
        ("We present Tern. At 95% confidence Tern's estimate holds for all sites.", "95%", "setup"),
        ("We present Tern. Each tool ran with a time budget of 400 seconds per file.", "400 seconds", "setup"),
        ("We present Tern. We found that 117 out of 729 real bug reports concern it.", "729", "setup"),
        ("We present Tern. The detection of 3 transiting planets is marginal.", "3", "result"),
        ("We present Tern. In total, 19 relations have been developed for the tool.", "19", "result"),
        ("We present Tern. Of the 22 bugs that we have reported, most were fixed.", "22", "result"),
        (
            "We present Tern. We identified 48 true positives and 27 false positives, and 205 likely ones.",
            "205",
            "result",
        ),
        (
            "We present Tern. Tern reaches 25% accuracy over infection probabilities from 0.001 to 0.5.",
            "0.001",
            "setup",
        ),
        ("We present Tern. Tern reaches 25% accuracy over infection probabilities from 0.001 to 0.5.", "0.5", "setup"),
        ("We present Tern. We study planets with 3-5 day periods in the survey.", "3-5 day", "setup"),
        (
            "We present Tern. Tern reaches 30% success. In comparison, the state-of-the-art X achieved 8.2%.",
            "8.2%",
            "context",
        ),
    ],
    ids=[
        "confidence-level",
        "time-budget",
        "out-of-a-total",
        "detection-of",
        "made-with-an-auxiliary",
        "reported-by-us",
        "found-list-third",
        "condition-range-low",
        "condition-range-high",
        "duration-as-modifier",
        "in-comparison",
    ],
)
def test_the_kind_of_counts_settings_and_others_figures(abstract, text, kind):
    assert offline(abstract)[text].kind == kind


def test_a_count_out_of_a_total_with_thousands_is_no_fraction():
    assert quantities("only one in ten (481/4,518; 10.6%) run them")[0][:2] == ("481", 481)
    n = one("Only one in ten (481/4,518; 10.6%) run them.", text="481", value=481)
    assert n.verified, n.why


@pytest.mark.parametrize(
    "text, expected",
    [
        ("the program awarded $35,000 in total", [("$35,000", 35000, "$")]),
        ("it saves US$ 1.2 million a year", [("US$ 1.2 million", 1.2e6, "$")]),
        ("a budget of €300 and £20 per run", [("€300", 300, "€"), ("£20", 20, "£")]),
        ("where $r=0.16$ and each run costs $5", [("0.16", 0.16, ""), ("$5", 5, "$")]),
        ("only $50$ tests with $1000$ samples", [("$50$", 50, ""), ("$1000$", 1000, "")]),
    ],
    ids=["dollars", "us-dollars-million", "euros-and-pounds", "math-then-money", "math-is-no-money"],
)
def test_money_before_its_number_is_read_and_latex_math_is_not_money(text, expected):
    got = [(g[0], g[1], g[4]) for g in quantities(text)]
    assert len(got) == len(expected), got
    for g, e in zip(got, expected):
        assert g[0] == e[0] and g[2] == e[2] and g[1] == pytest.approx(e[1]), (g, e)


def test_a_claim_of_money_verifies_and_is_a_cost():
    n = one(
        "We present Tern. Tern cuts the cloud bill by $2.5M per year.",
        text="$2.5M",
        value=2.5e6,
        unit="USD",
        metric="cloud bill",
        direction="decrease",
    )
    assert n.verified and n.unit == "$" and n.metric_class == "cost", (n.why, n.unit, n.metric_class)
    wrong = one("We present Tern. Tern cuts the cloud bill by $2.5M per year.", text="$2.5M", value=25e6, unit="$")
    assert not wrong.verified  # a value the span does not say
