"""The comparison across papers: metric classes, "respectively", whose number, the wording of a
claim, and the exports that line claims up (Compare sheet, CSV, Markdown leaderboards, HTML
matrix and charts, BibTeX), through the real CLI, openpyxl, LibreOffice and Chromium."""

import csv
import json
import math
from pathlib import Path

import bibtexparser
import pytest
from conftest import (
    CHROMIUM,
    EXTRA,
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

from extractor.analysis import taxonomy
from extractor.analysis.document import Document
from extractor.contract import ClaimDraft
from extractor.records import drop_connective
from extractor.schema import Paper
from extractor.verification import verify_claims


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """The 60 labelled abstracts through the offline engine."""
    out = tmp_path_factory.mktemp("cmp") / "all.jsonl"
    r = run_cli("extract", FIXTURE, EXTRA, "-o", out, "-q")
    assert r.returncode == 0, r.stderr
    return out


def by_id(table):
    return {r["id"]: r for r in read_jsonl(table)}


def claim(rec, text):
    return next(n for n in rec["headline_numbers"] if n["text"] == text)


def export(table, out, *extra):
    r = run_cli("export", table, "-o", out, *extra)
    assert r.returncode == 0, r.stderr
    return out


# --- the taxonomy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "metric,unit,key,better_when",
    [
        ("cold-start latency", "%", "latency", "lower"),
        ("victim tail latency", "x", "tail_latency", "lower"),
        ("P99 latency", "%", "tail_latency", "lower"),
        ("training throughput", "%", "throughput", "higher"),
        ("memory bandwidth", "x", "throughput", "higher"),  # the head noun decides
        ("node-level CPU consumption", "%", "cpu", "lower"),
        ("node-level memory consumption", "%", "memory", "lower"),
        ("GPU utilization loss", "%", "utilization", "lower"),  # a loss turns the direction round
        ("cluster utilization", "%", "utilization", "higher"),
        ("TCO savings", "x", "cost", "higher"),
        ("cost efficiency", "x", "cost", "higher"),
        ("energy efficiency", "x", "energy", "higher"),
        ("deployment density", "%", "density", "higher"),
        ("code coverage", "%", "accuracy", "higher"),
        ("false-positive rates", "%", "error", "lower"),
        ("TPOT SLO violations", "%", "error", "lower"),
        ("policy-engine overhead per turn", "µs", "overhead", "lower"),
        ("throughput for individual workloads", "%", "throughput", "higher"),  # not "workloads"
        ("partition availability", "x", "availability", "higher"),
        ("previously unknown performance bugs", "", "findings", "higher"),
        ("message size", "MiB", "scale", None),
        ("speedup", "x", "speedup", "higher"),
        (None, "µs", "latency", "lower"),  # no words: the unit decides
        (None, "GB", "memory", "lower"),
        (None, "x", "other", None),
    ],
)
def test_metric_classes(metric, unit, key, better_when):
    c = taxonomy.classify(metric, unit)
    assert (c.key, c.better_when) == (key, better_when)


def test_better_follows_class_and_direction():
    lat = taxonomy.classify("latency", "%")
    assert taxonomy.better(lat, "decrease") is True
    assert taxonomy.better(lat, "increase") is False
    assert taxonomy.better(lat, "none") is None
    assert taxonomy.better(lat, "decrease", "within") is None
    assert taxonomy.better(taxonomy.classify("GPUs", ""), "decrease") is None  # scale: neither


def test_the_schema_names_every_class():
    """The model is given the taxonomy's keys in the schema (an enum its decoding keeps to), not in the
    prompt's words: the prompt stays short."""
    from extractor.engines.llm.prompting import strict_schema

    props = strict_schema()["$defs"]["LLMNumber"]["properties"]
    assert props["metric_class"]["enum"] == [*taxonomy.KEYS, None]


