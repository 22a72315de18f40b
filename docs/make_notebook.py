"""Write docs/notebook.ipynb with the outputs its cells print (tests/test_docs.py runs the cells and
compares): .venv/bin/python docs/make_notebook.py"""

import contextlib
import io
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(ROOT)
sys.path.insert(0, ROOT)
cells_src = [
    (
        "markdown",
        '# extractor in a notebook\n\nRead the bundled sample feed, extract a verified table with the offline engine (no model, no key), look at the claims as a DataFrame, and export the comparison. With a model, pass `extractor.engine("openai", model=..., base_url=...)` as the second argument of `extract` ([llm.md](llm.md)).',
    ),
    (
        "code",
        'import extractor\n\npapers = list(extractor.read_papers("data/arxiv-systems-2026-04.atom.xml"))\nprint(len(papers), "papers")',
    ),
    (
        "code",
        "records = list(extractor.extract(papers))\nfor rec in records[:5]:\n    print(f\"{rec.id:12} {str(rec.system_name):10} {[n.text for n in rec.headline_numbers if n.verified and n.kind == 'result']}\")",
    ),
    (
        "markdown",
        "Every claim is tied to its span of the abstract and re-read there; `verified` says whether the span says what the claim says.",
    ),
    (
        "code",
        'import pandas as pd\n\nclaims = pd.DataFrame(\n    [\n        {"paper": r.id, "system": r.system_name, **n.model_dump(include={"text", "value", "unit", "metric", "metric_class", "better", "kind", "verified"})}\n        for r in records\n        for n in r.headline_numbers\n    ]\n)\nprint(claims[claims.kind == "result"].groupby("metric_class").size().sort_values(ascending=False).head(6).to_string())',
    ),
    (
        "code",
        'import os\nimport tempfile\n\nout = tempfile.mkdtemp()\nextractor.export(records, os.path.join(out, "report.html"))\nextractor.export(records, os.path.join(out, "table.xlsx"))\nprint(sorted(os.listdir(out)))',
    ),
]
ns = {}
cells = []
for kind, src in cells_src:
    lines = src.splitlines(keepends=True)
    if kind == "markdown":
        cells.append({"cell_type": "markdown", "metadata": {}, "source": lines})
        continue
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(src, "<cell>", "exec"), ns)
    text = buf.getvalue()
    cells.append(
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [{"name": "stdout", "output_type": "stream", "text": text.splitlines(keepends=True)}],
            "source": lines,
        }
    )
nb = {
    "cells": cells,
    "metadata": {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}
for i, c in enumerate(nb["cells"]):
    c["id"] = f"cell-{i}"
open("docs/notebook.ipynb", "w").write(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
print("wrote docs/notebook.ipynb")
# the cells as ruff formats them (tests/test_tooling.py holds the tree to it)
ruff = os.path.join(os.path.dirname(sys.executable), "ruff")
if os.path.exists(ruff):
    import subprocess

    subprocess.run([ruff, "format", "-q", "docs/notebook.ipynb"], check=False)
