"""Review survives the programs people review in (issue 29): a sheet exported by extractor, filled in,
opened and saved by LibreOffice or Gnumeric (XLSX -> XLSX, CSV -> CSV, XLSX -> CSV, XLSX -> ODS ->
XLSX) or written the way Excel and Google Sheets write theirs, applies with every decision,
correction and added claim landing and nothing else changing; a second round on the re-exported,
program-saved sheet changes nothing (the same bytes). Real programs, the real CLI, real files.

Also: paper ids stay text in the programs and in pandas, a sheet of an older table applies row by
row, and reference-manager exports (Zotero) keep their authors through BibTeX."""

import csv
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import FIXTURE, NO_SOFFICE, ROOT, SOFFICE, read_jsonl, run_cli
from openpyxl import Workbook, load_workbook

SSCONVERT = shutil.which("ssconvert")
NO_GNUMERIC = "Debian package gnumeric is not installed (.ci/run installs it)"
EXTRA = ROOT / "tests/data/systems-abstracts-extra.jsonl"
ADD_TO = "2604.12300"  # an id a program turns into the number 2604.123 when typed by hand
CLAIMS_SHEET = 3  # Papers, Compare, Claims: the sheet a program saves as CSV


# --- the 60 labelled abstracts, and one reviewer's decisions --------------------------------------
@pytest.fixture(scope="module")
def table(tmp_path_factory):
    d = tmp_path_factory.mktemp("programs")
    t = d / "table.jsonl"
    r = run_cli("extract", FIXTURE, EXTRA, "-o", t, "-q")
    assert r.returncode == 0, r.stderr
    return t


def claim(records, pid, text):
    [n] = [n for r in records if r["id"] == pid for n in r["headline_numbers"] if n["text"] == text]
    return n


# what the reviewer does: {(paper, evidence): {column: typed text}}; every kind of decision and
# correction, typed as people type (case, spaces, a percent sign)
PLAN = {
    ("2604.06682", "over 25%"): {"decision": "accept", "note": "checked in the paper"},
    ("2604.06682", "double"): {"decision": "reject"},
    ("2604.06682", "up to 44%"): {"decision": "edit", "corrected_value": "40"},  # an override
    ("2604.06682", "31%"): {"decision": "edit", "corrected_value": "31%", "corrected_metric": "memory use"},
    ("2604.06682", "37%"): {"decision": "Edit ", "corrected_metric": "deployment density per host"},
    ("2603.11438", "less than 0.03%"): {"decision": "EDIT", "corrected_metric_class": "overhead"},
    ("2309.14016", "7.8X"): {"decision": " Accept"},
    ("2603.15042", "69.1%"): {"decision": "edit", "corrected_kind": "context", "note": "a side result"},
    ("2604.11669", "order-of-magnitude"): {"decision": "edit", "corrected_unit": "x"},
}
NEW_ROW = {"decision": "add", "paper_id": ADD_TO, "evidence": "TierBPF", "corrected_metric": "system"}


def filled_rows(header, rows, records):
    """`rows` (lists of cell values under `header`) with the plan's decisions typed in, and the new
    claim's row appended."""
    col = {h: i for i, h in enumerate(header)}
    ids = {claim(records, pid, text)["id"]: cells for (pid, text), cells in PLAN.items()}
    found = 0
    for row in rows:
        for k, v in ids.get(row[col["claim_id"]], {}).items():
            row[col[k]] = v
        found += row[col["claim_id"]] in ids
    assert found == len(PLAN)
    new = [""] * len(header)
    for k, v in NEW_ROW.items():
        new[col[k]] = v
    return [*rows, new]


def fill_xlsx(src: Path, dst: Path, records) -> Path:
    wb = load_workbook(src)
    ws = wb["Claims"]
    header = [c.value for c in ws[1]]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    for r, values in enumerate(filled_rows(header, rows, records), start=2):
        for c, v in enumerate(values, start=1):
            if ws.cell(r, c).value != v:
                ws.cell(r, c).value = v
    wb.save(dst)
    return dst


