"""Past one machine: OpenAI Batch API request files, and results from any engine that reads them.

`prepare` writes chat-completions requests in the Batch API's JSONL format (custom_id = paper id),
split at 50,000 requests or 200 MB per file; `vllm run-batch` and Ray Data pipelines read the same
files. A sidecar `<name>.papers.jsonl` keeps each paper and the request's model, mode and prompt
hash, so that `ingest` can turn a results file back into records through the same validation and
verification as the online path (`interpret_reply`, `build_record`). `submit`, `status` and
`download` drive the OpenAI Batch API through the SDK.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Optional

import orjson

from ...analysis.document import Document
from ...contract import EngineResult, Usage
from ...core.errors import InputError, redact, register_secret
from ...core.files import json_lines
from ...fields import from_dicts, to_dicts
from ...records import build_record, error_record
from ...schema import Paper
from ...store import check_line, iter_json_lines
from ..base import Engine
from .protocol import Protocol, read_reply, usage_of

MAX_REQUESTS = 50_000
MAX_BYTES = 200 * 1024 * 1024
ENDPOINT = "/v1/chat/completions"


def part_path(out: str, n: int) -> str:
    if n == 1:
        return out
    stem, ext = os.path.splitext(out)
    return f"{stem}-{n:04d}{ext or '.jsonl'}"


def sidecar_path(out: str) -> str:
    stem, _ = os.path.splitext(out)
    return f"{stem}.papers.jsonl"


@dataclass
class Prepared:
    files: list[str]
    requests: int
    sidecar: str


def prepare(
    papers: Iterator[Paper],
    protocol: Protocol,
    out: str,
    mode: str = "json_schema",
    max_requests: int = MAX_REQUESTS,
    max_bytes: int = MAX_BYTES,
) -> Prepared:
    files: list[str] = []
    n_part, count, size, total = 0, 0, 0, 0
    f = None
    side_tmp = sidecar_path(out) + f".tmp-{os.getpid()}"
    try:
        with open(side_tmp, "wb") as side:
            for paper in papers:
                body = protocol.body(paper.title, paper.abstract, mode)
                line = orjson.dumps({"custom_id": paper.id, "method": "POST", "url": ENDPOINT, "body": body}) + b"\n"
                if f is None or count >= max_requests or size + len(line) > max_bytes:
                    if f is not None:
                        f.close()
                    n_part += 1
                    files.append(part_path(out, n_part))
                    f = open(files[-1] + ".tmp", "wb")
                    count = size = 0
                f.write(line)
                count += 1
                size += len(line)
                total += 1
                side.write(
                    orjson.dumps(
                        {
                            "paper": paper.model_dump(),
                            "model": protocol.model,
                            "mode": mode,
                            "prompt_hash": protocol.prompt_hash,
                            "fields": to_dicts(protocol.fields),  # ingest verifies the answers against these
                        }
                    )
                    + b"\n"
                )
        if f is not None:
            f.close()
        for p in files:
            os.replace(p + ".tmp", p)
        os.replace(side_tmp, sidecar_path(out))
    finally:
        for p in files:
            if os.path.exists(p + ".tmp"):
                os.unlink(p + ".tmp")
        if os.path.exists(side_tmp):
            os.unlink(side_tmp)
    return Prepared(files, total, sidecar_path(out))


class _BatchEngineInfo(Engine):
    """What provenance records for ingested results."""

    name = "openai-batch"

    def __init__(self, model: Optional[str], prompt_hash: Optional[str], fields: Optional[list] = None):
        self.model = model
        self.prompt_hash = prompt_hash
        self.fields = fields or []


MAX_SIDECAR_LINE = 4 * 1024 * 1024  # bytes of one papers sidecar line (a paper and its request's settings)


def _index_sidecar(path: str, db: sqlite3.Connection) -> None:
    """Papers by id in a temporary SQLite file: results come in any order, memory stays flat."""
    db.execute("CREATE TABLE papers (id TEXT PRIMARY KEY, line BLOB)")
    batch = []
    for lineno, side in json_lines(path, "paper", "a papers sidecar line", MAX_SIDECAR_LINE):
        paper = side["paper"]
        # the Paper ingest builds from the line: a damaged line is named here, not mid-run
        check_line(Paper, paper, path, lineno, "a papers sidecar line")
        batch.append((paper["id"], orjson.dumps(side)))
        if len(batch) >= 10_000:
            db.executemany("INSERT OR REPLACE INTO papers VALUES (?, ?)", batch)
            batch = []
    db.executemany("INSERT OR REPLACE INTO papers VALUES (?, ?)", batch)


class BatchResults(Engine):
    """Batch API results (OpenAI's, vLLM run-batch's) as an engine, for the one run driver
    (`extractor.pipeline`): `papers()` gives the paper of each result line, in the files' order, and
    `extract` answers a paper with its result line's record, verified as the online path verifies
    an answer (or an error record, when the request failed). Which results the table still needs,
    the lock, carried reviews, writing and compaction are the driver's, as for any run."""

    name = "openai-batch"

    def __init__(self, results: list[str], papers_path: str, warn: Callable[[str], None] = lambda s: None):
        self.results = results
        self.papers_path = papers_path
        self.warn = warn
        self._tmpdir = tempfile.mkdtemp(prefix="extractor-ingest-")
        self._db = sqlite3.connect(os.path.join(self._tmpdir, "papers.sqlite"))
        self._indexed = False
        self._pending: dict[str, tuple[dict, dict]] = {}  # papers handed out, not yet answered

    def papers(self, skipped: Callable[[], None] = lambda: None) -> Iterator[Paper]:
        """The paper of each result line; a line whose custom_id is no paper of the sidecar, or the
        last line cut off mid-way (an interrupted download), is named and counted (`skipped`)."""
        if not self._indexed:
            _index_sidecar(self.papers_path, self._db)
            self._indexed = True
        for path in self.results:

            def cut(lineno: int, path: str = path) -> None:
                skipped()
                self.warn(
                    f"{path}:{lineno}: the last line is cut off mid-way (an interrupted download?); its result is not ingested"
                )

            for lineno, res in iter_json_lines(path, "custom_id", "a Batch API result line", cut_off=cut):
                cid = res["custom_id"]
                if not isinstance(cid, str) or not cid:
                    raise InputError(f"{path}:{lineno}: not a Batch API result line (custom_id: not text)")
                row = self._db.execute("SELECT line FROM papers WHERE id = ?", (cid,)).fetchone()
                if row is None:
                    skipped()
                    self.warn(f"{path}:{lineno}: custom_id {cid!r} is not in {self.papers_path}")
                    continue
                side = orjson.loads(row[0])
                paper = Paper.model_validate(side["paper"])
                paper.source = f"{path}:{lineno}"
                self._pending[paper.id] = (res, side)  # the driver asks for it next, or sets it aside
                yield paper

    def extract(self, doc: Document) -> EngineResult:
        assert doc.paper is not None
        res, side = self._pending.pop(doc.paper.id)
        self._pending.clear()  # papers the driver set aside before this one are never asked for
        rec = result_to_record(res, doc.paper, side)
        return EngineResult(None, None, None, [], usage=rec.usage, record=rec)

    def close(self) -> None:
        self._db.close()
        for name in os.listdir(self._tmpdir):
            os.unlink(os.path.join(self._tmpdir, name))
        os.rmdir(self._tmpdir)