def test_a_models_class_is_checked_against_the_taxonomy():
    abstract = "We present Foo. Foo reduces GPU utilization loss by 68% and cuts cost by 30%."
    doc = Document.of(Paper(id="x", title="Foo", abstract=abstract))
    drafts = [
        ClaimDraft(
            text="68%",
            value=68,
            unit="%",
            metric="GPU utilization loss",
            direction="decrease",
            metric_class="utilization",
        ),
        ClaimDraft(text="30%", value=30, unit="%", metric="cost", direction="decrease", metric_class="money"),
    ]
    a, b = verify_claims(doc, drafts)
    assert a.verified and a.metric_class == "utilization" and a.better is True and not a.why
    # not a class of the taxonomy: classed from the words, and said so; the number still verifies
    assert b.verified and b.metric_class == "cost" and b.better is True
    assert "'money' is not in the taxonomy" in b.why


# --- what the offline engine says, on the labelled set ------------------------------------------


def test_every_respectively_list_in_the_labelled_set(labelled):
    """The five "respectively" sentences of the 60 labelled abstracts, each named."""
    t = by_id(labelled)
    nexus = t["2604.06682"]
    assert claim(nexus, "up to 44%")["metric"] == "node-level CPU consumption"
    assert claim(nexus, "31%")["metric"] == "node-level memory consumption"
    assert claim(nexus, "39%")["metric"] == "warm-start latency"
    assert claim(nexus, "10%")["metric"] == "cold-start latency"
    # SpeedMalloc: "over these five allocators, respectively" points back to the sentence before
    speed = t["2508.20253"]
    listed = [n for n in speed["headline_numbers"] if n["metric"] == "speedup"]
    assert [(n["text"], n["baseline"]) for n in listed] == [
        ("1.75x", "Jemalloc"),
        ("1.18x", "TCMalloc"),
        ("1.15x", "Mimalloc"),
        ("1.23x", "Mallacc"),
        ("1.18x", "Memento"),
    ]
    # TRNG designs: the items are the designs; every number measures throughput
    trng = t["2510.20269"]
    assert [claim(trng, x)["metric"] for x in ("up to 1.15x", "1.99x", "1.82x", "1.39x")] == ["throughput"] * 4
    # NecoFuzz: the items are platforms ("on Intel VT-x and AMD-V"); both numbers are code coverage
    neco = t["2512.08858"]
    assert claim(neco, "84.7%")["metric"] == claim(neco, "74.2%")["metric"] == "code coverage"
    assert (claim(neco, "84.7%")["condition"], claim(neco, "74.2%")["condition"]) == ("on Intel VT-x", "on AMD-V")
    sentences = {
        (r["id"], n["sentence"])
        for r in t.values()
        for n in r["headline_numbers"]
        if "respectively" in (n["sentence"] or "")
    }
    assert {pid for pid, _ in sentences} == {"2604.06682", "2508.20253", "2510.20269", "2512.08858"}
    assert len(sentences) == 5


def test_a_list_pairs_with_as_many_conditions_in_parentheses(labelled):
    """PTMT "improves performance by 30%, 26%, 21%, and 14%, on four memory tiering solutions
    (TPP, UPM, Colloid, and AutoNUMA)": four claims, each with its own condition."""
    ptmt = by_id(labelled)["2604.12165"]
    got = [(claim(ptmt, x)["metric"], claim(ptmt, x)["condition"]) for x in ("30%", "26%", "21%", "14%")]
    assert got == [("performance", f"on {s}") for s in ("TPP", "UPM", "Colloid", "AutoNUMA")]
    assert claim(ptmt, "32%")["condition"] is None


def test_another_systems_figure_is_context(labelled):
    t = by_id(labelled)
    assert claim(t["2601.10582"], "~4x")["kind"] == "context"  # "while GIL elimination enables ~4x ..."
    assert claim(t["2603.29052"], "an average of 254 days")["kind"] == "context"  # "While Aurora requires ..."
    assert claim(t["2603.29052"], "up to 9x")["kind"] == "result"


