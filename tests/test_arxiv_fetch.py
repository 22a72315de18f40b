"""The arXiv API client against a real local HTTP server that behaves like export.arxiv.org."""

import re
import time
from urllib.parse import parse_qs, urlparse

from conftest import FIXTURE, read_jsonl, run_cli

ENTRIES = re.findall(r"<entry>.*?</entry>", FIXTURE.read_text(), re.S)
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
    'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom">'
    "<title>arXiv Query Results</title><opensearch:totalResults>{total}</opensearch:totalResults>"
)
ERROR_FEED = (
    HEAD.format(total=1) + "<entry><id>http://arxiv.org/api/errors#incorrect_id_format_for_1234</id>"
    "<title>Error</title><summary>incorrect id format for 1234</summary></entry></feed>"
)


def page(req):
    q = parse_qs(urlparse(req["path"]).query)
    start, size = int(q["start"][0]), int(q["max_results"][0])
    body = HEAD.format(total=len(ENTRIES)) + "".join(ENTRIES[start : start + size]) + "</feed>"
    return 200, {"content-type": "application/atom+xml"}, body


def params(req):
    q = parse_qs(urlparse(req["path"]).query)
    return q["search_query"][0], int(q["start"][0]), int(q["max_results"][0])


def fetch(s, tmp_path, *extra):
    out = tmp_path / "feed.xml"
    r = run_cli(
        "fetch",
        "cat:cs.DC",
        "--base-url",
        s.url + "/api/query",
        "-o",
        out,
        *extra,
        env={"EXTRACTOR_ARXIV_BACKOFF": "0.2"},
    )
    return r, out


def test_pages_through_results_politely(tmp_path, server):
    s = server(page)
    r, out = fetch(s, tmp_path, "--max", "15", "--page-size", "4", "--delay", "0.3")
    assert r.returncode == 0, r.stderr
    assert [params(q) for q in s.requests] == [
        ("cat:cs.DC", 0, 4),
        ("cat:cs.DC", 4, 4),
        ("cat:cs.DC", 8, 4),
        ("cat:cs.DC", 12, 3),
    ]
    assert "fetched 15 entries" in r.stderr
    table = tmp_path / "t.jsonl"
    r = run_cli("extract", out, "-o", table)
    assert r.returncode == 0, r.stderr
    recs = read_jsonl(table)
    assert len(recs) == 15 and recs[0]["id"] == "2604.06682" and len(recs[0]["authors"]) == 7


def test_delay_between_requests(tmp_path, server):
    stamps = []

    def h(req):
        stamps.append(time.monotonic())
        return page(req)

    s = server(h)
    r, _ = fetch(s, tmp_path, "--max", "6", "--page-size", "2", "--delay", "0.5")
    assert r.returncode == 0, r.stderr
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert len(gaps) == 2 and min(gaps) >= 0.45


def test_429_with_retry_after_then_success(tmp_path, server):
    calls = []

    def h(req):
        calls.append(time.monotonic())
        if len(calls) == 1:
            return 429, {"Retry-After": "1"}, "slow down"
        return page(req)

    s = server(h)
    r, out = fetch(s, tmp_path, "--max", "3", "--delay", "0")
    assert r.returncode == 0, r.stderr
    assert len(calls) == 2 and calls[1] - calls[0] >= 0.9  # Retry-After honoured
    assert out.read_text().count("<entry") == 3


def test_rate_exceeded_body_and_503_are_retried(tmp_path, server):
    answers = [(200, {}, "Rate exceeded."), (503, {}, "busy")]

    def h(req):
        return answers.pop(0) if answers else page(req)

    s = server(h)
    r, out = fetch(s, tmp_path, "--max", "2", "--delay", "0")
    assert r.returncode == 0, r.stderr
    assert len(s.requests) == 3 and out.read_text().count("<entry") == 2


def test_gives_up_with_one_line_error(tmp_path, server):
    s = server(lambda req: (503, {}, "down"))
    r, out = fetch(s, tmp_path, "--max", "2", "--delay", "0")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "gave up after 5 attempts" in r.stderr and len(s.requests) == 5
    assert not out.exists()


def test_error_entry_is_a_clear_error(tmp_path, server):
    s = server(lambda req: (200, {}, ERROR_FEED))
    r, out = fetch(s, tmp_path, "--max", "5", "--delay", "0")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "arXiv API error: incorrect id format for 1234" in r.stderr
    assert not out.exists()


def test_extract_reads_an_arxiv_query_directly(tmp_path, server):
    s = server(page)
    out = tmp_path / "t.jsonl"
    r = run_cli(
        "extract", "arxiv:cat:cs.DC", "--arxiv-max", "5", "-o", out, env={"EXTRACTOR_ARXIV_URL": s.url + "/api/query"}
    )
    assert r.returncode == 0, r.stderr
    assert len(read_jsonl(out)) == 5


def test_a_page_of_entries_already_seen_stops_the_fetch_and_progress_is_shown(tmp_path, server):
    def repeating(req):
        q = parse_qs(urlparse(req["path"]).query)
        start = int(q["start"][0])
        body = HEAD.format(total=1000) + "".join(ENTRIES[min(start, 4) : min(start, 4) + 4]) + "</feed>"
        return 200, {"content-type": "application/atom+xml"}, body  # from start=4 on, the same page

    s = server(repeating)
    r, out = fetch(s, tmp_path, "--max", "40", "--page-size", "4", "--delay", "0")
    assert r.returncode == 0, r.stderr
    assert len(s.requests) == 3  # pages at 0 and 4, then one that repeats the page at 4: stop
    assert "fetched 4 of 40 entries" in r.stderr and "fetched 8 of 40 entries" in r.stderr
    assert "repeats entries already fetched: stopping" in r.stderr
    assert out.read_text().count("<entry") == 8
