"""Matching expenses to transactions: the rules, the whole-assignment decision, and statuses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.matching.match import match, reconcile, status_of
from shared.models import Coding, Document, DocumentKind, Expense, Status, Transaction
from shared.settings import Settings

DAY = dt.date(2025, 3, 10)
JOB = Coding(type="job", job="12345. Plant", phase="100.10 Insulation", cost_type="5")
GL = Coding(type="gl", gl_account="6100.200 (Office Supplies)")


def tx(
    number: str, net: str, day: int, merchant: str = "GASMART #0042", holder: str = "JANEDOE"
) -> Transaction:
    return Transaction(
        transaction_number=number,
        transaction_date=DAY + dt.timedelta(days=day),
        merchant=merchant,
        cardholder=holder,
        card_last4="0001",
        net=Decimal(net),
    )


def ex(  # noqa: PLR0917 — a compact factory reads best with positional basics
    expense_id: str,
    amount: str,
    day: int,
    merchant: str = "Gasmart 42",
    name: str = "Jane Doe",
    coding: Coding = JOB,
    attachments: tuple[str, ...] = ("r.jpg",),
) -> Expense:
    return Expense(
        expense_id=expense_id,
        employee_name=name,
        date=DAY + dt.timedelta(days=day),
        amount=Decimal(amount),
        merchant=merchant,
        coding=coding,
        attachments=list(attachments),
        pages=[1],
    )


def pairs_of(transactions: list[Transaction], expenses: list[Expense], **kw: object) -> dict[str, str]:
    found, _ = match(transactions, expenses, aliases=kw.get("aliases", {}), window=kw.get("window", 3))  # type: ignore[arg-type]
    return {transactions[i].transaction_number: expenses[j].expense_id for i, (j, _) in found.items()}


def test_same_amount_twice_is_decided_as_a_whole() -> None:
    """Two same-amount charges: file-order greed would strand one; the best total matches both."""
    transactions = [tx("T1", "40.00", 0), tx("T2", "40.00", 3)]
    # E1 is closest to T1, but it is the only expense within T2's window; E2 is only T1's.
    expenses = [ex("E1", "40.00", 1), ex("E2", "40.00", -2)]
    assert pairs_of(transactions, expenses) == {"T1": "E2", "T2": "E1"}


def test_merchant_breaks_a_tie_of_amount_and_date() -> None:
    """Same employee, amount and date offsets: the more similar merchant wins."""
    transactions = [tx("T1", "25.00", 0, "BIG TEX BBQ"), tx("T2", "25.00", 0, "SUNBELT OFFICE PRO")]
    expenses = [ex("E1", "25.00", 1, "Sunbelt Office Products"), ex("E2", "25.00", 1, "Big Tex Bar-B-Q")]
    assert pairs_of(transactions, expenses) == {"T1": "E2", "T2": "E1"}


def test_credit_matches_the_refund_not_the_charge() -> None:
    """A credit of -50.00 pairs with the -50.00 refund expense, never with the +50.00 charge."""
    transactions = [tx("C1", "-50.00", 0)]
    expenses = [ex("CHARGE", "50.00", 0), ex("REFUND", "-50.00", 1)]
    assert pairs_of(transactions, expenses) == {"C1": "REFUND"}


def test_amount_must_equal_net_to_the_cent() -> None:
    """61.98 matches 61.9800 but not 61.99 (and never PPU/G or gross)."""
    assert pairs_of([tx("T1", "61.98", 0)], [ex("E1", "61.9800", 0)]) == {"T1": "E1"}
    assert pairs_of([tx("T1", "61.98", 0)], [ex("E1", "61.99", 0)]) == {}


def test_date_window_is_a_setting() -> None:
    """Four days apart: no match in the default ±3 window, a match in ±5."""
    assert pairs_of([tx("T1", "9.00", 0)], [ex("E1", "9.00", 4)]) == {}
    assert pairs_of([tx("T1", "9.00", 0)], [ex("E1", "9.00", 4)], window=5) == {"T1": "E1"}


def test_alias_resolves_a_typed_name_and_is_shown() -> None:
    """`Jane Q. Doe` reaches JANEDOE only through the alias table, and the evidence says so."""
    transactions, expenses = [tx("T1", "9.00", 0)], [ex("E1", "9.00", 0, name="Jane Q. Doe")]
    assert pairs_of(transactions, expenses) == {}
    found, _ = match(transactions, expenses, aliases={"JANEQDOE": "JANEDOE"}, window=3)
    evidence = found[0][1]
    assert evidence.via_alias
    assert evidence.employee == "JANEDOE"
    assert any("alias" in rule for rule in evidence.rules)


def test_other_employees_never_match() -> None:
    """Same amount and date on another person's card is not a match."""
    assert pairs_of([tx("T1", "9.00", 0, holder="JOHNROE")], [ex("E1", "9.00", 0)]) == {}


