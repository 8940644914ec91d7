"""Stage 3a — parse a statement: text rows → validated `Transaction`s, with totals reconciled.

Rows come from `read.PageText.rows()`: the words on one baseline, joined by one space, each with
where it is printed. The layout's regexes find the fields. Where one regex group spans two printed
columns (merchant + city, merchant group + product), the column header line on the page says where
the second column begins, whoever produced the PDF (`shared.extraction.columns`); a word that runs
across a column's edge is cut there first. Only on a row away from its header do gaps between
cells and a documented heuristic decide.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import ValidationError

from shared.extraction.columns import StatementColumns
from shared.extraction.layouts import PIECES, StatementLayout
from shared.models import Check, Transaction
from shared.pdf.read import PageText
from shared.pdf.rows import Row
from shared.values import mask_card_numbers, parse_date, parse_money, undouble

_STARTS_LIKE_ROW = re.compile(r"^" + PIECES["date"] + r"\b")
_MAX_WARNINGS = 50


@dataclass
class _Card:
    masked: str | None = None
    last4: str | None = None
    cardholder: str | None = None
    employee_id: str | None = None
    net_sum: Decimal = Decimal(0)
    count: int = 0
    totalled: bool = False


@dataclass
class _Pending:
    transaction: Transaction
    page: int
    amounts: dict[str, Decimal | None]


@dataclass
class StatementResult:
    """What one statement yielded."""

    transactions: list[Transaction] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    period_start: dt.date | None = None
    period_end: dt.date | None = None


class StatementParser:
    """A state machine over a statement's rows, page after page."""

    def __init__(self, layout: StatementLayout) -> None:
        self.layout = layout
        self.rx = layout.compiled
        self.result = StatementResult()
        self.card = _Card()
        self.pending: _Pending | None = None
        self.columns = StatementColumns(layout, self.rx.transaction)
        self._seen_numbers: set[str] = set()
        self._block: dict[str, str] = {}
        self._unparsed = 0

    # -- driving -------------------------------------------------------------------------------
    def feed(self, page: PageText) -> None:
        """Parse one page's rows; state (card, a row awaiting its totals) carries to the next page."""
        in_header = True
        for row in page.rows():
            handled = self._row(row, page.number)
            if handled == "body":
                in_header = False
            elif handled is None:
                self._unrecognised(row.text, page.number, quiet=in_header)

    def _is_body(self, text: str) -> bool:
        body = (self.rx.transaction, self.rx.transaction_totals, self.rx.card_totals)
        return any(p is not None and p.search(text) for p in body)

    def finish(self) -> StatementResult:
        """Close the last row and card, and return everything found."""
        if self._block:
            self._apply_block()
        self._close_pending()
        self._close_card()
        if self._unparsed > _MAX_WARNINGS:
            self._warn(f"{self._unparsed - _MAX_WARNINGS} more unrecognised rows not listed")
        if not self.result.transactions:
            self.result.checks.append(
                Check(code="no_transactions", message="no transaction rows were recognised in this statement")
            )
        return self.result

    # -- one row -------------------------------------------------------------------------------
    def _row(self, row: Row, page: int) -> str | None:
        text = row.text
        if self.columns.header(row):
            return "header"
        # The card block's fields may share a row (two-column header blocks): read every one.
        card_fields = [m.groupdict() for pattern in self.rx.card if (m := pattern.search(text))]
        if card_fields:
            for groups in card_fields:
                self._card_fields(groups)
            return "header"
        if self._block and self._is_body(text):
            self._apply_block()
        if (found := self.columns.match(row)) is not None:
            self._transaction(*found, page)
            return "body"
        if self.rx.transaction_totals and (m := self.rx.transaction_totals.search(text)):
            self._transaction_totals(m.groupdict(), page)
            return "body"
        if self.rx.card_totals and (m := self.rx.card_totals.search(text)):
            self._card_totals(m.groupdict(), page)
            return "body"
        if self.rx.period and (m := self.rx.period.search(text)):
            self._period(m.groupdict())
            return "header"
        if any(p.search(text) for p in self.rx.skip):
            return "header"
        return None

    def _card_fields(self, groups: dict[str, str | None]) -> None:
        # Card block rows may come in any order; they take effect at the next body row.
        self._block.update({k: v.strip() for k, v in groups.items() if v and v.strip()})

    def _apply_block(self) -> None:
        block, self._block = self._block, {}
        last4 = block.get("card_last4")
        if last4 and last4 != self.card.last4:
            self._close_pending()
            self._close_card()
            self.card = _Card(masked=block.get("card_masked"), last4=last4)
        self.card.cardholder = block.get("cardholder", self.card.cardholder)
        self.card.employee_id = block.get("employee_id", self.card.employee_id)

    def _transaction(self, row: Row, m: re.Match[str], aligned: bool, page: int) -> None:
        self._close_pending()
        try:
            fields = self._fields(m, row, aligned)
            transaction = Transaction(page=page, **fields)
        except (ValueError, ValidationError) as exc:
            self._warn(
                f"page {page}: transaction row not understood ({_first_line(exc)}): {_masked(row.text)}"
            )
            return
        if transaction.transaction_number in self._seen_numbers:
            self._warn(f"page {page}: transaction {transaction.transaction_number} appears twice")
        self._seen_numbers.add(transaction.transaction_number)
        t = transaction
        self.pending = _Pending(t, page, {"gross": t.gross, "discount": t.discount, "net": t.net})
        if t.gross is not None and t.discount is not None and t.gross - t.discount != t.net:
            self._check(
                "row_arithmetic",
                f"transaction {t.transaction_number}: gross - discount != net",
                transaction=t,
                page=page,
                printed=t.net,
                computed=t.gross - t.discount,
            )

    def _fields(self, m: re.Match[str], row: Row, aligned: bool) -> dict[str, object]:
        g = {k: v.strip() for k, v in m.groupdict().items() if v is not None and v.strip()}
        dates = self.layout.date_formats
        fields: dict[str, object] = {
            "transaction_number": g["transaction_number"],
            "transaction_date": parse_date(g["transaction_date"], dates),
            "card_last4": self.card.last4,
            "cardholder": self.card.cardholder,
            "employee_id": self.card.employee_id,
        }
        if "posted_date" in g:
            fields["posted_date"] = parse_date(g["posted_date"], dates)
        for name in ("level", "state", "merchant", "city", "merchant_group", "product"):
            if name in g:
                fields[name] = g[name]
        for name in ("unit_price", "quantity", "gross", "discount", "net"):
            if name in g:
                fields[name] = parse_money(g[name])
        if "merchant_city" in g:
            fields["merchant"], fields["city"] = self.columns.merchant_city(m, row, aligned)
        if "group_product" in g:
            fields["merchant_group"], fields["product"] = self.columns.group_product(m, row, aligned)
        if self.layout.doubled_product and fields.get("product"):
            fields["product"] = undouble(str(fields["product"]))
        return fields

    # -- splitting one regex group that spans two printed columns ------------------------------
    # -- totals --------------------------------------------------------------------------------
    def _transaction_totals(self, groups: dict[str, str | None], page: int) -> None:
        pending = self.pending
        if pending is None:
            self._warn(f"page {page}: a Transaction Totals line follows no transaction row")
            return
        for name, printed_text in groups.items():
            if printed_text is None or name not in pending.amounts:
                continue
            printed, row_value = parse_money(printed_text), pending.amounts[name]
            if row_value is not None and printed != row_value:
                self._check(
                    "transaction_totals_mismatch",
                    f"transaction {pending.transaction.transaction_number}: {name} on its row "
                    f"{row_value} differs from its totals line {printed}",
                    transaction=pending.transaction,
                    page=page,
                    printed=printed,
                    computed=row_value,
                )
        self._accept(pending.transaction)
        self.pending = None

    def _close_pending(self) -> None:
        pending = self.pending
        if pending is not None:
            if self.rx.transaction_totals is not None:
                self._check(
                    "missing_transaction_totals",
                    f"transaction {pending.transaction.transaction_number} has no Transaction Totals line",
                    transaction=pending.transaction,
                    page=pending.page,
                )
            self._accept(pending.transaction)
            self.pending = None

    def _accept(self, transaction: Transaction) -> None:
        self.result.transactions.append(transaction)
        self.card.net_sum += transaction.net
        self.card.count += 1

    def _card_totals(self, groups: dict[str, str | None], page: int) -> None:
        self._close_pending()
        last4, printed = groups.get("card_last4"), parse_money(groups["total"] or "0")
        if last4 != self.card.last4:
            self._warn(f"page {page}: card total for card ending {last4} outside that card's rows")
            return
        self.card.totalled = True
        if printed != self.card.net_sum:
            self._check(
                "card_total_mismatch",
                f"card ending {last4}: printed total {printed} but its {self.card.count} transactions "
                f"sum to {self.card.net_sum}",
                page=page,
                printed=printed,
                computed=self.card.net_sum,
            )

    def _close_card(self) -> None:
        if self.card.last4 and self.card.count and not self.card.totalled and self.rx.card_totals:
            self._check(
                "missing_card_total",
                f"card ending {self.card.last4}: no Totals For Card line after its {self.card.count} "
                "transactions",
                computed=self.card.net_sum,
            )

    def _period(self, groups: dict[str, str | None]) -> None:
        dates = self.layout.date_formats
        if groups.get("period_start"):
            self.result.period_start = parse_date(groups["period_start"] or "", dates)
        if groups.get("period_end"):
            self.result.period_end = parse_date(groups["period_end"] or "", dates)

    # -- reporting -----------------------------------------------------------------------------
    def _check(
        self,
        code: str,
        message: str,
        *,
        transaction: Transaction | None = None,
        page: int | None = None,
        printed: Decimal | None = None,
        computed: Decimal | None = None,
    ) -> None:
        self.result.checks.append(
            Check(
                code=code,
                message=message,
                card_last4=transaction.card_last4 if transaction else self.card.last4,
                transaction_number=transaction.transaction_number if transaction else None,
                page=page,
                printed=printed,
                computed=computed,
            )
        )

    def _unrecognised(self, text: str, page: int, *, quiet: bool) -> None:
        # Report-header rows (before a page's first transaction) vary by issuer and are skipped;
        # a row that starts like a transaction, or any row among transactions, is reported.
        if quiet and not _STARTS_LIKE_ROW.match(text):
            return
        self._unparsed += 1
        if self._unparsed <= _MAX_WARNINGS:
            self._warn(f"page {page}: row not recognised: {_masked(text)}")

    def _warn(self, message: str) -> None:
        self.result.warnings.append(message)


def parse_statement(pages: Iterable[PageText], layout: StatementLayout) -> StatementResult:
    """Parse a statement's pages, in order, with `layout`."""
    parser = StatementParser(layout)
    for page in pages:
        parser.feed(page)
    return parser.finish()


def _masked(text: str) -> str:
    return mask_card_numbers(text)[:200]


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:120]
