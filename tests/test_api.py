"""The Python API (extractor.api), in-process, as a notebook uses it: the same records and tables
as the CLI gives, from the same sources, with the same one-line errors."""

import asyncio
import json
import subprocess
import sys

import openai_fake as fake
import pytest
from conftest import EXTRA, FIXTURE, ROOT, read_jsonl, run_cli

import extractor


def test_import_gives_the_api_and_nothing_heavy():
    """`import extractor` is cheap (the names load on first use) and names the whole API."""
    code = (
        "import sys, extractor; "
        "heavy = [m for m in ('openai', 'openpyxl', 'feedparser', 'ray', 'extractor.pipeline') if m in sys.modules]; "
        "assert not heavy, heavy; "
        "assert callable(extractor.extract) and 'extractor.api' in sys.modules; print(extractor.__version__)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for name in extractor.__all__:
        assert getattr(extractor, name) is not None
    with pytest.raises(AttributeError):
        extractor.no_such_name  # noqa: B018


def test_py_typed_ships():
    assert (ROOT / "extractor" / "py.typed").exists()
    assert "py.typed" in (ROOT / "pyproject.toml").read_text()


def test_read_papers_from_each_source_the_cli_reads(tmp_path):
    atom = list(extractor.read_papers(str(FIXTURE)))
    assert len(atom) == 15 and all(p.abstract and p.title for p in atom)
    jsonl = list(extractor.read_papers(str(EXTRA), limit=5))
    assert len(jsonl) == 5
    csv_path = tmp_path / "zotero.csv"
    csv_path.write_text('Title,Abstract Note,Author\n"Nexus","' + fake.NEXUS + '","Lamport, Leslie"\n')
    (p,) = extractor.read_papers(str(csv_path))
    assert p.title == "Nexus" and p.authors == ["Leslie Lamport"]
    problems = []
    assert list(extractor.read_papers(str(tmp_path / "missing.jsonl"), on_problem=problems.append)) == []
    assert problems and "missing.jsonl" in problems[0]
    only_dc = list(extractor.read_papers(str(EXTRA), categories=["cs.DC"]))
    assert 0 < len(only_dc) < 45 and all(any(c == "cs.DC" for c in p.categories) for p in only_dc)


def test_extract_gives_the_records_the_cli_writes(sample_table):
    """The offline engine through the API: the same record, field for field (but the run's own
    time stamps), as `extractor extract` wrote for each paper."""
    recs = list(extractor.extract(extractor.read_papers(str(FIXTURE)), "offline"))
    assert len(recs) == 15 and all(isinstance(r, extractor.Record) for r in recs)
    by_id = {r["id"]: r for r in read_jsonl(sample_table)}
    for rec in recs:
        mine = json.loads(rec.model_dump_json())
        theirs = by_id[rec.id]
        for key in ("system_name", "problem", "technique", "headline_numbers", "status", "uncovered_numbers"):
            assert mine[key] == theirs[key], (rec.id, key)


def test_extract_takes_dicts_and_makes_bad_papers_one_line_errors():
    nexus = {"id": "p1", "title": "Nexus", "abstract": fake.NEXUS}
    (rec,) = extractor.extract([nexus], engine="offline")
    assert rec.system_name == "Nexus"
    assert {n.text for n in rec.headline_numbers if n.verified} >= {"up to 44%", "37%"}
    with pytest.raises(extractor.ExtractorError) as e:
        list(extractor.extract([42], engine="offline"))
    assert "\n" not in str(e.value)
    with pytest.raises(extractor.ExtractorError, match="unknown engine option"):
        extractor.engine("offline", temprature=0)


def test_extract_and_aextract_with_an_llm_engine_against_a_real_server(server):
    """A named LLM engine over the real openai client: sync `extract` keeps input order; `aextract`
    yields as papers finish, several in flight."""
    srv = server(fake.for_paper)
    papers = [dict(p) for p in fake.PAPERS]
    recs = list(extractor.extract(papers, "openai", base_url=srv.url + "/v1", model="m", retries=0))
    assert [r.id for r in recs] == ["2604.06682", "2604.00002"]
    assert recs[0].system_name == "Nexus" and all(n.verified for n in recs[0].headline_numbers)
    assert recs[1].headline_numbers[0].text == "3x"

    async def collect():
        eng = extractor.engine("openai", base_url=srv.url + "/v1", model="m")
        return [r async for r in extractor.aextract(papers * 3, eng, concurrency=4)]

    arecs = asyncio.run(collect())
    assert sorted(r.id for r in arecs) == sorted(["2604.06682", "2604.00002"] * 3)
    assert all(r.status == "ok" for r in arecs)


def test_extract_from_a_running_event_loop(server):
    """In a notebook an event loop runs already; the sync `extract` still works there."""
    srv = server(fake.for_paper)

    async def inside_a_loop():
        return list(extractor.extract(fake.PAPERS[:1], "openai", base_url=srv.url + "/v1", model="m"))

    (rec,) = asyncio.run(inside_a_loop())
    assert rec.system_name == "Nexus"


def test_a_bad_key_ends_the_iteration_with_one_error(server):
    srv = server(lambda req: fake.error(401, "Incorrect API key provided: sk-abc***"))
    with pytest.raises(extractor.ExtractorError) as e:
        list(extractor.extract(fake.PAPERS, "openai", base_url=srv.url + "/v1", model="m", retries=0))
    assert "\n" not in str(e.value)


def test_verify_one_answer_against_one_abstract():
    rec = extractor.verify(fake.answer(), fake.NEXUS, title="Nexus")
    assert rec.system_name == "Nexus" and [n.verified for n in rec.headline_numbers] == [True, True]
    wrong = fake.answer(numbers=[fake.num("up to 54%", 54, "%", "decrease", "CPU consumption", "up_to")])
    (n,) = extractor.verify(wrong, fake.NEXUS).headline_numbers
    assert not n.verified and n.why
    misread = fake.answer(numbers=[fake.num("up to 44%", 4.4, "%", "decrease", "CPU", "up_to")])
    (n,) = extractor.verify(misread, fake.NEXUS).headline_numbers
    assert not n.verified and "44" in n.why
    with pytest.raises(extractor.ExtractorError):
        extractor.verify("not a dict", fake.NEXUS)


def test_run_resumes_and_write_read_table_round_trip(tmp_path):
    out = tmp_path / "t.jsonl"
    s1 = extractor.run(str(FIXTURE), str(out), "offline", limit=5)
    assert s1.papers == 5
    s2 = extractor.run(str(FIXTURE), str(out), "offline")
    assert s2.papers == 10
    rows = extractor.read_table(str(out))
    assert len(rows) == 15 and len({r["id"] for r in rows}) == 15
    est = extractor.estimate(str(FIXTURE), str(out), "offline")
    assert est.papers == 0
    copy = tmp_path / "copy.jsonl"
    extractor.write_table(rows, str(copy))
    assert extractor.read_table(str(copy)) == rows
    recs = list(extractor.extract(extractor.read_papers(str(FIXTURE), limit=2), "offline"))
    extractor.write_table(recs, str(tmp_path / "records.jsonl"))
    assert [r["id"] for r in extractor.read_table(str(tmp_path / "records.jsonl"))] == [r.id for r in recs]


def test_write_table_is_refused_while_a_run_holds_the_lock(tmp_path):
    from extractor.store import TableLock

    out = tmp_path / "t.jsonl"
    extractor.run(str(FIXTURE), str(out), "offline", limit=2)
    rows = extractor.read_table(str(out))
    with TableLock(str(out)):
        code = f"import extractor; extractor.write_table([], {str(out)!r})"
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode != 0 and "is being written by another extractor run" in r.stderr, r.stderr
    assert extractor.read_table(str(out)) == rows


def test_export_and_apply_review_round_trip(tmp_path):
    """export → a reviewer's decisions in the CSV → apply_review: the API's counts and table are
    the CLI's."""
    import csv

    table = tmp_path / "t.jsonl"
    extractor.run(str(FIXTURE), str(table), "offline")
    sheet = tmp_path / "claims.csv"
    extractor.export(str(table), str(sheet), rows="claims")
    rows = list(csv.DictReader(open(sheet, encoding="utf-8-sig")))
    rows[0]["decision"] = "reject"
    rows[1]["decision"] = "accept"
    with open(sheet, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    records, counts = extractor.apply_review(str(sheet), str(table), str(tmp_path / "api.jsonl"))
    assert counts["reject"] == 1 and counts["accept"] == 1 and not counts["stale"]
    r = run_cli("review", "apply", sheet, "--table", table, "-o", tmp_path / "cli.jsonl", "-q")
    assert r.returncode == 0, r.stderr

    def untimed(x):  # the time a decision was applied is the only difference
        if isinstance(x, dict):
            return {k: untimed(v) for k, v in x.items() if k != "time"}
        return [untimed(v) for v in x] if isinstance(x, list) else x

    assert untimed(read_jsonl(tmp_path / "api.jsonl")) == untimed(read_jsonl(tmp_path / "cli.jsonl"))
    for fmt in ("xlsx", "md", "html", "bib"):
        extractor.export(records, str(tmp_path / f"out.{fmt}"))
        assert (tmp_path / f"out.{fmt}").stat().st_size > 0
    with pytest.raises(extractor.ExtractorError, match="cannot tell the format"):
        extractor.export(records, str(tmp_path / "out.pdf"))
    with pytest.raises(extractor.ExtractorError):
        extractor.apply_review(str(sheet), str(table), str(table))


def test_ingest_batch_through_the_api(tmp_path):
    """Batch results into a table through the one run driver: the sidecar `batch prepare` wrote, a
    results file the batch API returned."""
    r = run_cli("batch", "prepare", FIXTURE, "-o", tmp_path / "requests.jsonl", "--model", "m", "-q")
    assert r.returncode == 0, r.stderr
    papers = tmp_path / "requests.papers.jsonl"
    assert papers.exists()
    lines = []
    for req in read_jsonl(tmp_path / "requests.jsonl")[:3]:
        body = json.loads(fake.completion(json.dumps(fake.answer("Thing", [])))[2])
        lines.append(
            {"id": "b", "custom_id": req["custom_id"], "response": {"status_code": 200, "body": body}, "error": None}
        )
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps(x) + "\n" for x in lines))
    summary = extractor.ingest_batch([str(results)], str(papers), str(tmp_path / "t.jsonl"))
    assert summary.papers == 3
    assert len(extractor.read_table(str(tmp_path / "t.jsonl"))) == 3
