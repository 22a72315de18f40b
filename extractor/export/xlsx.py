"""The XLSX export: Papers, Compare, Claims (and Fields, Uncovered) sheets, for reading and review.

Written in openpyxl's write-only mode: rows are streamed to the file as they are made, so time and
memory grow with the table and not faster (a workbook held whole took minutes and gigabytes at
20,000 papers). A row's look (fills, wrapping, its height, a link) is decided when the row is made.

Spreadsheet programs do not grow the rows of a file they did not lay out (LibreOffice, Gnumeric),
so every row whose text wraps gets a height from the longest wrapped cell.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from copy import copy
from dataclasses import dataclass, field
from typing import Any, Optional

from .. import taxonomy
from ..store import atomic_write
from ..text import visible
from .common import (
    CLAIM_COLUMNS,
    DECISIONS,
    FIELD_COLUMNS,
    FORMULA_START,
    UNCOVERED_COLUMNS,
    UNCOVERED_DECISIONS,
    claim_rows,
    field_column,
    field_names,
    field_rows,
    paper_columns,
    paper_rows,
    safe_url,
    uncovered_rows,
)
from .compare import comparison, entry_row

LINE_HEIGHT = 15  # points of one line of text at the default font
MAX_ROW_HEIGHT = 180


class _Look:
    """The workbook's styles, made once (openpyxl shares equal styles, but making them costs)."""

    def __init__(self) -> None:
        from openpyxl.styles import Alignment, Font, PatternFill

        self.head_font = Font(bold=True, color="FFFFFF")
        self.head_fill = PatternFill("solid", fgColor="305496")
        self.review_head_fill = PatternFill("solid", fgColor="BF8F00")
        self.bad_fill = PatternFill("solid", fgColor="F8CBAD")
        self.review_fill = PatternFill("solid", fgColor="FFF2CC")
        self.wrap = Alignment(wrap_text=True, vertical="top")
        self.top = Alignment(vertical="top")
        self.link_font = Font(color="0563C1", underline="single")
        self.title_font = Font(bold=True, size=12)
        self._styles: dict[tuple, Any] = {}

    def style(self, ws, font, fill, alignment, quote: bool):
        """The style array of a combination, made once per workbook: setting a font, a fill and an
        alignment on each cell hashes each of them into the workbook's style lists, which cost more
        than writing the cell (profiled: a quarter of the export's time)."""
        from openpyxl.cell import WriteOnlyCell

        key = (id(font), id(fill), id(alignment), quote)
        arr = self._styles.get(key)
        if arr is None:
            c = WriteOnlyCell(ws)
            if font is not None:
                c.font = font
            if fill is not None:
                c.fill = fill
            if alignment is not None:
                c.alignment = alignment
            if quote:
                c.quotePrefix = True
            arr = self._styles[key] = c._style
        return arr


