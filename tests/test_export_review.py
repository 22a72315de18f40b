"""Exports (XLSX, CSV, Markdown, HTML) and the spreadsheet review round trip, with real files,
a real spreadsheet program (LibreOffice) and a real browser (Chromium)."""

import csv
import json
import random

import pytest
from conftest import (
    CHROMIUM,
    FIXTURE,
    NO_CHROMIUM,
    NO_SOFFICE,
    SOFFICE,
    positional_ids,
    read_jsonl,
    run_chromium,
    run_cli,
    soffice_to_csv,
)
from openpyxl import load_workbook

EVIL_ABSTRACT = (
    '=HYPERLINK("http://x") is how attackers start. We present Evil, a tool <script>alert(1)</script> '
    "that is 2x faster and cuts cost by 30%. @SUM(A1) -5% +3 are not formulas either."
)


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    d = tmp_path_factory.mktemp("exp")
    src = d / "in.jsonl"
    rows = [
        json.loads(line) for line in open(FIXTURE.parent.parent / "tests" / "data" / "systems-abstracts-extra.jsonl")
    ][:2]
    rows.append(
        {
            "id": "2601.66666",
            "title": '=HYPERLINK("http://x") <img src=x onerror=alert(2)>',
            "abstract": EVIL_ABSTRACT,
            "authors": ["@Mallory"],
        }
    )
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = d / "table.jsonl"
    assert run_cli("extract", FIXTURE, src, "-o", out, "-q").returncode == 0
    # one unverified claim, as an LLM could leave it
    recs = read_jsonl(out)
    recs[0]["headline_numbers"].append(
        {
            "text": "57%",
            "start": None,
            "end": None,
            "value": 57,
            "low": None,
            "high": None,
            "unit": "%",
            "qualifier": "exact",
            "kind": "result",
            "metric": "invented",
            "direction": "increase",
            "baseline": None,
            "sentence": None,
            "verified": False,
            "why": "text not found in abstract",
            "alignment": None,
        }
    )
    # and one whose span is in the abstract but whose value is wrong
    recs[1]["headline_numbers"][0].update(value=8, verified=False, why="value 8 != 7.8 parsed from span")
    out.write_text("".join(json.dumps(r) + "\n" for r in recs))
    return out


def export(table, out, *extra):
    r = run_cli("export", table, "-o", out, *extra)
    assert r.returncode == 0, r.stderr
    return out


def test_xlsx_sheets_columns_dropdown_and_marks(table, tmp_path):
    path = export(table, tmp_path / "t.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["Papers", "Compare", "Claims"]
    papers, claims = wb["Papers"], wb["Claims"]
    header = [c.value for c in claims[1]]
    for col in (
        "claim_id",
        "paper_id",
        "system",
        "metric",
        "value",
        "unit",
        "qualifier",
        "direction",
        "baseline",
        "kind",
        "evidence",
        "sentence",
        "verified",
        "decision",
        "corrected_value",
        "corrected_unit",
        "corrected_metric",
        "note",
    ):
        assert col in header
    assert [c.value for c in papers[1]][:7] == ["paper_id", "title", "authors", "year", "venue", "arxiv_id", "system"]
    assert papers.max_row == 1 + 18 and claims.freeze_panes == "A2" and papers.freeze_panes == "A2"
    assert claims.auto_filter.ref.startswith("A1:") and papers.auto_filter.ref.startswith("A1:")
    from openpyxl.utils import get_column_letter

    lists = {str(dv.sqref).split(":")[0]: dv for dv in claims.data_validations.dataValidation}
    assert len(lists) == 3 and all(dv.type == "list" for dv in lists.values())
    letter = {c: get_column_letter(header.index(c) + 1) for c in header}
    # the whole review vocabulary: add (a new row), a class and a kind for a misfiled claim
    assert lists[f"{letter['decision']}2"].formula1 == '"accept,reject,edit,add"'
    assert "tail_latency" in lists[f"{letter['corrected_metric_class']}2"].formula1
    assert lists[f"{letter['corrected_kind']}2"].formula1 == '"result,context,setup"'
    assert all(dv.errorStyle == "warning" for dv in lists.values())  # "Accept" typed by hand is not refused
    assert papers["A2"].hyperlink.target == "https://arxiv.org/abs/2604.06682v2"
    assert papers.column_dimensions["C"].width > 10 and claims.cell(2, header.index("sentence") + 1).alignment.wrap_text
    rows = list(claims.iter_rows(min_row=2, values_only=True))
    ver = header.index("verified")
    bad = [i for i, r in enumerate(rows, start=2) if r[ver] is False]
    assert len(bad) == 2 and claims.cell(bad[0], 1).fill.fgColor.rgb.endswith("F8CBAD")
    assert claims.cell(2, 1).fill.fgColor.rgb != claims.cell(bad[0], 1).fill.fgColor.rgb
    assert rows[0][0] == positional_ids(table)["2604.06682#1"] and rows[0][header.index("evidence")] == "over 25%"


def test_nothing_becomes_a_formula(table, tmp_path):
    xlsx = export(table, tmp_path / "t.xlsx")
    wb = load_workbook(xlsx)
    texts = []
    for ws in wb:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@")):
                    assert c.quotePrefix, (ws.title, c.coordinate, c.value)
                    texts.append(c.value)
    assert any(t.startswith('=HYPERLINK("http://x")') for t in texts)
    cells = []
    for rows in ("papers", "claims"):
        path = export(table, tmp_path / f"{rows}.csv", "--rows", rows)
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
        with open(path, encoding="utf-8-sig", newline="") as f:
            cells += [c for row in csv.reader(f) for c in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))]
    assert any(c.startswith("'=HYPERLINK") for c in cells)


