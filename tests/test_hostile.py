"""Hostile input and faults against the real CLI (127.0.0.1 servers only): nothing is lost, nothing
hangs, nothing leaks. Each test has a bounded time (the subprocess timeout) and, where memory is
the point, a bounded peak RSS measured in the test."""

import csv
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile

import pytest
from conftest import FIXTURE, read_jsonl, run_cli, run_cli_rss
from openai_fake import PAPERS, answer, error, for_paper, num, ok
from openpyxl import Workbook, load_workbook

FAST = {"EXTRACTOR_BACKOFF": "0.05"}
KEY = "sk-proj-SECRETsecret1234567890abcdef"


def papers_file(path, n, start=0, words=""):
    with open(path, "w") as f:
        for i in range(start, start + n):
            f.write(
                json.dumps(
                    {
                        "id": f"2601.{i:05d}",
                        "title": f"P{i}: paper",
                        "abstract": f"We present P{i}, a system. It cuts latency by {10 + i % 80}%.{words}",
                    }
                )
                + "\n"
            )
    return path


def llm(s, inp, out, *extra, env=None, timeout=120):
    return run_cli(
        "extract",
        inp,
        "-o",
        out,
        "--model",
        "test-model",
        "--base-url",
        f"{s.url}/v1",
        "--timeout",
        "2",
        "--retries",
        "2",
        *extra,
        env={**FAST, **(env or {})},
        timeout=timeout,
    )


def ro_mount(path):
    """A read-only file system at `path` (a tmpfs), or skip: permission bits say nothing to root."""
    path.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(path)], capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a read-only file system here (needs root)")
    return path


def umount(path):
    subprocess.run(["umount", str(path)], capture_output=True)


# --- one table, one writer ------------------------------------------------------------------------


def test_a_second_writer_is_refused_naming_the_holder(tmp_path, server):
    lock = threading.Event()

    def slow(req):
        lock.set()
        time.sleep(0.3)
        return for_paper(req)

    s = server(slow)
    inp = papers_file(tmp_path / "in.jsonl", 8)
    out = tmp_path / "t.jsonl"
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "extractor",
            "extract",
            inp,
            "-o",
            out,
            "--model",
            "m",
            "--base-url",
            f"{s.url}/v1",
            "--concurrency",
            "1",
            "--no-cache",
            "-q",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **FAST},
    )
    assert lock.wait(30)
    second = run_cli("extract", inp, "-o", out, "-q", timeout=60)  # the offline engine, same table
    assert second.returncode == 2
    assert f"being written by another extractor run (pid {first.pid})" in second.stderr
    assert "Traceback" not in second.stderr
    assert first.wait(60) == 0, first.stderr.read()
    recs = read_jsonl(out)
    assert len(recs) == 8 and len({r["id"] for r in recs}) == 8  # nothing lost, nothing twice


def test_compaction_cannot_swap_the_file_under_an_appender(tmp_path):
    # run A appends a large input; run B brings newer versions (it would compact) and is refused
    big = papers_file(tmp_path / "big.jsonl", 30000)
    out = tmp_path / "t.jsonl"
    a = subprocess.Popen(
        [sys.executable, "-m", "extractor", "extract", big, "-o", out, "-q"], stderr=subprocess.PIPE, text=True
    )
    deadline = time.time() + 60
    while time.time() < deadline and (not out.exists() or out.stat().st_size < 10000):
        time.sleep(0.05)
    newer = tmp_path / "v2.jsonl"
    newer.write_text(
        json.dumps({"id": "2601.00000v2", "title": "P0: v2", "abstract": "We present P0. It is 3x faster."}) + "\n"
    )
    b = run_cli("extract", newer, "-o", out, "-q", timeout=60)
    assert b.returncode == 2 and "being written by another extractor run" in b.stderr
    assert a.wait(120) == 0, a.stderr.read()
    recs = read_jsonl(out)
    assert len(recs) == 30000 and len({r["id"] for r in recs}) == 30000
    # once A is done, B runs, and its compaction keeps every other line
    b = run_cli("extract", newer, "-o", out, "-q", timeout=60)
    assert b.returncode == 0 and "replaced 1 superseded lines" in b.stderr
    recs = read_jsonl(out)
    assert len(recs) == 30000 and next(r for r in recs if r["id"] == "2601.00000")["version"] == "v2"


# --- one bad field makes one bad line ----------------------------------------------------------


@pytest.mark.parametrize(
    "bad, why",
    [
        pytest.param({"authors": [None]}, "field 'authors' must be a list of names", id="author_null"),
        pytest.param({"authors": [1]}, "field 'authors' must be a list of names", id="author_number"),
        pytest.param({"authors": {"a": 1}}, "field 'authors' must be", id="authors_object"),
        pytest.param({"title": ["x"]}, "field 'title' must be text", id="title_list"),
        pytest.param({"categories": {"cs": 1}}, "field 'categories' must be", id="categories_object"),
        pytest.param({"abstract": 7}, "field 'abstract' must be text (got 7)", id="abstract_number"),
        pytest.param({"id": "x" * 100_000}, "an id of 100,000 characters (the limit is 256)", id="id_100k"),
        pytest.param({"title": "t" * 5000}, "a title of 5,000 characters", id="title_5k"),
        pytest.param({"abstract": "word " * 10_000}, "an abstract of 49,999 characters", id="abstract_50k"),
    ],
)
def test_a_bad_field_skips_its_line_only(tmp_path, bad, why):
    rows = [
        {"id": f"2601.0000{i}", "title": f"T{i}", "abstract": f"We present S{i}. It is {i + 2}x faster."}
        for i in range(5)
    ]
    rows[2].update(bad)
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "t.jsonl"
    t0 = time.time()
    r = run_cli("extract", inp, "-o", out, timeout=60)
    assert time.time() - t0 < 30
    assert r.returncode == 1 and "Traceback" not in r.stderr and "internal error" not in r.stderr
    assert f"in.jsonl:3: {why}" in r.stderr
    assert len(read_jsonl(out)) == 4
    again = run_cli("extract", inp, "-o", out)  # the rerun does not stop at it either
    assert again.returncode == 1 and "4 already done" in again.stderr


def test_a_byte_order_mark_does_not_cost_the_first_record(tmp_path):
    inp = tmp_path / "bom.jsonl"
    inp.write_bytes(b"\xef\xbb\xbf" + json.dumps(PAPERS[0]).encode() + b"\n" + json.dumps(PAPERS[1]).encode() + b"\n")
    out = tmp_path / "t.jsonl"
    r = run_cli("extract", inp, "-o", out)
    assert r.returncode == 0, r.stderr
    assert [x["id"] for x in read_jsonl(out)] == ["2604.06682", "2604.00002"]


