"""Ground truth as JSON-ready dicts: what a correct parser must read back from each PDF.

Decimals are strings exactly as printed (``"3.10900"``, ``"-0.59"``), dates ISO ``YYYY-MM-DD``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.builders.expenses import Expense
    from tests.builders.model import Card, Statement, Transaction


def transaction_truth(card: Card, tx: Transaction) -> dict[str, Any]:
    """One statement row as the parser should return it."""
    return {
        "transaction_number": tx.number,
        "transaction_date": tx.trans_date.isoformat(),
        "posted_date": tx.posted_date.isoformat(),
        "level": tx.level,
        "cardholder": card.person.cardholder,
        "employee_id": card.person.employee_id,
        "card_last4": card.last4,
        "merchant": tx.merchant.statement,
        "city": tx.merchant.city,
        "state": tx.merchant.state,
        "merchant_group": tx.merchant.group,
        "product": tx.product,
        "unit_price": str(tx.unit_price),
        "quantity": str(tx.quantity),
        "gross": str(tx.gross),
        "discount": str(tx.discount),
        "net": str(tx.net),
    }


def statement_truth(statement: Statement, pages: int, broken: Sequence[Card]) -> dict[str, Any]:
    """Truth for a Cardholder Activity Report; ``broken`` cards print a wrong total."""
    return {
        "kind": "cardholder_activity",
        "pages": pages,
        "transactions": [transaction_truth(card, tx) for card in statement.cards for tx in card.transactions],
        "receipts": [],
        "cards": [
            {
                "card_last4": card.last4,
                "cardholder": card.person.cardholder,
                "employee_id": card.person.employee_id,
                "total_net": str(card.total_net),
            }
            for card in statement.cards
        ],
        "expected_checks": [
            {
                "card_last4": card.last4,
                "printed_total": str(card.total_to_print),
                "computed_total": str(card.total_net),
            }
            for card in broken
        ],
    }


# The builders type card numbers in groups of four, joined the same way all along (or not at all).
_CARD = re.compile(r"\d{4}(?P<sep>[^0-9A-Za-z\n]{0,3})\d{4}(?P=sep)\d{4}(?P=sep)\d{4}")


def expense_truth(expense: Expense, pages: Sequence[int]) -> dict[str, Any]:
    """One expense as the parser should return it, with the 1-based pages it spans."""
    coding = expense.coding
    return {
        "expense_id": expense.expense_id,
        "employee_number": expense.employee_number,
        "employee_name": expense.employee_name,
        "date": expense.date.isoformat(),
        "amount": expense.amount_text,
        "expense_type": expense.expense_type,
        "expense_title": expense.title,
        "purpose": expense.purpose,
        "merchant": expense.merchant,
        "merchant_address": expense.merchant_address,
        "coding": {
            "type": coding.type,
            "job": coding.job,
            "phase": coding.phase,
            "cost_type": coding.cost_type,
            "gl_account": coding.gl_account,
        },
        "attachments": [a.name for a in expense.attachments],
        "pages": list(pages),
        # A card number typed into the purpose or merchant shows on the expense's first page.
        "card_number_pages": [pages[0]]
        if any(_CARD.search(v or "") for v in (expense.purpose, expense.merchant))
        else [],
    }


def receipts_truth(
    expenses: Sequence[Expense], page_map: Mapping[str, Sequence[int]], pages: int
) -> dict[str, Any]:
    """Truth for a Receipt Images Report."""
    return {
        "kind": "receipt_images",
        "pages": pages,
        "transactions": [],
        "receipts": [expense_truth(e, page_map[e.expense_id]) for e in expenses],
    }


def _default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def write_json(path: Path | str, truth: Mapping[str, Any]) -> None:
    """Write truth as stable, human-readable UTF-8 JSON."""
    text = json.dumps(truth, indent=2, ensure_ascii=False, default=_default)
    Path(path).write_text(text + "\n", encoding="utf-8")
