"""A statement and a receipts report for the same month, with the true expense-transaction pairs.

Expenses are derived from the statement's transactions the way employees file them: the amount
is the Net Cost, the date the same day or a day or two off, the merchant typed differently and
the employee's name as the expense system knows it. Some transactions get no expense, some
expenses match nothing, one employee has two same-amount transactions, credits get refunds.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from tests.builders import vocab
from tests.builders.expenses import (
    Expense,
    ExpenseMix,
    expense_ids,
    make_expense,
    mileage_amount,
)
from tests.builders.model import (
    Card,
    Person,
    Statement,
    Transaction,
    make_people,
    make_statement,
    with_alias,
)
from tests.builders.receipts import ReceiptStyle, render_receipts
from tests.builders.statement import LineMoves, Producer, RowStyle, render_statement
from tests.builders.truth import receipts_truth, statement_truth, write_json

Size = Literal["small", "month"]


@dataclass(frozen=True)
class Shape:
    """How big a month is."""

    cards: int
    transactions: int
    per_card: tuple[int, int]
    expense_rate: float
    refund_rate: float
    unmatched: int
    cardless_people: int


SHAPES: dict[str, Shape] = {
    "small": Shape(
        cards=6,
        transactions=60,
        per_card=(4, 16),
        expense_rate=0.75,
        refund_rate=0.8,
        unmatched=4,
        cardless_people=1,
    ),
    "month": Shape(
        cards=60,
        transactions=1_500,
        per_card=(5, 45),
        expense_rate=0.70,
        refund_rate=0.8,
        unmatched=45,
        cardless_people=3,
    ),
}
DATE_OFFSETS = (0, 0, 0, 0, 0, 0, 1, 1, 1, -1, -1, 2, 2, -2)


def _ensure_aliases(rng: random.Random, holders: list[Person]) -> None:
    """At least one cardholder needs an alias; one with an accent when a name allows it."""
    if all(p.typed_key == p.cardholder for p in holders):
        i = rng.randrange(len(holders))
        holders[i] = with_alias(rng, holders[i])
    accentable = [i for i, p in enumerate(holders) if p.first in vocab.ACCENTED]
    if accentable:
        i = rng.choice(accentable)
        holders[i] = with_alias(rng, holders[i], accented=True)


def _counts(rng: random.Random, shape: Shape) -> list[int]:
    """Transactions per card summing exactly to ``shape.transactions``."""
    low, high = shape.per_card
    counts = [rng.randint(low, high) for _ in range(shape.cards)]
    while sum(counts) != shape.transactions:
        i = rng.randrange(shape.cards)
        step = 1 if sum(counts) < shape.transactions else -1
        if low <= counts[i] + step <= high:
            counts[i] += step
    return counts


def _same_amount_pair(rng: random.Random, statement: Statement) -> tuple[Transaction, Transaction]:
    """Give one employee two purchases of the same amount 2-4 days apart at different merchants.

    Both will have expenses, so only the date and the merchant tell which is which.
    """
    for card in rng.sample(statement.cards, len(statement.cards)):
        plain = [t for t in card.transactions if t.level == "N" and t.net > 0]
        for a in plain:
            for b in plain:
                gap = (b.trans_date - a.trans_date).days
                if 2 <= gap <= 4 and a.merchant.statement != b.merchant.statement:
                    b.set_plain_amount(a.gross)
                    return a, b
    raise RuntimeError("no card has two suitable purchases; use another seed")


def _expense_day(rng: random.Random, tx: Transaction, end: dt.date) -> dt.date:
    """The date the employee gives: usually the transaction date, sometimes a day or two off."""
    return min(tx.trans_date + dt.timedelta(days=rng.choice(DATE_OFFSETS)), end)


@dataclass
class Draft:
    """An expense before it has an id, with the transaction it belongs to (if any)."""

    person: Person
    merchant: vocab.Merchant
    day: dt.date
    amount: Decimal
    transaction: Transaction | None


def _drafts(
    rng: random.Random,
    statement: Statement,
    shape: Shape,
    pair: tuple[Transaction, Transaction],
    cardless: list[Person],
) -> list[Draft]:
    start, end = statement.period_start, statement.period_end
    drafts: list[Draft] = []
    nets: dict[str, set[Decimal]] = {}
    for card in statement.cards:
        seen = nets.setdefault(card.person.employee_id, set())
        for tx in card.transactions:
            seen.add(tx.net)
            wanted = shape.refund_rate if tx.net < 0 else shape.expense_rate
            paired = any(tx is p for p in pair)
            if paired or rng.random() < wanted:
                day = tx.trans_date if paired else _expense_day(rng, tx, end)
                drafts.append(Draft(card.person, tx.merchant, day, tx.net, tx))
    holders = [c.person for c in statement.cards]
    for n in range(shape.unmatched + 2 * len(cardless)):
        person = cardless[n % len(cardless)] if n < 2 * len(cardless) else rng.choice(holders)
        day = start + dt.timedelta(days=rng.randint(0, (end - start).days))
        if rng.random() < 0.5:
            merchant, amount = vocab.MILEAGE, mileage_amount(rng)
        else:
            merchant = rng.choice(vocab.MERCHANTS)
            amount = Decimal(rng.randint(500, 20_000)).scaleb(-2)
        if amount in nets.get(person.employee_id, set()):
            continue  # an out-of-pocket expense must not look like a card charge
        drafts.append(Draft(person, merchant, day, amount, None))
    return drafts


def _expenses(
    rng: random.Random, drafts: list[Draft], mix: ExpenseMix
) -> tuple[list[Expense], dict[str, str | None]]:
    """Ids in filing (date) order; the report lists expenses by employee, then date."""
    drafts = sorted(drafts, key=lambda d: d.day)
    ids = expense_ids(rng, len(drafts))
    made = []
    for serial, (eid, d) in enumerate(zip(ids, drafts, strict=True), start=1):
        expense = make_expense(rng, eid, d.person, d.merchant, d.day, amount=d.amount, mix=mix, serial=serial)
        made.append((expense, d.transaction.number if d.transaction else None))
    made.sort(key=lambda m: (m[0].employee_name, m[0].date, m[0].expense_id))
    return [m[0] for m in made], {m[0].expense_id: m[1] for m in made}


def _statuses(
    statement: Statement, expenses: list[Expense], matches: dict[str, str | None]
) -> dict[str, str]:
    """The status each transaction gets under the default settings (credits need a refund)."""
    by_tx = {n: e for e in expenses if (n := matches[e.expense_id]) is not None}
    out: dict[str, str] = {}
    for card in statement.cards:
        for tx in card.transactions:
            e = by_tx.get(tx.number)
            receipt, coded = (bool(e.attachments), e.coding.complete) if e else (False, False)
            out[tx.number] = {
                (True, True): "Complete",
                (False, True): "Missing Receipt",
                (True, False): "Missing Coding",
            }.get((receipt, coded), "Missing Both")
    return out


def _aliases(cards: list[Card], expenses: list[Expense]) -> dict[str, str]:
    """Typed-name keys that differ from the cardholder name they stand for."""
    by_number = {c.person.employee_number: c.person for c in cards}
    out: dict[str, str] = {}
    for e in expenses:
        person = by_number.get(e.employee_number)
        if person is not None and person.typed_key != person.cardholder:
            out[person.typed_key] = person.cardholder
    return out


def build_month(
    out_dir: Path | str,
    *,
    seed: int = 0,
    size: Size = "small",
    target_mb: float | None = None,
    rows_per_page: int = 9,
    statement_style: RowStyle = "cells",
    receipts_style: ReceiptStyle = "stacked",
    producer: Producer = "reportlab",
    line_moves: LineMoves = "Td",
    page_break_totals: float = 0.3,
    month: str = "2025-03",
    mix: ExpenseMix | None = None,
    plant: str | None = None,
) -> dict[str, Any]:
    """Write ``statement.pdf``, ``receipts.pdf`` and ``truth.json`` into ``out_dir``.

    ``plant`` (a card number) is typed where people put one by mistake: into a merchant name on the
    statement and into an expense's purpose and merchant in the receipts report.
    ``statement_style``, ``receipts_style``, ``producer`` (both documents) and ``line_moves`` (the
    ``line`` style's ``Td`` or ``Tm``) choose how the documents are drawn, never what they say.
    """
    shape = SHAPES[size]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    people = make_people(rng, shape.cards - 1 + shape.cardless_people, alias_rate=0.12)
    holders = people[: shape.cards - 1]
    _ensure_aliases(rng, holders)
    holders.insert(rng.randrange(1, len(holders)), holders[0])  # one employee holds two cards
    cardless = people[shape.cards - 1 :]
    statement = make_statement(rng, holders, _counts(rng, shape), month=month, split_rate=page_break_totals)
    pair = _same_amount_pair(rng, statement)
    drafts = _drafts(rng, statement, shape, pair, cardless)
    expenses, matches = _expenses(rng, drafts, mix or ExpenseMix(refund_rate=0.0))
    if plant:
        tx = statement.cards[0].transactions[0]
        tx.merchant = replace(tx.merchant, statement=f"{tx.merchant.statement[:6]} {plant}")
        # Typed other ways too: groups joined by dots, and by a slash between spaces.
        expenses[0].purpose = f"card {plant[:4]}.{plant[4:8]}.{plant[8:12]}.{plant[12:]} declined"
        expenses[-1].merchant = f"{plant[:4]} / {plant[4:8]} / {plant[8:12]} / {plant[12:]}"
    st_pages = render_statement(
        out / "statement.pdf",
        statement,
        rows_per_page,
        statement_style,
        producer=producer,
        line_moves=line_moves,
    )
    page_map, rc_pages = render_receipts(
        out / "receipts.pdf",
        expenses,
        seed,
        target_mb,
        style=receipts_style,
        line_moves=line_moves,
        producer=producer,
    )
    truth = {
        "kind": "month_pair",
        "statement": statement_truth(statement, st_pages, []),
        "receipts": receipts_truth(expenses, page_map, rc_pages),
        "matches": matches,
        "aliases": _aliases(statement.cards, expenses),
        "statuses": _statuses(statement, expenses, matches),
        "unmatched_expenses": [eid for eid, tx in matches.items() if tx is None],
    }
    write_json(out / "truth.json", truth)
    return truth