def test_a_csv_field_past_the_limit_skips_its_row_only(tmp_path):
    inp = tmp_path / "in.csv"
    with open(inp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "title", "abstract"])
        w.writerow(["1", "A", "We present A. It is 2x faster."])
        w.writerow(["2", "B", "x" * 2_000_000])
        for i in range(3, 6):
            w.writerow([str(i), f"C{i}", f"We present C{i}. It is {i}x faster."])
    out = tmp_path / "t.jsonl"
    r = run_cli("extract", inp, "-o", out)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "in.csv:3: a line of 2,000,006 bytes" in r.stderr
    assert [x["id"] for x in read_jsonl(out)] == ["1", "3", "4", "5"]


def test_zotero_and_scopus_exports_get_ids_from_doi_or_content(tmp_path):
    inp = tmp_path / "zotero.csv"
    with open(inp, "w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(["Key", "Item Type", "Publication Year", "Author", "Title", "DOI", "Abstract Note"])
        w.writerow(
            [
                "ABCD1234",
                "journalArticle",
                "2025",
                "Doe, Jane; Roe, Rick",
                "Fast Things",
                "https://doi.org/10.1145/3600006.3613138",
                "We present Fast. It is 3x faster.",
            ]
        )
        w.writerow(
            ["EFGH5678", "journalArticle", "2024", "Poe, Ed", "No DOI here", "", "We present Slow. It is 2x slower."]
        )
    out = tmp_path / "t.jsonl"
    r = run_cli("extract", inp, "-o", out)
    assert r.returncode == 0, r.stderr
    a, b = read_jsonl(out)
    assert a["id"] == "doi:10.1145/3600006.3613138" and a["authors"] == ["Jane Doe", "Rick Roe"]
    assert a["published"] == "2025" and a["doi"] == "https://doi.org/10.1145/3600006.3613138"
    assert b["id"].startswith("sha256:") and len(b["id"]) == len("sha256:") + 16
    assert run_cli("extract", inp, "-o", out).stderr.count("2 already done") == 1  # the ids are stable


# --- the cache is an optimisation ---------------------------------------------------------------


def test_a_locked_cache_is_a_warning_and_the_records_are_written(tmp_path, server):
    s = server(for_paper)
    cache = tmp_path / "cache.sqlite"
    db = sqlite3.connect(cache, isolation_level=None)
    db.execute("CREATE TABLE results (key TEXT PRIMARY KEY, value BLOB NOT NULL, created TEXT NOT NULL)")
    db.execute("BEGIN EXCLUSIVE")  # another process holds it
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps(p) + "\n" for p in PAPERS))
    out = tmp_path / "t.jsonl"
    t0 = time.time()
    r = llm(s, inp, out, "--cache", cache, timeout=60)
    assert time.time() - t0 < 20
    db.close()
    assert r.returncode == 0, r.stderr
    assert "going on without the cache" in r.stderr
    assert len(read_jsonl(out)) == 2


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda p: p.write_bytes(os.urandom(4096)), id="garbage"),
        pytest.param(lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000), id="corrupt_header"),
    ],
)
def test_a_broken_cache_file_is_a_warning(tmp_path, server, make):
    s = server(for_paper)
    cache = tmp_path / "cache.sqlite"
    make(cache)
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps(PAPERS[0]) + "\n")
    out = tmp_path / "t.jsonl"
    r = llm(s, inp, out, "--cache", cache)
    assert r.returncode == 0, r.stderr
    assert "going on without the cache" in r.stderr and "Traceback" not in r.stderr
    assert read_jsonl(out)[0]["status"] == "ok"


def test_a_bad_cache_row_is_a_miss(tmp_path, server):
    s = server(for_paper)
    cache = tmp_path / "cache.sqlite"
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps(PAPERS[0]) + "\n")
    assert llm(s, inp, tmp_path / "a.jsonl", "--cache", cache).returncode == 0
    db = sqlite3.connect(cache)
    db.execute("UPDATE results SET value = ?", (b"\x00not json",))
    db.commit()
    db.close()
    before = len(s.requests)
    r = llm(s, inp, tmp_path / "b.jsonl", "--cache", cache)
    assert r.returncode == 0, r.stderr
    assert len(s.requests) == before + 1  # asked again, and the row replaced
    assert llm(s, inp, tmp_path / "c.jsonl", "--cache", cache).returncode == 0
    assert len(s.requests) == before + 1


# --- outputs are checked before the first (paid) request ---------------------------------------


def test_a_read_only_output_is_refused_before_any_request(tmp_path, server):
    s = server(for_paper)
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps(PAPERS[0]) + "\n")
    ro = ro_mount(tmp_path / "ro")
    try:
        r = llm(s, inp, ro / "t.jsonl")
        assert r.returncode == 2 and "cannot write" in r.stderr and "Traceback" not in r.stderr
        r = llm(s, inp, tmp_path / "t.jsonl", "--summary-json", ro / "s.json")
        assert r.returncode == 2 and "cannot write" in r.stderr
        assert len(s.requests) == 0
        # the cache in a read-only place is only a warning
        r = llm(s, inp, tmp_path / "t.jsonl", "--cache", ro / "c.sqlite")
        assert r.returncode == 0 and "going on without the cache" in r.stderr
    finally:
        umount(ro)


def test_a_full_disk_is_one_line_naming_the_table(tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(full)], capture_output=True).returncode:
        pytest.skip("cannot mount a small file system here (needs root)")
    try:
        inp = papers_file(tmp_path / "in.jsonl", 500)
        r = run_cli("extract", inp, "-o", full / "t.jsonl", "-q")
        assert r.returncode == 2 and "Traceback" not in r.stderr
        assert f"{full / 't.jsonl'}: cannot write (No space left on device)" in r.stderr
    finally:
        subprocess.run(["umount", str(full)], capture_output=True)


# --- every wait has a deadline, every read a bound -----------------------------------------------


def test_a_dripping_reply_is_cut_at_the_deadline(tmp_path, server):
    def h(req):
        if "Nexus" in json.loads(req["body"])["messages"][-1]["content"]:

            def drip():
                for _ in range(600):
                    yield b" "
                    time.sleep(1)

            return 200, {"content-type": "application/json"}, drip()
        return for_paper(req)

    s = server(h)
    rows = [PAPERS[0]] + [
        {"id": f"2601.0000{i}", "title": f"Second {i}: x", "abstract": "We present Second, a cache. It is 3x faster."}
        for i in range(5)
    ]
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "t.jsonl"
    t0 = time.time()
    r = run_cli(
        "extract",
        inp,
        "-o",
        out,
        "--model",
        "m",
        "--base-url",
        f"{s.url}/v1",
        "--timeout",
        "2",
        "--retries",
        "2",
        "--no-cache",
        "--concurrency",
        "4",
        env=FAST,
        timeout=60,
    )
    assert time.time() - t0 < 30  # two attempts of 2 s each, not forever
    assert r.returncode == 1, r.stderr
    recs = {x["id"]: x for x in read_jsonl(out)}
    assert len(recs) == 6 and sum(x["status"] == "ok" for x in recs.values()) == 5
    assert "timed out" in recs["2604.06682"]["error"]