def fill_csv(src: Path, dst: Path, records) -> Path:
    with open(src, encoding="utf-8-sig", newline="") as f:
        header, *rows = list(csv.reader(f))
    with open(dst, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *filled_rows(header, rows, records)])
    return dst


def export(table, out, *extra):
    r = run_cli("export", table, "-o", out, *extra)
    assert r.returncode == 0, r.stderr
    return out


def apply(sheet, table, out, ok=True):
    r = run_cli("review", "apply", sheet, "--table", table, "-o", out)
    if ok:
        assert r.returncode == 0, r.stderr
    return r


def without_times(records):
    """Records as compared across two applies: a review round's time and source sheet aside."""

    def strip(o):
        if isinstance(o, dict):
            return {k: strip(v) for k, v in o.items() if k not in ("time", "source")}
        if isinstance(o, list):
            return [strip(x) for x in o]
        return o

    return [strip(r) for r in records]


# --- the programs ---------------------------------------------------------------------------------
def soffice(tmp: Path, src: Path, to: str, *infilter: str) -> Path:
    out = tmp / f"lo-{src.stem}-{to.split(':')[0]}"
    r = subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{tmp / 'lo-profile'}", "--headless", *infilter,
         "--convert-to", to, "--outdir", str(out), str(src)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    [made] = list(out.glob("*")) or [None]
    assert made is not None, r.stderr
    return made


def gnumeric(tmp: Path, src: Path, suffix: str, *options: str) -> Path:
    out = tmp / f"gn-{src.stem}{suffix}"
    r = subprocess.run([SSCONVERT, *options, str(src), str(out)], capture_output=True, text=True, timeout=300)
    assert out.exists(), r.stderr
    return out


LO_CSV = "csv:Text - txt - csv (StarCalc):44,34,76,1"  # UTF-8, as a user picks it in the dialog
LO_CSV_IN = "--infilter=CSV:44,34,76,1"


def lo_xlsx(tmp, f):
    return soffice(tmp, f, "xlsx")


def lo_csv(tmp, f):
    return soffice(tmp, f, LO_CSV, LO_CSV_IN)


def lo_xlsx_to_csv(tmp, f):  # the 12th filter option: the sheet to save
    return soffice(tmp, f, f"{LO_CSV},,0,false,true,false,false,false,{CLAIMS_SHEET}")


def lo_ods(tmp, f):
    return soffice(tmp, soffice(tmp, f, "ods"), "xlsx")


def gn_xlsx(tmp, f):
    return gnumeric(tmp, f, ".xlsx")


def gn_csv(tmp, f):
    return gnumeric(tmp, f, ".csv")


def gn_xlsx_to_csv(tmp, f):
    return gnumeric(tmp, f, ".csv", "-O", "sheet=Claims")


def gn_ods(tmp, f):
    return gnumeric(tmp, gnumeric(tmp, f, ".ods"), ".xlsx")


# (program's save, the sheet exported for it)
ROUND_TRIPS = [
    pytest.param(lo_xlsx, "xlsx", id="libreoffice-xlsx-to-xlsx", marks=pytest.mark.skipif(not SOFFICE, reason=NO_SOFFICE)),
    pytest.param(lo_csv, "csv", id="libreoffice-csv-to-csv", marks=pytest.mark.skipif(not SOFFICE, reason=NO_SOFFICE)),
    pytest.param(lo_xlsx_to_csv, "xlsx", id="libreoffice-xlsx-to-csv", marks=pytest.mark.skipif(not SOFFICE, reason=NO_SOFFICE)),
    pytest.param(lo_ods, "xlsx", id="libreoffice-ods-to-xlsx", marks=pytest.mark.skipif(not SOFFICE, reason=NO_SOFFICE)),
    pytest.param(gn_xlsx, "xlsx", id="gnumeric-xlsx-to-xlsx", marks=pytest.mark.skipif(not SSCONVERT, reason=NO_GNUMERIC)),
    pytest.param(gn_csv, "csv", id="gnumeric-csv-to-csv", marks=pytest.mark.skipif(not SSCONVERT, reason=NO_GNUMERIC)),
    pytest.param(gn_xlsx_to_csv, "xlsx", id="gnumeric-xlsx-to-csv", marks=pytest.mark.skipif(not SSCONVERT, reason=NO_GNUMERIC)),
    pytest.param(gn_ods, "xlsx", id="gnumeric-ods-to-xlsx", marks=pytest.mark.skipif(not SSCONVERT, reason=NO_GNUMERIC)),
]  # fmt: skip