def test_statuses_follow_receipt_and_coding() -> None:
    """Complete, Missing Receipt, Missing Coding, Missing Both — exactly as the reports define them."""
    assert status_of(ex("E", "1", 0)) is Status.COMPLETE
    assert status_of(ex("E", "1", 0, coding=GL)) is Status.COMPLETE
    assert status_of(ex("E", "1", 0, attachments=())) is Status.MISSING_RECEIPT
    assert status_of(ex("E", "1", 0, coding=Coding(type="job", job="1", phase="2"))) is Status.MISSING_CODING
    assert status_of(ex("E", "1", 0, coding=Coding(), attachments=())) is Status.MISSING_BOTH
    assert status_of(None) is Status.MISSING_BOTH


def document(kind: DocumentKind, **items: object) -> Document:
    return Document(file=f"{kind.value}.pdf", kind=kind, pages=1, **items)  # type: ignore[arg-type]


def test_reconcile_lists_unmatched_and_unresolved_without_guessing() -> None:
    """Unmatched expenses and names reaching nobody are listed; a suggestion is offered, never applied."""
    statement = document(
        DocumentKind.CARDHOLDER_ACTIVITY, transactions=[tx("T1", "9.00", 0), tx("T2", "5.00", 0)]
    )
    receipts = document(
        DocumentKind.RECEIPT_IMAGES, receipts=[ex("E1", "9.00", 0), ex("E2", "5.00", 0, name="Jane Q. Doe")]
    )
    result = reconcile(statement, receipts, aliases={}, settings=Settings())
    assert [r.status for r in result.transactions] == [Status.COMPLETE, Status.MISSING_BOTH]
    assert [e.expense_id for e in result.unmatched_expenses] == ["E2"]
    (name,) = result.unresolved_names
    assert (name.normalized, name.side, name.suggestion) == ("JANEQDOE", "receipts", "JANEDOE")


def test_credit_without_refund_follows_the_setting() -> None:
    """An unmatched credit is Missing Both by default and Complete when settings waive the refund."""
    statement = document(DocumentKind.CARDHOLDER_ACTIVITY, transactions=[tx("C1", "-3.00", 0)])
    strict = reconcile(statement, None, aliases={}, settings=Settings())
    lenient = reconcile(statement, None, aliases={}, settings=Settings(credits_need_refund=False))
    assert strict.transactions[0].status is Status.MISSING_BOTH
    assert lenient.transactions[0].status is Status.COMPLETE


amounts = st.sampled_from(["10.00", "10.00", "20.00", "-10.00", "33.33"])
days = st.integers(min_value=-6, max_value=6)
people = st.sampled_from(["JANEDOE", "JOHNROE"])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(amounts, days, people), max_size=8),
    st.lists(st.tuples(amounts, days, people), max_size=8),
)
def test_matching_is_one_to_one_and_obeys_every_rule(
    t_specs: list[tuple[str, int, str]], e_specs: list[tuple[str, int, str]]
) -> None:
    """Any input: each side used at most once; each pair has one employee, equal amount, in window."""
    transactions = [tx(f"T{i}", a, d, holder=p) for i, (a, d, p) in enumerate(t_specs)]
    names = {"JANEDOE": "Jane Doe", "JOHNROE": "John Roe"}
    expenses = [ex(f"E{i}", a, d, name=names[p]) for i, (a, d, p) in enumerate(e_specs)]
    found, _ = match(transactions, expenses, aliases={}, window=3)
    used = [j for j, _ in found.values()]
    assert len(used) == len(set(used))
    for i, (j, _) in found.items():
        t, e = transactions[i], expenses[j]
        assert t.net == e.amount
        assert abs((e.date - t.transaction_date).days) <= 3
        assert t.cardholder == e.employee_name.replace(" ", "").upper()  # type: ignore[union-attr]
    # Maximal: no unmatched transaction could still take an unused expense.
    for i, t in enumerate(transactions):
        if i in found:
            continue
        for j, e in enumerate(expenses):
            if j not in used and t.net == e.amount and abs((e.date - t.transaction_date).days) <= 3:
                assert t.cardholder != e.employee_name.replace(" ", "").upper()  # type: ignore[union-attr]
