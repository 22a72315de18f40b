"""Text utilities: cleaning at the edge, normalisation with an offset map, sentences."""

import pytest

from extractor.analysis.text import clean_text, collapse_ws, normalize_with_map, plain, split_sentences


def test_sentence_split_keeps_abbreviations_together():
    text = "We use e.g. caches. Fig. 3 shows i.e. the point. See Sec. 2 and Eq. 4. Done! Next? Yes."
    assert [s.text for s in split_sentences(text)] == [
        "We use e.g. caches.",
        "Fig. 3 shows i.e. the point.",
        "See Sec. 2 and Eq. 4.",
        "Done!",
        "Next?",
        "Yes.",
    ]
    for s in split_sentences(text):
        assert text[s.start : s.end] == s.text


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("reduces  latency\nby 44%", "reduces latency by 44%"),
        ("4\u200b4% faster", "44% faster"),  # a zero-width space hides nothing
        ("\u202e%44\u202c", "%44"),  # bidi controls go, the characters stay in logical order
        ("\uff14\uff14\uff05 less", "44% less"),  # full-width digits read as what they show
        ("a\x01title\x1b[31m", "a title [31m"),  # control characters become spaces
        ("", ""),
    ],
)
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean


def test_normalized_text_maps_back_to_source_offsets():
    src = r"up to 2.7$\times$ and 20--100x, \frac{3}{4} of “requests”"
    n = normalize_with_map(src)
    assert n.text == 'up to 2.7x and 20-100x, 3/4 of "requests"'
    i = n.text.index("2.7x")
    assert src[slice(*n.span(i, i + 4))] == r"2.7$\times"
    i = n.text.index("3/4")
    assert src[slice(*n.span(i, i + 3))] == r"\frac{3}{4}"
    loose = normalize_with_map("39 %  of 2.89 times", spaces=False)
    assert loose.text == "39%of2.89times"


def test_plain_keeps_case_and_dashes_for_display():
    assert plain(r"Nexus reduces it by 2.7\% -- a lot") == "Nexus reduces it by 2.7% -- a lot"
    assert collapse_ws("  a \t b ") == "a b"


def test_collapse_ws_fast_path_agrees_with_split_join_for_every_space():
    # collapse_ws returns printable text with single inner spaces as it is; every other
    # whitespace character must still collapse exactly as str.split() sees it
    spaces = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    assert len(spaces) > 20
    for ch in spaces:
        for s in (f"a{ch}b", f"{ch}a", f"a{ch}", f"a {ch}b", ch):
            assert collapse_ws(s) == " ".join(s.split()), repr(s)
    assert collapse_ws("already one space") == "already one space"
