"""Receipt Images Report pages: the format's example, and the ways a field may be printed."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from shared.extraction.expenses import parse_expense_page
from shared.extraction.extract import extract_document
from tests.builders.month import build_month
from tests.conftest import WritePdf

EXAMPLE = """Expense Transaction Date 03/14/2025
1234567
Jane Q. Doe
Fuel
Transaction ID:
90000001
Fuel - truck 12
Expense Title:
Amount :
Address:
100 SAMPLE AVE
61.98
Purpose:
Receipts Notes (1): Fuel for site visit
Merchant Name:
GASMART #0042
Merchant Address:
500 MAIN ST, , SPRINGTOWN, TX, 77001-
Job Coding
Accounts Coding Type :
Job
12345. Sample Plant Expansion
Phase
100.10 Insulation
Cost Type
5
Attachment Name:
receipt_0001.jpg
Request Type:""".splitlines()


def test_the_formats_example_reads_whole() -> None:
    """Every field of the documented example, values before labels and the amount after the address."""
    expense = parse_expense_page(EXAMPLE, page=7)
    assert expense.model_dump(mode="json") == {
        "expense_id": "90000001",
        "employee_number": "1234567",
        "employee_name": "Jane Q. Doe",
        "date": "2025-03-14",
        "amount": "61.98",
        "expense_type": "Fuel",
        "expense_title": "Fuel - truck 12",
        "purpose": "Fuel for site visit",
        "merchant": "GASMART #0042",
        "merchant_address": "500 MAIN ST, , SPRINGTOWN, TX, 77001-",
        "coding": {
            "type": "job",
            "job": "12345. Sample Plant Expansion",
            "phase": "100.10 Insulation",
            "cost_type": "5",
            "gl_account": None,
        },
        "attachments": ["receipt_0001.jpg"],
        "pages": [7],
        "card_number_pages": [],
    }
    assert expense.coding.complete


def test_gl_coding_refund_and_missing_receipt() -> None:
    """GL coding, a negative four-decimal refund, no purpose and an empty attachment are all read."""
    lines = [
        *EXAMPLE[:11],
        "-12.3456",
        "Purpose:",
        "Merchant Name:",
        "GASMART #0042",
        "Merchant Address:",
        "X",
    ]
    lines += ["GL Coding", "Accounts Coding Type :", "GL Account", "6100.200 (Office Supplies)"]
    lines += ["Attachment Name:", "Request Type:"]
    expense = parse_expense_page(lines, page=1)
    assert expense.amount == Decimal("-12.3456")
    assert expense.purpose is None
    assert expense.coding.model_dump() == {
        "type": "gl",
        "job": None,
        "phase": None,
        "cost_type": None,
        "gl_account": "6100.200 (Office Supplies)",
    }
    assert expense.attachments == []


def test_partial_job_coding_is_incomplete() -> None:
    """Job coding without a phase keeps what is there and is not complete."""
    start = EXAMPLE.index("Job Coding")
    lines = [
        *EXAMPLE[:start],
        "Job Coding",
        "Accounts Coding Type :",
        "Job",
        "12345. Sample",
        "Phase",
        "Cost Type",
    ]
    lines += ["Attachment Name:", "r.jpg", "Request Type:"]
    coding = parse_expense_page(lines, page=1).coding
    assert (coding.type, coding.job, coding.phase, coding.cost_type) == ("job", "12345. Sample", None, None)
    assert not coding.complete


def test_values_on_their_labels_line() -> None:
    """`Label: value` on one line reads the same as label and value on two lines."""
    lines = [
        "Expense Transaction Date: 03/14/2025",
        "1234567 Jane Q. Doe",
        "Fuel",
        "Transaction ID: 90000001",
        "Expense Title: Fuel - truck 12",
        "Amount : $1,061.98",
        "Address: 100 SAMPLE AVE",
        "Purpose: Receipts Notes (2): Site visit",
        "Merchant Name: GASMART #0042",
        "Merchant Address: 500 MAIN ST",
        "Job Coding",
        "Accounts Coding Type :",
        "Job: 12345. Sample",
        "Phase: 100.10 Insulation",
        "Cost Type: 5",
        "Attachment Name: a.jpg",
        "Request Type:",
    ]
    expense = parse_expense_page(lines, page=1)
    assert (expense.employee_number, expense.employee_name, expense.expense_title) == (
        "1234567",
        "Jane Q. Doe",
        "Fuel - truck 12",
    )
    assert expense.amount == Decimal("1061.98")
    assert expense.merchant_address == "500 MAIN ST"
    assert expense.purpose == "Site visit"
    assert expense.coding.complete


@pytest.mark.parametrize("missing", ["Transaction ID:", "61.98"])
def test_an_expense_without_id_or_amount_is_refused(missing: str) -> None:
    """No id or no amount: the page is refused (and reported), never read as an expense of 0."""
    with pytest.raises(ValueError, match="no"):
        parse_expense_page([line for line in EXAMPLE if line != missing], page=1)


def test_image_pages_extend_the_expense_and_bad_pages_are_warned(text_pdf: WritePdf) -> None:
    """A page without an expense header adds its number to the previous expense; a broken one is listed."""
    broken = [line for line in EXAMPLE if line != "61.98"]
    pdf = text_pdf([EXAMPLE, ["(receipt image page)"], broken, EXAMPLE])
    document = extract_document(pdf)
    assert [e.pages for e in document.expenses] == [[1, 2], [4]]
    assert document.warnings == ["page 3: expense not understood (no amount)"]


def test_a_card_number_typed_into_an_expense_is_masked_and_its_page_flagged(tmp_path: Path) -> None:
    """A purpose and a merchant holding a card number come out masked, and the pages that show one are
    named so the receipt PDF cut from them is masked too; other expenses are not flagged."""
    truth = build_month(tmp_path, size="small", seed=5, plant="4111111111111111")
    document = extract_document(tmp_path / "receipts.pdf")
    flagged = {e.expense_id: e.card_number_pages for e in document.expenses if e.card_number_pages}
    expected = {
        e["expense_id"]: e["card_number_pages"]
        for e in truth["receipts"]["receipts"]
        if e["card_number_pages"]
    }
    assert flagged == expected
    assert len(flagged) == 2
    texts = [f"{e.purpose} {e.merchant}" for e in document.expenses]
    assert not any("4111111111111111" in t or "4111 1111 1111 1111" in t for t in texts)
    assert any("****1111" in t for t in texts)
