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

from ..analysis import taxonomy
from ..analysis.text import visible
from ..core.ids import id_text
from ..reviews import KINDS
from ..store import atomic_write
from .common import (
    CLAIM_COLUMNS,
    DECISIONS,
    FIELD_COLUMNS,
    FORMULA_START,
    REVIEW_COLUMNS,
    SHEET_DECISIONS,
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
_MAIN_NS = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL_NS = b' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def _links_readable_by_gnumeric(ws) -> None:
    """Close a write-only sheet and declare the relationships namespace once, on its root element.

    openpyxl (through lxml's incremental writer) declares it on every <hyperlink> element, which is
    valid XML that Excel and LibreOffice read, but Gnumeric 1.12 does not resolve a namespace declared
    there and drops every link ("Unknown type of hyperlink"). No option of openpyxl changes this, so
    the sheet's part is rewritten here, streamed, before the workbook is zipped."""
    import os

    ws.close()
    path = ws._writer.out  # the sheet's part, written by openpyxl to a temp file until the zip is made
    keep = len(_REL_NS) - 1
    with open(path, "rb") as src, open(path + ".ns", "wb") as dst:
        carry, first = b"", True
        while chunk := src.read(1 << 20):
            data = carry + chunk
            if first:
                data = data.replace(_MAIN_NS, _MAIN_NS + _REL_NS, 1)
                start, first = len(_MAIN_NS) + len(_REL_NS), False
                data = data[:start] + data[start:].replace(_REL_NS, b"")
            else:
                data = data.replace(_REL_NS, b"")
            dst.write(data[:-keep] if len(data) > keep else b"")
            carry = data[-keep:] if len(data) > keep else data
        dst.write(carry)
    os.replace(path + ".ns", path)


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


def _lines(text: str, per_line: int) -> int:
    """Lines a wrapped cell takes: words filled greedily into lines, as the programs wrap them (a
    word longer than a line is broken)."""
    lines = 0
    for part in text.split("\n"):
        used = 0
        lines += 1
        for word in part.split():
            n = len(word)
            if used and used + 1 + n > per_line:
                lines += 1
                used = 0
            used += (1 if used else 0) + n
            while used > per_line:  # a word longer than the line
                lines += 1
                used -= per_line
    return lines


def _height(row: dict, wrapped: Iterable[str], widths: Mapping[str, float]) -> Optional[float]:
    """Points for a row whose wrapped cells need more than one line (None: one line does)."""
    lines = 1
    for c in wrapped:
        text = str(row.get(c) or "")
        if text:
            lines = max(lines, _lines(text, max(int(widths.get(c, 14) * 0.95), 1)))
    return min(LINE_HEIGHT * lines, MAX_ROW_HEIGHT) if lines > 1 else None


@dataclass
class _Sheet:
    """A table sheet: its columns, widths, the wrapped ones, and the reviewer's columns `review`
    (shaded, with drop-downs of `choices`)."""

    title: str
    columns: list[str]
    widths: Mapping[str, float]
    wrapped: set[str]
    review: tuple[str, ...] = ()
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
        _print_setup(ws)  # before the first row: a write-only sheet writes its properties then
        reviewed = [name in self.review for name in self.columns]
        why_end = self.columns.index("why") + 1 if "why" in self.columns else 0
        ws.append(
            [
                _cell(
                    ws,
                    name,
                    look,
                    font=look.head_font,
                    fill=look.review_head_fill if reviewed[i] else look.head_fill,
                )
                for i, name in enumerate(self.columns)
            ]
        )
        r, linked = 1, False
        for r, row in enumerate(rows, start=2):
            h = _height(row, self.wrapped, self.widths)
            if h:
                ws.row_dimensions[r].height = h
            bad = self.bad(row)
            link = safe_url(self.link(row))  # only http(s): a javascript:, data: or file: url stays text
            linked = linked or bool(link)
            cells = []
            for i, name in enumerate(self.columns):
                fill = None
                if reviewed[i]:
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
            # a warning, not a stop: "Accept" or a class's label typed by hand is read (case and
            # spaces do not matter to `review apply`), and a program that checks case does not refuse it
            dv = DataValidation(
                type="list",
                formula1='"' + ",".join(options) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorStyle="warning",
                errorTitle=name.replace("_", " ").capitalize(),
                error=f"Expected one of {', '.join(options)}.",
            )
            letter = get_column_letter(self.columns.index(name) + 1)
            dv.add(f"{letter}2:{letter}{max(r, 2) + 1000}")
            ws.data_validations.append(dv)
        if linked:
            _links_readable_by_gnumeric(ws)
        return r


def _print_setup(ws) -> None:
    """Print and PDF: landscape, all columns on one page width (set before a write-only sheet's
    first row, when its properties are written)."""
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
            "paper_id": 17,
            "title": 40,
            "authors": 22,
            "year": 7,
            "arxiv_id": 17,
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
            "claim_id": 20,
            "paper_id": 17,
            "metric": 28,
            "baseline": 24,
            "evidence": 18,
            "sentence": 60,
            "why": 30,
            "decision": 11,
            "corrected_value": 15,
            "corrected_unit": 14,
            "corrected_metric": 20,
            "corrected_metric_class": 16,
            "corrected_kind": 12,
            "note": 30,
            "fingerprint": 12,
        },
        {"metric", "baseline", "sentence", "why", "note"},
        review=tuple(REVIEW_COLUMNS),
        choices={"decision": SHEET_DECISIONS, "corrected_metric_class": taxonomy.KEYS, "corrected_kind": KINDS},
        bad=lambda row: not row["verified"],
    ).write(wb, claim_rows(records), look)

    # the user's own fields, reviewable like claims
    if user_fields:
        _Sheet(
            "Fields",
            FIELD_COLUMNS,
            {"field_id": 22, "evidence": 40, "why": 30, "value": 24, "original": 20, "note": 30, "decision": 11},
            {"evidence", "why", "note"},
            review=("decision", "corrected_value", "note"),
            choices={"decision": DECISIONS},
            bad=lambda row: row["verified"] == "no",
        ).write(wb, field_rows(records), look)

    # numbers of the abstracts that no claim covers: a reviewer can `add` one as a claim
    if any(rec.get("uncovered_numbers") for rec in records):
        _Sheet(
            "Uncovered",
            UNCOVERED_COLUMNS,
            {
                "uncovered_id": 17,
                "paper_id": 17,
                "evidence": 18,
                "sentence": 60,
                "decision": 11,
                "metric": 28,
                "baseline": 24,
                "note": 30,
            },
            {"sentence", "metric", "baseline", "note"},
            review=("decision", "metric", "direction", "kind", "baseline", "note"),
            choices={
                "decision": UNCOVERED_DECISIONS,
                "direction": ("increase", "decrease", "none"),
                "kind": KINDS,
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
    "paper": 17,
    "claim_id": 20,
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
    _print_setup(ws)
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
            row = {**entry_row(key, e), "verified": "yes" if n.get("verified") else "no", "paper": id_text(rec["id"])}
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
    _links_readable_by_gnumeric(ws)
