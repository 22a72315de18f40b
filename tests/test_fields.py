"""User-declared fields: declarations and their errors, the LLM engine through the real openai
client against a scripted local server (answers verified, a quote not in the abstract and an
invalid choice flagged), the offline engine with pattern and keyword fields, the cache never
serving a stale answer, exports with the columns, and a lossless review round of a field."""

import csv
import json

import pytest
from conftest import (
    CHROMIUM,
    FIXTURE,
    NO_CHROMIUM,
    NO_SOFFICE,
    ROOT,
    SOFFICE,
    read_jsonl,
    run_chromium,
    run_cli,
    soffice_to_csv,
)
from openai_fake import PAPERS, answer, bodies, ok, paper_message
from openpyxl import load_workbook

EXAMPLE = ROOT / "examples" / "fields.toml"
FAST = {"EXTRACTOR_BACKOFF": "0.05"}
VALVE = "2604.07874"


def llm(s, inp, out, *extra):
    return run_cli(
        "extract", inp, "-o", out, "--model", "test-model", "--base-url", f"{s.url}/v1", "--concurrency", "1",
        "--retries", "2", *extra, env=FAST,
    )  # fmt: skip


@pytest.fixture
def papers(tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_text("".join(json.dumps(x) + "\n" for x in PAPERS[:1]))
    return p


FIELDS = """
[fields.hardware]
type = "list"
description = "Hardware the system runs on"

[fields.deployment]
type = "choice"
choices = ["cloud", "edge", "HPC"]
description = "Where it is meant to run"

[fields.compared_against]
description = "What it is compared against"

[fields.density_gain]
type = "number"
unit = "%"
description = "Deployment density gain"

[fields.open_source]
type = "boolean"
evidence = false
description = "Whether the code is released"
"""


def fields_answer():
    data = answer()
    data["fields"] = {
        "hardware": {"value": ["VMs"], "evidence": "Serverless computing relies on VMs."},
        "deployment": {"value": "on-prem", "evidence": "serverless-native hypervisor"},  # not a choice
        "compared_against": {"value": "the production baseline", "evidence": "Compared to the production system"},
        "density_gain": {"value": "37%", "evidence": "increases deployment density by 37%"},
        "open_source": {"value": None, "evidence": None},
    }
    return data


def test_the_llm_fills_fields_and_each_answer_is_verified(tmp_path, server, papers):
    (tmp_path / "fields.toml").write_text(FIELDS)
    s = server(lambda req: ok(fields_answer()))
    out = tmp_path / "t.jsonl"
    r = llm(s, papers, out, "--fields", tmp_path / "fields.toml", "--no-cache", "--max-reasks", "0")
    assert r.returncode == 0, r.stderr
    [body] = bodies(s)
    schema = body["response_format"]["json_schema"]["schema"]
    assert body["response_format"]["json_schema"]["strict"] is True
    props = schema["properties"]["fields"]
    if "$ref" in props:
        props = schema["$defs"][props["$ref"].rsplit("/", 1)[1]]
    assert set(props["properties"]) == {"hardware", "deployment", "compared_against", "density_gain", "open_source"}
    assert props["additionalProperties"] is False and set(props["required"]) == set(props["properties"])
    system = body["messages"][0]["content"]
    assert "- deployment (one of cloud, edge, HPC): Where it is meant to run" in system
    assert "Title: " in paper_message(body)
    [rec] = read_jsonl(out)
    f = rec["fields"]
    assert f["hardware"]["value"] == ["VMs"] and f["hardware"]["verified"] is True
    assert f["hardware"]["evidence"] == "Serverless computing relies on VMs"  # aligned to the abstract's text
    assert f["deployment"]["value"] == "on-prem" and f["deployment"]["verified"] is False  # kept, flagged
    assert "not one of: cloud, edge, HPC" in f["deployment"]["why"]
    assert f["compared_against"]["verified"] is False and "is not in the abstract" in f["compared_against"]["why"]
    assert f["density_gain"]["value"] == 37 and f["density_gain"]["verified"] is True
    assert f["open_source"]["value"] is None and f["open_source"]["verified"] is None
    assert rec["provenance"]["fields_hash"].startswith("sha256:") and rec["schema_version"] == "1.5"
    # a number the evidence does not say is flagged
    bad = fields_answer()
    bad["fields"]["density_gain"] = {"value": 73, "evidence": "increases deployment density by 37%"}
    s2 = server(lambda req: ok(bad))
    out2 = tmp_path / "t2.jsonl"
    assert (
        llm(s2, papers, out2, "--fields", tmp_path / "fields.toml", "--no-cache", "--max-reasks", "0").returncode == 0
    )
    g = read_jsonl(out2)[0]["fields"]["density_gain"]
    assert g["verified"] is False and "not what the evidence says (37)" in g["why"]


def test_a_changed_field_is_asked_again_never_served_stale(tmp_path, server, papers):
    s = server(lambda req: ok(fields_answer()))
    cache = tmp_path / "cache.sqlite"
    (tmp_path / "a.toml").write_text(FIELDS)
    (tmp_path / "b.toml").write_text(FIELDS.replace("Where it is meant to run", "Where it runs"))
    for i, decl in enumerate(("a", "a", "b")):
        r = llm(
            s, papers, tmp_path / f"t{i}.jsonl", "--fields", tmp_path / f"{decl}.toml", "--cache", cache,
            "--max-reasks", "0",
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
    assert len(s.requests) == 2  # the same declarations: from the cache; a changed one: asked again
    hashes = [read_jsonl(tmp_path / f"t{i}.jsonl")[0]["provenance"]["fields_hash"] for i in range(3)]
    assert hashes[0] == hashes[1] != hashes[2]


def test_the_dry_run_shows_what_the_fields_cost(tmp_path, papers):
    r = run_cli(
        "extract", papers, "-o", tmp_path / "t.jsonl", "--model", "gpt-4o-mini", "--base-url", "http://127.0.0.1:9/v1",
        "--dry-run", "--fields", EXAMPLE,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "the 5 fields add" in r.stdout and "prompt tokens per paper" in r.stdout


def test_the_offline_engine_fills_only_what_a_declaration_lets_it(tmp_path):
    out = tmp_path / "t.jsonl"
    r = run_cli("extract", FIXTURE, "-o", out, "-q", "--fields", EXAMPLE, "--field", "venue_hint: where it appeared")
    assert r.returncode == 0, r.stderr
    recs = {x["id"]: x for x in read_jsonl(out)}
    v = recs[VALVE]["fields"]
    assert v["gpus_deployed"]["value"] == 8054 and v["gpus_deployed"]["evidence"] == "8,054 GPUs"
    assert v["gpus_deployed"]["verified"] is True and v["hardware"]["value"] == ["GPU"]
    assert v["compared_against"] == {**v["compared_against"], "value": None, "why": "needs an LLM engine"}
    assert v["venue_hint"]["why"] == "needs an LLM engine"
    nexus = recs["2604.06682"]["fields"]
    assert nexus["deployment"]["value"] == "cloud" and nexus["deployment"]["evidence"] == "Serverless"
    assert nexus["open_source"]["value"] is None  # no keyword: null, never a guessed false
    # the fields leave the rest of the record as it was
    plain = tmp_path / "plain.jsonl"
    assert run_cli("extract", FIXTURE, "-o", plain, "-q").returncode == 0
    for rec in read_jsonl(plain):
        other = recs[rec["id"]]
        assert rec["headline_numbers"] == other["headline_numbers"] and rec["fields"] is None


def test_a_pattern_that_backtracks_without_end_stops_at_its_deadline(tmp_path):
    """A user's pattern that takes exponential time on an abstract held the run on that abstract for
    ever; it stops after PATTERN_SECONDS, the field says why, and the run goes on."""
    decl = tmp_path / "f.toml"
    decl.write_text("[fields.gpus]\ntype = \"number\"\npattern = '(?P<value>(?:\\w+\\s?){1,40}\\d+)'\n")
    inp = tmp_path / "in.jsonl"
    abstract = "We present X. " + "many " * 30 + "nodes" + " a" * 30 + "!"
    inp.write_text(json.dumps({"id": "2601.00001", "title": "X: a system", "abstract": abstract}) + "\n")
    out = tmp_path / "t.jsonl"
    r = run_cli("extract", inp, "-o", out, "-q", "--fields", decl, timeout=60)
    assert r.returncode == 0, r.stderr
    [rec] = read_jsonl(out)
    assert rec["fields"]["gpus"]["value"] is None
    assert rec["fields"]["gpus"]["why"].startswith("the fields' patterns took more than 1 s on this abstract")


def test_the_pattern_budget_is_per_abstract_not_per_field(tmp_path):
    """Thirty backtracking fields held one abstract thirty times the budget (about 45 s); they share
    one budget per abstract."""
    import time

    decl = tmp_path / "f.toml"
    decl.write_text(
        "".join(
            f"[fields.f{i}]\ntype = \"number\"\npattern = '(?P<value>(?:\\w+\\s?){{1,40}}\\d+)'\n" for i in range(30)
        )
    )
    inp = tmp_path / "in.jsonl"
    abstract = "We present X. " + "many " * 30 + "nodes" + " a" * 30 + "!"
    inp.write_text(json.dumps({"id": "2601.00001", "title": "X: a system", "abstract": abstract}) + "\n")
    out = tmp_path / "t.jsonl"
    t0 = time.monotonic()
    r = run_cli("extract", inp, "-o", out, "-q", "--fields", decl, timeout=120)
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - t0 < 15
    [rec] = read_jsonl(out)
    assert all(rec["fields"][f"f{i}"]["value"] is None for i in range(30))


def test_a_pattern_whose_counted_repeats_nest_is_refused_before_it_compiles(tmp_path):
    """`((((a{100}){100}){100}){100})` took 19 GB while the regex module compiled it."""
    from conftest import run_cli_rss

    decl = tmp_path / "f.toml"
    decl.write_text("[fields.x]\npattern = '((((a{100}){100}){100}){100})'\n")
    r, peak = run_cli_rss("extract", FIXTURE, "-o", tmp_path / "t.jsonl", "--fields", decl, timeout=60)
    assert r.returncode == 2 and "pattern repeats too much" in r.stderr, r.stderr
    assert peak < 300


@pytest.mark.parametrize(
    "content, message",
    [
        (b'[fields.x]\ndescription = "caf\xe9"\n', "not UTF-8 text"),
        (b"a = " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "nested too deeply"),
    ],
    ids=["latin-1", "nested"],
)
def test_a_fields_file_that_cannot_be_read_is_one_line(tmp_path, content, message):
    decl = tmp_path / "f.toml"
    decl.write_bytes(content)
    r = run_cli("extract", FIXTURE, "-o", tmp_path / "t.jsonl", "--fields", decl, timeout=60)
    assert r.returncode == 2 and message in r.stderr and "internal error" not in r.stderr, r.stderr


@pytest.mark.parametrize(
    "decl, inline, message",
    [
        ('[fields.x]\ntype = "date"\n', [], "unknown type 'date'"),
        ('[fields.x]\ntype = "choice"\n', [], "is a choice with no choices"),
        ("[fields.title]\n", [], "field name 'title' is reserved"),
        ("[fields.year]\n", [], "field name 'year' is reserved"),
        ("[fields.venue]\n", [], "field name 'venue' is reserved"),
        ("[fields.x]\n", ["x: again"], "field 'x' is declared twice"),
        ('[fields.x]\ndescription = "' + "long " * 200 + '"\n', [], "a description of 1,000 characters"),
        ('[fields.x]\npattern = "(unclosed"\n', [], "pattern is not a regular expression"),
        ('[fields.x]\ntype = "choice"\nchoices = ["a"]\nkeywords = { b = ["bee"] }\n', [], "which is not a choice"),
        ("[fields.x\n", [], "not valid TOML"),
        ("", ["Bad Name: x"], "must be lower-case letters"),
        ("", ["nodescription"], "write 'name: description'"),
    ],
)
def test_bad_declarations_are_one_line_before_any_request(tmp_path, server, papers, decl, inline, message):
    s = server(lambda req: ok(fields_answer()))
    args = []
    if decl:
        (tmp_path / "f.toml").write_text(decl)
        args += ["--fields", tmp_path / "f.toml"]
    for x in inline:
        args += ["--field", x]
    r = llm(s, papers, tmp_path / "t.jsonl", *args)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert s.requests == [] and not (tmp_path / "t.jsonl").exists()


def test_a_project_config_declares_fields_too(tmp_path):
    (tmp_path / "extractor.toml").write_text(EXAMPLE.read_text())
    r = run_cli("extract", FIXTURE, "-o", "t.jsonl", "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "gpus_deployed" in read_jsonl(tmp_path / "t.jsonl")[0]["fields"]


@pytest.fixture
def with_fields(tmp_path):
    out = tmp_path / "t.jsonl"
    assert run_cli("extract", FIXTURE, "-o", out, "-q", "--fields", EXAMPLE).returncode == 0
    return out


def test_exports_have_a_column_per_field_with_evidence(with_fields, tmp_path):
    rows = list(csv.DictReader(open(run_export(with_fields, tmp_path / "p.csv"), encoding="utf-8-sig")))
    valve = next(r for r in rows if r["paper_id"] == f"arXiv:{VALVE}")
    assert valve["gpus_deployed"] == "8,054" and valve["hardware"] == "GPU" and valve["compared_against"] == ""
    wb = load_workbook(run_export(with_fields, tmp_path / "t.xlsx"))
    assert wb.sheetnames == ["Papers", "Compare", "Claims", "Fields"]
    head = [c.value for c in wb["Papers"][1]]
    assert head[head.index("headline_numbers") + 1 : head.index("headline_numbers") + 6] == [
        "hardware", "deployment", "gpus_deployed", "open_source", "compared_against",
    ]  # fmt: skip
    md = run_export(with_fields, tmp_path / "t.md").read_text()
    assert "| hardware | deployment | gpus\\_deployed | open\\_source | compared\\_against |" in md
    html = run_export(with_fields, tmp_path / "t.html").read_text()
    assert "<th>gpus_deployed</th>" in html
    # the evidence "8,054 GPUs" overlaps the claim "8,054": an anchor where it starts
    assert f'<span class="field-at" id="f-{VALVE}-gpus_deployed" title="gpus_deployed: 8,054"></span><mark' in html
    assert f'<mark class="field" id="f-{VALVE}-hardware" title="hardware: GPU">GPU</mark>' in html
    assert f'href="#f-{VALVE}-gpus_deployed">8,054</a>' in html


def run_export(table, out, *extra):
    r = run_cli("export", table, "-o", out, *extra)
    assert r.returncode == 0, r.stderr
    return out


def test_a_field_review_round_trip_is_lossless(with_fields, tmp_path):
    sheet = run_export(with_fields, tmp_path / "r.xlsx")
    wb = load_workbook(sheet)
    ws = wb["Fields"]
    col = {c.value: i + 1 for i, c in enumerate(ws[1])}
    for r in range(2, ws.max_row + 1):
        fid = ws.cell(r, col["field_id"]).value
        if fid == f"{VALVE}:gpus_deployed":
            ws.cell(r, col["decision"]).value = "edit"
            ws.cell(r, col["corrected_value"]).value = "8000"  # not what the evidence says
        if fid == f"{VALVE}:deployment":
            ws.cell(r, col["decision"]).value = "accept"
            ws.cell(r, col["note"]).value = "production fleet"
    wb.save(sheet)
    out = tmp_path / "reviewed.jsonl"
    r = run_cli("review", "apply", sheet, "--table", with_fields, "-o", out)
    assert r.returncode == 0, r.stderr
    assert "1 accepted, 0 rejected, 1 edited (1 reviewer overrides)" in r.stderr
    f = next(x for x in read_jsonl(out) if x["id"] == VALVE)["fields"]
    g = f["gpus_deployed"]
    assert g["value"] == 8000 and g["verified"] is False and g["why"].startswith("reviewer override")
    assert g["review"]["original"]["value"] == 8054 and g["review"]["original"]["verified"] is True
    assert f["deployment"]["review"]["decision"] == "accept" and f["deployment"]["review"]["note"] == "production fleet"
    # the reviewed table exported again and applied: nothing changes
    again_sheet = run_export(out, tmp_path / "again.xlsx")
    again = tmp_path / "again.jsonl"
    r2 = run_cli("review", "apply", again_sheet, "--table", out, "-o", again)
    assert r2.returncode == 0 and "2 unchanged" in r2.stderr
    assert read_jsonl(again) == read_jsonl(out)
    rows = list(csv.DictReader(open(run_export(out, tmp_path / "p.csv"), encoding="utf-8-sig")))
    assert next(r for r in rows if r["paper_id"] == f"arXiv:{VALVE}")["gpus_deployed"] == "8,000 (edited)"
    frows = list(csv.DictReader(open(run_export(out, tmp_path / "f.csv", "--rows", "fields"), encoding="utf-8-sig")))
    fr = next(r for r in frows if r["field_id"] == f"{VALVE}:gpus_deployed")
    assert fr["value"] == "8,000" and fr["original"] == "8,054" and fr["decision"] == "edit" and fr["verified"] == "no"
    # a value that is no number is refused, naming the row, and nothing is written
    ws = load_workbook(again_sheet)
    fws = ws["Fields"]
    for r in range(2, fws.max_row + 1):
        if fws.cell(r, col["field_id"]).value == f"{VALVE}:gpus_deployed":
            fws.cell(r, col["corrected_value"]).value = "lots"
    ws.save(tmp_path / "bad.xlsx")
    r3 = run_cli("review", "apply", tmp_path / "bad.xlsx", "--table", out, "-o", tmp_path / "x.jsonl")
    assert r3.returncode == 2 and "corrected value 'lots' is not a number" in r3.stderr


def test_field_decisions_carry_to_a_re_extraction_and_a_new_version(with_fields, tmp_path):
    sheet = tmp_path / "r.csv"
    run_export(with_fields, sheet, "--rows", "fields")
    rows = list(csv.DictReader(open(sheet, encoding="utf-8-sig")))
    for r in rows:
        if r["field_id"] == f"{VALVE}:gpus_deployed":
            r.update(decision="accept", note="counted in the paper")
        if r["field_id"] == f"{VALVE}:deployment":
            r.update(decision="edit", corrected_value="cloud")
    with open(sheet, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    table = tmp_path / "reviewed.jsonl"
    assert run_cli("review", "apply", sheet, "--table", with_fields, "-o", table).returncode == 0
    # a re-extraction with the same declarations: both decisions carried
    r = run_cli("extract", FIXTURE, "-o", table, "--redo", "--fields", EXAMPLE)
    assert r.returncode == 0 and "2 review decisions carried, 0 not carried" in r.stderr, r.stderr
    f = next(x for x in read_jsonl(table) if x["id"] == VALVE)["fields"]
    assert f["deployment"]["value"] == "cloud" and f["deployment"]["review"]["decision"] == "edit"
    assert f["gpus_deployed"]["review"]["note"] == "counted in the paper"
    assert f["gpus_deployed"]["review"]["history"][-1]["decision"] == "carried"
    # a new version whose abstract says another GPU count: that decision is listed, not carried
    rec = next(x for x in read_jsonl(table) if x["id"] == VALVE)
    v2 = {"id": f"{VALVE}v2", "title": rec["title"], "abstract": rec["abstract"].replace("8,054 GPUs", "9,000 GPUs")}
    (tmp_path / "v2.jsonl").write_text(json.dumps(v2) + "\n")
    r = run_cli("extract", tmp_path / "v2.jsonl", "-o", table, "--fields", EXAMPLE)
    assert r.returncode == 0, r.stderr
    assert f"review of claim {VALVE}:gpus_deployed (accept, '8,054 GPUs') not carried" in r.stderr
    [side] = read_jsonl(str(table) + ".uncarried.jsonl")
    assert side["claim"]["review"]["note"] == "counted in the paper" and "9000" in side["why"]
    f2 = next(x for x in read_jsonl(table) if x["id"] == VALVE)["fields"]
    assert f2["gpus_deployed"]["value"] == 9000 and "review" not in f2["gpus_deployed"]
    assert f2["deployment"]["review"]["decision"] == "edit"


@pytest.mark.skipif(not CHROMIUM, reason=NO_CHROMIUM)
def test_the_html_with_fields_renders_in_chromium(with_fields, tmp_path):
    page = run_export(with_fields, tmp_path / "t.html")
    r = run_chromium(tmp_path, "--dump-dom", page.as_uri())
    dom = r.stdout
    assert 'data-ready="15"' in dom  # the page's script ran and counted the rows
    assert dom.count('<mark class="field"') >= 10 and 'class="field-at"' in dom
    assert "Uncaught" not in r.stderr and "Refused to execute" not in r.stderr


def test_batch_files_carry_the_fields_to_ingest(tmp_path, papers):
    (tmp_path / "fields.toml").write_text(FIELDS)
    req = tmp_path / "r.jsonl"
    r = run_cli("batch", "prepare", papers, "-o", req, "--model", "m", "--fields", tmp_path / "fields.toml")
    assert r.returncode == 0, r.stderr
    [line] = read_jsonl(req)
    assert "fields" in line["body"]["response_format"]["json_schema"]["schema"]["properties"]
    body = json.loads(ok(fields_answer())[2])
    res = tmp_path / "res.jsonl"
    res.write_text(json.dumps({"custom_id": "2604.06682", "response": {"status_code": 200, "body": body}}) + "\n")
    table = tmp_path / "t.jsonl"
    r = run_cli("batch", "ingest", res, "--papers", tmp_path / "r.papers.jsonl", "-o", table)
    assert r.returncode == 0, r.stderr
    [rec] = read_jsonl(table)
    assert rec["fields"]["density_gain"]["verified"] is True and rec["fields"]["deployment"]["verified"] is False
    assert rec["provenance"]["fields_hash"].startswith("sha256:")


def test_a_field_that_does_not_hold_up_is_re_asked_once_with_what_is_wrong(tmp_path, server, papers):
    (tmp_path / "fields.toml").write_text(FIELDS)
    fixed = fields_answer()
    fixed["fields"]["deployment"] = {"value": "cloud", "evidence": "serverless-native hypervisor"}
    fixed["fields"]["compared_against"] = {"value": "the production baseline", "evidence": "the production baseline"}
    replies = [ok(fields_answer()), ok(fixed)]
    s = server(lambda req: replies.pop(0))
    out = tmp_path / "t.jsonl"
    r = llm(s, papers, out, "--fields", tmp_path / "fields.toml", "--no-cache")
    assert r.returncode == 0, r.stderr
    first, second = bodies(s)
    reask = second["messages"][-1]["content"]
    assert "these fields do not hold up" in reask and "deployment: 'on-prem' is not one of: cloud, edge, HPC" in reask
    assert "compared_against: evidence" in reask
    [rec] = read_jsonl(out)
    assert rec["fields"]["deployment"]["verified"] is True and rec["fields"]["compared_against"]["verified"] is True
    assert rec["provenance"]["reasks"] == 1


@pytest.mark.skipif(not SOFFICE, reason=NO_SOFFICE)
def test_libreoffice_reads_the_fields_sheet(with_fields, tmp_path):
    xlsx = run_export(with_fields, tmp_path / "t.xlsx")
    rows, err = soffice_to_csv(tmp_path, xlsx, sheet=4)  # Papers, Compare, Claims, Fields
    assert rows is not None, err
    assert rows[0][:4] == ["field_id", "paper_id", "system", "field"]
    gpus = next(r for r in rows if r[0] == f"{VALVE}:gpus_deployed")
    assert gpus[rows[0].index("value")] == "8,054" and gpus[rows[0].index("evidence")] == "8,054 GPUs"
