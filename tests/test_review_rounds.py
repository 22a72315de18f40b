"""Lossless review over months: stable claim ids, three review rounds with one original and a
history, decisions carried to a new arXiv version and to a re-extraction, the ones that cannot be
carried listed, reviewer-added claims verified, and an edited claim shown in every export.
Everything through the real CLI, real XLSX files and real JSONL tables."""

import csv
import json
import re

import pytest
from conftest import FIXTURE, read_jsonl, run_cli
from openpyxl import load_workbook

from extractor import claim_ids, reviews

VALVE = "2604.07874"


def export(table, out, *extra):
    r = run_cli("export", table, "-o", out, *extra)
    assert r.returncode == 0, r.stderr
    return out


def claims_of(table, pid=VALVE):
    return next(r for r in read_jsonl(table) if r["id"] == pid)["headline_numbers"]


def by_text(claims, text):
    [n] = [n for n in claims if n["text"] == text]
    return n


def review_sheet(table, path, decisions):
    """Export the table's Claims sheet and fill in `decisions`: {evidence text: {column: value}}
    for claims of Valve; returns the sheet's path."""
    export(table, path)
    wb = load_workbook(path)
    ws = wb["Claims"]
    head = {c.value: i + 1 for i, c in enumerate(ws[1])}
    for r in range(2, ws.max_row + 1):
        if ws.cell(r, head["paper_id"]).value != f"arXiv:{VALVE}":
            continue
        for col, v in decisions.get(ws.cell(r, head["evidence"]).value, {}).items():
            ws.cell(r, head[col]).value = v
    wb.save(path)
    return path


def apply(sheet, table, out):
    r = run_cli("review", "apply", sheet, "--table", table, "-o", out)
    assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    d = tmp_path_factory.mktemp("rounds")
    table = d / "table.jsonl"
    assert run_cli("extract", FIXTURE, "-o", table, "-q").returncode == 0
    return table


@pytest.fixture(scope="module")
def reviewed(base):
    """Round 1: 2,170 edited to 2,200 (the evidence says 2,170: a reviewer override), 34.6% accepted,
    <2% rejected."""
    d = base.parent
    sheet = review_sheet(
        base,
        d / "round1.xlsx",
        {
            "2,170": {"decision": "edit", "corrected_value": "2200", "corrected_metric": "GPUs saved"},
            "34.6%": {"decision": "accept", "note": "checked the paper"},
            "<2%": {"decision": "reject"},
        },
    )
    out = d / "round1.jsonl"
    r = apply(sheet, base, out)
    assert "1 accepted, 1 rejected, 1 edited (1 reviewer overrides)" in r.stderr
    return out


def test_claim_ids_do_not_depend_on_position(base):
    claims = claims_of(base)
    ids = [n["id"] for n in claims]
    assert all(re.fullmatch(re.escape(VALVE) + r"#[0-9a-f]{8}", i) for i in ids) and len(set(ids)) == len(ids)
    rec = next(r for r in read_jsonl(base) if r["id"] == VALVE)
    # the same claims in another order, or with one dropped, keep their ids
    shuffled = list(reversed(claims))[1:]
    assert claim_ids.claim_ids(VALVE, rec["abstract"], shuffled) == [n["id"] for n in shuffled]
    # the same text at another occurrence is another claim
    text = "2x here and 2x there"
    a, b = claim_ids.claim_ids("p", text, [{"text": "2x", "start": 0}, {"text": "2x", "start": 11}])
    assert a != b