def test_claims_in_words(labelled):
    from extractor.exports.common import describe

    t = by_id(labelled)
    said = {describe(n).lower() for r in t.values() for n in r["headline_numbers"]}
    for want in (
        "20-100x fewer host servers",
        "an order of magnitude lower application start up time",
        "up to 4.07x lower cold-start latency than three state-of-the-art mobile LLM inference frameworks",
        "3.7x faster than a traditional fork",
        "1.75x speedup over Jemalloc",
        "over 3x lower boot time",
        "response time within 20% of a WASM-based, ecosystem-incompatible hypervisor",
        "2.7x more validated vulnerabilities than coverage-only fuzzing",
        "30% higher performance on TPP than using the default configurations",
        "84.7% code coverage on Intel VT-x",
    ):
        assert any(s.startswith(want.lower()) for s in said), want
    for bad in ("lower GPU save", "over 90% set", "higher It"):
        assert not any(bad in s for s in said), bad


def test_problem_and_technique_drop_leading_connectives(labelled):
    for r in read_jsonl(labelled):
        for field in ("problem", "technique"):
            text = r[field] or ""
            assert not text.lower().startswith(("however,", "furthermore,", "moreover,", "in this paper,")), text
    assert drop_connective("However, μFork forks in 54μs.") == "μFork forks in 54μs."
    assert drop_connective("In this paper, we present Nexus.") == "We present Nexus."
    assert drop_connective("However, cold starts dominate.") == "Cold starts dominate."


# --- ranking --------------------------------------------------------------------------------------


def factor(row):
    """The improvement factor of a ranked change, from the row's own fields (the rule in the README)."""
    v = float(row["value"]) if row["value"] else max(float(row["low"] or 0), float(row["high"] or 0))
    if row["unit"] == "x":
        f = v
    else:
        increase = row["claim"].split(" ")[1:2] != ["lower"] and " lower " not in row["claim"]
        f = 1 + v / 100 if increase and " fewer " not in row["claim"] else 1 / (1 - v / 100)
    return f if row["better"] == "yes" else 1 / f


def test_compare_rows_rank_by_value_with_the_better_direction(labelled, tmp_path):
    out = export(labelled, tmp_path / "cmp.csv", "--rows", "compare")
    with open(out, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and set(rows[0]) >= {"metric_class", "rank", "ranked_as", "system", "claim", "as_factor", "year"}
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["metric_class"], r["ranked_as"]), []).append(r)
    checked = 0
    for (key, ranked_as), rs in groups.items():
        if not ranked_as:
            assert all(r["rank"] == "" for r in rs)
            continue
        assert [int(r["rank"]) for r in rs] == list(range(1, len(rs) + 1)), (key, ranked_as)
        assert all(r["verified"] == "true" for r in rs)
        if ranked_as == "change":
            fs = [factor(r) for r in rs]
            assert all(a >= b - 1e-9 for a, b in zip(fs, fs[1:])), (key, fs)
            for r, f in zip(rs, fs):
                shown = float(r["as_factor"].split("x")[0])
                assert math.isclose(shown if "better" in r["as_factor"] else 1 / shown, f, rel_tol=0.01), r
            checked += len(rs)
        else:
            lower = taxonomy.BY_KEY[key].better == "lower"
            vals = [float(r["value"] or r["low"] or r["high"]) for r in rs]
            assert vals == sorted(vals, reverse=not lower) or len({r["unit"] for r in rs}) > 1, (key, vals)
    assert checked >= 60
    # the best latency change: FFTrainer's "up to 98% lower recovery time" = 50x
    lat = [r for r in rows if r["metric_class"] == "latency" and r["ranked_as"] == "change"]
    assert lat[0]["system"] == "FFTrainer" and lat[0]["as_factor"] == "50x better"
    # a change the wrong way ranks below 1: "<5% higher TTFT"
    ttft = next(r for r in lat if "TTFT" in r["claim"])
    assert ttft["better"] == "no" and ttft["as_factor"].endswith("worse") and int(ttft["rank"]) > int(lat[0]["rank"])


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory):
    """A table where an LLM-like claim was wrong (7.8 read as 8, unverified) and one claim is
    rejected, before and after a reviewer's sheet comes back."""
    d = tmp_path_factory.mktemp("rv")
    table = d / "table.jsonl"
    assert run_cli("extract", FIXTURE, "-o", table, "-q").returncode == 0
    recs = read_jsonl(table)
    vir = next(r for r in recs if r["id"] == "2309.14016")
    vir["headline_numbers"][0].update(value=8, verified=False, why="value 8 != 7.8 parsed from span")
    table.write_text("".join(json.dumps(r) + "\n" for r in recs))
    before = d / "before.csv"
    export(table, before, "--rows", "compare")
    sheet = d / "review.xlsx"
    export(table, sheet)
    wb = load_workbook(sheet)
    ws = wb["Claims"]
    head = {c.value: i + 1 for i, c in enumerate(ws[1])}
    for r in range(2, ws.max_row + 1):
        cid = ws.cell(r, head["claim_id"]).value
        if cid == positional_ids(table)["2309.14016#1"]:
            ws.cell(r, head["decision"]).value = "edit"
            ws.cell(r, head["corrected_value"]).value = "7.8"
        if cid == positional_ids(table)["2309.14016#3"]:
            ws.cell(r, head["decision"]).value = "reject"
    wb.save(sheet)
    done = d / "reviewed.jsonl"
    rv = run_cli("review", "apply", sheet, "--table", table, "-o", done)
    assert rv.returncode == 0, rv.stderr
    after = d / "after.csv"
    export(done, after, "--rows", "compare")
    return done, before, after