def _cell(ws, value: Any, look: _Look, *, font=None, fill=None, alignment=None, hyperlink: Optional[str] = None):
    """One cell. Text is typed as text (never a formula, whatever it starts with, and shown
    literally by Excel and LibreOffice), without the characters no XLSX cell takes or that hide text."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    quote = False
    if isinstance(value, str):
        text = visible(value)
        if not text.isprintable():
            text = ILLEGAL_CHARACTERS_RE.sub(" ", text)
        c = WriteOnlyCell(ws, value=text)
        c.data_type = "s"
        quote = text.startswith(FORMULA_START)
    else:
        c = WriteOnlyCell(ws, value=value)
    if hyperlink:
        c.hyperlink = hyperlink
        font = look.link_font
    if font is not None or fill is not None or alignment is not None or quote:
        c._style = copy(look.style(ws, font, fill, alignment, quote))
    return c


def _height(row: dict, wrapped: Iterable[str], widths: Mapping[str, float]) -> Optional[float]:
    """Points for a row whose wrapped cells need more than one line (None: one line does)."""
    lines = 1
    for c in wrapped:
        text = str(row.get(c) or "")
        if text:
            per_line = max(int(widths.get(c, 14) * 1.15), 1)
            lines = max(lines, sum(len(part) // per_line + 1 for part in text.split("\n")))
    return min(LINE_HEIGHT * lines, MAX_ROW_HEIGHT) if lines > 1 else None


@dataclass
class _Sheet:
    """A table sheet: its columns, widths, the wrapped ones, and the reviewer's columns from
    `review_from` on (shaded, with drop-downs of `choices`)."""

    title: str
    columns: list[str]
    widths: Mapping[str, float]
    wrapped: set[str]
    review_from: Optional[str] = None
    choices: dict[str, tuple] = field(default_factory=dict)
    bad: Callable[[dict], bool] = lambda row: False  # rows shaded red up to their `why`
    link: Callable[[dict], Optional[str]] = lambda row: None  # the first column's link
    flagged: Callable[[dict, str], bool] = lambda row, col: False  # single cells shaded red

    def write(self, wb, rows: Iterable[dict], look: _Look) -> int:
        from openpyxl.utils import get_column_letter
        from openpyxl.worksheet.datavalidation import DataValidation

        ws = wb.create_sheet(self.title)
        for c, name in enumerate(self.columns, start=1):
            ws.column_dimensions[get_column_letter(c)].width = self.widths.get(name, 14)
        ws.freeze_panes = "A2"
        first_review = self.columns.index(self.review_from) if self.review_from else len(self.columns)
        why_end = self.columns.index("why") + 1 if "why" in self.columns else 0
        ws.append(
            [
                _cell(
                    ws,
                    name,
                    look,
                    font=look.head_font,
                    fill=look.review_head_fill if i >= first_review else look.head_fill,
                )
                for i, name in enumerate(self.columns)
            ]
        )
        r = 1
        for r, row in enumerate(rows, start=2):
            h = _height(row, self.wrapped, self.widths)
            if h:
                ws.row_dimensions[r].height = h
            bad = self.bad(row)
            link = safe_url(self.link(row))  # only http(s): a javascript:, data: or file: url stays text
            cells = []
            for i, name in enumerate(self.columns):
                fill = None
                if i >= first_review:
                    fill = look.review_fill
                elif (bad and i < why_end) or self.flagged(row, name):
                    fill = look.bad_fill
                cells.append(
                    _cell(
                        ws,
                        row.get(name),
                        look,
                        fill=fill,
                        alignment=look.wrap if name in self.wrapped else look.top,
                        hyperlink=link if i == 0 else None,
                    )
                )
            ws.append(cells)
        ws.auto_filter.ref = f"A1:{get_column_letter(len(self.columns))}{max(r, 1)}"
        for name, options in self.choices.items():
            dv = DataValidation(
                type="list",
                formula1='"' + ",".join(options) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=name.capitalize(),
                error=f"Choose {', '.join(options)}.",
            )
            letter = get_column_letter(self.columns.index(name) + 1)
            dv.add(f"{letter}2:{letter}{max(r, 2) + 1000}")
            ws.data_validations.append(dv)
        _print_setup(ws)
        return r


def _print_setup(ws) -> None:
    """Print and PDF: landscape, all columns on one page width."""
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0


def write_xlsx(records: list[dict], path: str) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    look = _Look()
    user_fields = [field_column(n) for n in field_names(records)]
    _Sheet(
        "Papers",
        paper_columns(records),
        {
            "paper_id": 13,
            "title": 40,
            "system": 16,
            "problem": 50,
            "technique": 50,
            "headline_numbers": 60,
            "error": 30,
            "url": 30,
        },
        {"title", "problem", "technique", "headline_numbers", "error"},
        link=lambda row: row.get("url"),
        flagged=lambda row, col: (
            (col == "unverified_claims" and bool(row.get("unverified_claims")))
            or (col == "system" and bool(row.get("system")) and row.get("system_verified") == "no")
            or (col in user_fields and str(row.get(col) or "").endswith("(unverified)"))
        ),
    ).write(wb, paper_rows(records), look)

    _compare_sheet(wb, records, look)

    _Sheet(
        "Claims",
        CLAIM_COLUMNS,
        {
            "claim_id": 15,
            "paper_id": 12,
            "metric": 28,
            "baseline": 24,
            "evidence": 18,
            "sentence": 60,
            "why": 30,
            "decision": 11,
            "corrected_value": 15,
            "corrected_unit": 14,
            "corrected_metric": 20,
            "note": 30,
        },
        {"metric", "baseline", "sentence", "why", "note"},
        review_from="decision",
        choices={"decision": DECISIONS},
        bad=lambda row: not row["verified"],
    ).write(wb, claim_rows(records), look)

    # the user's own fields, reviewable like claims
    if user_fields:
        _Sheet(
            "Fields",
            FIELD_COLUMNS,
            {"field_id": 22, "evidence": 40, "why": 30, "value": 24, "original": 20, "note": 30, "decision": 11},
            {"evidence", "why", "note"},
            review_from="decision",
            choices={"decision": DECISIONS},
            bad=lambda row: row["verified"] == "no",
        ).write(wb, field_rows(records), look)

    # numbers of the abstracts that no claim covers: a reviewer can `add` one as a claim
    if any(rec.get("uncovered_numbers") for rec in records):
        _Sheet(
            "Uncovered",
            UNCOVERED_COLUMNS,
            {
                "uncovered_id": 16,
                "paper_id": 12,
                "evidence": 18,
                "sentence": 60,
                "decision": 11,
                "metric": 28,
                "baseline": 24,
                "note": 30,
            },
            {"sentence", "metric", "baseline", "note"},
            review_from="decision",
            choices={
                "decision": UNCOVERED_DECISIONS,
                "direction": ("increase", "decrease", "none"),
                "kind": ("result", "context", "setup"),
            },
        ).write(wb, uncovered_rows(records), look)
    with atomic_write(path, "wb") as f:
        wb.save(f)


COMPARE_SHEET_COLUMNS = [
    "rank",
    "ranked_as",
    "system",
    "claim",
    "value",
    "low",
    "high",
    "unit",
    "as_factor",
    "better",
    "baseline",
    "verified",
    "reviewed",
    "original",
    "year",
    "venue",
    "paper",
    "claim_id",
]
COMPARE_WIDTHS = {
    "rank": 6,
    "ranked_as": 12,
    "system": 18,
    "claim": 60,
    "unit": 8,
    "as_factor": 14,
    "better": 8,
    "baseline": 28,
    "verified": 9,
    "reviewed": 10,
    "original": 40,
    "year": 7,
    "venue": 22,
    "paper": 14,
    "claim_id": 15,
}
COMPARE_WRAPPED = {"claim", "baseline", "original", "system"}


def _better_phrase(key: str) -> str:
    b = taxonomy.BY_KEY[key].better if key in taxonomy.BY_KEY else None
    return {"lower": "lower is better", "higher": "higher is better"}.get(b or "", "no better direction")


def _compare_sheet(wb, records: list[dict], look: _Look) -> None:
    """One block per metric class: a title row, a header, the claims best first (ranked ones with
    their rank; unverified ones after, flagged, unranked)."""
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet("Compare")
    cols = COMPARE_SHEET_COLUMNS
    for c, name in enumerate(cols, start=1):
        ws.column_dimensions[get_column_letter(c)].width = COMPARE_WIDTHS.get(name, 10)
    ws.freeze_panes = "A2"
    ws.append(
        [
            _cell(
                ws,
                "Result claims by metric class, best first. Only verified claims rank; % and x changes rank by "
                "their improvement factor, levels (no direction) by value within one kind of unit.",
                look,
            )
        ]
    )
    ws.append([])
    r = 2
    paper_at = cols.index("paper")
    for key, entries in comparison(records).items():
        ws.append([_cell(ws, f"{taxonomy.label(key)} ({_better_phrase(key)})", look, font=look.title_font)])
        ws.append([_cell(ws, name, look, font=look.head_font, fill=look.head_fill) for name in cols])
        r += 2
        for e in entries:
            n, rec = e.claim, e.record
            row = {**entry_row(key, e), "verified": "yes" if n.get("verified") else "no", "paper": rec["id"]}
            r += 1
            h = _height(row, COMPARE_WRAPPED, COMPARE_WIDTHS)
            if h:
                ws.row_dimensions[r].height = h
            fill = None if n.get("verified") else look.bad_fill
            link = safe_url(rec.get("url"))
            ws.append(
                [
                    _cell(
                        ws,
                        row[name],
                        look,
                        fill=fill,
                        alignment=look.wrap if name in COMPARE_WRAPPED else look.top,
                        hyperlink=link if i == paper_at else None,
                    )
                    for i, name in enumerate(cols)
                ]
            )
        ws.append([])
        r += 1
    _print_setup(ws)
