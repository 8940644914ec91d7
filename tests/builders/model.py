"""The random statement model: people, cards and transactions, before anything is drawn."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from tests.builders import vocab
from tests.builders.formats import cents
from tests.builders.vocab import Merchant

FIVE_PLACES = Decimal("0.00001")


@dataclass(frozen=True)
class Person:
    """An employee: one name on the statement, possibly typed differently in the expense system."""

    first: str
    last: str
    typed_name: str
    employee_id: str
    employee_number: str

    @property
    def cardholder(self) -> str:
        """The statement's ``Cardholder Name``: first and last run together, upper case."""
        return self.first + self.last

    @property
    def typed_key(self) -> str:
        """The typed name upper-cased with spaces and dots removed."""
        return self.typed_name.upper().replace(" ", "").replace(".", "")


@dataclass
class Transaction:
    """One statement row with its printed values."""

    number: str
    trans_date: dt.date
    posted_date: dt.date
    level: str
    merchant: Merchant
    product: str | None
    unit_price: Decimal
    quantity: Decimal
    gross: Decimal
    discount: Decimal

    @property
    def net(self) -> Decimal:
        """Net Cost, the amount charged."""
        return self.gross - self.discount

    def set_plain_amount(self, gross: Decimal) -> None:
        """Make this a non-fuel row charging ``gross`` (PPU/G equals the gross, quantity +-1)."""
        self.level = "N"
        self.unit_price = abs(gross).quantize(FIVE_PLACES)
        self.quantity = Decimal("-1.00") if gross < 0 else Decimal("1.00")
        self.gross = gross
        self.discount = Decimal("0.00")


@dataclass
class Card:
    """One card block: its holder, its transactions in print order and the printed total."""

    last4: str
    person: Person
    transactions: list[Transaction] = field(default_factory=list)
    printed_total: Decimal | None = None
    split_totals: bool = False

    @property
    def total_net(self) -> Decimal:
        """The true sum of the card's net amounts."""
        return sum((t.net for t in self.transactions), Decimal("0.00"))

    @property
    def total_to_print(self) -> Decimal:
        """The total printed on ``Totals For Card Nbr`` (wrong only when deliberately broken)."""
        return self.total_net if self.printed_total is None else self.printed_total


@dataclass
class Statement:
    """A whole Cardholder Activity Report."""

    period_start: dt.date
    period_end: dt.date
    produced_on: dt.datetime
    cards: list[Card]


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """First and last day of a ``YYYY-MM`` month."""
    first = dt.date.fromisoformat(month + "-01")
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, nxt - dt.timedelta(days=1)


def make_people(rng: random.Random, count: int, alias_rate: float = 0.0) -> list[Person]:
    """Distinct employees; ``alias_rate`` of them type a name that needs an alias."""
    pairs = [(f, last) for f in vocab.FIRST_NAMES for last in vocab.LAST_NAMES]
    chosen = rng.sample(pairs, count)
    ids = rng.sample(range(100_000, 1_000_000), count)
    numbers = rng.sample(range(1_000_000, 10_000_000), count)
    people = []
    for (first, last), emp_id, emp_no in zip(chosen, ids, numbers, strict=True):
        typed = _typed_name(rng, first, last, needs_alias=rng.random() < alias_rate)
        people.append(Person(first, last, typed, str(emp_id), str(emp_no)))
    return people


def with_alias(rng: random.Random, person: Person, accented: bool = False) -> Person:
    """The same person, typing a name that needs an alias (accented when asked and possible)."""
    if accented and person.first in vocab.ACCENTED:
        typed = f"{vocab.ACCENTED[person.first]} {person.last.title()}"
    else:
        typed = _typed_name(rng, person.first, person.last, needs_alias=True)
    return replace(person, typed_name=typed)


def _typed_name(rng: random.Random, first: str, last: str, needs_alias: bool) -> str:
    """The employee's name as typed in the expense system."""
    title_first, title_last = first.title(), last.title()
    if needs_alias:
        options = [f"{title_first} {rng.choice('ABCDEJKLMRSTW')}. {title_last}"]
        if first in vocab.NICKNAMES:
            options.append(f"{vocab.NICKNAMES[first]} {title_last}")
        if first in vocab.ACCENTED:
            options.append(f"{vocab.ACCENTED[first]} {title_last}")
        return rng.choice(options)
    return rng.choice((f"{title_first} {title_last}", f"{title_first} {title_last}", f"{first} {last}"))


@dataclass(frozen=True)
class Mix:
    """How often the variants of a transaction occur."""

    credit_rate: float = 0.08
    no_product_rate: float = 0.15
    fuel_rate: float = 0.45
    fuel_discount_rate: float = 0.35
    long_merchant_rate: float | None = None