@pytest.fixture(scope="module")
def reference(table, tmp_path_factory):
    """The plan applied from the sheet as filled in, before any program saw it, and checked claim by
    claim: every decision and correction landed, the new claim was added, nothing else changed."""
    d = tmp_path_factory.mktemp("reference")
    records = read_jsonl(table)
    sheet = fill_xlsx(export(table, d / "t.xlsx"), d / "filled.xlsx", records)
    out = d / "reviewed.jsonl"
    r = apply(sheet, table, out)
    assert "2 accepted, 1 rejected, 6 edited (1 reviewer overrides), 1 added, 0 unchanged" in r.stderr, r.stderr
    after = read_jsonl(out)
    for (pid, text), cells in PLAN.items():
        n = claim(after, pid, text)
        assert n["review"]["decision"] == cells["decision"].strip().lower(), (pid, text)
        assert n["review"]["note"] == cells.get("note")
    assert claim(after, "2604.06682", "up to 44%")["value"] == 40
    assert claim(after, "2604.06682", "up to 44%")["verified"] is False  # the reviewer's word, flagged
    memory = claim(after, "2604.06682", "31%")
    assert memory["value"] == 31 and memory["unit"] == "%" and memory["verified"] and memory["metric"] == "memory use"
    assert claim(after, "2604.06682", "37%")["metric"] == "deployment density per host"
    nccl = claim(after, "2603.11438", "less than 0.03%")
    assert (
        nccl["metric_class"] == "overhead"
        and claim(records, "2603.11438", "less than 0.03%")["metric_class"] != "overhead"
    )
    assert claim(after, "2603.15042", "69.1%")["kind"] == "context"
    assert claim(after, "2604.11669", "order-of-magnitude")["unit"] == "x"
    added = claim(after, ADD_TO, "TierBPF")
    assert added["review"]["decision"] == "add" and added["metric"] == "system"
    # nothing else changed: every other claim and every other field of every record
    planned = {claim(records, pid, text)["id"] for pid, text in PLAN} | {added["id"]}
    for old, new in zip(records, after):
        assert {k: v for k, v in old.items() if k != "headline_numbers"} == {
            k: v for k, v in new.items() if k != "headline_numbers"
        }
        assert [n for n in old["headline_numbers"] if n["id"] not in planned] == [
            n for n in new["headline_numbers"] if n["id"] not in planned
        ]
    return out


@pytest.mark.parametrize("program, kind", ROUND_TRIPS)
def test_two_review_rounds_through_a_spreadsheet_program(program, kind, table, reference, tmp_path):
    records = read_jsonl(table)
    if kind == "xlsx":
        filled = fill_xlsx(export(table, tmp_path / "t.xlsx"), tmp_path / "filled.xlsx", records)
    else:
        filled = fill_csv(export(table, tmp_path / "t.csv", "--rows", "claims"), tmp_path / "filled.csv", records)
    saved = program(tmp_path, filled)
    out = tmp_path / "reviewed.jsonl"
    r = apply(saved, table, out)
    # every decision lands and nothing else changes: the same table as the sheet applied unsaved
    assert "1 added" in r.stderr and "problem" not in r.stderr and "not applied" not in r.stderr, r.stderr
    assert without_times(read_jsonl(out)) == without_times(read_jsonl(reference))
    # round two: the reviewed table exported, saved by the program again, applied: the same bytes
    sheet2 = export(out, tmp_path / f"round2.{kind}", *(("--rows", "claims") if kind == "csv" else ()))
    again = tmp_path / "again.jsonl"
    (tmp_path / "r2").mkdir()
    r2 = apply(program(tmp_path / "r2", sheet2), out, again)
    assert " 0 accepted, 0 rejected, 0 edited" in r2.stderr and "0 added" in r2.stderr, r2.stderr
    assert again.read_bytes() == out.read_bytes()