def test_three_rounds_keep_one_original_and_a_history(base, reviewed):
    d = base.parent
    engine = by_text(claims_of(base), "2,170")
    ed = by_text(claims_of(reviewed), "2,170")
    assert ed["value"] == 2200 and ed["metric"] == "GPUs saved" and ed["verified"] is False
    assert ed["review"]["original"]["value"] == 2170 and ed["review"]["original"]["verified"] is True
    assert ed["id"] == engine["id"]

    # round 2: the reviewed table exported again (decisions pre-filled) and applied as it is
    sheet2 = export(reviewed, d / "round2.xlsx")
    out2 = d / "round2.jsonl"
    r = apply(sheet2, reviewed, out2)
    assert "0 accepted, 0 rejected, 0 edited" in r.stderr and "3 unchanged" in r.stderr
    assert read_jsonl(out2) == read_jsonl(reviewed)  # the same sheet twice changes nothing
    again = d / "round2b.jsonl"
    apply(sheet2, out2, again)
    assert read_jsonl(again) == read_jsonl(reviewed)

    # round 3: the edit is corrected again, the rejection becomes an acceptance
    sheet3 = review_sheet(
        out2,
        d / "round3.xlsx",
        {
            "2,170": {"corrected_value": "2170", "corrected_metric": "GPUs saved", "note": "value was right"},
            "<2%": {"decision": "accept"},
        },
    )
    out3 = d / "round3.jsonl"
    apply(sheet3, out2, out3)
    ed3 = by_text(claims_of(out3), "2,170")
    rv = ed3["review"]
    assert rv["original"] == ed["review"]["original"]  # written once, from the engine's claim
    assert ed3["value"] == 2170 and ed3["verified"] is True and rv["override"] is False  # now the evidence agrees
    assert [h["decision"] for h in rv["history"]] == ["edit", "edit"]
    first, third = rv["history"]
    assert first["source"] == "round1.xlsx" and third["source"] == "round3.xlsx" and third["note"] == "value was right"
    assert first["before"]["value"] == 2170 and first["after"]["value"] == 2200
    assert third["before"]["value"] == 2200 and third["after"]["value"] == 2170
    tp = by_text(claims_of(out3), "<2%")
    assert tp["review"]["decision"] == "accept" and [h["decision"] for h in tp["review"]["history"]] == [
        "reject",
        "accept",
    ]
    assert tp["review"]["original"]["value"] == 2 and tp["value"] == 2
    acc = by_text(claims_of(out3), "34.6%")
    assert len(acc["review"]["history"]) == 1 and acc["review"]["note"] == "checked the paper"


def test_an_edited_claim_shows_corrected_everywhere_with_its_original(reviewed, tmp_path):
    words = "2,200 GPUs saved"
    was = "2,170 GPU save"
    # Markdown and HTML: the corrected value, marked, the original beside it or on hover
    md = export(reviewed, tmp_path / "t.md").read_text()
    assert f"{words} (edited; reviewer override; was: {was})" in md
    html = export(reviewed, tmp_path / "t.html").read_text()
    assert f'title="original: {was}"' in html and f"{words} (edited; reviewer override)" in html
    # CSV: papers, claims and compare rows
    papers = {
        r["paper_id"].removeprefix("arXiv:"): r
        for r in csv.DictReader(open(export(reviewed, tmp_path / "p.csv"), encoding="utf-8-sig"))
    }
    assert f"{words} (edited)" in papers[VALVE]["headline_numbers"] or words in papers[VALVE]["headline_numbers"]
    assert papers[VALVE]["original_of_edits"] == f"{words} was: {was}"
    claims = list(csv.DictReader(open(export(reviewed, tmp_path / "c.csv", "--rows", "claims"), encoding="utf-8-sig")))
    row = next(r for r in claims if r["evidence"] == "2,170")
    assert row["value"] == "2200" and row["original"] == was and row["decision"] == "edit"
    assert row["corrected_value"] == "2200"
    comp = list(csv.DictReader(open(export(reviewed, tmp_path / "k.csv", "--rows", "compare"), encoding="utf-8-sig")))
    crow = next(r for r in comp if r["paper_id"] == f"arXiv:{VALVE}" and r["value"] == "2200")
    assert crow["original"] == was and crow["reviewed"] == "edit" and "(edited" in crow["claim"]
    # XLSX: every sheet
    wb = load_workbook(export(reviewed, tmp_path / "t.xlsx"))
    cells = {ws.title: [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None] for ws in wb}
    assert any(words in c for c in cells["Papers"]) and f"{words} was: {was}" in cells["Papers"]
    assert was in cells["Claims"] and "2200" in cells["Claims"]
    assert was in cells["Compare"] and any(c.startswith(words) and "edited" in c for c in cells["Compare"])


