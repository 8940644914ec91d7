"""Report writers: the exceptions workbook, both CSVs and reconciliation.json, from a built reconciliation."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from shared.models import Reconciliation
from shared.report import REPORTS, write_reports
from shared.report.csv_files import PVAULT_COLUMNS, write_pvault_csv, write_transactions_csv
from shared.report.fields import redact, statement_month
from shared.report.json_file import write_reconciliation_json
from shared.report.workbook import MONEY_FORMAT, write_workbook
from shared.settings import PvaultConventions, Settings
from tests.reconciliations import sample_reconciliation

PVAULT_HEADER = (
    b"Transaction ID,Transaction Date,Transaction Amount,Transaction Name,Vendor Invoice #,"
    b"Invoice Date,Header Description,Job,Phase,Cost Type,GL Account,Item Description,UM,Tax,"
    b"Pay Type,Card Holder,Credit Card Number,Credit Card Vendor\r\n"
)
NOT_COMPLETE = ["100000006", "100000007", "100000008", "100000009"]


@pytest.fixture
def rec() -> Reconciliation:
    """The sample reconciliation: every status, three employees, one of them all Complete."""
    return sample_reconciliation()


def _pvault_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))


def _widths(sheet: openpyxl.worksheet.worksheet.Worksheet) -> dict[int, float]:
    """Column widths by 1-based column; openpyxl reads runs of equal widths as one range."""
    return {col: dim.width for dim in sheet.column_dimensions.values() for col in range(dim.min, dim.max + 1)}


# --- exceptions workbook -------------------------------------------------------------------


def test_workbook_sheets_frozen_and_filtered(rec: Reconciliation, tmp_path: Path) -> None:
    """Every sheet is there, in order, with its header row frozen and a filter over all its rows (the
    totals rows under Summary and Exceptions stay outside it)."""
    book = openpyxl.load_workbook(write_workbook(rec, tmp_path / "x.xlsx"))
    assert book.sheetnames == [
        "Summary",
        "Exceptions",
        "Transactions",
        "Unmatched Expenses",
        "Unresolved Names",
        "Checks",
    ]
    totals = {"Summary": 1, "Exceptions": 2}
    for sheet in book:
        assert sheet.freeze_panes == "A2", sheet.title
        last = sheet.max_row - totals.get(sheet.title, 0)
        assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}{last}"
        widths = _widths(sheet)
        assert all(len(c.value) < widths[c.column] <= 61 for c in sheet[1]), (sheet.title, widths)
    assert book["Transactions"].max_row == 1 + len(rec.transactions)
    assert book["Unmatched Expenses"].max_row == 1 + len(rec.unmatched_expenses)


def test_exceptions_are_exactly_the_incomplete_transactions(rec: Reconciliation, tmp_path: Path) -> None:
    """The Exceptions sheet lists every non-Complete transaction once, with its masked card and status,
    under the column names of the replaced workbook's Incomplete Expenses sheet."""
    sheet = openpyxl.load_workbook(write_workbook(rec, tmp_path / "x.xlsx"))["Exceptions"]
    header = [c.value for c in sheet[1]]
    assert header[:7] == [
        "Employee ID",
        "Employee Name",
        "Card Number",
        "Transaction Date",
        "Transaction Amount",
        "Transaction Name",
        "Status",
    ]
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    rows = rows[: sheet.max_row - 3]  # the totals rows
    assert [r["Transaction #"] for r in rows] == NOT_COMPLETE
    assert rows[0]["Card Number"] == "**** **** **** 0002"
    assert [r["Status"] for r in rows] == [
        "Missing Receipt",
        "Missing Coding",
        "Missing Both",
        "Missing Both",
    ]


def test_dates_are_dates_and_amounts_are_numbers(rec: Reconciliation, tmp_path: Path) -> None:
    """Date cells hold dates and amount cells numbers in the money format, never text."""
    book = openpyxl.load_workbook(write_workbook(rec, tmp_path / "x.xlsx"))
    exceptions = book["Exceptions"]
    for row in exceptions.iter_rows(min_row=2, max_row=exceptions.max_row - 2):
        date, amount = row[3], row[4]
        assert date.is_date
        assert isinstance(date.value, dt.datetime)
        assert isinstance(amount.value, int | float)
        assert amount.number_format == MONEY_FORMAT
    credit = book["Transactions"]["G4"]
    assert credit.value == pytest.approx(-22.18)
    summary = {row[1].value: row for row in book["Summary"].iter_rows(min_row=2)}
    assert summary["JANEDOE"][4].value == pytest.approx(205.30)  # card total over both cards
    assert isinstance(summary["JANEDOE"][3].value, int)


