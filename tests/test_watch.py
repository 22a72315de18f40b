"""`extractor watch` against a local HTTP server that plays the arXiv API over several "days": new
papers, nothing new, a new version of a reviewed paper, an error entry, an unreachable server, a
query that changed. Request counts, carried and uncarried decisions, digests, and that no review
decision is ever lost."""

import json
import re
from datetime import UTC, datetime, timedelta
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


def iso(d):
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


def dated(entries, start, step=timedelta(minutes=7)):
    """The entries with their `updated` dates moved to start, start + step, ... (the watch works on
    the real clock: a window ends now)."""
    return [e.replace(updated(e), iso(start + i * step)) for i, e in enumerate(entries)]


NOW = datetime.now(UTC).replace(microsecond=0)


class FakeArxiv:
    """The arXiv API's query endpoint over a database the test changes day by day: search_query
    with an optional lastUpdatedDate:[A TO B] range, newest first, paged by start/max_results."""

    def __init__(self, server):
        self.entries = []
        self.error = False
        self.log = []
        self.sorted = []  # each request asked for newest first
        self.s = server(lambda req: self.handle(req))  # self.handle can be swapped by a test
        self.url = self.s.url + "/api/query"

    def handle(self, req):
        q = parse_qs(urlparse(req["path"]).query)
        query, start, size = q["search_query"][0], int(q["start"][0]), int(q["max_results"][0])
        self.log.append(query)
        if self.error:
            return 200, {"content-type": "application/atom+xml"}, ERROR_FEED
        order = q.get("sortOrder", ["descending"])[0]
        self.sorted.append(order)
        m = re.fullmatch(r"\((.*)\) AND lastUpdatedDate:\[(\d{12}) TO (\d{12})\]", query)
        lo, hi = (m.group(2), m.group(3)) if m else ("0" * 12, "9" * 12)
        hits = sorted(
            (e for e in self.entries if lo <= minute(updated(e)) <= hi), key=updated, reverse=order == "descending"
        )
        body = HEAD.format(total=len(hits)) + "".join(hits[start : start + size]) + "</feed>"
        return 200, {"content-type": "application/atom+xml"}, body

    def requests_since(self, n):
        return self.log[n:]


def valve_v2(entries):
    [v1] = [e for e in entries if f"{VALVE}v1" in e]
    v2 = v1.replace(f"{VALVE}v1", f"{VALVE}v2").replace(updated(v1), iso(datetime.now(UTC) - timedelta(minutes=1)))
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
    """A reviewer's round on Valve's claims; the reviewed table replaces the table, in place (README)."""
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
        if ws.cell(r, head["paper_id"]).value == f"arXiv:{VALVE}":
            for col, v in plan.get(ws.cell(r, head["evidence"]).value, {}).items():
                ws.cell(r, head[col]).value = v
    wb.save(sheet)
    r = run_cli("review", "apply", sheet, "--table", table, "--in-place")
    assert r.returncode == 0, r.stderr


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
    # eight papers of ten days ago; seven more updated in the last hours, after the first run
    entries = dated(old_first[:8], NOW - timedelta(days=10)) + dated(old_first[8:], NOW - timedelta(hours=2))

    # day 1: the first eight papers; a first run has no date range, newest first
    arxiv.entries = entries[:8]
    r = watch(arxiv, table, "--digest", tmp_path / "day1.md")
    assert r.returncode == 0, r.stderr
    assert arxiv.log == [QUERY] and arxiv.sorted == ["descending"] and len(read_jsonl(table)) == 8
    state = json.loads((tmp_path / "dc.jsonl.watch.json").read_text())
    assert state["query"] == QUERY and state["runs"][-1]["fetched"] == 8 and state["runs"][-1]["requests"] == 1
    day1 = (tmp_path / "day1.md").read_text()
    assert "8 new or updated papers" in day1 and "Valve" in day1

    review_valve(table, tmp_path)
    reviewed_before = decisions(table)
    assert len(reviewed_before) == 4

    # day 2: seven more; only what was updated since the first run (reaching back --lookback 3 days,
    # for papers arXiv announces days after their date) is asked for, oldest first
    first_run = json.loads((tmp_path / "dc.jsonl.watch.json").read_text())["covered_until"]
    arxiv.entries = list(entries)
    n = len(arxiv.log)
    r = watch(arxiv, table, "--digest", tmp_path / "day2.html")
    assert r.returncode == 0, r.stderr
    [q] = arxiv.requests_since(n)
    since = datetime.fromisoformat(first_run.replace("Z", "+00:00")) - timedelta(days=3)
    assert q.startswith(f"({QUERY}) AND lastUpdatedDate:[{minute(iso(since))} TO ") and arxiv.sorted[-1] == "ascending"
    assert len(read_jsonl(table)) == 15 and "7 fetched" in r.stderr
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
    arxiv.entries = list(entries) + [valve_v2(entries)]
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
    arxiv.entries = dated(ENTRIES[:3], NOW - timedelta(days=1))
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


