"""The real CLI on the real fixture, and every kind of bad input."""

import json
import os
import signal
import subprocess
import sys
import time

from conftest import FIXTURE, ROOT, read_jsonl, run_cli

from extractor.schema import SCHEMA_VERSION

KEYS = {
    "id",
    "title",
    "authors",
    "published",
    "categories",
    "url",
    "abstract",
    "system_name",
    "problem",
    "technique",
    "headline_numbers",
    "status",
    "error",
    "provenance",
    "schema_version",
}
NUM_KEYS = {
    "text",
    "start",
    "end",
    "value",
    "low",
    "high",
    "unit",
    "qualifier",
    "kind",
    "metric",
    "direction",
    "baseline",
    "verified",
    "why",
}


def test_sample_feed_table(tmp_path):
    out = tmp_path / "table.jsonl"
    r = run_cli("extract", FIXTURE, "-o", out)
    assert r.returncode == 0, r.stderr
    assert "offline engine" in r.stderr and "15 papers" in r.stderr
    recs = read_jsonl(out)
    assert len(recs) == 15
    for rec in recs:
        assert KEYS <= rec.keys()
        assert rec["status"] == "ok" and rec["error"] is None
        assert rec["provenance"]["engine"] == "offline" and rec["provenance"]["schema_version"] == SCHEMA_VERSION
        assert "  " not in rec["abstract"] and "\n" not in rec["title"]
        for n in rec["headline_numbers"]:
            assert NUM_KEYS <= n.keys()
            if n["verified"]:
                assert rec["abstract"][n["start"] : n["end"]] == n["text"]
    nexus = next(r for r in recs if r["id"] == "2604.06682")
    assert nexus["version"] == "v2" and nexus["url"] == "https://arxiv.org/abs/2604.06682v2"
    assert nexus["authors"][0] == "JooYoung Park" and len(nexus["authors"]) == 7
    assert nexus["system_name"] == "Nexus" and nexus["system_name_verified"] is True
    claw = next(r for r in recs if r["id"] == "2604.10352")
    assert claw["doi"] == "10.1145/3805621.3807648" and "EuroMLSys" in claw["comment"]


def test_summary_json_matches_the_table(tmp_path):
    out, summary = tmp_path / "t.jsonl", tmp_path / "summary.json"
    assert run_cli("extract", FIXTURE, "-o", out, "--limit", "5").returncode == 0
    r = run_cli("extract", FIXTURE, "-o", out, "--summary-json", summary)
    assert r.returncode == 0, r.stderr
    s = json.loads(summary.read_text())
    recs = read_jsonl(out)
    new = recs[5:]  # what this run wrote
    assert s["papers"] == len(new) == 10 and s["already_done"] == 5 and s["exit_code"] == 0
    assert s["numbers"] == sum(len(x["headline_numbers"]) for x in new)
    assert s["verified"] == sum(n["verified"] for x in new for n in x["headline_numbers"])
    assert s["elapsed"] > 0 and s["usage"]["requests"] == 0
    other = tmp_path / "other.jsonl"
    r = run_cli("extract", FIXTURE, "-o", other, "--summary-json", tmp_path / "missing" / "s.json")
    assert_one_line_error(r, "missing", "does not exist")
    assert not other.exists()  # refused before any work


def test_rerun_is_idempotent_and_resumes(tmp_path):
    out = tmp_path / "t.jsonl"
    assert run_cli("extract", FIXTURE, "-o", out, "--limit", "5").returncode == 0
    assert len(read_jsonl(out)) == 5
    r = run_cli("extract", FIXTURE, "-o", out)
    assert r.returncode == 0 and "5 already done" in r.stderr
    r = run_cli("extract", FIXTURE, "-o", out)
    assert "15 already done" in r.stderr and "0 papers" in r.stderr
    ids = [x["id"] for x in read_jsonl(out)]
    assert len(ids) == 15 == len(set(ids))


def test_partial_last_line_from_a_crash_is_redone(tmp_path):
    out = tmp_path / "t.jsonl"
    run_cli("extract", FIXTURE, "-o", out)
    lines = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(b"".join(lines[:10]) + lines[10][:50])  # as if killed mid-write
    r = run_cli("extract", FIXTURE, "-o", out)
    assert r.returncode == 0, r.stderr
    ids = [x["id"] for x in read_jsonl(out)]
    assert len(ids) == 15 == len(set(ids))


