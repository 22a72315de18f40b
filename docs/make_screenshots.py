"""Regenerate the screenshots in docs/ from the 60 labelled abstracts (run by hand; needs chromium
and soffice on the PATH):

    .venv/bin/python docs/make_screenshots.py

Writes docs/screenshot-html-report.png (top of the HTML report), docs/screenshot-html-compare.png
(its comparison matrix and first charts), docs/screenshot-xlsx-papers.png and
docs/screenshot-xlsx-compare.png (the Papers and Compare sheets as LibreOffice renders them).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=300)


def chromium_shot(page: Path, out: Path, tmp: Path, height: int) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "chromium is not installed"
    run(
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={tmp / 'p'}",
        f"--screenshot={out}",
        f"--window-size=1400,{height}",
        page.as_uri(),
    )


def sheet_png(xlsx: Path, sheet: str, out: Path, tmp: Path) -> None:
    """The sheet as LibreOffice reads and lays it out (exported to HTML by LibreOffice, shown by
    Chromium: LibreOffice's own PNG export needs a display)."""
    from openpyxl import load_workbook

    wb = load_workbook(xlsx)
    for name in wb.sheetnames:
        if name != sheet:
            del wb[name]
    one = tmp / f"{sheet}.xlsx"
    wb.save(one)
    run(
        "soffice",
        f"-env:UserInstallation=file://{tmp / 'lo'}",
        "--headless",
        "--convert-to",
        "html",
        "--outdir",
        str(tmp),
        str(one),
    )
    chromium_shot(tmp / f"{sheet}.html", out, tmp, 800)


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        table = tmp / "all.jsonl"
        ex = [sys.executable, "-m", "extractor"]
        run(
            *ex,
            "extract",
            str(ROOT / "data/arxiv-systems-2026-04.atom.xml"),
            str(ROOT / "tests/data/systems-abstracts-extra.jsonl"),
            "-o",
            str(table),
            "-q",
        )
        html = tmp / "report.html"
        xlsx = tmp / "table.xlsx"
        run(*ex, "export", str(table), "-o", str(html))
        run(*ex, "export", str(table), "-o", str(xlsx))
        chromium_shot(html, DOCS / "screenshot-html-report.png", tmp, 900)
        # the comparison part of the same page, on its own
        text = html.read_text(encoding="utf-8")
        head = text.split("<body>", 1)[0]
        part = text.split('<h1 id="comparison">', 1)[1].split("<h1>Abstracts</h1>", 1)[0]
        compare = tmp / "compare.html"
        compare.write_text(head + '<body><h1 id="comparison">' + part + "</body></html>", encoding="utf-8")
        chromium_shot(compare, DOCS / "screenshot-html-compare.png", tmp, 1500)
        sheet_png(xlsx, "Papers", DOCS / "screenshot-xlsx-papers.png", tmp)
        sheet_png(xlsx, "Compare", DOCS / "screenshot-xlsx-compare.png", tmp)


if __name__ == "__main__":
    main()