@pytest.mark.skipif(not SOFFICE, reason=NO_SOFFICE)
def test_libreoffice_writes_booleans_as_formulas_and_they_are_read(table, tmp_path):
    """What made LibreOffice's sheets fail: every boolean saved as =TRUE() with its value; and a
    formula a reviewer typed in a decision cell is read by the value LibreOffice saved (said in the
    summary), while one with no saved value is a problem of its row only."""
    records = read_jsonl(table)
    sheet = export(table, tmp_path / "t.xlsx")
    wb = load_workbook(sheet)
    ws = wb["Claims"]
    col = {c.value: i + 1 for i, c in enumerate(ws[1])}
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == claim(records, "2604.06682", "37%")["id"])
    ws.cell(row, col["decision"]).value = '=LOWER("ACCEPT")'
    wb.save(sheet)
    saved = lo_xlsx(tmp_path, sheet)
    with zipfile.ZipFile(saved) as z:
        part = next(n for n in z.namelist() if n.startswith("xl/worksheets/") and b"LOWER" in z.read(n))
        xml = z.read(part).decode()
    assert "<f>TRUE()</f>" in xml or '<f aca="false">TRUE()</f>' in xml  # LibreOffice's booleans
    out = tmp_path / "r.jsonl"
    r = apply(saved, table, out)
    assert "1 accepted" in r.stderr and "1 formula values read" in r.stderr, r.stderr
    assert f"row {row}: decision" in r.stderr
    assert claim(read_jsonl(out), "2604.06682", "37%")["review"]["decision"] == "accept"
    # the same formula with no saved value (openpyxl's file): that row is the problem, named
    r = apply(sheet, table, tmp_path / "x.jsonl", ok=False)
    assert r.returncode == 2 and "1 problem(s)" in r.stderr and f"row {row}: decision" in r.stderr


def test_an_excel_shaped_sheet_applies(table, reference, tmp_path):
    """Excel and Google Sheets write booleans typed (t="b"), numbers as numbers, and (in files other
    tools stream) strings inline: a sheet of that shape, built cell by cell, applies like ours."""
    from openpyxl.cell.rich_text import CellRichText

    records = read_jsonl(table)
    filled = fill_xlsx(export(table, tmp_path / "t.xlsx"), tmp_path / "filled.xlsx", records)
    src = load_workbook(filled)["Claims"]
    wb = Workbook()
    ws = wb.active
    ws.title = "Claims"
    header = [c.value for c in src[1]]
    for r, cells in enumerate(src.iter_rows(values_only=True), start=1):
        for c, (h, v) in enumerate(zip(header, cells), start=1):
            if r > 1 and h == "verified":
                v = v in (True, "TRUE", "true")  # typed boolean
            elif r > 1 and h in ("value", "low", "high") and v not in (None, ""):
                v = float(v)  # a number
            elif isinstance(v, str) and v:
                v = CellRichText(v)  # an inline string
            ws.cell(r, c).value = v
    sheet = tmp_path / "excel.xlsx"
    wb.save(sheet)
    with zipfile.ZipFile(sheet) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert 't="b"' in xml and 't="inlineStr"' in xml and 't="n"' in xml
    out = tmp_path / "r.jsonl"
    r = apply(sheet, table, out)
    assert "1 added" in r.stderr, r.stderr
    assert without_times(read_jsonl(out)) == without_times(read_jsonl(reference))


