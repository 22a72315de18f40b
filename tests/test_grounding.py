from extractor.grounding import verify_name, verify_numbers
from extractor.schema import HeadlineNumber

ABS = ("Our system reduces latency by up to 44% and 31%, respectively. It finds $2.7\\times$ more bugs "
       "and lowers false positives by 68\\%.")


def num(text, value, unit, **kw):
    return HeadlineNumber(text=text, value=value, unit=unit, **kw)


def test_exact_span_is_verified_with_offsets():
    [n] = verify_numbers([num("up to 44%", 44, "%")], ABS)
    assert n.verified and n.alignment == "exact"
    assert ABS[n.start:n.end] == "up to 44%"
    assert n.sentence.startswith("Our system")


def test_latex_is_aligned_and_reparsed():
    a, b = verify_numbers([num("2.7x", 2.7, "x"), num("68%", 68, "%")], ABS)
    assert a.verified and a.alignment == "normalized" and a.text == "$2.7\\times$"
    assert ABS[a.start:a.end] == a.text
    assert b.verified and b.text == "68\\%"


def test_invented_number_is_flagged_not_dropped():
    [n] = verify_numbers([num("57%", 57, "%")], ABS)
    assert n.verified is False and n.why == "text not found in abstract" and n.start is None


def test_wrong_value_or_unit_is_flagged():
    a, b = verify_numbers([num("31%", 13, "%"), num("31%", 31, "x")], ABS)
    assert not a.verified and "value 13 != 31" in a.why
    assert not b.verified and "unit" in b.why


def test_repeated_text_takes_distinct_occurrences():
    text = "A gains 10% in one test and 10% in another."
    a, b = verify_numbers([num("10%", 10, "%"), num("10%", 10, "%")], text)
    assert a.verified and b.verified and a.start != b.start


def test_whitespace_tolerant_alignment():
    [n] = verify_numbers([num("up  to\n44%", 44, "%")], ABS)
    assert n.verified and n.text == "up to 44%"


def test_name_must_occur():
    assert verify_name("Nexus", "Nexus: a title", "We introduce Nexus, a thing.")[0] is True
    ok, ev = verify_name("ClawVM", "t", "We present \\textsc{ClawVM}, a layer.")
    assert ok and ev.field == "abstract"
    assert verify_name("Phantom", "t", "We present nothing named.")[0] is False
    assert verify_name(None, "t", "a") == (None, None)
