"""The statement pitfalls the replaced system fell into, each pinned on the format's own example."""

from __future__ import annotations

from decimal import Decimal

from shared.extraction.extract import extract_document
from tests.conftest import WritePdf

HEADER = [
    "Cardholder Activity Report General",
    "Produced On: 4/2/2025 8:14:07AM Card Token: ALL",
    "Posted Date between 3/1/2025 and 3/31/2025 Employee Number: ALL",
]


def card_block(last4: str, name: str, employee: str) -> list[str]:
    return [
        "Account Code: Z-11Q - EXAMPLE CO, LLC EXAMPLE CO, LLC",
        "Customer ID: QQ1AA 100 SAMPLE AVE #1",
        f"Card Number: 999999XXXXXX{last4} ANYTOWN, TX 77000-0000",
        f"Cardholder Name: {name}",
        f"Employee ID: {employee}",
        "Trans Date Posted Date Lvl Transaction # Merchant Name City, State Merchant Group "
        "Product Description PPU/G Quantity Gross Cost Discount Net Cost",
    ]


FUEL = (
    "03/07/2025 03/08/2025 F 000111003 GASMART #0042 ANYTOWN, TX FUEL DD22 LLSS"
    " PPRREEMM 3.10900 20.00 $62.18 $0.20 $61.98"
)
FUEL_TOTALS = "Transaction Totals: $62.18 $0.20 $61.98"
CREDIT = (
    "03/09/2025 03/11/2025 L 000111004 GASMART #0042 ANYTOWN, TX FUEL MMIISSCC"
    " 2.95000 -0.20 -$0.59 $0.00 -$0.59"
)
CREDIT_TOTALS = "Transaction Totals: -$0.59 $0.00 -$0.59"
NO_PRODUCT = (
    "03/12/2025 03/13/2025 N 000111005 COOL AIR SERVICE C LAKEVILLE, LA MISC"
    " 125.00000 1.00 $125.00 $0.00 $125.00"
)
NO_PRODUCT_TOTALS = "Transaction Totals: $125.00 $0.00 $125.00"
OTHER_CARD = (
    "03/03/2025 03/04/2025 N 000111001 WIDGETWORKS SUPPLY KATY, TX MISC OOTTHHEERR"
    " 412.50000 1.00 $412.50 $0.00 $412.50"
)


def test_net_not_price_per_gallon_credits_and_rows_without_product(text_pdf: WritePdf) -> None:
    """Net Cost is the amount (not PPU/G); a credit and a row with no product are kept with signs."""
    page = [
        *HEADER,
        *card_block("0001", "JANEDOE", "100001"),
        FUEL,
        FUEL_TOTALS,
        CREDIT,
        CREDIT_TOTALS,
        NO_PRODUCT,
        NO_PRODUCT_TOTALS,
        "Totals For Card Nbr: 999999XXXXXX0001 $186.39",
    ]
    document = extract_document(text_pdf([page]))
    fuel, credit, plain = document.transactions
    assert (fuel.net, fuel.unit_price, fuel.product, fuel.discount) == (
        Decimal("61.98"),
        Decimal("3.10900"),
        "D2 LS PREM",
        Decimal("0.20"),
    )
    assert (credit.net, credit.quantity, credit.level) == (Decimal("-0.59"), Decimal("-0.20"), "L")
    assert (plain.merchant, plain.city, plain.state, plain.product) == (
        "COOL AIR SERVICE C",
        "LAKEVILLE",
        "LA",
        None,
    )
    assert document.checks == []
    assert (document.period_start.isoformat(), document.period_end.isoformat()) == (
        "2025-03-01",
        "2025-03-31",
    )


def test_cardholder_follows_each_card_block_and_page_break_totals(text_pdf: WritePdf) -> None:
    """Each row belongs to its own card's holder; a totals line after the next page's header still counts."""
    first = [*HEADER, *card_block("0001", "JANEDOE", "100001"), FUEL]
    second = [
        *card_block("0001", "JANEDOE", "100001"),
        FUEL_TOTALS,
        "Totals For Card Nbr: 999999XXXXXX0001 $61.98",
    ]
    third = [
        *card_block("0002", "JOHNROE", "100002"),
        OTHER_CARD,
        "Transaction Totals: $412.50 $0.00 $412.50",
    ]
    third.append("Totals For Card Nbr: 999999XXXXXX0002 $412.50")
    document = extract_document(text_pdf([first, second, third]))
    assert [
        (t.transaction_number, t.cardholder, t.employee_id, t.card_last4) for t in document.transactions
    ] == [
        ("000111003", "JANEDOE", "100001", "0001"),
        ("000111001", "JOHNROE", "100002", "0002"),
    ]
    assert document.checks == []


def test_card_block_in_any_order_sharing_rows_and_three_card_totals(text_pdf: WritePdf) -> None:
    """Card fields are read wherever they sit; a card total with gross, discount and net uses net."""
    page = [
        *HEADER,
        "Cardholder Name: JANEDOE Employee ID: 100001",
        "Card Number: 999999XXXXXX0001 ANYTOWN, TX 77000-0000",
        FUEL,
        FUEL_TOTALS,
        "Totals For Card Nbr: 999999XXXXXX0001 $62.18 $0.20 $61.98",
    ]
    document = extract_document(text_pdf([page]))
    (row,) = document.transactions
    assert (row.cardholder, row.employee_id, row.card_last4) == ("JANEDOE", "100001", "0001")
    assert document.checks == []


def test_missing_and_mismatched_totals_are_checks(text_pdf: WritePdf) -> None:
    """A row whose totals line disagrees, and a card with no total line, are reported, not hidden."""
    page = [
        *HEADER,
        *card_block("0001", "JANEDOE", "100001"),
        FUEL,
        "Transaction Totals: $62.18 $0.20 $61.99",
        *card_block("0002", "JOHNROE", "100002"),
        OTHER_CARD,
    ]
    document = extract_document(text_pdf([page]))
    assert len(document.transactions) == 2
    assert sorted(c.code for c in document.checks) == [
        "missing_card_total",
        "missing_card_total",
        "missing_transaction_totals",
        "transaction_totals_mismatch",
    ]


def test_unrecognised_rows_are_warned_with_cards_masked(text_pdf: WritePdf) -> None:
    """A row among transactions that matches nothing is listed; a full card number in it is masked."""
    page = [
        *HEADER,
        *card_block("0001", "JANEDOE", "100001"),
        FUEL,
        FUEL_TOTALS,
        "03/10/2025 garbled row for card 4111111111111111",
        "Totals For Card Nbr: 999999XXXXXX0001 $61.98",
    ]
    document = extract_document(text_pdf([page]))
    (warning,) = document.warnings
    assert "row not recognised" in warning
    assert "****1111" in warning
    assert "4111111111111111" not in warning