def test_a_url_that_streams_forever_stops_at_the_size_limit(tmp_path, server):
    def h(req):
        def forever():
            yield b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry><summary>'
            while True:
                yield b"x" * 65536

        return 200, {"content-type": "application/atom+xml"}, forever()

    s = server(h)
    t0 = time.time()
    r, peak = run_cli_rss(
        "extract",
        f"{s.url}/feed.xml",
        "-o",
        tmp_path / "t.jsonl",
        env={"EXTRACTOR_MAX_DOWNLOAD": str(20 * 1024 * 1024)},
        timeout=60,
    )
    assert time.time() - t0 < 30 and peak < 200
    assert r.returncode == 2 and "larger than 20 MB (the limit for one download)" in r.stderr


def test_a_200_mb_line_is_skipped_in_flat_memory(tmp_path):
    inp = tmp_path / "huge.jsonl"
    with open(inp, "wb") as f:
        f.write(json.dumps(PAPERS[0]).encode() + b"\n")
        f.write(b'{"id": "2601.99999", "title": "t", "abstract": "')
        chunk = b"word " * 200_000
        for _ in range(200):
            f.write(chunk)
        f.write(b'"}\n' + json.dumps(PAPERS[1]).encode() + b"\n")
    out = tmp_path / "t.jsonl"
    r, peak = run_cli_rss("extract", inp, "-o", out, timeout=120)
    assert r.returncode == 1 and "huge.jsonl:2: a line of 200,000,051 bytes" in r.stderr
    assert peak < 500, peak
    assert [x["id"] for x in read_jsonl(out)] == ["2604.06682", "2604.00002"]
    assert max(len(line) for line in open(out)) < 20_000  # no record holds the unbroken text


def test_a_feed_entry_past_the_limit_is_one_clear_error(tmp_path):
    feed = tmp_path / "big.xml"
    with open(feed, "wb") as f:
        f.write(b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry><id>x</id><summary>')
        for _ in range(80):
            f.write(b"x" * 65536)
        f.write(b"</summary></entry></feed>")
    r, peak = run_cli_rss("extract", feed, "-o", tmp_path / "t.jsonl", env={"EXTRACTOR_MAX_FEED_ENTRY": "1000000"})
    assert r.returncode == 2 and "big.xml: entry 1 is larger than 1,000,000 bytes (the limit" in r.stderr
    assert peak < 200


def test_a_huge_reply_is_refused_not_read(tmp_path, server):
    def h(req):
        def big():
            yield b'{"choices": [{"message": {"content": "'
            for _ in range(1600):
                yield b"a" * 65536
            yield b'"}}]}'

        return 200, {"content-type": "application/json"}, big()

    s = server(h)
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps(p) + "\n" for p in PAPERS))
    out = tmp_path / "t.jsonl"
    t0 = time.time()
    r, peak = run_cli_rss(
        "extract",
        inp,
        "-o",
        out,
        "--model",
        "m",
        "--base-url",
        f"{s.url}/v1",
        "--no-cache",
        "--timeout",
        "30",
        "--retries",
        "1",
        env=FAST,
        timeout=120,
    )
    assert time.time() - t0 < 60 and peak < 300, peak
    assert r.returncode == 1, r.stderr
    assert all("larger than 4 MB" in x["error"] for x in read_jsonl(out))


