"""`extractor watch` against a local HTTP server that plays the arXiv API over several "days": new
papers, nothing new, a new version of a reviewed paper, an error entry, an unreachable server, a
query that changed. Request counts, carried and uncarried decisions, digests, and that no review
decision is ever lost."""

import json
import re
import shutil
from urllib.parse import parse_qs, urlparse

import pytest
from conftest import FIXTURE, read_jsonl, run_cli
from openpyxl import load_workbook
from test_arxiv_fetch import ENTRIES, HEAD

ERROR_FEED = (
    HEAD.format(total=1) + "<entry><id>http://arxiv.org/api/errors#bad_query</id>"
    "<title>Error</title><summary>malformed query</summary></entry></feed>"
)
VALVE = "2604.07874"
QUERY = "cat:cs.DC"


def updated(entry):
    return re.search(r"<updated>(.*?)</updated>", entry).group(1)


def minute(iso):  # "2026-04-16T10:17:20Z" -> "202604161017", arXiv's resolution
    return re.sub(r"\D", "", iso)[:12]


class FakeArxiv:
    """The arXiv API's query endpoint over a database the test changes day by day: search_query
    with an optional lastUpdatedDate:[A TO B] range, newest first, paged by start/max_results."""

    def __init__(self, server):
        self.entries = []
        self.error = False
        self.log = []
        self.sorted = []  # each request asked for newest first
        self.s = server(self.handle)
        self.url = self.s.url + "/api/query"

    def handle(self, req):
        q = parse_qs(urlparse(req["path"]).query)
        query, start, size = q["search_query"][0], int(q["start"][0]), int(q["max_results"][0])
        self.log.append(query)
        if self.error:
            return 200, {"content-type": "application/atom+xml"}, ERROR_FEED
        self.sorted.append(q.get("sortBy") == ["lastUpdatedDate"] and q.get("sortOrder") == ["descending"])
        m = re.fullmatch(r"\((.*)\) AND lastUpdatedDate:\[(\d{12}) TO (\d{12})\]", query)
        lo, hi = (m.group(2), m.group(3)) if m else ("0" * 12, "9" * 12)
        hits = sorted((e for e in self.entries if lo <= minute(updated(e)) <= hi), key=updated, reverse=True)
        body = HEAD.format(total=len(hits)) + "".join(hits[start : start + size]) + "</feed>"
        return 200, {"content-type": "application/atom+xml"}, body

    def requests_since(self, n):
        return self.log[n:]


def valve_v2():
    [v1] = [e for e in ENTRIES if f"{VALVE}v1" in e]
    v2 = v1.replace(f"{VALVE}v1", f"{VALVE}v2").replace(updated(v1), "2026-06-01T09:00:00Z")
    v2, n1 = re.subn(r"34\.6%", "35.1%", v2)
    v2, n2 = re.subn(r"\s+and\s+&lt;2%\s+TPOT\s+increase", "", v2)
    assert n1 == 1 and n2 == 1
    return v2


def watch(arxiv, table, *extra, query=QUERY):
    return run_cli(
        "watch",
        query,
        "-o",
        table,
        "--arxiv-url",
        arxiv.url,
        "--delay",
        "0",
        *extra,
        env={"EXTRACTOR_ARXIV_BACKOFF": "0"},
    )


def review_valve(table, tmp_path):
    """A reviewer's round on Valve's claims; the reviewed table replaces the table (README)."""
    sheet = tmp_path / "review.xlsx"
    assert run_cli("export", table, "-o", sheet).returncode == 0
    wb = load_workbook(sheet)
    ws = wb["Claims"]
    head = {c.value: i + 1 for i, c in enumerate(ws[1])}
    plan = {
        "2,170": {"decision": "edit", "corrected_value": "2200"},
        "34.6%": {"decision": "accept"},
        "<2%": {"decision": "reject"},
        "<5%": {"decision": "accept", "note": "TTFT checked"},
    }
    for r in range(2, ws.max_row + 1):
        if ws.cell(r, head["paper_id"]).value == VALVE:
            for col, v in plan.get(ws.cell(r, head["evidence"]).value, {}).items():
                ws.cell(r, head[col]).value = v
    wb.save(sheet)
    out = tmp_path / "reviewed.jsonl"
    r = run_cli("review", "apply", sheet, "--table", table, "-o", out)
    assert r.returncode == 0, r.stderr
    shutil.move(out, table)