def _pick_merchant(rng: random.Random, kind_fuel: bool, mix: Mix) -> Merchant:
    pool = [m for m in vocab.MERCHANTS if (m.kind == "fuel") == kind_fuel]
    if mix.long_merchant_rate is not None:
        longs = [m for m in pool if len(m.statement) == 18]
        shorts = [m for m in pool if len(m.statement) < 18]
        if longs and (rng.random() < mix.long_merchant_rate or not shorts):
            return rng.choice(longs)
        pool = shorts
    return rng.choice(pool)


_RANGES = {  # gross amount ranges in cents per merchant kind
    "meal": (800, 18_500),
    "hotel": (8_900, 46_000),
    "rental": (4_500, 125_000),
    "misc": (400, 260_000),
    "parking": (500, 4_000),
}


def make_transaction(rng: random.Random, number: str, posted: dt.date, mix: Mix) -> Transaction:
    """A random row posted on ``posted``: fuel or not, purchase or credit, per ``mix``."""
    trans = posted - dt.timedelta(days=rng.choice((0, 1, 1, 1, 2, 3)))
    fuel = rng.random() < mix.fuel_rate
    merchant = _pick_merchant(rng, fuel, mix)
    credit = rng.random() < mix.credit_rate
    products = vocab.PRODUCTS[merchant.kind]
    product = None if rng.random() < mix.no_product_rate else rng.choice(products)
    zero = Decimal("0.00")
    if fuel:
        if rng.random() < 0.7:
            ppu = (Decimal(rng.randint(2_799, 3_899)) / 1000).quantize(FIVE_PLACES)
        else:
            ppu = (Decimal(rng.randint(279_900, 389_999)) / 100_000).quantize(FIVE_PLACES)
        qty = cents(Decimal(rng.randint(10, 1_500) if credit else rng.randint(500, 4_000)) / 100)
        if credit:
            qty = -qty
        gross = cents(ppu * qty)
        discount = zero
        if not credit and rng.random() < mix.fuel_discount_rate:
            discount = cents(qty * Decimal(rng.choice((3, 5, 8, 10))) / 100)
        level = "L" if credit else "F"
        return Transaction(number, trans, posted, level, merchant, product, ppu, qty, gross, discount)
    low, high = _RANGES[merchant.kind]
    if merchant.kind == "hotel" and rng.random() < 0.3:
        high *= 4  # multi-night stays run past $1,000
    gross = cents(Decimal(rng.randint(low, high)) / 100)
    row = Transaction(number, trans, posted, "N", merchant, product, zero, zero, zero, zero)
    row.set_plain_amount(-gross if credit else gross)
    return row


def make_statement(
    rng: random.Random,
    people: Sequence[Person],
    per_card: Sequence[int],
    *,
    month: str = "2025-03",
    mix: Mix | None = None,
    split_rate: float = 0.0,
) -> Statement:
    """Cards for ``people`` (one card each) with ``per_card[i]`` transactions on card ``i``.

    A person may appear twice (two cards). A person's net amounts are all distinct, so an
    expense can only match one row by amount unless a test makes a duplicate on purpose.
    """
    mix = mix or Mix()
    start, end = month_bounds(month)
    produced = dt.datetime.combine(end + dt.timedelta(days=2), dt.time(8, 14, 7))
    total = sum(per_card)
    numbers = [f"{n:09d}" for n in rng.sample(range(100_000, 1_000_000_000), total)]
    last4s = [f"{n:04d}" for n in rng.sample(range(1, 10_000), len(people))]
    days = (end - start).days
    cards: list[Card] = []
    nets: dict[str, set[Decimal]] = {}
    for person, count, last4 in zip(people, per_card, last4s, strict=True):
        card = Card(last4, person, split_totals=rng.random() < split_rate)
        seen = nets.setdefault(person.employee_id, set())
        while len(card.transactions) < count:
            posted = start + dt.timedelta(days=rng.randint(0, days))
            row = make_transaction(rng, "", posted, mix)
            if row.net in seen:
                continue
            seen.add(row.net)
            row.number = numbers.pop()
            card.transactions.append(row)
        card.transactions.sort(key=lambda t: (t.trans_date, t.posted_date, t.number))
        cards.append(card)
    return Statement(start, end, produced, cards)


def break_one_total(rng: random.Random, statement: Statement) -> Card:
    """Print a wrong ``Totals For Card Nbr`` on one random card and return that card."""
    card = rng.choice(statement.cards)
    delta = rng.choice((Decimal("10.00"), Decimal("-0.01"), Decimal("100.00"), Decimal("0.10")))
    card.printed_total = card.total_net + delta
    return card
