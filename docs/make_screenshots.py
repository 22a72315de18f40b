"""Regenerate the screenshots in docs/ from the 60 labelled abstracts (run by hand; needs chromium
and soffice on the PATH):

    .venv/bin/python docs/make_screenshots.py

Writes docs/screenshot-html-report.png (top of the HTML report), docs/screenshot-html-compare.png
(its comparison matrix and first charts), docs/screenshot-xlsx-papers.png and
docs/screenshot-xlsx-compare.png (the Papers and Compare sheets as LibreOffice prints them, PDF ->
PNG with PyMuPDF, after checking that no row's text runs into the next row).
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


def one_sheet(xlsx: Path, sheet: str, out: Path) -> Path:
    """A copy of the workbook with only `sheet` (LibreOffice prints every sheet into one PDF)."""
    from openpyxl import load_workbook

    wb = load_workbook(xlsx)
    for name in wb.sheetnames:
        if name != sheet:
            del wb[name]
    wb.save(out)
    return out


def sheet_pdf(xlsx: Path, sheet: str, tmp: Path) -> Path:
    """The sheet as LibreOffice lays it out and prints it (row heights, wrapping, page set-up)."""
    one = one_sheet(xlsx, sheet, tmp / f"{sheet}.xlsx")
    run(
        "soffice",
        f"-env:UserInstallation=file://{tmp / 'lo'}",
        "--headless",
        "--convert-to",
        "pdf",
        "--outdir",
        str(tmp),
        str(one),
    )
    return tmp / f"{sheet}.pdf"


def overlapping_words(pdf: Path) -> list[str]:
    """Words drawn over other words in a PDF: text of a wrapped cell that runs past its row's height
    into the next row (LibreOffice and Gnumeric do not grow rows of a file they did not lay out)."""
    import pymupdf

    found = []
    with pymupdf.open(pdf) as doc:
        for number, page in enumerate(doc, start=1):
            words = sorted(page.get_text("words"), key=lambda w: w[1])
            for i, a in enumerate(words):
                ra = pymupdf.Rect(a[:4])
                for b in words[i + 1 :]:
                    if b[1] > a[3]:
                        break  # sorted by top: nothing further down reaches this word
                    rb = pymupdf.Rect(b[:4])
                    inter = ra & rb
                    if not inter.is_empty and inter.get_area() > 0.3 * min(ra.get_area(), rb.get_area()):
                        found.append(f"page {number}: {a[4]!r} over {b[4]!r}")
    return found


def sheet_png(xlsx: Path, sheet: str, out: Path, tmp: Path, height: int = 700, width: float = 0.62) -> None:
    """The top left of the sheet's first printed page (`width` of it) as LibreOffice renders it
    (PDF -> PNG), after checking that no row's text runs into the next one."""
    import pymupdf

    pdf = sheet_pdf(xlsx, sheet, tmp)
    bad = overlapping_words(pdf)
    if bad:
        raise SystemExit(f"{sheet}: text runs over the next row in LibreOffice: {'; '.join(bad[:5])}")
    with pymupdf.open(pdf) as doc:
        page = doc[0]
        words = page.get_text("words")
        top = max(min((w[1] for w in words), default=0) - 8, 0)
        left = max(min((w[0] for w in words), default=0) - 8, 0)
        dpi = 220
        clip = pymupdf.Rect(left, top, page.rect.width * width, min(top + height * 72 / dpi, page.rect.height))
        page.get_pixmap(dpi=dpi, clip=clip).save(out)


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
