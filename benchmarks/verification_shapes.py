"""The README's table: every answer shape of tests/reexpress.py through the real CLI against a
scripted OpenAI-compatible server on 127.0.0.1, and what verification made of it.

    python benchmarks/verification_shapes.py
"""

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import reexpress as rx  # noqa: E402
from conftest import LocalServer, read_jsonl, run_cli  # noqa: E402


def main() -> None:
    papers = rx.load()
    server = LocalServer(rx.handler(papers))
    tmp = Path(tempfile.mkdtemp(prefix="shapes-"))
    inputs = tmp / "in.jsonl"
    rx.write_inputs(papers, inputs)
    rows = []
    try:
        for shape in rx.SHAPES:
            out = tmp / f"{shape}.jsonl"
            code, stderr = rx.run_shape(shape, f"{server.url}/v1", inputs, out, run_cli)
            if code not in (0, 1):
                sys.exit(f"{shape}: {stderr}")
            rows.append(rx.measure(shape, read_jsonl(out), papers))
    finally:
        server.close()
    print(rx.table(rows))


if __name__ == "__main__":
    main()