def test_an_xlsx_zip_bomb_is_refused_at_once(tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    wb = Workbook()
    wb.active.title = "Claims"
    wb.save(bomb)
    with zipfile.ZipFile(bomb, "a", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("xl/worksheets/sheet9.xml", "w") as f:
            block = b" " * (1 << 20)
            for _ in range(300):
                f.write(block)
    assert bomb.stat().st_size < 5_000_000
    table = tmp_path / "t.jsonl"
    table.write_text(json.dumps({"id": "1", "title": "t", "abstract": "a", "headline_numbers": []}) + "\n")
    t0 = time.time()
    r, peak = run_cli_rss("review", "apply", bomb, "--table", table, "-o", tmp_path / "r.jsonl", timeout=60)
    assert time.time() - t0 < 20 and peak < 200
    assert r.returncode == 2 and "more than the limit of 256 MB" in r.stderr


def test_memory_stays_flat_past_the_id_index(tmp_path):
    small = papers_file(tmp_path / "small.jsonl", 20_000)
    large = papers_file(tmp_path / "large.jsonl", 80_000)
    env = {"EXTRACTOR_IDS_IN_MEMORY": "5000"}  # the temporary index takes over early
    r1, p1 = run_cli_rss("extract", small, "-o", tmp_path / "a.jsonl", "-q", env=env, timeout=300)
    r2, p2 = run_cli_rss("extract", large, "-o", tmp_path / "b.jsonl", "-q", env=env, timeout=300)
    assert r1.returncode == r2.returncode == 0, r2.stderr
    assert p2 - p1 < 15, (p1, p2)  # four times the papers, not four times the memory
    # resuming the large table reads it back with the same index
    r3, p3 = run_cli_rss("extract", large, "-o", tmp_path / "b.jsonl", "-q", env=env, timeout=300)
    assert r3.returncode == 0 and p3 - p1 < 15


# --- secrets and links -----------------------------------------------------------------------------


def test_an_echoed_api_key_is_redacted_everywhere(tmp_path, server):
    def h(req):
        auth = req["headers"].get("authorization", "")
        body = json.loads(req["body"])
        user = body["messages"][-1]["content"]
        if "Nexus" in user:
            return error(400, f"bad request, you sent {auth}")
        if "Third" in user:
            return error(500, f"oops with key={KEY} and {auth}", type_="server_error")
        return error(401, f"Incorrect API key provided: {auth}")

    s = server(h)
    rows = [PAPERS[0], {"id": "2601.00003", "title": "Third: x", "abstract": "We present Third. It is 2x faster."}]
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "t.jsonl"
    cache = tmp_path / "c.sqlite"
    r = llm(s, inp, out, "--concurrency", "1", "--cache", cache, env={"OPENAI_API_KEY": KEY})
    assert r.returncode == 1, r.stderr
    text = out.read_text()
    assert KEY not in text and KEY not in r.stderr and "[redacted]" in text
    assert cache.exists() and KEY.encode() not in cache.read_bytes()
    s2 = server(lambda req: error(401, f"Incorrect API key provided: {req['headers'].get('authorization')}"))
    r = llm(s2, inp, tmp_path / "u.jsonl", env={"OPENAI_API_KEY": KEY})
    assert r.returncode == 2 and "authentication failed" in r.stderr
    assert KEY not in r.stderr and "[redacted]" in r.stderr


def test_only_http_links_in_every_format(tmp_path):
    urls = [
        "javascript:alert(1)",
        "data:text/html,<script>alert(2)</script>",
        "file:///etc/passwd",
        "\\\\host\\share",
        "https://ok.example.org/a)(b] [x](javascript:alert(3)) | y",
    ]
    recs = []
    for i, u in enumerate(urls):
        recs.append(
            {
                "id": f"id{i}",
                "title": f"T{i}",
                "abstract": "We present X. It is 2x faster.",
                "url": u,
                "headline_numbers": [],
                "status": "ok",
                "provenance": {"engine": "offline"},
            }
        )
    table = tmp_path / "t.jsonl"
    table.write_text("".join(json.dumps(r) + "\n" for r in recs))
    for name in ("t.xlsx", "t.md", "t.html"):
        assert run_cli("export", table, "-o", tmp_path / name).returncode == 0
    ws = load_workbook(tmp_path / "t.xlsx")["Papers"]
    links = [ws.cell(r, 1).hyperlink.target for r in range(2, ws.max_row + 1) if ws.cell(r, 1).hyperlink]
    assert links == ["https://ok.example.org/a%29%28b%5D%20%5Bx%5D%28javascript:alert%283%29%29%20%7C%20y"]
    assert "javascript:alert(1)" in [ws.cell(r, ws.max_column).value for r in range(2, ws.max_row + 1)]  # shown as text
    md = (tmp_path / "t.md").read_text()
    assert (
        "javascript:" not in md.replace("javascript:alert%283%29", "") and "](file:" not in md and "](data:" not in md
    )
    # every table (the comparison table, each leaderboard) keeps its columns, whatever the cells say
    tables: list = []
    for line in md.splitlines():
        if line.startswith("|"):
            if not tables or tables[-1] is None:
                tables.append([line])
            else:
                tables[-1].append(line)
        elif tables and tables[-1] is not None:
            tables.append(None)
    tables = [t for t in tables if t]
    assert tables
    for t in tables:
        assert all(line.count(" | ") + 2 == t[0].count("|") for line in t[2:]), t
    html = (tmp_path / "t.html").read_text()
    assert 'href="javascript' not in html and 'href="data' not in html and 'href="file' not in html


def test_control_characters_do_not_break_the_xlsx(tmp_path):
    rec = {
        "id": "1",
        "title": "bad\x01title\x1b[31m",
        "abstract": "We present X\x07. It is 2x faster.",
        "headline_numbers": [],
        "status": "ok",
        "provenance": {"engine": "offline"},
    }
    table = tmp_path / "t.jsonl"
    table.write_text(json.dumps(rec) + "\n")
    r = run_cli("export", table, "-o", tmp_path / "t.xlsx")
    assert r.returncode == 0, r.stderr
    assert load_workbook(tmp_path / "t.xlsx")["Papers"].cell(2, 2).value == "bad title [31m"


@pytest.fixture(scope="module")
def nexus(tmp_path_factory):
    """The record of the sample feed's first paper, as the offline engine writes it."""
    out = tmp_path_factory.mktemp("nexus") / "t.jsonl"
    assert run_cli("extract", FIXTURE, "-o", out, "-q", "--limit", "1").returncode == 0
    return read_jsonl(out)[0]


def _edited(rec, claim_edit):
    rec = json.loads(json.dumps(rec))
    claim_edit(rec["headline_numbers"][0])
    return rec


@pytest.mark.parametrize(
    "edit, why",
    [
        pytest.param(
            lambda n: n.update(value="forty-four"),
            "headline_numbers.0.value: Input should be a valid number",
            id="a_claims_value_as_words",
        ),
        pytest.param(
            lambda n: n.update(review={"decision": "maybe"}),
            "headline_numbers.0.review.decision: Input should be 'accept', 'reject', 'edit' or 'add'",
            id="a_review_decision_no_tool_writes",
        ),
        pytest.param(
            lambda n: n.update(review={"decision": "edit", "corrected": ["45"]}),
            "headline_numbers.0.review.corrected: Input should be a valid dictionary",
            id="a_review_correction_as_a_list",
        ),
        pytest.param(
            lambda n: n.update(qualifier=5), "headline_numbers.0.qualifier: Input should be", id="a_number_as_qualifier"
        ),
        pytest.param(
            lambda n: n.update(review={"decision": "edit", "original": {"value": "forty-four"}}),
            "headline_numbers.0.review.original.value: Input should be a valid number",
            id="the_engines_original_value_as_words",
        ),
    ],
)
def test_a_hand_edited_table_line_is_named_by_every_reader(tmp_path, nexus, edit, why):
    """A table line edited into another shape is one error naming its line and field, in export,
    review and eval alike (each failed deep inside with an internal error); a field left out is
    read as absent, as before."""
    other = {**nexus, "id": "2604.99999"}
    table = tmp_path / "t.jsonl"
    table.write_text(json.dumps(other) + "\n" + json.dumps(_edited(nexus, edit)) + "\n")
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": nexus["id"], "system_name": "Nexus", "numbers": []}) + "\n")
    for args in (
        ("export", table, "-o", tmp_path / "t.md"),
        ("export", table, "-o", tmp_path / "t.xlsx"),
        ("review", "apply", tmp_path / "none.csv", "--table", table, "-o", tmp_path / "r.jsonl"),
        ("eval", table, gold),
    ):
        r = run_cli(*args)
        assert r.returncode == 2, (args, r.stderr)
        [line] = r.stderr.strip().splitlines()
        assert line.startswith(f"extractor: error: {table}:2: not an extractor record ({why}"), line


def test_a_table_line_whose_id_is_no_text_stops_a_resume_with_its_line(tmp_path, nexus):
    table = tmp_path / "t.jsonl"
    table.write_text(json.dumps(nexus) + "\n" + json.dumps({**nexus, "id": ["2604.06682"]}) + "\n")
    r = run_cli("extract", FIXTURE, "-o", table, "-q")
    assert r.returncode == 2 and "internal error" not in r.stderr, r.stderr
    assert f"extractor: error: {table}:2: not an extractor record (id: not text)" in r.stderr.splitlines()


@pytest.mark.parametrize(
    "abstract, claim, verified",
    [
        pytest.param(
            "It cuts latency by 4\u200b4%.", {"text": "4%", "value": 4, "unit": "%"}, False, id="zero_width_space"
        ),
        pytest.param(
            "It cuts latency by 4\u200b4%.",
            {"text": "44%", "value": 44, "unit": "%"},
            True,
            id="zero_width_read_as_seen",
        ),
        pytest.param(
            "It cuts latency by \uff14\uff14\uff05.", {"text": "44%", "value": 44, "unit": "%"}, True, id="full_width"
        ),
        pytest.param(
            "It serves $\\frac{3}{4}$ of requests.", {"text": "34", "value": 34, "unit": ""}, False, id="latex_fraction"
        ),
        pytest.param(
            "It cuts latency by \u202e%44\u202c.", {"text": "44%", "value": 44, "unit": "%"}, False, id="bidi_reversed"
        ),
    ],
)
def test_numbers_the_reader_does_not_see_never_verify(tmp_path, server, abstract, claim, verified):
    full = {
        "low": None,
        "high": None,
        "qualifier": "exact",
        "metric": "latency",
        "direction": "none",
        "kind": "result",
        "baseline": None,
        **claim,
    }
    s = server(lambda req: ok(answer("X", [full])))
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"id": "1", "title": "X: t", "abstract": f"We present X. {abstract}"}) + "\n")
    out = tmp_path / "t.jsonl"
    assert llm(s, inp, out, "--max-reasks", "0").returncode == 0
    [rec] = read_jsonl(out)
    assert "\u200b" not in rec["abstract"] and "\u202e" not in rec["abstract"]
    assert rec["headline_numbers"][0]["verified"] is verified, rec["headline_numbers"][0]["why"]