def decisions(table):
    """Every review decision the table and its uncarried sidecar hold, by (evidence, decision)."""
    out = set()
    for rec in read_jsonl(table):
        for n in rec["headline_numbers"]:
            if n.get("review"):
                out.add((n["review"]["original"]["value"], n["review"]["decision"], n["review"].get("note")))
    side = table.parent / (table.name + ".uncarried.jsonl")
    if side.exists():
        for u in read_jsonl(side):
            rv = u["claim"]["review"]
            out.add((rv["original"]["value"], rv["decision"], rv.get("note")))
    return out


def test_watching_a_field_over_several_days(tmp_path, server):
    arxiv = FakeArxiv(server)
    table = tmp_path / "dc.jsonl"
    old_first = sorted(ENTRIES, key=updated)

    # day 1: the first eight papers; a first run has no date range
    arxiv.entries = old_first[:8]
    r = watch(arxiv, table, "--digest", tmp_path / "day1.md")
    assert r.returncode == 0, r.stderr
    assert arxiv.log == [QUERY] and arxiv.sorted == [True] and len(read_jsonl(table)) == 8
    state = json.loads((tmp_path / "dc.jsonl.watch.json").read_text())
    assert state["query"] == QUERY and state["runs"][-1]["fetched"] == 8 and state["runs"][-1]["requests"] == 1
    day1 = (tmp_path / "day1.md").read_text()
    assert "8 new or updated papers" in day1 and "Valve" in day1

    review_valve(table, tmp_path)
    reviewed_before = decisions(table)
    assert len(reviewed_before) == 4

    # day 2: seven more; only what was updated since the table's newest paper is asked for
    arxiv.entries = list(ENTRIES)
    n = len(arxiv.log)
    r = watch(arxiv, table, "--digest", tmp_path / "day2.html")
    assert r.returncode == 0, r.stderr
    [q] = arxiv.requests_since(n)
    newest = max(updated(e) for e in old_first[:8])
    assert q.startswith(f"({QUERY}) AND lastUpdatedDate:[{minute(newest)} TO ")
    assert len(read_jsonl(table)) == 15 and "8 fetched" in r.stderr  # the newest old one comes back, done
    day2 = (tmp_path / "day2.html").read_text()
    assert "7 new or updated papers" in day2 and "Nexus" in day2 and "Valve" not in day2
    assert "New bests in the table" in day2 and ("beats" in day2 or "first such claim" in day2)
    assert decisions(table) == reviewed_before

    # day 3: nothing new: one request, the table unchanged to the byte
    before = table.read_bytes()
    n = len(arxiv.log)
    r = watch(arxiv, table, "--digest", tmp_path / "day3.md")
    assert r.returncode == 0, r.stderr
    assert len(arxiv.requests_since(n)) == 1 and table.read_bytes() == before
    assert "0 new or updated papers" in (tmp_path / "day3.md").read_text()

    # day 4: a new version of the reviewed paper: what still stands is carried, the rest listed
    arxiv.entries = list(ENTRIES) + [valve_v2()]
    r = watch(arxiv, table, "--digest", tmp_path / "day4.md")
    assert r.returncode == 0, r.stderr
    assert "2 review decisions carried, 2 not carried" in r.stderr and "dc.jsonl.uncarried.jsonl" in r.stderr
    recs = {x["id"]: x for x in read_jsonl(table)}
    assert len(recs) == 15 and recs[VALVE]["version"] == "v2"
    carried = {n["text"]: n["review"] for n in recs[VALVE]["headline_numbers"] if n.get("review")}
    assert carried["2,170"]["decision"] == "edit" and carried["<5%"]["note"] == "TTFT checked"
    side = {u["evidence"]: u for u in read_jsonl(tmp_path / "dc.jsonl.uncarried.jsonl")}
    assert set(side) == {"34.6%", "<2%"} and all("no longer in the abstract" in u["why"] for u in side.values())
    assert decisions(table) == reviewed_before  # nothing lost: carried, or listed with the whole claim
    assert "v2, updated" in (tmp_path / "day4.md").read_text()

    # day 5: arXiv answers with an error entry: one line, exit 2, nothing changes
    before, state_before = table.read_bytes(), (tmp_path / "dc.jsonl.watch.json").read_text()
    arxiv.error = True
    r = watch(arxiv, table)
    assert r.returncode == 2 and "arXiv API error: malformed query" in r.stderr and "Traceback" not in r.stderr
    assert table.read_bytes() == before and (tmp_path / "dc.jsonl.watch.json").read_text() == state_before