def test_csv_reads_in_pandas_shape(table, tmp_path):
    path = export(table, tmp_path / "claims.csv", "--rows", "claims")
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert (
        rows[0]["claim_id"] == positional_ids(table)["2604.06682#1"]
        and rows[0]["value"] == "25"
        and rows[0]["verified"] == "true"
    )


def test_markdown_and_html_are_inert(table, tmp_path):
    md = export(table, tmp_path / "t.md").read_text()
    assert md.startswith("| Paper | System | Problem | Technique | Headline numbers |")
    assert "<script>" not in md and "\\<script\\>" in md
    assert "up to 44% lower node-level CPU consumption than the production baseline" in md
    assert "57% higher invented (unverified)" in md
    html_text = export(table, tmp_path / "t.html").read_text()
    assert "<script>alert" not in html_text and "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text
    assert "<img" not in html_text and "onerror=alert(2)" in html_text.replace("&lt;img src=x ", "")
    assert "http://" not in html_text.split("<body>")[0]  # no external resources
    assert html_text.count("<script>") == 1 and "Content-Security-Policy" in html_text
    assert '<mark class="ok"' in html_text


@pytest.mark.skipif(not CHROMIUM, reason=NO_CHROMIUM)
def test_html_report_renders_in_chromium(table, tmp_path):
    page = export(table, tmp_path / "t.html")
    r = run_chromium(tmp_path, "--dump-dom", page.as_uri())
    dom = r.stdout
    assert 'data-ready="18"' in dom  # the page's script ran and counted the table rows
    assert dom.count('<mark class="ok"') >= 50
    assert dom.count('<mark class="bad"') == 2  # the legend and the one wrong-valued span
    assert "alert(1)" in dom and "<script>alert" not in dom
    assert "Uncaught" not in r.stderr and "Refused to execute" not in r.stderr
    shot = tmp_path / "shot.png"
    r = run_chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,900", page.as_uri())
    assert shot.exists() and shot.stat().st_size > 10_000


@pytest.mark.skipif(not SOFFICE, reason=NO_SOFFICE)
def test_libreoffice_reads_the_xlsx(table, tmp_path):
    xlsx = export(table, tmp_path / "t.xlsx")
    rows, err = soffice_to_csv(tmp_path, xlsx)
    assert rows is not None, err
    assert rows[0][:3] == ["paper_id", "title", "authors"] and len(rows) == 19
    system = rows[0].index("system")
    assert rows[1][0] == "arXiv:2604.06682" and rows[1][system] == "Nexus" and rows[1][rows[0].index("year")] == "2026"
    evil = next(r for r in rows if r[0] == "arXiv:2601.66666")
    assert evil[1].startswith('=HYPERLINK("http://x")')  # shown as text, not evaluated to a link label


# --- review round trip -------------------------------------------------------------------------


def sheet_rows(ws):
    header = [c.value for c in ws[1]]
    return header, {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}