# --- meaning, not spelling ------------------------------------------------------------------------
def test_rows_nobody_touched_never_block_and_evidence_is_read_by_meaning(table, tmp_path):
    """A sheet with no fingerprint column (exported before it existed) whose evidence a program
    rewrote ("31%" -> "31.00%", "8,054" -> "8054"): rows with a decision apply, rows without one are
    not even looked at, and a decided row whose claim is no longer there is listed, not applied."""
    records = read_jsonl(table)
    sheet = export(table, tmp_path / "c.csv", "--rows", "claims")
    with open(sheet, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    head = [h for h in rows[0] if h not in ("fingerprint", "corrected_metric_class", "corrected_kind")]
    for row in rows:
        row["evidence"] = {"31%": "31.00%", "8,054": "8054", "2,170": "2170"}.get(row["evidence"], row["evidence"])
        row["paper_id"] = row["paper_id"].removeprefix("arXiv:")
    by_text = {(r["claim_id"].split("#")[0], r["evidence"]): r for r in rows}
    by_text[("2604.06682", "31.00%")]["decision"] = "accept"
    by_text[("2604.07874", "8054")]["decision"] = "reject"
    rows[0]["claim_id"] = "9999.99999#00000000"  # a row of another table, with no decision: ignored
    rows[1]["claim_id"] = "9999.99999#11111111"  # with a decision: listed
    rows[1]["decision"] = "accept"
    with open(sheet, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=head, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    out = tmp_path / "r.jsonl"
    r = apply(sheet, table, out)
    assert "1 accepted, 1 rejected" in r.stderr and "1 rows not applied" in r.stderr, r.stderr
    assert "9999.99999#11111111 is not in the table" in r.stderr and "00000000" not in r.stderr
    after = read_jsonl(out)
    assert claim(after, "2604.06682", "31%")["review"]["decision"] == "accept"
    assert claim(after, "2604.07874", "8,054")["review"]["decision"] == "reject"
    assert len([n for x in after for n in x["headline_numbers"] if n.get("review")]) == 2
    assert len(records) == len(after)


def test_a_sheet_of_an_older_table_applies_where_its_claims_still_stand(table, tmp_path):
    """Between export and apply the table changed (re-extracted, hand-edited): a row whose claim now
    says something else (its fingerprint) is listed and skipped; the rest of the sheet applies.
    With --strict nothing is written."""
    records = read_jsonl(table)
    sheet = export(table, tmp_path / "c.csv", "--rows", "claims")
    with open(sheet, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        if row["paper_id"] == "arXiv:2604.06682":
            row["decision"] = "accept"
    with open(sheet, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    changed = tmp_path / "changed.jsonl"
    for rec in records:
        if rec["id"] == "2604.06682":
            n = next(n for n in rec["headline_numbers"] if n["text"] == "37%")
            n["value"] = 3.7  # the claim now says another number
    changed.write_text("".join(json.dumps(r) + "\n" for r in records))
    out = tmp_path / "r.jsonl"
    r = apply(sheet, changed, out)
    nexus = sum(1 for rec in records if rec["id"] == "2604.06682" for _ in rec["headline_numbers"])
    assert f"{nexus - 1} accepted" in r.stderr and "1 rows not applied" in r.stderr, r.stderr
    assert "has changed since the sheet was exported (it now reads 3.7 on '37%')" in r.stderr
    after = read_jsonl(out)
    assert "review" not in claim(after, "2604.06682", "37%") and claim(after, "2604.06682", "31%")["review"]
    r = run_cli("review", "apply", sheet, "--table", changed, "-o", tmp_path / "s.jsonl", "--strict")
    assert r.returncode == 2 and "nothing written (--strict)" in r.stderr and not (tmp_path / "s.jsonl").exists()


# --- ids stay text --------------------------------------------------------------------------------
def test_pandas_keeps_every_paper_id(table, tmp_path):
    pandas = pytest.importorskip("pandas")
    ids = [r["id"] for r in read_jsonl(table)]
    assert any(i.endswith("0") for i in ids)  # ids a number would lose a digit of (2604.12300)
    papers = pandas.read_csv(export(table, tmp_path / "p.csv"))
    assert [i.removeprefix("arXiv:") for i in papers["paper_id"]] == ids
    assert list(papers["arxiv_id"].str.removeprefix("arXiv:")) == ids
    claims = pandas.read_csv(export(table, tmp_path / "c.csv", "--rows", "claims"))
    assert set(claims["paper_id"].str.removeprefix("arXiv:")) <= set(ids)
    assert pandas.api.types.is_string_dtype(claims["paper_id"])
    assert all(cid.split("#")[0] in ids for cid in claims["claim_id"])


@pytest.mark.skipif(not SOFFICE, reason=NO_SOFFICE)
def test_libreoffice_keeps_every_paper_id(table, tmp_path):
    """LibreOffice opens the CSV (its default import: quoted numbers become numbers) and the XLSX, and
    saves them: every paper id is still the text written."""
    ids = [f"arXiv:{r['id']}" for r in read_jsonl(table)]
    saved = soffice(tmp_path, export(table, tmp_path / "p.csv"), "xlsx", LO_CSV_IN)
    ws = load_workbook(saved)["p"]
    assert [ws.cell(r, 1).value for r in range(2, ws.max_row + 1)] == ids
    with open(lo_csv(tmp_path, saved), encoding="utf-8", newline="") as f:
        assert [row["paper_id"] for row in csv.DictReader(f)] == ids


def test_a_new_rows_paper_id_is_found_however_a_program_wrote_it(table, tmp_path):
    """A reviewer types a bare id in a new row; programs store it as a number (2604.123 or
    2604.1230000000001): the paper is found when exactly one id is that number."""
    for typed in ("2604.123", "2604.1230000000001", "arXiv:2604.12300", " 2604.12300 "):
        sheet = tmp_path / "new.csv"
        sheet.write_text(
            "claim_id,paper_id,evidence,decision,corrected_value,corrected_unit,corrected_metric,note\n"
            f",{typed},TierBPF,add,,,,\n"
        )
        out = tmp_path / "r.jsonl"
        r = apply(sheet, table, out)
        assert "1 added" in r.stderr, (typed, r.stderr)
        assert claim(read_jsonl(out), ADD_TO, "TierBPF")["review"]["decision"] == "add"


# --- it looks right in the programs ---------------------------------------------------------------
@pytest.mark.skipif(not SOFFICE, reason=NO_SOFFICE)
def test_compare_sheet_rows_hold_their_text_in_libreoffice(table, tmp_path):
    """The Compare sheet printed by LibreOffice (PDF): no wrapped cell runs into the next row, a paper
    without a system name is shown by its title's head, and the sheet fits the page width. The
    same check makes the README's screenshot (docs/make_screenshots.py)."""
    pytest.importorskip("pymupdf")
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_screenshots", ROOT / "docs/make_screenshots.py")
    shots = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shots)
    xlsx = export(table, tmp_path / "t.xlsx")
    pdf = shots.sheet_pdf(xlsx, "Compare", tmp_path)
    assert shots.overlapping_words(pdf) == []
    import pymupdf

    with pymupdf.open(pdf) as doc:
        text = " ".join(" ".join(page.get_text().split()) for page in doc)
        widths = {round(page.rect.width) for page in doc}
        headers = sum(page.get_text().count("claim_id") for page in doc)
    # no system name: the whole short title, not "Compiling Away the O" (the old 20-character cut)
    assert "Compiling Away the Overhead of Race Detection" in text
    assert "claim_id" in text and headers >= 10 and widths == {792}  # every column on the page


def test_short_titles_are_cut_at_a_word():
    from extractor.exports.compare import _short_title

    assert _short_title({"title": "Compiling Away the Overhead: A Study of Things"}) == "Compiling Away the Overhead"
    long = _short_title({"title": "In-DRAM True Random Number Generation Using Simultaneous Multiple-Row Activation"})
    assert (
        long.endswith("…")
        and len(long) <= 60
        and long[:-1].rstrip() in "In-DRAM True Random Number Generation Using Simultaneous"
    )


@pytest.mark.skipif(not SSCONVERT, reason=NO_GNUMERIC)
@pytest.mark.filterwarnings("ignore:Workbook contains no default style")
def test_gnumeric_keeps_the_links(table, tmp_path):
    """Gnumeric 1.12 drops a link whose namespace is declared on the link itself (openpyxl's way)."""
    saved = gn_xlsx(tmp_path, export(table, tmp_path / "t.xlsx"))
    wb = load_workbook(saved)
    links = [c.hyperlink.target for c in wb["Papers"]["A"][1:] if c.hyperlink]
    assert len(links) == 60 and links[0].startswith("https://arxiv.org/abs/")
    assert wb["Papers"].row_dimensions[2].height and wb["Papers"].row_dimensions[2].height > 15


# --- reference managers ---------------------------------------------------------------------------
def test_zotero_export_keeps_its_authors_and_ids(tmp_path):
    """A Zotero CSV (no id column): "Last, First; Last, First" authors, one author alone, a DOI whose
    end looks like an arXiv id, and arXiv's own DOI. BibTeX read back keeps every author."""
    bibtexparser = pytest.importorskip("bibtexparser")
    src = tmp_path / "zotero.csv"
    with open(src, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Key", "Item Type", "Publication Year", "Author", "Title", "DOI", "Abstract Note"])
        w.writerow(
            [
                "A1",
                "journalArticle",
                "1978",
                "Lamport, Leslie",
                "Time, Clocks, and the Ordering of Events",
                "10.1145/359545.359563",
                "We present clocks. It is 2x faster.",
            ]
        )
        w.writerow(
            [
                "A2",
                "preprint",
                "2023",
                "Kwon, Woosuk; Li, Zhuohan; Zhuang, Siyuan",
                "Efficient Memory Management for Large Language Model Serving with PagedAttention",
                "10.48550/arXiv.2309.06180",
                "We present vLLM. It improves throughput by 2-4x.",
            ]
        )
        w.writerow(
            [
                "A3",
                "conferencePaper",
                "2020",
                "Doe, Jane",
                "Fast Things",
                "10.1145/1234.5678",
                "We present Fast. It is 3x faster.",
            ]
        )
    # fmt: skip
    out = tmp_path / "t.jsonl"
    r = run_cli("extract", src, "-o", out, "-q")
    assert r.returncode == 0, r.stderr
    a, b, c = read_jsonl(out)
    assert a["authors"] == ["Leslie Lamport"] and b["authors"] == ["Woosuk Kwon", "Zhuohan Li", "Siyuan Zhuang"]
    assert b["id"] == "2309.06180" and b["url"] == "https://arxiv.org/abs/2309.06180"  # arXiv's own DOI
    assert c["id"] == "doi:10.1145/1234.5678" and "arxiv" not in (c.get("url") or "")  # not an arXiv id
    bib = export(out, tmp_path / "t.bib").read_text()
    entries = {e["ID"]: e for e in bibtexparser.loads(bib).entries}
    assert set(entries) == {"lamport1978time", "kwon2023efficient", "doe2020fast"}
    assert entries["lamport1978time"]["author"] == "Leslie Lamport"
    assert entries["kwon2023efficient"]["author"].split(" and ") == ["Woosuk Kwon", "Zhuohan Li", "Siyuan Zhuang"]
    assert entries["kwon2023efficient"]["eprint"] == "2309.06180" and "eprint" not in entries["doe2020fast"]
    assert "eprint" not in entries["lamport1978time"]


def test_class_and_kind_corrections_carry_to_a_re_extraction(reference, tmp_path):
    """A corrected class and kind are corrections like the others: kept through `extract --redo`."""
    table = tmp_path / "t.jsonl"
    table.write_bytes(Path(reference).read_bytes())
    r = run_cli("extract", FIXTURE, EXTRA, "-o", table, "--redo", "-q")
    assert r.returncode == 0, r.stderr
    assert "10 review decisions carried, 0 not carried" in r.stderr, r.stderr
    after = read_jsonl(table)
    nccl = claim(after, "2603.11438", "less than 0.03%")
    assert nccl["metric_class"] == "overhead" and nccl["review"]["history"][-1]["decision"] == "carried"
    assert claim(after, "2603.15042", "69.1%")["kind"] == "context"
    # and the Compare sheet ranks them where the reviewer put them
    wb = load_workbook(export(table, tmp_path / "t.xlsx"))
    rows = [[c.value for c in r] for r in wb["Compare"].iter_rows()]
    block = next(i for i, r in enumerate(rows) if str(r[0]).startswith("Overhead"))
    end = next(i for i in range(block + 2, len(rows)) if rows[i][0] is None and rows[i][2] is None)
    assert any(r[-1] == nccl["id"] for r in rows[block:end])
    assert not any(r[-1] == claim(after, "2603.15042", "69.1%")["id"] for r in rows)  # context: not ranked