def test_an_unreachable_server_is_one_line(tmp_path, server):
    arxiv = FakeArxiv(server)
    arxiv.s.close()
    r = watch(arxiv, tmp_path / "t.jsonl")
    assert r.returncode == 2 and "cannot reach" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "t.jsonl").exists() and not (tmp_path / "t.jsonl.watch.json").exists()


def test_a_changed_query_is_refused_unless_said(tmp_path, server):
    arxiv = FakeArxiv(server)
    arxiv.entries = ENTRIES[:3]
    table = tmp_path / "t.jsonl"
    assert watch(arxiv, table).returncode == 0
    r = watch(arxiv, table, query="cat:cs.OS")
    assert r.returncode == 2 and "watches 'cat:cs.DC'" in r.stderr and "--query-changed" in r.stderr
    # with --query-changed the table watches the new query; the old one is remembered
    r = watch(arxiv, table, "--query-changed", query="cat:cs.OS")
    assert arxiv.log[-1].startswith("(cat:cs.OS) AND lastUpdatedDate:[")
    assert r.returncode == 0, r.stderr
    state = json.loads((tmp_path / "t.jsonl.watch.json").read_text())
    assert state["query"] == "cat:cs.OS" and state["previous"][0]["query"] == "cat:cs.DC"


def test_a_table_written_by_another_query_is_refused(tmp_path, server):
    arxiv = FakeArxiv(server)
    arxiv.entries = ENTRIES[:3]
    table = tmp_path / "t.jsonl"
    r = run_cli(
        "extract",
        "arxiv:cat:cs.OS",
        "-o",
        table,
        env={"EXTRACTOR_ARXIV_URL": arxiv.url, "EXTRACTOR_ARXIV_BACKOFF": "0"},
    )
    assert r.returncode == 0, r.stderr
    r = watch(arxiv, table)
    assert r.returncode == 2 and "was written from 'cat:cs.OS'" in r.stderr


@pytest.mark.parametrize("bad", ["not json", '{"since": "x"}'])
def test_a_broken_watch_file_is_one_line(tmp_path, server, bad):
    arxiv = FakeArxiv(server)
    table = tmp_path / "t.jsonl"
    (tmp_path / "t.jsonl.watch.json").write_text(bad)
    r = watch(arxiv, table)
    assert r.returncode == 2 and "not a watch file" in r.stderr and arxiv.log == []


def test_an_rss_feed_url_is_watched_too(tmp_path, server):
    body = FIXTURE.read_text()
    s = server(lambda req: (200, {"content-type": "application/atom+xml"}, body))
    table = tmp_path / "t.jsonl"
    r = run_cli("watch", s.url + "/feed.atom", "-o", table, "-q")
    assert r.returncode == 0, r.stderr
    assert len(read_jsonl(table)) == 15
    before = table.read_bytes()
    r = run_cli("watch", s.url + "/feed.atom", "-o", table, "-q")
    assert r.returncode == 0 and table.read_bytes() == before and len(s.requests) == 2


def test_a_digest_of_another_format_is_refused_before_any_request(tmp_path, server):
    arxiv = FakeArxiv(server)
    r = watch(arxiv, tmp_path / "t.jsonl", "--digest", tmp_path / "d.txt")
    assert r.returncode == 2 and "a digest is .md or .html" in r.stderr and arxiv.log == []