# --- clean errors ------------------------------------------------------------------------------------


def test_an_invalid_mode_is_one_line(tmp_path):
    r = run_cli(
        "extract",
        tmp_path / "x.jsonl",
        "-o",
        tmp_path / "t.jsonl",
        "--model",
        "m",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--mode",
        "yaml",
    )
    assert r.returncode == 2 and "--mode 'yaml'" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    "args, env, message",
    [
        pytest.param(
            ["--timeout", "0"], {}, "extractor: error: --timeout 0: a request needs more than 0 seconds", id="timeout_0"
        ),
        pytest.param(
            ["--timeout", "-5"],
            {},
            "extractor: error: --timeout -5: a request needs more than 0 seconds",
            id="timeout_negative",
        ),
        pytest.param(
            ["--base-url", "localhost:8080/v1"],
            {},
            "extractor: error: --base-url 'localhost:8080/v1' is not an http(s) URL (like http://127.0.0.1:8080/v1)",
            id="base_url_without_a_scheme",
        ),
        pytest.param(
            [],
            {"OPENAI_BASE_URL": "ftp://example.org/v1"},
            "extractor: error: OPENAI_BASE_URL 'ftp://example.org/v1' is not an http(s) URL (like http://127.0.0.1:8080/v1)",
            id="base_url_from_the_environment",
        ),
    ],
)
def test_a_bad_endpoint_option_is_one_line_before_any_request(tmp_path, args, env, message):
    """A deadline of no time, or an endpoint that is no http(s) URL, made every paper an error record
    after every retry; it is refused before any paper is read."""
    papers = papers_file(tmp_path / "in.jsonl", 3)
    base = [] if env or "--base-url" in args else ["--base-url", "http://127.0.0.1:9/v1"]
    out = tmp_path / "t.jsonl"
    r = run_cli("extract", papers, "-o", out, "--model", "m", *base, *args, env=env)
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [message], r.stderr
    assert not out.exists()


def test_more_workers_than_cores_are_the_cores(tmp_path):
    papers = papers_file(tmp_path / "in.jsonl", 600)
    out = tmp_path / "t.jsonl"
    cores = os.cpu_count() or 1
    r = run_cli("extract", papers, "-o", out, "--workers", str(cores + 50))
    assert r.returncode == 0, r.stderr
    assert f"extractor: --workers {cores + 50}: this machine has {cores} cores; using {cores}" in r.stderr
    assert len(read_jsonl(out)) == 600


def test_an_unreachable_endpoint_fails_at_once(tmp_path):
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps(PAPERS[0]) + "\n")
    t0 = time.time()
    r = run_cli(
        "extract",
        inp,
        "-o",
        tmp_path / "t.jsonl",
        "--model",
        "m",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--retries",
        "5",
        "--no-cache",
    )
    assert r.returncode == 2 and "cannot reach http://127.0.0.1:9/v1" in r.stderr
    assert time.time() - t0 < 4  # no retries spent on a port nobody listens on (interpreter start ~1 s)


def test_impossible_usage_counts_are_not_kept(tmp_path, server):
    def h(req):
        status, headers, body = ok(answer())
        data = json.loads(body)
        data["usage"] = {"prompt_tokens": -5, "completion_tokens": 1e30, "total_tokens": "many"}
        return status, headers, json.dumps(data)

    s = server(h)
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps(PAPERS[0]) + "\n")
    out = tmp_path / "t.jsonl"
    r = llm(s, inp, out)
    assert r.returncode == 0, r.stderr
    assert read_jsonl(out)[0]["usage"] == {
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cached_tokens": 0,
        "requests": 1,
    }


def test_a_malformed_sheet_and_a_typed_formula_are_clear_errors(tmp_path):
    table = tmp_path / "t.jsonl"
    assert run_cli("extract", tmp_path.parent / "x", "-o", table).returncode == 2  # (no input: just a name)
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(PAPERS[0]) + "\n")
    assert run_cli("extract", src, "-o", table).returncode == 0
    xlsx = tmp_path / "r.xlsx"
    assert run_cli("export", table, "-o", xlsx).returncode == 0
    wb = load_workbook(xlsx)
    ws = wb["Claims"]
    header = [c.value for c in ws[1]]
    ws.cell(2, header.index("decision") + 1).value = '=IF(1,"accept","reject")'
    wb.save(xlsx)
    r = run_cli("review", "apply", xlsx, "--table", table, "-o", tmp_path / "o.jsonl")
    # openpyxl saves no value for a formula: what the reviewer meant cannot be read (a program's
    # saved value is read: tests/test_spreadsheet_programs.py)
    assert r.returncode == 2 and "formula with no saved value" in r.stderr and "nothing written" in r.stderr
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(xlsx) as zin, zipfile.ZipFile(broken, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet2"):
                data = data[: len(data) // 2]  # cut in the middle of the XML
            zout.writestr(item, data)
    r = run_cli("review", "apply", broken, "--table", table, "-o", tmp_path / "o.jsonl")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "internal error" not in r.stderr


def test_version_help_and_completion():
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("extractor ")
    r = run_cli("extract", "-h")
    assert r.returncode == 0 and "--no-cache" in r.stdout and "<bool>" not in r.stdout
    # typer's completion, on (`--install-completion` installs it). The shell is named, not detected
    # from the parent processes: a run with no shell above it (cron, a CI runner) detects none.
    r = run_cli("--show-completion", "bash", env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert r.returncode == 0 and "_extractor_completion" in r.stdout


def test_a_category_filter_on_a_feed_without_categories_says_why(tmp_path):
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps(p) + "\n" for p in PAPERS))
    r = run_cli("extract", inp, "-o", tmp_path / "t.jsonl", "--category", "cs.DC")
    assert "kept no papers: the input gives no categories" in r.stderr


# --- one writer, really (issue 27) ------------------------------------------------------------------


def _slow_extract(s, inp, out, n_wait_lines, tmp_path):
    """An LLM extract writing `out`, one paper at a time, held until it has written some lines."""
    p = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "extractor",
            "extract",
            inp,
            "-o",
            out,
            "--model",
            "m",
            "--base-url",
            f"{s.url}/v1",
            "--concurrency",
            "1",
            "--no-cache",
            "-q",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **FAST},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if out.exists() and len(out.read_bytes().splitlines()) >= n_wait_lines:
            return p
        time.sleep(0.05)
    p.kill()
    raise AssertionError("the extract wrote nothing")