VALVE_V2_CHANGES = [
    ("improves cluster utilization by 34.6%", "improves cluster utilization by 35.1%"),  # accepted: value changed
    (" and <2% TPOT increase", ""),  # rejected: evidence gone
]


def _v2(table, version="v3"):
    rec = next(r for r in read_jsonl(table) if r["id"] == VALVE)
    abstract = rec["abstract"]
    for a, b in VALVE_V2_CHANGES:
        assert a in abstract
        abstract = abstract.replace(a, b)
    return {"id": f"{VALVE}{version}", "title": rec["title"], "abstract": abstract, "authors": rec["authors"]}


def test_a_new_version_carries_what_still_stands_and_lists_the_rest(reviewed, tmp_path):
    table = tmp_path / "table.jsonl"
    table.write_bytes(reviewed.read_bytes())
    src = tmp_path / "v3.jsonl"
    src.write_text(json.dumps(_v2(reviewed)) + "\n")
    r = run_cli("extract", src, "-o", table)
    assert r.returncode == 0, r.stderr
    assert "1 review decisions carried, 2 not carried" in r.stderr
    assert f"{VALVE}: review of claim" in r.stderr and "not carried" in r.stderr
    assert "table.jsonl.uncarried.jsonl" in r.stderr
    [rec] = [x for x in read_jsonl(table) if x["id"] == VALVE]  # compacted: one line per paper
    assert rec["version"] == "v3"
    ed = by_text(rec["headline_numbers"], "2,170")
    assert ed["value"] == 2200 and ed["review"]["decision"] == "edit" and ed["review"]["original"]["value"] == 2170
    assert ed["review"]["history"][-1]["decision"] == "carried"
    assert [n for n in rec["headline_numbers"] if n["text"] == "35.1%" and n.get("review")] == []
    side = read_jsonl(str(table) + ".uncarried.jsonl")
    why = {u["evidence"]: u for u in side}
    assert set(why) == {"34.6%", "<2%"}
    assert "no longer in the abstract" in why["<2%"]["why"] and why["<2%"]["decision"] == "reject"
    assert why["34.6%"]["claim"]["review"]["note"] == "checked the paper"  # the whole decision is kept
    assert all(u["paper"] == VALVE and u["claim_id"].startswith(VALVE + "#") and u["version"] == "v3" for u in side)
    # the other papers' lines are untouched
    others = [x for x in read_jsonl(reviewed) if x["id"] != VALVE]
    assert [x for x in read_jsonl(table) if x["id"] != VALVE] == others


def test_a_re_extraction_carries_every_decision(reviewed, tmp_path):
    table = tmp_path / "table.jsonl"
    table.write_bytes(reviewed.read_bytes())
    r = run_cli("extract", FIXTURE, "-o", table, "--redo")
    assert r.returncode == 0, r.stderr
    assert "3 review decisions carried, 0 not carried" in r.stderr
    got = {n["text"]: n for n in claims_of(table)}
    want = {n["text"]: n for n in claims_of(reviewed)}
    for text in ("2,170", "34.6%", "<2%"):
        assert got[text]["review"]["decision"] == want[text]["review"]["decision"]
        assert got[text]["value"] == want[text]["value"] and got[text]["id"] == want[text]["id"]
    assert len(read_jsonl(table)) == 15
    assert not (tmp_path / "table.jsonl.uncarried.jsonl").exists()


