"""Verification against answers shaped the way real models write them.

A scripted OpenAI-compatible server on 127.0.0.1 answers every labelled paper (60 abstracts, 166
numbers) from its gold labels, re-expressed in one way per run (tests/reexpress.py); the real CLI
extracts through the real openai client. Tolerant shapes mean the same as the gold: at least 99%
of the true claims must still verify, in canonical form. Strict shapes mean something else:
nothing wrong may pass.
"""

import pytest
import reexpress as rx
from conftest import read_jsonl, run_cli


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    from conftest import LocalServer

    papers = rx.load()
    assert len(papers) == 60
    server = LocalServer(rx.handler(papers))
    inputs = tmp_path_factory.mktemp("shapes") / "in.jsonl"
    rx.write_inputs(papers, inputs)
    yield papers, server, inputs
    server.close()


def run(scripted, tmp_path, shape):
    papers, server, inputs = scripted
    out = tmp_path / f"{shape}.jsonl"
    code, stderr = rx.run_shape(shape, f"{server.url}/v1", inputs, out, run_cli)
    assert code in (0, 1), stderr
    assert "Traceback" not in stderr
    return rx.measure(shape, read_jsonl(out), papers), read_jsonl(out)


@pytest.mark.parametrize("shape", list(rx.TOLERANT))
def test_tolerant_shapes_still_verify(scripted, tmp_path, shape):
    m, recs = run(scripted, tmp_path, shape)
    assert m["papers"] == 60 and m["claims"] == 166
    assert m["verified_right"] >= 0.99 * m["claims"], m
    assert m["supported"] >= 0.95 * m["claims"], m  # correct metrics stay supported
    assert m["reasked"] <= 1, m  # a correct answer costs no re-ask
    for rec in recs:
        for n in rec["headline_numbers"]:
            assert n["model_answer"] is not None  # nothing the model said is lost
            if n["verified"]:
                assert rec["abstract"][n["start"] : n["end"]] == n["text"]


@pytest.mark.parametrize("shape", list(rx.STRICT) + ["duplicate"])
def test_strict_shapes_never_pass(scripted, tmp_path, shape):
    m, _ = run(scripted, tmp_path, shape)
    assert m["claims"] > 0
    assert m["verified"] == 0, m


@pytest.mark.parametrize("name", rx.GENERIC_NAMES)
def test_a_common_word_is_not_a_name(scripted, tmp_path, name):
    m, recs = run(scripted, tmp_path, f"generic_name_{name}")
    assert m["names_verified"] == 0
    assert all("common word" in r["system_name_why"] for r in recs)


def test_most_numbers_given_another_numbers_metric_are_caught(scripted, tmp_path):
    m, recs = run(scripted, tmp_path, "swapped_metric")
    assert m["claims"] >= 100
    assert m["unsupported"] >= 0.9 * m["claims"], m
    caught = [n for r in recs for n in r["headline_numbers"] if n["metric_supported"] is False]
    assert all(n["why"] and "metric" in n["why"] for n in caught)


def test_a_decorated_name_verifies_as_the_paper_writes_it(scripted, tmp_path):
    m, recs = run(scripted, tmp_path, "decorated_name")
    assert m["names"] >= 40
    assert m["names_right"] == m["names"], m