def _error_message(res: dict, response: dict, body: Any) -> str:
    """What a failed result says, whatever shape its error takes: OpenAI's error file line, vLLM's
    inline error (a string or an object), or an error object as the body."""
    err = res.get("error")
    msg: Any = None
    if isinstance(err, dict):
        msg = err.get("message") or err.get("code")
    elif err:
        msg = err
    if msg is None and isinstance(body, dict) and isinstance(body.get("error"), (dict, str)):
        e = body["error"]
        msg = e.get("message") if isinstance(e, dict) else e
    return " ".join(str(msg or "no error message").split())[:500]


def result_to_record(res: dict, paper: Paper, side: dict):
    """One result line (any shape) as a record: an error record when the request failed or the
    reply is not an answer; else the answer, verified as the online path verifies it."""
    info = _BatchEngineInfo(side.get("model"), side.get("prompt_hash"), from_dicts(side.get("fields") or []))
    mode = side.get("mode") or "json_schema"
    usage = Usage(requests=1)
    response = res.get("response")
    if not isinstance(response, dict):
        response = {}
    body = response.get("body")
    status = response.get("status_code")
    ok_body = isinstance(body, dict) and "choices" in body and not body.get("error")
    if res.get("error") or status not in (200, None) or not ok_body:
        msg = _error_message(res, response, body)
        return error_record(paper, info, redact(f"batch request failed: HTTP {status}: {msg}"), usage)
    assert isinstance(body, dict)
    usage.add(usage_of(body))
    reply = read_reply(body, mode)
    if reply.refusal:
        return error_record(paper, info, redact(f"the model refused: {reply.refusal}"), usage)
    if reply.answer is None:
        # no re-ask is possible offline: the paper becomes an error record, retried online if wanted
        return error_record(paper, info, redact(f"invalid reply: {reply.error}"), usage)
    result = reply.answer.result(usage, 0, mode)
    return build_record(Document.of(paper), result, info)


# --- the OpenAI Batch API, through the SDK -------------------------------------------------------


def _client(base_url: Optional[str]):
    import openai  # imported here: prepare and ingest need no SDK

    from .transport import endpoint

    key = os.environ.get("OPENAI_API_KEY") or "sk-no-key-needed"
    register_secret(key)
    return openai.OpenAI(api_key=key, base_url=endpoint(base_url), max_retries=3)


def submit(files: list[str], base_url: Optional[str] = None, window: str = "24h") -> list[str]:
    client = _client(base_url)
    ids = []
    for path in files:
        with open(path, "rb") as f:
            up = client.files.create(file=f, purpose="batch")
        b = client.batches.create(
            input_file_id=up.id,
            endpoint=ENDPOINT,
            completion_window=window,
            metadata={"tool": "extractor", "file": os.path.basename(path)},
        )
        ids.append(b.id)
    return ids


def status(batch_id: str, base_url: Optional[str] = None):
    return _client(base_url).batches.retrieve(batch_id)


def download(batch_id: str, out: str, base_url: Optional[str] = None) -> tuple[int, Optional[str]]:
    """Write the results file (and errors beside it); returns (result lines, errors path)."""
    client = _client(base_url)
    b = client.batches.retrieve(batch_id)
    if not b.output_file_id and not b.error_file_id:
        raise InputError(f"batch {batch_id} has no results yet (status: {b.status})")
    n = 0
    if b.output_file_id:
        data = client.files.content(b.output_file_id).read()
        tmp = out + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, out)
        n = data.count(b"\n")
    err_path = None
    if b.error_file_id:
        err_path = os.path.splitext(out)[0] + ".errors.jsonl"
        with open(err_path, "wb") as f:
            f.write(client.files.content(b.error_file_id).read())
    return n, err_path
