"""The offline engine's fast paths give the same answers as the plain code they replace.

Each fast path (a pre-test before a regex, a literal-led pattern, a string test instead of a
pattern) claims to be exact; these tests hold them to it on the labelled abstracts and on random
text built from the characters and words that matter to each one.
"""

import json
import random
import re

import pytest
from conftest import ROOT

from extractor.engines import offline as off
from extractor.quantities import (_QUAL_RE, _UNIT_BY_GROUP, _UNIT_RE, _WORD_BEFORE, _match_unit,
                                  _qualifier_before, _word_before)

ABSTRACTS = [json.loads(line)["abstract"] for line in open(ROOT / "tests/data/systems-abstracts-extra.jsonl")]


def _random_texts(pieces, n=3000, seed=7, most=14):
    rnd = random.Random(seed)
    return ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, most))) for _ in range(n)]


def test_intro_search_equals_the_intro_pattern():
    pieces = ["we ", "We", "we present ", "this paper ", "this work introduces ", "thesis ", "we\tpropose ",
              "nexus, ", "a system", ". ", "(we ", "owe ", "this paper proposes ", "we first design "]
    texts = [off.lower_same_length(a) for a in ABSTRACTS] + _random_texts(pieces)
    for t in texts:
        for pos in (0, 5):
            want = off._INTRO_RE.search(t, pos)
            got = off._intro_search(t, pos)
            assert (want and (want.span(), want.group("rest"))) == (got and (got.span(), got.group("rest"))), t
        assert [m.span() for m in off._INTRO_RE.finditer(t)] == [m.span() for m in off._intro_matches(t)]


def test_qualifier_pretest_and_unit_pretest():
    pieces = ["up to ", "Up To ", "over ", "about ", "~", "<", "<=", "an average of ", "sub-", "by ", "nearly ",
              "more than ", "x", " ", "5", "%", " ms", " GB", " times", "-fold", " and", "approx.", " a ", "é"]
    for t in _random_texts(pieces, n=4000):
        for s in range(len(t) + 1):
            got, want = _qualifier_before(t, s), _QUAL_RE.search(t, max(0, s - 16), s)
            assert (got and got.span()) == (want and want.span()), (t, s)
            if s < len(t) and t[s] not in ",;:)].":
                m = _UNIT_RE.match(t, s)
                assert _match_unit(t, s) == ((_UNIT_BY_GROUP[m.lastgroup], m.end()) if m else None), (t, s)


@pytest.mark.parametrize("name", ["Nexus", "μFork", "sNVMe-oF", "C++", "X", "Foo_"])
def test_title_name_test_equals_the_pattern(name):
    pieces = ["a ", "an ", "the ", "A ", name, "s", " ", "-", "x", "_", "(", "\t", "the  "]
    for rest in _random_texts(pieces, n=2000, most=4):
        want = bool(re.match(rf"(?:an?\s+|the\s+)?{re.escape(name)}\b", rest))
        assert off._names_first(rest, name) == want, (name, rest)


def test_word_before_equals_the_pattern():
    pieces = ["Sonnet", " ", "(CXL)", ")", "Llama-2", "x.y", "_a", "é", "4", "\n", "Table", "(", "ab", ".", "-"]
    for t in _random_texts(pieces, n=4000, most=10) + ABSTRACTS[:10]:
        for s in range(len(t) + 1):
            m = _WORD_BEFORE.search(t, max(0, s - 40), s)
            assert _word_before(t, s) == (m.span(1) if m else None), (t, s)


def test_problem_cue_count_equals_the_pattern():
    words = ["however", "problem", "problems", "inefficient", "degraded", "wasted", "waste", "yet_", "x-but",
             "but2", "hard-coded", "(however)", "cannot.", "we", "__", "ü", "yet", "lack", "risk's", "a", "-", ",",
             ".", "(", ")", " ", "\t", "9"]
    texts = [s.lower() for a in ABSTRACTS for s in a.split(". ")] + _random_texts(words, n=4000)
    for t in texts:
        assert off._count_problem_cues(t) == len(off._PROBLEM_CUES.findall(t)), t


def test_digit_runs_equal_the_pattern():
    from extractor.quantities import _ASCII_DIGITS_RE, _digit_runs

    pieces = ["1", "23", ",", ".", "4.5", "a", " ", "8,054", "x", "0", "..", ",,", "-"]
    for t in _random_texts(pieces, n=4000) + ABSTRACTS:
        if t.isascii():
            for pos in (0, 3):
                assert [m.span() for m in _digit_runs(t, pos)] == [m.span() for m in _ASCII_DIGITS_RE.finditer(t, pos)]


def test_own_work_test_equals_the_pattern():
    pieces = ["we", "our", "this", "it", "its", "we'", "wet", "tour", "thisx", " ", ".", "-", "_", "é", "a"]
    for t in _random_texts(pieces, n=4000) + [a.lower() for a in ABSTRACTS]:
        assert off._mentions_own(t) == bool(off._OWN_RE.search(t)), t


def test_other_pre_tests_only_skip_patterns_that_cannot_match():
    from extractor.quantities import _MULT_FIRST, _MULT_RE, _MULT_SPACED

    pieces = [" ", "K", "M", "B", "thousand", " million", "b", "t", "m", "x", "5", "-", "é"]
    for t in _random_texts(pieces, n=3000, most=6):
        for i in range(len(t) + 1):
            nxt = t[i:i + 2]
            if not (nxt[:1] in _MULT_FIRST or nxt in _MULT_SPACED):
                assert _MULT_RE.match(t, i) is None, (t, i)
    words = ["is ", "was ", "limited ", "by", " by", "of", " reaching", "reached", "ed", " ", "x", "\t"]
    for b in _random_texts(words, n=3000, most=6):
        b = b.rstrip()
        if not b.endswith(("by", "of", "reaching")):
            assert off._TRAILING_BY.sub("", b) == b, b
        if not b.endswith("ed"):
            assert off._PASSIVE.search(b) is None, b