def test_status_cells_are_coloured(rec: Reconciliation, tmp_path: Path) -> None:
    """Missing Both is red, Missing Receipt yellow, Missing Coding orange; Complete has no fill."""
    book = openpyxl.load_workbook(write_workbook(rec, tmp_path / "x.xlsx"))
    fills = {}
    for sheet, column, totals in (("Exceptions", 7, 2), ("Transactions", 8, 0)):
        last = book[sheet].max_row - totals
        for row in book[sheet].iter_rows(min_row=2, max_row=last, min_col=column, max_col=column):
            cell = row[0]
            fills.setdefault(cell.value, set()).add(cell.fill.fgColor.rgb if cell.fill.fill_type else None)
    assert fills == {
        "Missing Both": {"FFFF0000"},
        "Missing Receipt": {"FFFFFF00"},
        "Missing Coding": {"FFFFC000"},
        "Complete": {None},
    }


def test_summary_per_employee(rec: Reconciliation, tmp_path: Path) -> None:
    """Summary: one row per employee with totals and counts, and people with only expenses too."""
    sheet = openpyxl.load_workbook(write_workbook(rec, tmp_path / "x.xlsx"))["Summary"]
    header = [c.value for c in sheet[1]]
    rows = {
        row[1].value: dict(zip(header, (c.value for c in row), strict=True))
        for row in sheet.iter_rows(min_row=2, max_row=sheet.max_row - 1)
    }
    assert list(rows) == ["JANEDOE", "JOHNROE", "MARYPOE", "Bob Q. Smith"]
    jane, john, mary = rows["JANEDOE"], rows["JOHNROE"], rows["MARYPOE"]
    assert jane["Cards"] == "**** **** **** 0001, **** **** **** 0004"
    assert (jane["Complete"], jane["In pVault CSV"]) == (4, "Yes")
    assert (john["Complete"], john["Missing Receipt"], john["In pVault CSV"]) == (1, 1, "No")
    assert john["Unmatched expenses"] == 1  # filed under the same employee number as his matches
    assert john["Expense total"] == pytest.approx(75.25 + 19.99 + 33.00)
    assert (mary["Missing Coding"], mary["Missing Both"]) == (1, 2)
    assert rows["Bob Q. Smith"]["Employee ID"] is None


def test_workbook_text_is_never_a_formula(rec: Reconciliation, tmp_path: Path) -> None:
    """A merchant name starting with `=` is written as text, not as a formula."""
    first = rec.transactions[0]
    tx = first.transaction.model_copy(update={"merchant": '=HYPERLINK("http://x")'})
    rec.transactions[0] = first.model_copy(update={"transaction": tx})
    cell = openpyxl.load_workbook(write_workbook(rec, tmp_path / "x.xlsx"))["Transactions"]["F2"]
    assert cell.data_type == "s"
    assert cell.value == '=HYPERLINK("http://x")'


# --- pVault CSV ----------------------------------------------------------------------------


def test_pvault_bytes(rec: Reconciliation, tmp_path: Path) -> None:
    """UTF-8 without BOM, the exact header, and every line ended by one CR LF (no bare LF, no CR CR)."""
    data = write_pvault_csv(rec, tmp_path / "p.csv", PvaultConventions()).read_bytes()
    assert data.startswith(PVAULT_HEADER)
    assert b"\r\r" not in data
    assert data.endswith(b"\r\n")
    lines = data.split(b"\r\n")[:-1]
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    assert len(lines) == 1 + 4
    assert tuple(PVAULT_HEADER.decode().strip().split(",")) == PVAULT_COLUMNS


def test_pvault_only_all_complete_employees(rec: Reconciliation, tmp_path: Path) -> None:
    """Only JANEDOE (all Complete, both cards) is exported; JOHNROE's one Complete line is held back."""
    rows = _pvault_rows(write_pvault_csv(rec, tmp_path / "p.csv", PvaultConventions()))
    assert [r["Transaction ID"] for r in rows] == ["100000001", "100000002", "100000003", "100000004"]
    assert {r["Card Holder"] for r in rows} == {"JANEDOE"}
    assert "100000005" not in (tmp_path / "p.csv").read_text(encoding="utf-8")