def test_kill_9_mid_run_then_resume(tmp_path):
    src = tmp_path / "big.jsonl"
    base = read_jsonl(ROOT / "tests" / "data" / "systems-abstracts-extra.jsonl")
    with open(src, "w") as f:
        for i in range(30000):
            d = dict(base[i % len(base)], id=f"x{i}")
            f.write(json.dumps(d) + "\n")
    out = tmp_path / "t.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    p = subprocess.Popen([sys.executable, "-m", "extractor", "extract", str(src), "-o", str(out), "-q"], env=env)
    deadline = time.time() + 60
    while time.time() < deadline and (not out.exists() or out.stat().st_size < 2_000_000):
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)
    p.wait()
    first = out.read_bytes().count(b"\n")
    assert 0 < first < 30000
    # the worker processes end with their parent (they would hold nothing, and do no work for no one)
    deadline = time.time() + 10
    while time.time() < deadline and subprocess.run(["pgrep", "-f", str(src)], capture_output=True).returncode == 0:
        time.sleep(0.2)
    assert subprocess.run(["pgrep", "-f", str(src)], capture_output=True).returncode == 1
    r = run_cli("extract", src, "-o", out, "-q")
    assert r.returncode == 0, r.stderr
    ids = [x["id"] for x in read_jsonl(out)]
    assert len(ids) == 30000 == len(set(ids))


def test_workers_write_the_same_table_in_the_same_order(tmp_path):
    src = tmp_path / "in.jsonl"
    base = read_jsonl(ROOT / "tests" / "data" / "systems-abstracts-extra.jsonl")
    src.write_text("".join(json.dumps(dict(base[i % len(base)], id=f"x{i}")) + "\n" for i in range(1000)))
    tables = {}
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}.jsonl"
        r = run_cli("extract", src, "-o", out, "-q", "--workers", workers)
        assert r.returncode == 0, r.stderr
        tables[workers] = [{k: v for k, v in x.items() if k != "provenance"} for x in read_jsonl(out)]
    assert tables["1"] == tables["2"] and len(tables["1"]) == 1000


