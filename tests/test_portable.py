"""Where POSIX-only modules are missing (Windows), the package imports, and the offline path,
export and review run: here with `fcntl` blocked in the interpreter, so `import fcntl` fails as it
does on Windows, and the table's lock is filelock's."""

import csv
import subprocess
import sys
import time

from conftest import FIXTURE, read_jsonl

NO_FCNTL = "import sys; sys.modules['fcntl'] = None\n"
CLI = (
    NO_FCNTL
    + "import runpy; sys.argv = ['extractor', *sys.argv[1:]]; runpy.run_module('extractor', run_name='__main__')"
)


def cli_without_fcntl(*args, timeout=300):
    return subprocess.run([sys.executable, "-c", CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def test_fcntl_is_really_blocked():
    code = NO_FCNTL + "import extractor.store as s, extractor; assert s.fcntl is None; import fcntl"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode != 0 and "import of fcntl halted" in r.stderr, r.stderr


def test_extract_export_review_without_fcntl(tmp_path):
    table = tmp_path / "t.jsonl"
    r = cli_without_fcntl("extract", FIXTURE, "-o", table, "-q")
    assert r.returncode == 0, r.stderr
    assert len(read_jsonl(table)) == 15
    r = cli_without_fcntl("extract", FIXTURE, "-o", table, "-q")  # resumed: nothing twice
    assert r.returncode == 0, r.stderr
    assert len(read_jsonl(table)) == 15
    for out in ("t.xlsx", "t.html", "t.md", "t.bib"):
        r = cli_without_fcntl("export", table, "-o", tmp_path / out, "-q")
        assert r.returncode == 0, r.stderr
    sheet = tmp_path / "claims.csv"
    r = cli_without_fcntl("export", table, "-o", sheet, "--rows", "claims", "-q")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(open(sheet, encoding="utf-8-sig")))
    rows[0]["decision"] = "reject"
    with open(sheet, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    r = cli_without_fcntl("review", "apply", sheet, "--table", table, "--in-place", "-q")
    assert r.returncode == 0, r.stderr
    rejected = [
        n
        for rec in read_jsonl(table)
        for n in rec["headline_numbers"]
        if (n.get("review") or {}).get("decision") == "reject"
    ]
    assert len(rejected) == 1
    assert not (tmp_path / "t.jsonl.lock").exists() or (tmp_path / "t.jsonl.lock").stat().st_size == 0


def test_a_second_writer_is_refused_without_fcntl(tmp_path):
    table = tmp_path / "t.jsonl"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            NO_FCNTL
            + "from extractor.store import TableLock\n"
            + f"lock = TableLock({str(table)!r}).acquire()\nprint('held', flush=True)\nimport time; time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        r = cli_without_fcntl("extract", FIXTURE, "-o", table, "-q")
        assert r.returncode != 0 and "being written by another extractor run" in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert time.monotonic() - t0 < 30  # refused at once, not waited for
        assert not table.exists() or read_jsonl(table) == []
    finally:
        holder.kill()
        holder.wait()