def test_pvault_values_and_conventions(rec: Reconciliation, tmp_path: Path) -> None:
    """Amounts 2 decimals, ISO dates, masked card, codes, and the default conventions of the old export."""
    job, gl, credit, second_card = _pvault_rows(
        write_pvault_csv(rec, tmp_path / "p.csv", PvaultConventions())
    )
    assert job == {
        "Transaction ID": "100000001",
        "Transaction Date": "2025-03-03",
        "Transaction Amount": "61.98",
        "Transaction Name": "Title 90000001",
        "Vendor Invoice #": "0001030125",
        "Invoice Date": "2025-03-01",
        "Header Description": "JANEDOE card ending 0001 03/2025",
        "Job": "12345",
        "Phase": "100.10",
        "Cost Type": "5",
        "GL Account": "",
        "Item Description": "Purpose 90000001",
        "UM": "LS",
        "Tax": "XX",
        "Pay Type": "2",
        "Card Holder": "JANEDOE",
        "Credit Card Number": "**** **** **** 0001",
        "Credit Card Vendor": "WEX",  # the card vendor the invoice is owed to, not the merchant
    }
    assert (gl["Job"], gl["GL Account"], gl["Pay Type"], gl["Transaction Amount"]) == (
        "",
        "6100.200",
        "1",
        "120.00",
    )
    assert credit["Transaction Amount"] == "-22.18"
    assert second_card["Vendor Invoice #"] == "0004030125"


def test_pvault_credit_complete_without_refund(rec: Reconciliation, tmp_path: Path) -> None:
    """A credit Complete without a refund expense is exported, named by its merchant, with no Pay Type."""
    credit = rec.transactions[2]
    rec.transactions[2] = credit.model_copy(update={"expense": None, "evidence": None})
    row = _pvault_rows(write_pvault_csv(rec, tmp_path / "p.csv", PvaultConventions()))[2]
    assert (row["Transaction ID"], row["Transaction Amount"]) == ("100000003", "-22.18")
    assert row["Transaction Name"] == row["Item Description"] == "GASMART #0042"
    assert (row["Job"], row["GL Account"], row["Pay Type"]) == ("", "", "")


def test_pvault_conventions_come_from_settings(rec: Reconciliation, tmp_path: Path) -> None:
    """UM, Tax, Pay Types, the invoice number format and the card vendor (`PVAULT_CARD_VENDOR`) follow
    the settings, through write_reports."""
    conventions = PvaultConventions(
        unit_of_measure="EA",
        tax="NT",
        pay_type_job="J",
        pay_type_gl="G",
        vendor_invoice_format="CC{card_last4}-{month:%Y%m}",
    )
    settings = Settings(pvault=conventions, pvault_card_vendor="Visa")
    write_reports(rec, tmp_path, receipts_pdf=None, settings=settings)
    job, gl, *_ = _pvault_rows(tmp_path / REPORTS["pvault"].file_name)
    assert (job["UM"], job["Tax"], job["Pay Type"], gl["Pay Type"]) == ("EA", "NT", "J", "G")
    assert job["Vendor Invoice #"] == "CC0001-202503"
    assert job["Credit Card Vendor"] == gl["Credit Card Vendor"] == "Visa"


def test_statement_month_without_a_period(rec: Reconciliation, tmp_path: Path) -> None:
    """With no statement period, the month is the one most transactions fall in."""
    rec.period_start = None
    late = rec.transactions[0].transaction.model_copy(update={"transaction_date": dt.date(2025, 2, 27)})
    rec.transactions[0] = rec.transactions[0].model_copy(update={"transaction": late})
    assert statement_month(rec) == dt.date(2025, 3, 1)
    rows = _pvault_rows(write_pvault_csv(rec, tmp_path / "p.csv", PvaultConventions()))
    assert {r["Vendor Invoice #"] for r in rows} == {"0001030125", "0004030125"}
    assert {r["Invoice Date"] for r in rows} == {"2025-03-01"}


def test_pvault_without_transactions_is_just_the_header(tmp_path: Path) -> None:
    """A reconciliation without a statement still gives a valid pVault file: the header alone."""
    data = write_pvault_csv(Reconciliation(), tmp_path / "p.csv", PvaultConventions()).read_bytes()
    assert data == PVAULT_HEADER


# --- transactions CSV and reconciliation.json ----------------------------------------------


def test_transactions_csv_has_every_transaction(rec: Reconciliation, tmp_path: Path) -> None:
    """Every transaction appears once with its status and matched expense; CRLF lines, BOM for Excel."""
    data = write_transactions_csv(rec, tmp_path / "t.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfTransaction #,")
    assert b"\r\r" not in data
    assert data.count(b"\r\n") == data.count(b"\n") == 1 + len(rec.transactions)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [(r["Transaction #"], r["Status"], r["Expense ID"]) for r in rows] == [
        (rt.transaction.transaction_number, rt.status.value, rt.expense.expense_id if rt.expense else "")
        for rt in rec.transactions
    ]
    assert rows[0]["Evidence"] == "Strong match: same person, same amount, same day, similar merchant"
    assert rows[0]["Confidence (0-100)"] == "99"
    assert rows[0]["Card"] == "**** **** **** 0001"


