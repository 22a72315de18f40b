import csv
import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "data" / "arxiv-systems-2026-04.atom.xml"
GOLD = ROOT / "data" / "arxiv-systems-2026-04.gold.jsonl"
EXTRA = ROOT / "tests" / "data" / "systems-abstracts-extra.jsonl"
EXTRA_GOLD = ROOT / "tests" / "data" / "systems-abstracts-extra.gold.jsonl"

# Every Ray a test starts is its own: without an address Ray joins a cluster another test started
# on this machine with `ray start` (ray.cluster_utils.Cluster does), which then loses a node.
os.environ.setdefault("RAY_ADDRESS", "local")


_RSS_WRAPPER = """
import runpy, sys
sys.argv = ["extractor", *sys.argv[1:]]
try:
    runpy.run_module("extractor", run_name="__main__")
finally:
    # VmHWM: this process's own peak (ru_maxrss would carry the forking parent's over the exec)
    hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:")).split()[1]
    sys.stderr.write("\\nPEAK_RSS_KB=%s\\n" % hwm)
"""


def run_cli_rss(*args, env=None, timeout=300):
    """Run the real CLI and measure its own peak resident memory: (result, peak MB)."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    e.update(env or {})
    r = subprocess.run(
        [sys.executable, "-c", _RSS_WRAPPER, *map(str, args)], capture_output=True, text=True, env=e, timeout=timeout
    )
    peak = int(r.stderr.rsplit("PEAK_RSS_KB=", 1)[1].split()[0]) / 1024
    r.stderr = r.stderr.rsplit("\nPEAK_RSS_KB=", 1)[0]
    return r, peak


def run_cli(*args, input=None, env=None, timeout=300, cwd=None):
    """Run the real CLI in a subprocess, as a user would."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    e.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "extractor", *map(str, args)],
        input=input,
        capture_output=True,
        text=isinstance(input, str) or input is None,
        env=e,
        timeout=timeout,
        cwd=cwd,
    )


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class LocalServer:
    """A real HTTP server on 127.0.0.1; `handler(req)` returns (status, headers, body)."""

    def __init__(self, handler):
        self.requests = []
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self):
                n = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(n) if n else b""
                req = {
                    "method": self.command,
                    "path": self.path,
                    "body": body,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                }
                outer.requests.append(req)
                status, headers, payload = handler(req)
                if payload is None:  # drop the connection without answering
                    self.close_connection = True
                    return
                if not isinstance(payload, (str, bytes)):  # an iterable of chunks, sent as they come
                    self.send_response(status)
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.send_header("connection", "close")
                    self.end_headers()
                    self.close_connection = True
                    try:
                        for chunk in payload:
                            self.wfile.write(chunk)
                            self.wfile.flush()
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                if isinstance(payload, str):
                    payload = payload.encode()
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_GET = do_POST = _serve

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    servers = []

    def start(handler):
        s = LocalServer(handler)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()


@pytest.fixture(scope="session")
def sample_table(tmp_path_factory):
    """The sample feed extracted by the offline engine, once per test process (read it, or copy it
    before changing it)."""
    out = tmp_path_factory.mktemp("sample") / "table.jsonl"
    r = run_cli("extract", FIXTURE, "-o", out, "-q")
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(autouse=True)
def private_user_dirs(tmp_path, monkeypatch):
    """Each test gets its own user cache and config directory (the LLM cache lives there)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


def positional_ids(table):
    """{"<paper>#<n>": the stable id of that paper's n-th claim} for a table, so that tests can
    name claims by position while sheets carry the ids (extractor.reviews)."""
    from extractor.claim_ids import ensure_ids

    out = {}
    for rec in read_jsonl(table):
        ensure_ids(rec)
        for i, n in enumerate(rec.get("headline_numbers") or [], start=1):
            out[f"{rec['id']}#{i}"] = n["id"]
    return out


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NO_CHROMIUM = "Debian package chromium is not installed (.ci/run installs it)"


def run_chromium(tmp_path, *args, timeout=120):
    """Headless Chromium as this machine allows it (no background networking, a fresh profile),
    logging to stderr so that script errors and CSP refusals show there."""
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
    ]
    return subprocess.run([CHROMIUM, *flags, *map(str, args)], capture_output=True, text=True, timeout=timeout)


SOFFICE = shutil.which("soffice")
NO_SOFFICE = "Debian package libreoffice-calc is not installed (.ci/run installs it)"


def soffice_to_csv(tmp_path, xlsx, sheet=None):
    """LibreOffice (headless, a fresh profile) reads `xlsx` and writes one sheet as UTF-8 CSV (the
    first, or the `sheet`-th, 1-based); returns (the CSV's rows or None, LibreOffice's stderr)."""
    filt = "csv:Text - txt - csv (StarCalc):44,34,76,1"  # UTF-8: author names are not ASCII
    if sheet is not None:  # the 12th filter option is the sheet to export
        filt += f",,0,false,true,false,false,false,{sheet}"
    out = tmp_path / "lo-out"
    r = subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{tmp_path / 'lo'}", "--headless", "--convert-to", filt,
         "--outdir", str(out), str(xlsx)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    found = next(out.glob("*.csv"), None) if out.exists() else None
    if found is None:
        return None, r.stderr
    with open(found, encoding="utf-8", newline="") as f:
        return list(csv.reader(f)), r.stderr