def _slow_server(server, seconds=0.05):
    def slow(req):
        time.sleep(seconds)
        return for_paper(req)

    return server(slow)


def test_review_apply_cannot_replace_a_table_a_run_is_writing(tmp_path, server, sample_table):
    s = _slow_server(server)
    inp = papers_file(tmp_path / "in.jsonl", 60)
    out = tmp_path / "t.jsonl"
    sheet = tmp_path / "claims.csv"
    assert run_cli("export", sample_table, "-o", sheet, "--rows", "claims").returncode == 0
    p = _slow_extract(s, inp, out, 3, tmp_path)
    r = run_cli("review", "apply", sheet, "--table", sample_table, "-o", out)
    assert r.returncode == 2 and "being written by another extractor run" in r.stderr, r.stderr
    r = run_cli("review", "apply", sheet, "--table", out, "--in-place")
    assert r.returncode == 2 and "being written by another extractor run" in r.stderr, r.stderr
    assert p.wait(120) == 0, p.stderr.read()
    recs = read_jsonl(out)
    assert len(recs) == 60 and len({r["id"] for r in recs}) == 60  # every record the extract wrote


def test_review_apply_in_place_replaces_the_table_under_its_lock(tmp_path, sample_table):
    import shutil

    table = tmp_path / "t.jsonl"
    shutil.copy(sample_table, table)
    sheet = tmp_path / "claims.csv"
    assert run_cli("export", table, "-o", sheet, "--rows", "claims").returncode == 0
    rows = list(csv.DictReader(open(sheet, encoding="utf-8-sig")))
    rows[0]["decision"] = "accept"
    with open(sheet, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    r = run_cli("review", "apply", sheet, "--table", table, "--in-place")
    assert r.returncode == 0, r.stderr
    reviewed = [n for rec in read_jsonl(table) for n in rec["headline_numbers"] if n.get("review")]
    assert len(reviewed) == 1 and reviewed[0]["review"]["decision"] == "accept"
    assert not list(tmp_path.glob("t.jsonl.tmp-*"))


def test_a_lock_file_replaced_by_a_symlink_is_refused_and_its_target_untouched(tmp_path):
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me\n")
    out = tmp_path / "t.jsonl"
    os.symlink(victim, tmp_path / "t.jsonl.lock")
    r = run_cli("extract", FIXTURE, "-o", out, "-q")
    assert r.returncode == 2 and "is a symbolic link" in r.stderr and "Traceback" not in r.stderr
    assert victim.read_text() == "keep me\n" and not out.exists()


def test_a_lock_file_deleted_during_a_run_does_not_let_a_second_writer_in(tmp_path, server):
    s = _slow_server(server, 0.02)
    inp = papers_file(tmp_path / "in.jsonl", 80)
    out = tmp_path / "t.jsonl"
    p = _slow_extract(s, inp, out, 3, tmp_path)
    os.unlink(tmp_path / "t.jsonl.lock")  # a "stale lock" clean-up while the run writes
    r = run_cli("extract", inp, "-o", out, "-q", timeout=120)  # the offline engine, same table
    assert r.returncode == 2 and "being written by another extractor run" in r.stderr, r.stderr
    assert p.wait(120) == 0, p.stderr.read()
    recs = read_jsonl(out)
    assert len(recs) == 80 and len({r["id"] for r in recs}) == 80  # no duplicates, none lost


def test_a_table_that_is_a_symlink_stays_a_symlink_after_compaction(tmp_path):
    real = tmp_path / "data" / "real.jsonl"
    real.parent.mkdir()
    link = tmp_path / "t.jsonl"
    v1 = tmp_path / "v1.jsonl"
    v2 = tmp_path / "v2.jsonl"
    papers_file(v1, 3)
    rows = [json.loads(x) for x in v1.read_text().splitlines()]
    with open(v2, "w") as f:
        for r in rows:
            f.write(json.dumps({**r, "id": r["id"] + "v2", "abstract": r["abstract"] + " Now 20% faster."}) + "\n")
    os.symlink(real, link)
    assert run_cli("extract", v1, "-o", link, "-q").returncode == 0
    assert run_cli("extract", v2, "-o", link, "-q").returncode == 0  # new versions: the table is compacted
    assert link.is_symlink() and os.readlink(link) == str(real)
    recs = read_jsonl(real)
    assert len(recs) == 3 and all(r["version"] == "v2" for r in recs)
    assert not list(real.parent.glob("real.jsonl.tmp-*")) and not list(tmp_path.glob("t.jsonl.tmp-*"))


def test_a_complete_last_line_without_its_newline_is_kept(tmp_path):
    out = tmp_path / "t.jsonl"
    assert run_cli("extract", FIXTURE, "-o", out, "-q", "--limit", "3").returncode == 0
    out.write_bytes(out.read_bytes().rstrip(b"\n"))  # a hand edit drops the last newline
    r = run_cli("extract", FIXTURE, "-o", out, "-q")
    assert r.returncode == 0, r.stderr
    recs = read_jsonl(out)
    assert len(recs) == 15 and len({r["id"] for r in recs}) == 15  # the third paper neither lost nor redone


def test_a_partial_last_line_is_still_trimmed(tmp_path):
    out = tmp_path / "t.jsonl"
    assert run_cli("extract", FIXTURE, "-o", out, "-q", "--limit", "3").returncode == 0
    data = out.read_bytes()
    out.write_bytes(data[: len(data) - 40])  # a killed writer's half line
    r = run_cli("extract", FIXTURE, "-o", out, "-q")
    assert r.returncode == 0, r.stderr
    recs = read_jsonl(out)
    assert len(recs) == 15 and len({r["id"] for r in recs}) == 15


def test_stale_temp_copies_of_a_killed_rewrite_are_removed(tmp_path):
    out = tmp_path / "t.jsonl"
    assert run_cli("extract", FIXTURE, "-o", out, "-q", "--limit", "2").returncode == 0
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"t.jsonl.tmp-{dead.pid}"
    stale.write_bytes(out.read_bytes())
    assert run_cli("extract", FIXTURE, "-o", out, "-q").returncode == 0
    assert not stale.exists()


def test_an_output_that_is_a_fifo_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "t.jsonl"
    os.mkfifo(fifo)
    r = run_cli("extract", FIXTURE, "-o", fifo, timeout=30)
    assert r.returncode == 2 and "not a regular file (a FIFO)" in r.stderr, r.stderr
    table = tmp_path / "real.jsonl"
    assert run_cli("extract", FIXTURE, "-o", table, "-q").returncode == 0
    fifo_out = tmp_path / "out.csv"
    os.mkfifo(fifo_out)
    r = run_cli("export", table, "-o", fifo_out, timeout=30)
    assert r.returncode == 2 and "not a regular file (a FIFO)" in r.stderr


# --- bounded on write, secrets out of stored data, review sheets (issue 27) ---------------------------


def test_a_huge_model_reply_makes_a_line_every_reader_takes(tmp_path, server):
    big = "fast " * 600_000  # 3 MB of metric, under the 4 MB reply limit
    s = server(lambda req: ok(answer("Nexus", [num("up to 44%", 44, "%", "decrease", big, "up_to")])))
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps(PAPERS[0]) + "\n")
    out = tmp_path / "t.jsonl"
    r = llm(s, inp, out, "--no-cache")
    assert r.returncode == 0, r.stderr
    line = out.read_bytes()
    assert len(line) < 200_000, len(line)
    [rec] = read_jsonl(out)
    n = rec["headline_numbers"][0]
    assert n["metric"].endswith("more characters not stored]") and n["value"] == 44
    for fmt in ("x.csv", "x.xlsx", "x.html", "x.md"):
        assert run_cli("export", out, "-o", tmp_path / fmt).returncode == 0