# --- the watch keeps its own cursor (issue 27): nothing skipped after a kill, a cap or a bad date ----


def many(n, start, base=0):
    """`n` distinct papers (ids 2612.<base+i>), updated one minute apart from `start`."""
    out = []
    for i in range(n):
        e = ENTRIES[i % len(ENTRIES)]
        old = re.search(r"<id>http://arxiv.org/abs/(\d{4}\.\d{5})v\d+</id>", e).group(1)
        e = e.replace(old, f"2612.{base + i:05d}")
        out.append(e.replace(updated(e), iso(start + timedelta(minutes=i))))
    return out


def ids(table):
    return {r["id"] for r in read_jsonl(table)}


def test_a_watch_killed_mid_window_is_continued_by_the_next_run(tmp_path, server):
    import os
    import signal
    import subprocess
    import sys
    import threading
    import time

    arxiv = FakeArxiv(server)
    table = tmp_path / "t.jsonl"
    arxiv.entries = many(5, NOW - timedelta(days=20))
    assert watch(arxiv, table, "-q").returncode == 0  # the first run: five papers, the cursor set
    arxiv.entries += many(450, NOW - timedelta(hours=9), base=100)  # updated since, oldest first
    hold = threading.Event()
    handle = arxiv.handle

    def stall_on_page_3(req):
        if "start=200" in req["path"]:
            hold.wait(60)  # the run waits here for its third page until it is killed
        return handle(req)

    arxiv.handle = stall_on_page_3
    p = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "extractor",
            "watch",
            QUERY,
            "-o",
            table,
            "--arxiv-url",
            arxiv.url,
            "--delay",
            "0",
            "-q",
        ],
        env={**os.environ, "EXTRACTOR_ARXIV_BACKOFF": "0"},
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while len(ids(table) if table.exists() else ()) < 205 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    p.send_signal(signal.SIGKILL)
    p.wait(30)
    hold.set()
    assert len(ids(table)) == 205  # two pages written, then killed while it waited for the third
    state = json.loads((tmp_path / "t.jsonl.watch.json").read_text())
    assert state["window"]["offset"] == 200 and state["window"]["order"] == "ascending"
    arxiv.handle = handle
    r = watch(arxiv, table)
    assert r.returncode == 0, r.stderr
    assert "continuing the window" in r.stderr
    assert len(ids(table)) == 455 and len(read_jsonl(table)) == 455  # every paper, none twice
    state = json.loads((tmp_path / "t.jsonl.watch.json").read_text())
    assert state["window"] is None and state["runs"][-1]["window_closed"] is True


def test_max_never_leaves_a_gap(tmp_path, server):
    arxiv = FakeArxiv(server)
    table = tmp_path / "t.jsonl"
    arxiv.entries = many(10, NOW - timedelta(days=20))
    assert watch(arxiv, table, "-q").returncode == 0
    arxiv.entries += many(300, NOW - timedelta(hours=6), base=100)
    seen = []
    for _ in range(4):
        r = watch(arxiv, table, "--max", "100")
        assert r.returncode == 0, r.stderr
        seen.append(len(ids(table)))
    assert seen == [110, 210, 310, 310]
    state = json.loads((tmp_path / "t.jsonl.watch.json").read_text())
    assert state["window"] is None and "not covered yet" not in r.stderr
    assert [x["new"] for x in state["runs"][-4:]] == [100, 100, 100, 0]