def test_a_claim_the_new_extraction_misses_is_added_back_when_its_evidence_stands(reviewed):
    rec = next(r for r in read_jsonl(reviewed) if r["id"] == VALVE)
    new = json.loads(json.dumps(rec))
    for n in new["headline_numbers"]:
        n.pop("review", None), n.pop("reviewed", None)
    new["headline_numbers"] = [n for n in new["headline_numbers"] if n["text"] != "<2%"]  # a model left it out
    old = [n for n in rec["headline_numbers"] if n.get("review")]
    carried, lost = reviews.carry(old, new, "test", "2026-12-02T00:00:00Z")
    assert carried == 3 and lost == []
    back = by_text(new["headline_numbers"], "<2%")
    assert back["verified"] is True and back["review"]["decision"] == "reject" and back["value"] == 2
    assert "added back" in back["review"]["history"][-1]["note"]


def test_an_error_record_holds_the_decisions_until_the_paper_is_retried(reviewed):
    rec = next(r for r in read_jsonl(reviewed) if r["id"] == VALVE)
    old = [n for n in rec["headline_numbers"] if n.get("review")]
    err = {**rec, "status": "error", "error": "timeout", "headline_numbers": []}
    assert reviews.carry(old, err, "test", "t") == (0, [])
    assert len(err["pending_reviews"]) == 3
    from extractor.store import reviewed_claims

    retried = json.loads(json.dumps(rec))
    for n in retried["headline_numbers"]:
        n.pop("review", None), n.pop("reviewed", None)
    carried, lost = reviews.carry(reviewed_claims(err), retried, "test", "t")
    assert carried == 3 and lost == []


def test_a_reviewer_added_claim_is_verified_and_applied_once(reviewed, tmp_path):
    # a table whose engine missed "8,054" (as a model may)
    table = tmp_path / "missed.jsonl"
    recs = read_jsonl(reviewed)
    for rec in recs:
        if rec["id"] == VALVE:
            rec["headline_numbers"] = [n for n in rec["headline_numbers"] if n["text"] != "8,054"]
    table.write_text("".join(json.dumps(r) + "\n" for r in recs))
    sheet = tmp_path / "add.csv"
    export(table, sheet, "--rows", "claims")
    head = list(next(csv.DictReader(open(sheet, encoding="utf-8-sig"))))

    def row(**kw):
        return {**{h: "" for h in head}, "paper_id": VALVE, "decision": "add", **kw}

    with open(sheet, "a", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=head)
        w.writerow(row(evidence="practical to deploy"))  # no number in it: kept, flagged
        w.writerow(row(evidence="8,054 GPUs", corrected_metric="GPUs deployed", kind="setup"))
    out = tmp_path / "added.jsonl"
    r = apply(sheet, table, out)
    assert "2 added" in r.stderr
    added = [n for n in claims_of(out) if (n.get("review") or {}).get("added")]
    assert [n["text"] for n in added] == ["practical to deploy", "8,054"]
    flagged, gpus = added
    assert gpus["verified"] is True and gpus["value"] == 8054 and gpus["metric"] == "GPUs deployed"
    assert gpus["kind"] == "setup" and gpus["id"] == positional(reviewed, "8,054")
    assert flagged["verified"] is False and flagged["why"]  # verified like any claim: it is not
    again = tmp_path / "again.jsonl"
    r2 = apply(sheet, out, again)
    assert "0 added" in r2.stderr and read_jsonl(again) == read_jsonl(out)  # the same sheet twice
    bad = tmp_path / "bad.csv"
    bad.write_text(sheet.read_text().replace("8,054 GPUs", "9,999 GPUs").replace("practical to deploy", "20 lines"))
    r3 = run_cli("review", "apply", bad, "--table", table, "-o", tmp_path / "x.jsonl")
    assert r3.returncode == 2 and "2 problem(s), nothing written" in r3.stderr
    assert "must be text of the paper's abstract" in r3.stderr and "is already claim" in r3.stderr
    assert not (tmp_path / "x.jsonl").exists()


def positional(table, text):
    return by_text(claims_of(table), text)["id"]
