"""`extractor eval` on hand-made predictions whose scores are known."""

import json

import pytest
from conftest import run_cli

GOLD = [
    {
        "id": "p1",
        "system_name": "Nexus",
        "system_aliases": ["NexusVM"],
        "numbers": [
            {
                "text": "44%",
                "value": 44,
                "unit": "%",
                "kind": "result",
                "direction": "decrease",
                "metric": "CPU consumption",
            },
            {
                "text": "20-100x",
                "low": 20,
                "high": 100,
                "unit": "x",
                "kind": "result",
                "direction": "decrease",
                "metric": "host servers",
            },
            {"text": "17", "value": 17, "unit": "", "kind": "setup", "direction": "none", "metric": "workloads"},
        ],
    },
    {"id": "p2", "system_name": None, "numbers": []},
    {
        "id": "p3",
        "system_name": "Foo",
        "numbers": [
            {"text": "3x", "value": 3, "unit": "x", "kind": "result", "direction": "increase", "metric": "throughput"}
        ],
    },
]


def rec(pid, name, nums, status="ok"):
    return {
        "id": pid,
        "version": "v1",
        "system_name": name,
        "status": status,
        "error": None if status == "ok" else "x",
        "headline_numbers": nums,
    }


def n(text, value=None, unit="", direction="none", metric=None, kind="result", low=None, high=None, verified=True):
    return {
        "text": text,
        "value": value,
        "low": low,
        "high": high,
        "unit": unit,
        "direction": direction,
        "metric": metric,
        "kind": kind,
        "verified": verified,
    }


PRED = [
    rec(
        "p1",
        "NEXUSVM",
        [
            n("44%", 44, "%", "decrease", "node CPU consumption"),
            n("20-100x", None, "x", "increase", "host servers", low=20, high=100),
            n("2026", 2026, "", verified=False),
        ],
    ),
    rec("p2", "Phantom", []),
    rec("p3", None, [], status="error"),
]


def test_scores_and_errors(tmp_path):
    g, p = tmp_path / "gold.jsonl", tmp_path / "pred.jsonl"
    g.write_text("".join(json.dumps(x) + "\n" for x in GOLD))
    p.write_text("".join(json.dumps(x) + "\n" for x in PRED))
    r = run_cli("eval", p, g, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    m = out["metrics"]
    assert m["system_name_correct"] == 1  # alias match for p1; p2 must be null; p3 missed
    assert m["matched_numbers"] == 2 and m["predicted_numbers"] == 3 and m["gold_numbers"] == 4
    assert abs(m["number_precision"] - 2 / 3) < 1e-9 and abs(m["number_recall"] - 0.5) < 1e-9
    assert abs(m["result_recall"] - 2 / 3) < 1e-9
    assert m["unit_accuracy"] == 1.0 and m["direction_accuracy"] == 0.5
    assert abs(m["metric_token_f1"] - (0.8 + 1.0) / 2) < 1e-9
    assert abs(m["verified_share"] - 2 / 3) < 1e-9 and m["papers_with_errors"] == 1
    errs = out["errors"]
    assert any("missed: '17'" in e for e in errs["p1"]) and any("false positive: '2026'" in e for e in errs["p1"])
    assert any("predicted 'Phantom', gold None" in e for e in errs["p2"])
    r = run_cli("eval", p, g, "--show-errors")
    assert "system name accuracy   0.333 (1/3)" in r.stdout and "p3:" in r.stdout


def test_bad_gold_is_one_line_error(tmp_path):
    g, p = tmp_path / "gold.jsonl", tmp_path / "pred.jsonl"
    g.write_text('{"id": "p1", "system_name": null}\n')
    p.write_text(json.dumps(PRED[0]) + "\n")
    r = run_cli("eval", p, g)
    assert r.returncode == 2 and "gold line needs a 'numbers' list" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    "line, why",
    [
        pytest.param(
            {"id": "p1", "numbers": [["44%"]]}, "numbers.0: Input should be a valid dictionary", id="a_number_as_a_list"
        ),
        pytest.param(
            {"id": "p1", "numbers": [{"value": "x"}]},
            "numbers.0.value: Input should be a valid number",
            id="a_value_as_words",
        ),
        pytest.param(
            {"id": "p1", "system_name": 5, "numbers": []},
            "system_name: Input should be a valid string",
            id="a_number_as_name",
        ),
        pytest.param(
            {"id": "p1", "numbers": [{"value": 4, "kind": "headline"}]},
            "numbers.0.kind: Input should be 'result', 'context' or 'setup'",
            id="a_kind_the_guide_does_not_name",
        ),
    ],
)
def test_a_gold_line_off_the_format_is_named(tmp_path, line, why):
    """A gold line whose labels are not in docs/gold-format.md's shape is one error naming the line and
    the label (it was an internal error in the middle of scoring)."""
    g, p = tmp_path / "gold.jsonl", tmp_path / "pred.jsonl"
    g.write_text(json.dumps({"id": "p0", "numbers": []}) + "\n" + json.dumps(line) + "\n")
    p.write_text(json.dumps(PRED[0]) + "\n")
    r = run_cli("eval", p, g)
    assert r.returncode == 2, r.stderr
    [message] = r.stderr.strip().splitlines()
    assert message.startswith(f"extractor: error: {g}:2: not a gold line ({why}"), message