def test_transactions_csv_defuses_formulas(rec: Reconciliation, tmp_path: Path) -> None:
    """Free text a spreadsheet would run as a formula is made literal; negative amounts stay numbers."""
    first = rec.transactions[0]
    tx = first.transaction.model_copy(update={"merchant": "=cmd|' /C calc'!A0"})
    rec.transactions[0] = first.model_copy(update={"transaction": tx})
    rows = list(
        csv.DictReader(io.StringIO(write_transactions_csv(rec, tmp_path / "t.csv").read_text("utf-8-sig")))
    )
    assert rows[0]["Merchant"] == "'=cmd|' /C calc'!A0"
    assert rows[2]["Amount"] == "-22.18"


def test_reconciliation_json_shape(rec: Reconciliation, tmp_path: Path) -> None:
    """The core shape (transactions with number, expense id and status; unmatched expense ids) and extras."""
    doc = json.loads(write_reconciliation_json(rec, tmp_path / "r.json").read_text("utf-8"))
    assert [
        {k: t[k] for k in ("transaction_number", "expense_id", "status")} for t in doc["transactions"]
    ] == [
        {
            "transaction_number": rt.transaction.transaction_number,
            "expense_id": rt.expense.expense_id if rt.expense else None,
            "status": rt.status.value,
        }
        for rt in rec.transactions
    ]
    assert doc["unmatched_expenses"] == ["90000010", "90000011"]
    assert doc["counts"] == {"Complete": 5, "Missing Receipt": 1, "Missing Coding": 1, "Missing Both": 2}
    assert doc["statement_month"] == "2025-03-01"
    assert doc["pvault_employees"] == ["100001"]
    assert doc["held_back_employees"] == ["100002", "100003"]
    assert [h["employee"] for h in doc["pvault"]["held_back"]] == doc["held_back_employees"]
    assert (doc["pvault"]["employees"], doc["pvault"]["rows"], doc["pvault"]["amount"]) == (1, 4, "205.30")
    assert doc["transactions"][2]["amount"] == "-22.18"  # money travels as a string
    assert doc["transactions"][0]["evidence"]["score"] == 0.93
    assert doc["unresolved_names"][0]["suggestion"] == "BOBSMITH"
    assert doc["checks"][0]["printed"] == "320.40"
    assert doc["warnings"] == ["page 4: one line could not be read"]
    assert Decimal(doc["transactions"][0]["amount"]) == Decimal("61.98")


def test_write_reports_without_receipts_writes_everything(rec: Reconciliation, tmp_path: Path) -> None:
    """With no receipts report every report still comes out (the ZIP empty); progress reaches its total."""
    seen: list[tuple[int, int]] = []
    paths = write_reports(
        rec, tmp_path / "out", receipts_pdf=None, settings=Settings(), progress=lambda *a: seen.append(a)
    )
    assert [p.name for p in paths] == [r.file_name for r in REPORTS.values()]
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert seen[-1] == (len(REPORTS), len(REPORTS))
    assert {r.media_type for r in REPORTS.values()} >= {"application/zip", "application/json"}


def test_redact_masks_card_shaped_runs_only() -> None:
    """Card-shaped digit runs are masked to the last 4; amounts, dates, ids and long references are not."""
    assert redact("paid 4111111111111111 ok") == "paid **** **** **** 1111 ok"
    assert redact("card 4111-1111-1111-1234.") == "card **** **** **** 1234."
    assert redact("amex 3714 496353 98431") == "amex **** **** **** 8431"
    kept = "1303.8299999999999 2025-03-14 90000001 12345678901234567 ref A4111111111111111"
    assert redact(kept) == kept


def test_pvault_csv_defuses_formulas(rec: Reconciliation, tmp_path: Path) -> None:
    """pvault.csv's free text that a spreadsheet would run as a formula is made literal too: a merchant
    reaching the line's name and description, and a card vendor as configured."""
    first = rec.transactions[0]
    tx = first.transaction.model_copy(update={"merchant": "=cmd|' /C calc'!A0"})
    assert first.expense is not None
    bare = first.expense.model_copy(update={"expense_title": None, "expense_type": None, "purpose": None})
    rec.transactions[0] = first.model_copy(update={"transaction": tx, "expense": bare})
    conventions = PvaultConventions(card_vendor="@SUM(1)")
    rows = _pvault_rows(write_pvault_csv(rec, tmp_path / "p.csv", conventions))
    assert rows[0]["Transaction Name"] == rows[0]["Item Description"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["Credit Card Vendor"] == "'@SUM(1)"
    assert all(not value.startswith(("=", "+", "@")) for row in rows for value in row.values())