def test_a_capped_run_says_what_is_left(tmp_path, server):
    arxiv = FakeArxiv(server)
    table = tmp_path / "t.jsonl"
    arxiv.entries = many(3, NOW - timedelta(days=20))
    assert watch(arxiv, table, "-q").returncode == 0
    arxiv.entries += many(250, NOW - timedelta(hours=6), base=100)
    r = watch(arxiv, table, "--max", "100")
    assert r.returncode == 0
    assert "is not covered yet (150 more entries to read); the next run continues it from paper 100 (--max)" in r.stderr


@pytest.mark.parametrize("future", ["2099-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00"])
def test_an_entry_dated_in_the_future_blinds_no_later_run(tmp_path, server, future):
    arxiv = FakeArxiv(server)
    table = tmp_path / "t.jsonl"
    arxiv.entries = many(4, NOW - timedelta(days=5))
    arxiv.entries[0] = arxiv.entries[0].replace(updated(arxiv.entries[0]), future)
    r = watch(arxiv, table)
    assert r.returncode == 0, r.stderr
    arxiv.entries += many(2, NOW - timedelta(minutes=30), base=50)
    r = watch(arxiv, table)
    assert r.returncode == 0, r.stderr
    assert len(ids(table)) == 6


def test_a_feed_entry_dated_past_any_calendar_blinds_no_later_run(tmp_path, server):
    head, tail = FIXTURE.read_text().split("<entry>", 1)[0], "</feed>\n"
    first = dated(ENTRIES[:5], NOW - timedelta(days=2))
    first[0] = first[0].replace(updated(first[0]), "9999-12-31T23:59:59-14:00")
    feed = {"body": head + "".join(first) + tail}
    s = server(lambda req: (200, {"content-type": "application/atom+xml"}, feed["body"]))
    table = tmp_path / "t.jsonl"
    r = run_cli("watch", s.url + "/feed.atom", "-o", table, "-q")
    assert r.returncode == 0, r.stderr
    feed["body"] = head + "".join(first + dated(ENTRIES[5:], NOW - timedelta(minutes=20))) + tail
    r = run_cli("watch", s.url + "/feed.atom", "-o", table, "-q")
    assert r.returncode == 0, r.stderr
    assert len(read_jsonl(table)) == 15


def test_an_html_page_at_the_api_url_is_an_error_not_an_empty_run(tmp_path, server):
    page = "<!DOCTYPE html><html><body><h1>Please log in</h1></body></html>"
    s = server(lambda req: (200, {"content-type": "text/html"}, page))
    table = tmp_path / "t.jsonl"
    r = run_cli("watch", QUERY, "-o", table, "--arxiv-url", s.url + "/api/query", "--delay", "0")
    assert r.returncode == 2 and "is not an Atom feed" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "t.jsonl.watch.json").exists()


@pytest.mark.parametrize("header", ["999999", "inf", "nan", "-5", "Wed, 21 Oct 2099 07:28:00 GMT"])
def test_retry_after_is_capped_on_the_arxiv_path(tmp_path, server, header):
    import time

    arxiv = FakeArxiv(server)
    arxiv.entries = many(3, NOW - timedelta(days=1))
    handle = arxiv.handle
    calls = []

    def throttled_once(req):
        calls.append(1)
        if len(calls) == 1:
            return 429, {"retry-after": header}, "slow down"
        return handle(req)

    arxiv.handle = throttled_once
    t0 = time.monotonic()
    r = run_cli(
        "watch",
        QUERY,
        "-o",
        tmp_path / "t.jsonl",
        "--arxiv-url",
        arxiv.url,
        "--delay",
        "0",
        env={"EXTRACTOR_MAX_RETRY_AFTER": "1", "EXTRACTOR_ARXIV_BACKOFF": "0"},
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - t0 < 30 and len(read_jsonl(tmp_path / "t.jsonl")) == 3