def test_a_reply_of_many_huge_claims_is_still_one_readable_line(tmp_path, server):
    claims = [num(f"c{i}", i, "%", metric="m" * 7_000) for i in range(480)]
    s = server(lambda req: ok(answer("Nexus", claims)))
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps(PAPERS[0]) + "\n")
    out = tmp_path / "t.jsonl"
    r = llm(s, inp, out, "--no-cache", "--max-reasks", "0")
    assert r.returncode in (0, 1), r.stderr
    assert max(len(x) for x in out.read_bytes().splitlines()) < 8 * 1024 * 1024
    assert run_cli("export", out, "-o", tmp_path / "x.csv").returncode == 0


def _claims_sheet(table, path, edit):
    assert run_cli("export", table, "-o", path, "--rows", "claims").returncode == 0
    rows = list(csv.DictReader(open(path, encoding="utf-8-sig")))
    header = list(rows[0])
    edit(rows, header)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for row in rows:
            w.writerow([row.get(h, "") for h in header])
    return rows


def test_a_huge_reviewer_note_is_capped_when_stored(tmp_path, sample_table):
    sheet = tmp_path / "s.xlsx"
    assert run_cli("export", sample_table, "-o", sheet).returncode == 0
    wb = load_workbook(sheet)
    ws = wb["Claims"]
    col = {c.value: i + 1 for i, c in enumerate(ws[1])}
    ws.cell(2, col["decision"]).value = "accept"
    ws.cell(2, col["note"]).value = "n" * (5 * 1024 * 1024)
    wb.save(sheet)
    out = tmp_path / "r.jsonl"
    r = run_cli("review", "apply", sheet, "--table", sample_table, "-o", out)
    assert r.returncode == 0, r.stderr
    assert max(len(x) for x in out.read_bytes().splitlines()) < 100_000
    note = next(n for rec in read_jsonl(out) for n in rec["headline_numbers"] if n.get("review"))["review"]["note"]
    assert note.endswith("more characters not stored]")
    assert run_cli("export", out, "-o", tmp_path / "again.xlsx").returncode == 0


def test_a_csv_cell_past_the_csv_modules_limit_is_read(tmp_path, sample_table):
    sheet = tmp_path / "s.csv"

    def edit(rows, header):
        rows[0]["decision"] = "accept"
        rows[0]["note"] = "x" * 200_000

    _claims_sheet(sample_table, sheet, edit)
    out = tmp_path / "r.jsonl"
    r = run_cli("review", "apply", sheet, "--table", sample_table, "-o", out)
    assert r.returncode == 0 and "internal error" not in r.stderr, r.stderr


def test_a_reviewers_value_keeps_every_digit_and_impossible_values_are_refused(tmp_path, sample_table):
    sheet = tmp_path / "s.xlsx"
    assert run_cli("export", sample_table, "-o", sheet).returncode == 0
    wb = load_workbook(sheet)
    ws = wb["Claims"]
    col = {c.value: i + 1 for i, c in enumerate(ws[1])}
    ws.cell(2, col["decision"]).value = "edit"
    ws.cell(2, col["corrected_value"]).value = 1234.5678
    wb.save(sheet)
    out = tmp_path / "r.jsonl"
    assert run_cli("review", "apply", sheet, "--table", sample_table, "-o", out).returncode == 0
    edited = next(n for rec in read_jsonl(out) for n in rec["headline_numbers"] if n.get("review"))
    assert edited["value"] == 1234.5678 and edited["review"]["corrected"]["value_text"] == "1234.5678"
    for bad in ("nan", "1e999", "inf", "-inf"):
        ws.cell(2, col["corrected_value"]).value = bad
        wb.save(sheet)
        r = run_cli("review", "apply", sheet, "--table", sample_table, "-o", tmp_path / "x.jsonl")
        assert r.returncode == 2 and "is not a number" in r.stderr, (bad, r.stderr)


def test_a_sheet_with_a_column_twice_is_refused(tmp_path, sample_table):
    sheet = tmp_path / "s.csv"

    def edit(rows, header):
        header.insert(0, "decision")
        rows[0]["decision"] = "reject"

    _claims_sheet(sample_table, sheet, edit)
    r = run_cli("review", "apply", sheet, "--table", sample_table, "-o", tmp_path / "r.jsonl")
    assert r.returncode == 2 and "column(s) decision appear more than once" in r.stderr, r.stderr


def test_an_old_positional_id_without_its_evidence_is_not_applied(tmp_path, sample_table):
    sheet = tmp_path / "s.csv"
    pid = read_jsonl(sample_table)[0]["id"]
    sheet.write_text(
        f"claim_id,evidence,decision,corrected_value,corrected_unit,corrected_metric,note\n{pid}#2,,reject,,,,\n"
    )
    out = tmp_path / "r.jsonl"
    r = run_cli("review", "apply", sheet, "--table", sample_table, "-o", out)
    assert r.returncode == 0 and "is positional" in r.stderr and "1 rows not applied" in r.stderr, r.stderr
    assert read_jsonl(out) == read_jsonl(sample_table)  # listed, and nothing applied
    r = run_cli("review", "apply", sheet, "--table", sample_table, "-o", tmp_path / "strict.jsonl", "--strict")
    assert r.returncode == 2 and "is positional" in r.stderr and not (tmp_path / "strict.jsonl").exists()


def test_a_field_named_like_an_export_column_keeps_its_own_column(tmp_path, nexus):
    rec = json.loads(json.dumps(nexus))
    rec["fields"] = {"year": {"type": "number", "value": 1999, "evidence": None, "verified": False, "why": "x"}}
    table = tmp_path / "t.jsonl"
    table.write_text(json.dumps(rec) + "\n")
    out = tmp_path / "p.csv"
    assert run_cli("export", table, "-o", out).returncode == 0
    [row] = list(csv.DictReader(open(out, encoding="utf-8-sig")))
    assert row["year"] == "2026" and row["field_year"].startswith("1999")