def test_review_round_trip_xlsx(table, tmp_path):
    xlsx = export(table, tmp_path / "t.xlsx")
    wb = load_workbook(xlsx)
    ws = wb["Claims"]
    header, row_of = sheet_rows(ws)
    ids = positional_ids(table)
    row_of = {pos: row_of[cid] for pos, cid in ids.items()}
    col = {h: i + 1 for i, h in enumerate(header)}
    ws.cell(row_of["2604.06682#3"], col["decision"]).value = "accept"
    ws.cell(row_of["2604.06682#3"], col["note"]).value = "checked against the paper"
    ws.cell(row_of["2604.06682#4"], col["decision"]).value = "reject"
    ws.cell(row_of["2604.06682#5"], col["decision"]).value = "edit"
    ws.cell(row_of["2604.06682#5"], col["corrected_metric"]).value = "deployment density"
    ws.cell(row_of["2604.06682#6"], col["decision"]).value = "edit"
    ws.cell(row_of["2604.06682#6"], col["corrected_value"]).value = 40  # not what the evidence says
    ws.cell(row_of["2309.14016#3"], col["decision"]).value = "Edit"
    ws.cell(row_of["2309.14016#3"], col["corrected_unit"]).value = "times"
    # the reviewer sorted the sheet and deleted rows they did not care about
    keep = [r for r in range(2, ws.max_row + 1) if ws.cell(r, col["decision"]).value or r % 3 == 0]
    values = [[c.value for c in ws[r]] for r in keep]
    random.Random(7).shuffle(values)
    ws.delete_rows(2, ws.max_row)
    for i, vals in enumerate(values, start=2):
        for j, v in enumerate(vals, start=1):
            ws.cell(i, j).value = v
    wb.save(xlsx)
    before = table.read_bytes()
    out = tmp_path / "reviewed.jsonl"
    r = run_cli("review", "apply", xlsx, "--table", table, "-o", out)
    assert r.returncode == 0, r.stderr
    assert "1 accepted, 1 rejected, 3 edited (1 reviewer overrides)" in r.stderr
    assert table.read_bytes() == before  # the input table is never modified
    orig = {x["id"]: x for x in read_jsonl(table)}
    new = {x["id"]: x for x in read_jsonl(out)}
    nx, ox = new["2604.06682"]["headline_numbers"], orig["2604.06682"]["headline_numbers"]
    a = nx[2]
    assert (
        a["review"]["decision"] == "accept"
        and a["reviewed"] is True
        and a["review"]["note"] == "checked against the paper"
    )
    assert a["review"]["time"].endswith("Z") and a["review"]["original"]["value"] == 44
    assert {k: v for k, v in a.items() if k not in ("review", "reviewed")} == ox[2]
    rj = nx[3]
    assert rj["review"]["decision"] == "reject" and rj["value"] == 31  # kept, marked rejected
    ed = nx[4]
    assert ed["metric"] == "deployment density" and ed["verified"] is True and ed["review"]["override"] is False
    assert ed["review"]["original"]["metric"] == ox[4]["metric"]
    ov = nx[5]
    assert ov["value"] == 40 and ov["verified"] is False and ov["review"]["override"] is True
    assert "reviewer override" in ov["why"] and ov["review"]["original"]["value"] == 39
    un = new["2309.14016"]["headline_numbers"][2]
    assert un["unit"] == "x" and un["verified"] is True and un["review"]["decision"] == "edit"
    # untouched claims and papers are exactly as they were
    assert nx[0] == ox[0] and new["2604.12165"] == orig["2604.12165"]
    # exporting the reviewed table shows the decisions
    again = load_workbook(export(out, tmp_path / "again.xlsx"))["Claims"]
    h, rows = sheet_rows(again)
    rows = {pos: rows[cid] for pos, cid in ids.items()}
    assert again.cell(rows["2604.06682#4"], h.index("decision") + 1).value == "reject"
    assert again.cell(rows["2604.06682#6"], h.index("corrected_value") + 1).value == "40"
    md = export(out, tmp_path / "again.md").read_text()
    assert "(reviewed: accepted)" in md


def test_unedited_sheet_changes_nothing(table, tmp_path):
    for name in ("t.xlsx", "t.csv"):
        sheet = export(table, tmp_path / name, "--rows", "claims")
        out = tmp_path / f"{name}.jsonl"
        r = run_cli("review", "apply", sheet, "--table", table, "-o", out)
        assert r.returncode == 0, r.stderr
        assert read_jsonl(out) == read_jsonl(table)


