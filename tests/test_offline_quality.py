"""The offline engine scored against hand-labelled gold, through the real CLI."""

import json
import re

import pytest
from conftest import EXTRA, EXTRA_GOLD, FIXTURE, GOLD, read_jsonl, run_cli

# phrases in the sample abstracts whose digits are years, versions, model names or list markers
NOT_CLAIMS = [
    "Python 3.13t",
    "GPT-5",
    "Sonnet 4",
    "Sonnet 4.5",
    "o4-mini",
    "21st",
    "MobileNetV2",
    "1) an",
    "2) an",
    "3) a",
    "V2",
]


@pytest.fixture(scope="module")
def sample_table(tmp_path_factory):
    out = tmp_path_factory.mktemp("q") / "sample.jsonl"
    r = run_cli("extract", FIXTURE, "-o", out, "-q")
    assert r.returncode == 0, r.stderr
    return out


def scores(table, gold):
    r = run_cli("eval", table, gold, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["metrics"]


def test_sample_bars(sample_table):
    m = scores(sample_table, GOLD)
    assert m["papers"] == 15 and m["papers_with_errors"] == 0
    assert m["system_name_correct"] >= 14
    assert m["result_recall"] >= 0.95
    assert m["verified_share"] == 1.0


def test_no_year_version_or_model_name_numbers(sample_table):
    for rec in read_jsonl(sample_table):
        a = rec["abstract"]
        bad = [(m.start(), m.end()) for p in NOT_CLAIMS for m in re.finditer(re.escape(p), a)]
        bad += [(m.start(), m.end()) for m in re.finditer(r"\b(?:19|20)\d\d\b", a)]
        for n in rec["headline_numbers"]:
            assert n["value"] is None or not (1900 <= n["value"] <= 2099 and n["unit"] == ""), n
            for s, e in bad:
                assert n["end"] <= s or n["start"] >= e, (rec["id"], n["text"], a[s:e])


def test_every_verified_span_is_the_abstract_text(sample_table):
    for rec in read_jsonl(sample_table):
        for n in rec["headline_numbers"]:
            assert n["verified"]
            assert rec["abstract"][n["start"] : n["end"]] == n["text"]


# Measured on the whole labelled set (sample + extra, 60 papers) with
#   extractor extract data/arxiv-systems-2026-04.atom.xml tests/data/systems-abstracts-extra.jsonl -o all.jsonl
#   extractor eval all.jsonl <both gold files concatenated>
# This test fails when the offline engine drops below what was measured.
FLOORS = {
    "system_name_accuracy": 0.95,
    "number_precision": 1.0,
    "number_recall": 0.99,
    "result_recall": 0.99,
    "unit_accuracy": 0.99,
    "direction_accuracy": 0.92,
    "kind_accuracy": 0.89,
    "metric_token_f1": 0.88,  # 0.888 since the labelled set holds "nearly a three times degradation", metric not read
    "metric_class_accuracy": 0.92,
    "verified_share": 1.0,
}


def test_labelled_set_does_not_regress(tmp_path):
    table = tmp_path / "all.jsonl"
    r = run_cli("extract", FIXTURE, EXTRA, "-o", table, "-q")
    assert r.returncode == 0, r.stderr
    gold = tmp_path / "gold.jsonl"
    gold.write_text(GOLD.read_text() + EXTRA_GOLD.read_text())
    m = scores(table, gold)
    assert m["papers"] == 60 and m["papers_with_errors"] == 0
    for key, floor in FLOORS.items():
        assert m[key] >= floor - 1e-9, (key, m[key], floor)