def test_csv_cells_are_quoted_so_no_separator_starts_a_formula(tmp_path, nexus):
    rec = json.loads(json.dumps(nexus))
    rec["system_name"] = "Fast;=1+1;"
    rec["headline_numbers"][0]["metric"] = "latency\t=cmd|' /C calc'!A0"
    table = tmp_path / "t.jsonl"
    table.write_text(json.dumps(rec) + "\n")
    for rows in ("papers", "claims", "compare"):
        out = tmp_path / f"{rows}.csv"
        assert run_cli("export", table, "-o", out, "--rows", rows).returncode == 0
        text = out.read_text(encoding="utf-8-sig")
        for sep in (",", ";", "\t", "|"):
            for cells in csv.reader(text.splitlines(), delimiter=sep):
                assert not any(c.lstrip().startswith(("=", "+", "@")) for c in cells), (rows, sep, cells)


def test_hidden_and_reordering_characters_leave_no_export(tmp_path, nexus):
    rec = json.loads(json.dumps(nexus))
    rec["system_name"] = "Ne\u202exus\u200b"
    rec["problem"] = "a \u2066hidden\u2069 problem"
    table = tmp_path / "t.jsonl"
    table.write_text(json.dumps(rec) + "\n")
    for fmt in ("x.csv", "x.md", "x.html", "x.bib"):
        out = tmp_path / fmt
        assert run_cli("export", table, "-o", out).returncode == 0
        text = out.read_text(encoding="utf-8-sig")
        assert not any(c in text for c in "\u202e\u200b\u2066\u2069"), fmt
    xlsx = tmp_path / "x.xlsx"
    assert run_cli("export", table, "-o", xlsx).returncode == 0
    with zipfile.ZipFile(xlsx) as z:
        data = b"".join(z.read(n) for n in z.namelist() if n.endswith(".xml")).decode()
    assert not any(c in data for c in "\u202e\u200b\u2066\u2069")


@pytest.mark.parametrize("key", [KEY, "azure0123456789abcdef0123456789ab", "vllm-local-token-42"])
def test_a_key_echoed_inside_a_good_answer_is_stored_nowhere(tmp_path, server, key):
    def h(req):
        auth = req["headers"].get("authorization", "")
        return ok(answer(f"Nexus {auth}", [num("up to 44%", 44, "%", "decrease", f"CPU {auth}", "up_to")]))

    s = server(h)
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps(PAPERS[0]) + "\n")
    out = tmp_path / "t.jsonl"
    cache = tmp_path / "c.sqlite"
    r = llm(s, inp, out, "--cache", cache, env={"OPENAI_API_KEY": key})
    assert r.returncode == 0, r.stderr
    assert key not in out.read_text() and "[redacted]" in out.read_text()
    assert key.encode() not in cache.read_bytes()
    html_out = tmp_path / "r.html"
    assert run_cli("export", out, "-o", html_out, env={"OPENAI_API_KEY": key}).returncode == 0
    assert key not in html_out.read_text()


def test_batch_commands_never_print_an_echoed_key(tmp_path, server):
    key = "azure0123456789abcdef0123456789ab"

    def h(req):
        auth = req["headers"].get("authorization", "").removeprefix("Bearer ")
        if req["path"].endswith("/files"):
            return (
                200,
                {"content-type": "application/json"},
                json.dumps(
                    {
                        "id": f"file-{auth}",
                        "object": "file",
                        "bytes": 1,
                        "created_at": 0,
                        "filename": "r.jsonl",
                        "purpose": "batch",
                        "status": "processed",
                    }
                ),
            )
        return (
            200,
            {"content-type": "application/json"},
            json.dumps(
                {
                    "id": f"batch_{auth}",
                    "object": "batch",
                    "endpoint": "/v1/chat/completions",
                    "errors": None,
                    "input_file_id": "f",
                    "completion_window": "24h",
                    "status": f"in_progress {auth}",
                    "created_at": 0,
                    "request_counts": {"total": 1, "completed": 0, "failed": 0},
                }
            ),
        )

    s = server(h)
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps(PAPERS[0]) + "\n")
    req = tmp_path / "r.jsonl"
    assert run_cli("batch", "prepare", inp, "-o", req, "--model", "m").returncode == 0
    env = {"OPENAI_API_KEY": key}
    r = run_cli("batch", "submit", req, "--base-url", f"{s.url}/v1", env=env)
    assert r.returncode == 0, r.stderr
    assert key not in r.stdout + r.stderr
    r = run_cli("batch", "status", "batch_x", "--base-url", f"{s.url}/v1", env=env)
    assert r.returncode == 0 and key not in r.stdout + r.stderr, r.stdout


def test_a_twenty_digit_version_is_no_internal_error_once_ids_spill(tmp_path):
    inp = tmp_path / "in.jsonl"
    with open(inp, "w") as f:
        for i in range(30):
            f.write(json.dumps({"id": f"2601.{i:05d}v{'9' * 20}", "title": "t", "abstract": "It is 2x faster."}) + "\n")
    out = tmp_path / "t.jsonl"
    env = {"EXTRACTOR_IDS_IN_MEMORY": "5"}
    r = run_cli("extract", inp, "-o", out, "-q", env=env)
    assert r.returncode == 0, r.stderr
    r = run_cli("extract", inp, "-o", out, "-q", env=env)
    assert r.returncode == 0 and len(read_jsonl(out)) == 30, r.stderr


def test_a_hand_edited_review_is_named_at_resume_not_broken_later(tmp_path, nexus):
    rec = json.loads(json.dumps(nexus))
    n = rec["headline_numbers"][0]
    n["review"] = {"decision": "edit", "corrected": {"value_text": 45}, "original": {}, "history": []}
    n["reviewed"] = True
    table = tmp_path / "t.jsonl"
    table.write_text(json.dumps(rec) + "\n")
    r = run_cli("extract", FIXTURE, "-o", table, "-q", "--redo")
    assert r.returncode == 2 and "t.jsonl:1: not an extractor record" in r.stderr, r.stderr
    assert "internal error" not in r.stderr


@pytest.mark.parametrize("where", ["missing-dir", "read-only"])
def test_review_apply_to_a_place_it_cannot_write_is_one_line(tmp_path, sample_table, where):
    sheet = tmp_path / "s.csv"
    assert run_cli("export", sample_table, "-o", sheet, "--rows", "claims").returncode == 0
    if where == "missing-dir":
        out = tmp_path / "nope" / "r.jsonl"
    else:
        d = ro_mount(tmp_path / "ro")
        out = d / "r.jsonl"
    try:
        r = run_cli("review", "apply", sheet, "--table", sample_table, "-o", out)
    finally:
        if where == "read-only":
            umount(tmp_path / "ro")
    assert r.returncode == 2 and "internal error" not in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_a_watch_file_nested_past_any_bound_is_one_line(tmp_path):
    table = tmp_path / "t.jsonl"
    (tmp_path / "t.jsonl.watch.json").write_text("[" * 100_000 + "]" * 100_000)
    r = run_cli("watch", "cat:cs.DC", "-o", table, "--arxiv-url", "http://127.0.0.1:9/api", timeout=60)
    assert r.returncode == 2 and "not a watch file" in r.stderr and "nested deeper" in r.stderr, r.stderr