def test_a_correction_with_no_decision_is_named_not_dropped_in_silence(table, tmp_path):
    """A reviewer who types a corrected value and forgets `edit` changes nothing (only a decision
    does), and the run says so, row by row."""
    sheet = export(table, tmp_path / "c.csv", "--rows", "claims")
    with open(sheet, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    h = rows[0]
    rows[1][h.index("corrected_value")] = "45"
    rows[2][h.index("corrected_metric")] = "tail latency"
    rows[3][h.index("note")] = "a note alone is no correction"
    with open(sheet, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)
    out = tmp_path / "r.jsonl"
    r = run_cli("review", "apply", sheet, "--table", table, "-o", out)
    assert r.returncode == 0, r.stderr
    assert read_jsonl(out) == read_jsonl(table)
    warnings = [line for line in r.stderr.splitlines() if "warning" in line]
    assert warnings == [
        "extractor: warning: row 2: corrected_value given but no decision (set decision to edit)",
        "extractor: warning: row 3: corrected_metric given but no decision (set decision to edit)",
    ]
    assert "2 corrections with no decision not applied" in r.stderr


def test_csv_round_trip_with_formula_like_evidence(table, tmp_path):
    sheet = export(table, tmp_path / "c.csv", "--rows", "claims")
    with open(sheet, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    h = rows[0]
    for row in rows[1:]:
        row[h.index("decision")] = "accept"
    with open(sheet, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)
    out = tmp_path / "r.jsonl"
    r = run_cli("review", "apply", sheet, "--table", table, "-o", out)
    assert r.returncode == 0, r.stderr
    assert all(n["review"]["decision"] == "accept" for x in read_jsonl(out) for n in x["headline_numbers"])


def test_bad_sheets_list_every_problem_and_write_nothing(table, tmp_path):
    xlsx = export(table, tmp_path / "t.xlsx")
    wb = load_workbook(xlsx)
    ws = wb["Claims"]
    header, row_of = sheet_rows(ws)
    col = {h: i + 1 for i, h in enumerate(header)}
    ws.cell(2, col["decision"]).value = "maybe"
    ws.cell(3, col["claim_id"]).value = "9999.99999#1"  # another table's claim: listed, not a problem
    ws.cell(3, col["decision"]).value = "accept"
    ws.cell(5, col["claim_id"]).value = "9999.99999#2"  # no decision: never a problem
    ws.cell(4, col["decision"]).value = "edit"
    ws.cell(4, col["corrected_value"]).value = "forty"
    wb.save(xlsx)
    out = tmp_path / "r.jsonl"
    r = run_cli("review", "apply", xlsx, "--table", table, "-o", out)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "2 problem(s), nothing written" in r.stderr
    assert "row 2: invalid decision 'maybe'" in r.stderr
    assert "row 4: corrected value 'forty' is not a number" in r.stderr
    assert "row 3" not in r.stderr and "row 5" not in r.stderr
    assert not out.exists()
    # a missing column
    wb = load_workbook(xlsx)
    wb["Claims"].delete_cols(col["decision"])
    wb.save(xlsx)
    r = run_cli("review", "apply", xlsx, "--table", table, "-o", out)
    assert r.returncode == 2 and "missing column(s) decision" in r.stderr and not out.exists()
    r = run_cli("review", "apply", xlsx, "--table", table, "-o", table)
    assert r.returncode == 2 and "use --in-place to replace the table" in r.stderr


def test_uncovered_numbers_can_be_added_as_claims(table, tmp_path):
    # an LLM record that left a number out: the number is listed under uncovered_numbers
    recs = read_jsonl(table)
    rec = next(r for r in recs if r["id"] == "2604.06682")
    left_out = rec["headline_numbers"].pop(4)  # "37%"
    rec["uncovered_numbers"] = [
        {k: left_out[k] for k in ("text", "start", "end", "value", "low", "high", "unit", "qualifier", "sentence")}
    ]
    llm_table = tmp_path / "llm.jsonl"
    llm_table.write_text("".join(json.dumps(r) + "\n" for r in recs))
    xlsx = export(llm_table, tmp_path / "u.xlsx")
    wb = load_workbook(xlsx)
    ws = wb["Uncovered"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["uncovered_id", "paper_id", "system", "evidence"]
    lists = {dv.formula1 for dv in ws.data_validations.dataValidation}
    assert lists == {'"add"', '"increase,decrease,none"', '"result,context,setup"'}  # the Uncovered drop-downs
    [row] = [r for r in range(2, ws.max_row + 1) if ws.cell(r, 2).value == "arXiv:2604.06682"]
    assert ws.cell(row, header.index("evidence") + 1).value == "37%"
    ws.cell(row, header.index("decision") + 1).value = "add"
    ws.cell(row, header.index("metric") + 1).value = "deployment density"
    ws.cell(row, header.index("direction") + 1).value = "increase"
    wb.save(xlsx)
    out = tmp_path / "added.jsonl"
    r = run_cli("review", "apply", xlsx, "--table", llm_table, "-o", out)
    assert r.returncode == 0, r.stderr
    assert "1 added" in r.stderr
    new = next(x for x in read_jsonl(out) if x["id"] == "2604.06682")
    added = new["headline_numbers"][-1]
    assert added["text"] == "37%" and added["verified"] is True and added["metric"] == "deployment density"
    assert added["review"]["decision"] == "add" and added["metric_supported"] is True
    assert new["uncovered_numbers"] == []
    # a CSV of uncovered numbers works the same way
    csv_path = export(llm_table, tmp_path / "u.csv", "--rows", "uncovered")
    with open(csv_path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    h = rows[0]
    rows[1][h.index("decision")] = "add"
    with open(csv_path, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)
    r = run_cli("review", "apply", csv_path, "--table", llm_table, "-o", tmp_path / "added2.jsonl")
    assert r.returncode == 0 and "1 added" in r.stderr, r.stderr
