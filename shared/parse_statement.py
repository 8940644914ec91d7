"""Stage 3a — parse a statement: text rows → validated `Transaction`s, with totals reconciled.

Rows come from `read.PageText.rows()`: the words on one baseline, joined by one space, each with
where it is printed. The layout's regexes find the fields. Where one regex group spans two printed
columns (merchant + city, merchant group + product), the column header line on the page says where
the second column begins, whoever produced the PDF; a word that runs across a column's edge (a
full-length merchant in a fixed-width font) is cut there first. Only on a page without a header
line do gaps between cells and a documented heuristic decide.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import ValidationError

from shared.layouts import PIECES, StatementLayout
from shared.models import Check, Transaction
from shared.read import PageText
from shared.text_rows import Row
from shared.values import is_doubled, mask_card_numbers, parse_date, parse_money, undouble

# Words that begin multi-word US city names; used only when a row gives no column boundary.
_CITY_PREFIXES = frozenset(
    {
        "SAN",
        "SANTA",
        "LOS",
        "LAS",
        "LAKE",
        "NEW",
        "FORT",
        "FT",
        "PORT",
        "ST",
        "SAINT",
        "EL",
        "LA",
        "DEL",
        "NORTH",
        "SOUTH",
        "EAST",
        "WEST",
        "GRAND",
        "CEDAR",
        "COLLEGE",
        "CORPUS",
        "BATON",
        "BIG",
        "LITTLE",
        "PALM",
        "ROUND",
        "SUGAR",
        "GREEN",
        "HIGH",
        "MOUNT",
        "MT",
        "PALO",
        "DES",
        "BOWLING",
        "CAPE",
        "CHULA",
        "DALY",
        "DEER",
        "BEL",
        "BELLE",
        "BAY",
        "CORAL",
        "DAYTONA",
        "SIOUX",
        "ELK",
        "TWIN",
        "CITY",
        "IOWA",
        "KANSAS",
        "JERSEY",
        "OKLAHOMA",
        "CARSON",
        "COUNCIL",
        "OVERLAND",
        "CRYSTAL",
        "MORENO",
        "RANCHO",
        "SIMI",
        "THOUSAND",
    }
)
_CITY_WORD = re.compile(r"^[A-Z][A-Z.'\-]*$")
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
        self.known_cities: set[str] = set()
        # field -> x where its column begins, read from the latest column header line.
        self.columns: dict[str, float] = {}
        self._cut_columns: tuple[float, ...] = ()
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
        if self._column_header(row):
            return "header"
        # The card block's fields may share a row (two-column header blocks): read every one.
        card_fields = [m.groupdict() for pattern in self.rx.card if (m := pattern.search(text))]
        if card_fields:
            for groups in card_fields:
                self._card_fields(groups)
            return "header"
        if self._block and self._is_body(text):
            self._apply_block()
        if (found := self._transaction_match(row)) is not None:
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

    def _transaction_match(self, row: Row) -> tuple[Row, re.Match[str], bool] | None:
        """A transaction row's match, and whether its cells sit under the page's column header.

        Where they do, a word running across a column's edge is cut there first (and the row read
        again). A producer that prints a row as one string of single-spaced cells, away from its
        header's columns, is read by its cells alone.
        """
        m = self.rx.transaction.search(row.text)
        if not self._cut_columns or not _STARTS_LIKE_ROW.match(row.text):
            return None if m is None else (row, m, False)
        split = row.split_at(self._cut_columns)
        again = self.rx.transaction.search(split.text) if split is not row else None
        if again is not None and self._aligned(again, split):
            return split, again, True
        return None if m is None else (row, m, self._aligned(m, row))

    def _aligned(self, m: re.Match[str], row: Row) -> bool:
        """True when the row's merchant begins where the header's merchant column does."""
        x = self.columns.get("merchant")
        group = "merchant_city" if "merchant_city" in m.re.groupindex else "merchant"
        return x is not None and abs(row.x_at(m.start(group)) - x) <= 0.6 * row.size

    def _column_header(self, row: Row) -> bool:
        """Read where each column begins from a column header line (every label, in order)."""
        columns = self.layout.columns
        if not columns or columns[0].label not in row.text:
            return False
        found: dict[str, float] = {}
        offset = 0
        for column in columns:
            at = row.text.find(column.label, offset)
            if at < 0:
                return False
            offset = at + len(column.label)
            if column.field:
                found[column.field] = row.x_at(at)
        self.columns = found
        # Cut at the columns that follow a text column: where a full-width value runs on.
        self._cut_columns = tuple(
            found[column.field] for prev, column in itertools.pairwise(columns)
            if column.field and prev.field and column.align == "left"
        )  # fmt: skip
        return True

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
            fields["merchant"], fields["city"] = self._split_merchant_city(m, row, aligned)
        if "group_product" in g:
            fields["merchant_group"], fields["product"] = self._split_group_product(m, row, aligned)
        if self.layout.doubled_product and fields.get("product"):
            fields["product"] = undouble(str(fields["product"]))
        return fields

    # -- splitting one regex group that spans two printed columns ------------------------------
    def _split_merchant_city(self, m: re.Match[str], row: Row, aligned: bool) -> tuple[str, str | None]:
        start, end = m.span("merchant_city")
        text = m.group("merchant_city")
        if aligned and "city" in self.columns:
            # The header says where the city column begins: the words from there are the city.
            cut = row.column_start(start, end, self.columns["city"])
            if cut is not None:
                return text[: cut - start].strip(), text[cut - start :].strip()
            if row.x_at(start) >= self.columns["city"] - 0.3 * row.size:
                return "", text.strip()
            return text.strip(), None
        cuts = _cell_starts(row, start, end)
        if cuts:
            # No header to go by: the city is printed as a cell of its own.
            cut = cuts[-1]
            merchant, city = text[:cut].strip(), text[cut:].strip()
            self.known_cities.add(city)
            return merchant, city
        return self._guess_merchant_city(text)

    def _guess_merchant_city(self, text: str) -> tuple[str, str | None]:
        """The whole row was one run: the merchant column's width and city names decide."""
        words = text.split()
        limit = self.layout.merchant_max_length or len(text)
        splits = []
        for i in range(1, len(words)):
            merchant, city = " ".join(words[:i]), " ".join(words[i:])
            if len(merchant) <= limit and all(_CITY_WORD.match(w) for w in words[i:]):
                splits.append((merchant, city, i))
        if not splits:
            return text, None
        for merchant, city, _ in splits:
            if city in self.known_cities:
                return merchant, city
        for merchant, city, _ in splits:
            if len(merchant) == limit:  # a name that fills its column was cut there
                return merchant, city
        # Otherwise the longest merchant, its city taking the words that begin city names.
        _, _, i = splits[-1]
        while i > 1 and words[i - 1] in _CITY_PREFIXES and any(s[2] == i - 1 for s in splits):
            i -= 1
        return " ".join(words[:i]), " ".join(words[i:])

    def _split_group_product(self, m: re.Match[str], row: Row, aligned: bool) -> tuple[str, str | None]:
        start, end = m.span("group_product")
        text = m.group("group_product")
        if aligned and "product" in self.columns:
            cut = row.column_start(start, end, self.columns["product"])
            if cut is None:
                return text.strip(), None
            return text[: cut - start].strip(), text[cut - start :].strip() or None
        words = text.split()
        if self.layout.doubled_product:
            # The product is the text printed with every character twice.
            first_doubled = next((i for i, w in enumerate(words) if i > 0 and is_doubled(w)), len(words))
            return " ".join(words[:first_doubled]), " ".join(words[first_doubled:]) or None
        cuts = _cell_starts(row, start, end)
        if cuts:
            return text[: cuts[0]].strip(), text[cuts[0] :].strip() or None
        return text, None

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


def _cell_starts(row: Row, start: int, end: int) -> list[int]:
    """Offsets, relative to `start`, where a cell begins inside `row.text[start:end]`: after a wide
    gap, or where a separately drawn text touches the one before it."""
    cells = {row.starts[i] for i in row.breaks} | {offset for offset, _ in row.joins}
    return sorted(offset - start for offset in cells if start < offset < end)


def _masked(text: str) -> str:
    return mask_card_numbers(text)[:200]


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:120]