def test_duplicates_latest_version_wins(tmp_path):
    src = tmp_path / "dups.jsonl"
    rows = [
        {"id": "2601.00001v1", "title": "Old", "abstract": "We present Foo, a thing. It is 2x faster."},
        {"id": "2601.00001v3", "title": "New", "abstract": "We present Foo, a thing. It is 3x faster."},
        {"id": "2601.00001v2", "title": "Mid", "abstract": "We present Foo, a thing. It is 2.5x faster."},
        {"id": "2601.00002", "title": "Other", "abstract": "No numbers here."},
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "t.jsonl"
    r = run_cli("extract", src, "-o", out)
    assert r.returncode == 0, r.stderr
    recs = {x["id"]: x for x in read_jsonl(out)}
    assert len(read_jsonl(out)) == 2
    assert recs["2601.00001"]["version"] == "v3" and recs["2601.00001"]["headline_numbers"][0]["value"] == 3


def test_kaggle_snapshot_lines_and_category_filter(tmp_path):
    src = tmp_path / "kaggle.json"
    rows = [
        {
            "id": "0704.0001",
            "submitter": "A",
            "authors": "Ann Lee, Bo Chen and Cy Diaz",
            "title": "Fast  thing\n",
            "comments": "9 pages",
            "journal-ref": None,
            "doi": None,
            "report-no": None,
            "categories": "cs.DC cs.OS",
            "license": None,
            "abstract": "  We present Foo, a scheduler.\n It cuts latency by 30%.\n",
            "versions": [
                {"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"},
                {"version": "v2", "created": "Tue, 24 Jul 2007 20:10:27 GMT"},
            ],
            "update_date": "2008-11-13",
            "authors_parsed": [["Lee", "Ann", ""], ["Chen", "Bo", ""], ["Diaz", "Cy", ""]],
        },
        {
            "id": "0704.0002",
            "title": "Physics",
            "abstract": "A 5% effect.",
            "categories": "hep-th",
            "versions": [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}],
            "authors": "X",
        },
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "t.jsonl"
    r = run_cli("extract", src, "-o", out, "--category", "cs.DC")
    assert r.returncode == 0, r.stderr
    [rec] = read_jsonl(out)
    assert rec["id"] == "0704.0001" and rec["version"] == "v2"
    assert rec["authors"] == ["Ann Lee", "Bo Chen", "Cy Diaz"]
    assert rec["categories"] == ["cs.DC", "cs.OS"] and rec["primary_category"] == "cs.DC"
    assert rec["published"] == "2007-04-02T19:18:42Z" and rec["title"] == "Fast thing"
    assert rec["system_name"] == "Foo" and rec["headline_numbers"][0]["value"] == 30
    assert "1 filtered out" in r.stderr


def test_csv_and_stdin(tmp_path):
    src = tmp_path / "a.csv"
    src.write_text(
        'id,title,summary,authors\n2601.1,T,"We present Bar, a cache. It is 4.07x faster.",A; B\n', encoding="utf-8"
    )
    out = tmp_path / "t.jsonl"
    r = run_cli("extract", src, "-o", out)
    assert r.returncode == 0, r.stderr
    [rec] = read_jsonl(out)
    assert rec["system_name"] == "Bar" and rec["authors"] == ["A", "B"]
    out2 = tmp_path / "t2.jsonl"
    r = run_cli("extract", "-", "-o", out2, input=FIXTURE.read_text())
    assert r.returncode == 0, r.stderr
    assert len(read_jsonl(out2)) == 15


def test_url_input(tmp_path, server):
    body = FIXTURE.read_bytes()
    s = server(lambda req: (200, {"content-type": "application/atom+xml"}, body))
    out = tmp_path / "t.jsonl"
    r = run_cli("extract", f"{s.url}/feed", "-o", out)
    assert r.returncode == 0, r.stderr
    assert len(read_jsonl(out)) == 15


def assert_one_line_error(r, *needles, code=2):
    assert r.returncode == code, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    errs = [line for line in r.stderr.splitlines() if line.startswith("extractor: error:")]
    assert len(errs) == 1, r.stderr
    for n in needles:
        assert n in errs[0], r.stderr


def test_bad_inputs_give_one_line_errors(tmp_path, server):
    out = tmp_path / "t.jsonl"
    assert_one_line_error(run_cli("extract", tmp_path / "nope.xml", "-o", out), "nope.xml", "no such file")
    bad = tmp_path / "bad.xml"
    bad.write_text("<feed xmlns='http://www.w3.org/2005/Atom'><entry><title>x</entry></feed>")
    assert_one_line_error(run_cli("extract", bad, "-o", out), "bad.xml:1:", "malformed XML")
    empty = tmp_path / "empty.xml"
    empty.write_text("<feed xmlns='http://www.w3.org/2005/Atom'><title>nothing</title></feed>")
    assert_one_line_error(run_cli("extract", empty, "-o", out), "empty.xml", "no entries")
    zero = tmp_path / "zero.jsonl"
    zero.write_text("")
    assert_one_line_error(run_cli("extract", zero, "-o", out), "zero.jsonl", "empty")
    assert_one_line_error(run_cli("extract", "http://127.0.0.1:9/feed.xml", "-o", out), "127.0.0.1:9", "unreachable")
    s = server(lambda req: (404, {}, b"not here"))
    assert_one_line_error(run_cli("extract", f"{s.url}/x.xml", "-o", out), "HTTP 404")
    csvf = tmp_path / "cols.csv"
    csvf.write_text("name,text\na,b\n")
    assert_one_line_error(run_cli("extract", csvf, "-o", out), "cols.csv", "missing column")
    assert not out.exists()


def test_bad_lines_are_skipped_and_named(tmp_path):
    src = tmp_path / "mixed.jsonl"
    good = {"id": "2601.00009", "title": "T", "abstract": "We present Baz, a tool. It is 2x faster."}
    src.write_bytes(
        (json.dumps(good) + "\n").encode()
        + b"{not json\n"
        + (json.dumps({"id": "2601.00010", "title": "no abstract"}) + "\n").encode()
        + b'{"id": "2601.00011", "title": "caf\xe9", "abstract": "x"}\n'
        + (json.dumps(dict(good, id="2601.00012")) + "\n").encode()
    )
    out = tmp_path / "t.jsonl"
    r = run_cli("extract", src, "-o", out)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "mixed.jsonl:2: not valid JSON" in r.stderr
    assert "mixed.jsonl:3: no abstract" in r.stderr
    assert "mixed.jsonl:4: not UTF-8" in r.stderr
    assert "3 skipped input records" in r.stderr
    assert [x["id"] for x in read_jsonl(out)] == ["2601.00009", "2601.00012"]


def test_failed_run_never_truncates_existing_output(tmp_path):
    out = tmp_path / "t.jsonl"
    run_cli("extract", FIXTURE, "-o", out)
    before = out.read_bytes()
    bad = tmp_path / "bad.xml"
    bad.write_text("<feed><entry>")
    r = run_cli("extract", bad, "-o", out)
    assert r.returncode == 2
    assert out.read_bytes() == before


def test_help_lists_commands():
    r = run_cli("--help")
    assert r.returncode == 0
    for cmd in ("extract", "fetch", "eval"):
        assert cmd in r.stdout


def test_non_utf8_csv_names_the_line(tmp_path):
    src = tmp_path / "latin1.csv"
    src.write_bytes(b'id,title,abstract\n1,ok,"We present Foo, a tool. It is 2x faster."\n2,T\xe9st,"x"\n')
    r = run_cli("extract", src, "-o", tmp_path / "t.jsonl")
    # the line is skipped, named, and the rows around it are read (as in JSONL)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "latin1.csv:3: not UTF-8 text" in r.stderr
    assert [x["id"] for x in read_jsonl(tmp_path / "t.jsonl")] == ["1"]