def compare_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_unverified_and_rejected_never_rank_and_edits_rank_corrected(reviewed):
    table, before, after = reviewed
    pos = {v: k for k, v in positional_ids(table).items()}
    b = {pos[r["claim_id"]]: r for r in compare_csv(before)}
    a = {pos[r["claim_id"]]: r for r in compare_csv(after)}
    assert b["2309.14016#1"]["rank"] == "" and b["2309.14016#1"]["verified"] == "false"
    assert a["2309.14016#1"]["rank"] == "1" and a["2309.14016#1"]["value"] == "7.8"
    assert a["2309.14016#1"]["reviewed"] == "edit" and a["2309.14016#1"]["as_factor"] == "7.8x better"
    assert "2309.14016#3" in b and "2309.14016#3" not in a  # rejected: gone from the comparison
    md = export(table, table.parent / "t.md").read_text()
    # the corrected value, and the engine's own (unverified) value it replaced
    assert "7.8x lower victim tail latency (edited; was: 8x lower victim tail latency)" in md
    assert "3X higher per-core efficiency" not in md


# --- the exports ------------------------------------------------------------------------------------


def test_xlsx_compare_sheet(labelled, tmp_path):
    path = export(labelled, tmp_path / "t.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["Papers", "Compare", "Claims"]
    ws = wb["Compare"]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    titles = [r[0] for r in rows if isinstance(r[0], str) and r[0].endswith("is better)")]
    assert titles[0] == "Tail latency (lower is better)" and "Latency / time (lower is better)" in titles
    i = next(k for k, r in enumerate(rows) if r[0] == "Latency / time (lower is better)")
    header = rows[i + 1]
    assert header[:4] == ["rank", "ranked_as", "system", "claim"] and "paper" in header and "baseline" in header
    first = dict(zip(header, rows[i + 2]))
    assert (first["rank"], first["system"], first["as_factor"]) == (1, "FFTrainer", "50x better")
    link = ws.cell(row=i + 3, column=header.index("paper") + 1).hyperlink
    assert link is not None and link.target.startswith("https://arxiv.org/abs/2512.03644")
    papers = wb["Papers"]
    ph = [c.value for c in papers[1]]
    for col in ("authors", "year", "venue", "arxiv_id"):
        assert col in ph
    nexus = next(
        dict(zip(ph, [c.value for c in r])) for r in papers.iter_rows(min_row=2) if r[0].value == "arXiv:2604.06682"
    )
    assert nexus["year"] == "2026" and nexus["arxiv_id"] == "arXiv:2604.06682" and "JooYoung Park" in nexus["authors"]


@pytest.mark.skipif(not SOFFICE, reason=NO_SOFFICE)
def test_libreoffice_reads_the_compare_sheet(labelled, tmp_path):
    xlsx = export(labelled, tmp_path / "t.xlsx")
    rows, err = soffice_to_csv(tmp_path, xlsx, sheet=2)  # 2 = Compare
    assert rows is not None, err
    assert rows[2][0] == "Tail latency (lower is better)"
    assert rows[3][:4] == ["rank", "ranked_as", "system", "claim"]
    assert rows[4][:3] == ["1", "change", "Virtuoso"] and rows[4][3] == "7.8X lower victim tail latency"


def test_markdown_leaderboards(labelled, tmp_path):
    md = export(labelled, tmp_path / "t.md").read_text()
    body = md.split("## Leaderboards", 1)[1]
    assert "### Tail latency (lower is better)" in body and "### Throughput / bandwidth (higher is better)" in body
    tail = body.split("### Tail latency", 1)[1].split("###", 1)[0]
    lines = [x for x in tail.splitlines() if x.startswith("| ") and not x.startswith(("| Rank", "| ---"))]
    assert [x.split(" | ")[1] for x in lines] == ["Virtuoso", "RESYSTANCE", "DetShare"]  # 7.8x, 1.67x, 1.18x


def test_bibtex(labelled, tmp_path):
    recs = read_jsonl(labelled)
    recs[0]["title"] = "Nexus: 100% of I/O & {braces}_under #1"
    recs[0]["journal_ref"] = "EuroSys '26"
    recs[1]["authors"] = recs[0]["authors"]  # same first author and year: keys must still differ
    recs[1]["title"] = recs[0]["title"]
    recs[1]["published"] = recs[0]["published"]
    t = tmp_path / "t.jsonl"
    t.write_text("".join(json.dumps(r) + "\n" for r in recs))
    bib = export(t, tmp_path / "refs.bib")
    db = bibtexparser.loads(bib.read_text())
    assert len(db.entries) == 60
    keys = [e["ID"] for e in db.entries]
    assert len(set(keys)) == 60 and keys[0] == "park2026nexus" and keys[1] == "park2026nexusa"
    first = db.entries[0]
    assert first["ENTRYTYPE"] == "misc" and first["eprint"] == "2604.06682" and first["archiveprefix"] == "arXiv"
    assert first["url"] == "https://arxiv.org/abs/2604.06682" and first["year"] == "2026"
    assert first["title"] == r"Nexus: 100\% of I/O \& \{braces\}\_under \#1"
    assert first["note"] == "EuroSys '26"
    assert first["author"].startswith("JooYoung Park and Kevin Nguetchouang")


@pytest.mark.skipif(not CHROMIUM, reason=NO_CHROMIUM)
def test_html_matrix_and_charts_render_in_chromium(labelled, tmp_path):
    page = export(labelled, tmp_path / "t.html")
    rows = compare_csv(export(labelled, tmp_path / "c.csv", "--rows", "compare"))
    # a chart per class with a change for the better (a factor below 1 has no bar)
    classes_with_changes = {r["metric_class"] for r in rows if r["ranked_as"] == "change" and r["better"] == "yes"}
    r = run_chromium(tmp_path, "--dump-dom", page.as_uri())
    dom = r.stdout
    assert 'data-ready="60"' in dom  # the page's script ran
    assert f'data-charts="{len(classes_with_changes)}"' in dom and len(classes_with_changes) >= 8
    assert dom.count('<table class="sortable matrix">') == 1
    matrix = dom.split('<table class="sortable matrix">', 1)[1].split("</table>", 1)[0]
    assert "<th>Tail latency</th>" in matrix and "<th>Latency / time</th>" in matrix
    assert 'href="#c-2604.06682-3"' in matrix  # Nexus's best CPU claim links to its highlighted span
    assert 'id="c-2604.06682-3"' in dom
    assert dom.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == len(classes_with_changes)
    assert "Uncaught" not in r.stderr and "Refused to" not in r.stderr and "ERROR:CONSOLE" not in r.stderr
    assert "http://" not in Path(page).read_text().split("<body>")[0]  # nothing loaded from elsewhere
