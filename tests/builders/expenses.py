"""The expense model of the Receipt Images Report and its text block, in reading order."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from tests.builders import vocab
from tests.builders.formats import expense_amount, mdy
from tests.builders.model import Person, make_people
from tests.builders.vocab import Merchant


@dataclass(frozen=True)
class Coding:
    """Accounts coding: Job (job, phase, cost type), GL (account) or none; ``None`` = empty."""

    type: str | None
    job: str | None = None
    phase: str | None = None
    cost_type: str | None = None
    gl_account: str | None = None

    @property
    def complete(self) -> bool:
        """Complete Job coding (all three values) or a GL account."""
        return bool(self.job and self.phase and self.cost_type) or bool(self.gl_account)

    def lines(self) -> list[str]:
        """The printed lines; the type comes before its ``Accounts Coding Type :`` label."""
        if self.type == "gl":
            return ["GL Coding", "Accounts Coding Type :", "GL Account", *_present(self.gl_account)]
        head = ["Job Coding"] if self.type == "job" else []
        return [
            *head,
            "Accounts Coding Type :",
            "Job",
            *_present(self.job),
            "Phase",
            *_present(self.phase),
            "Cost Type",
            *_present(self.cost_type),
        ]


def _present(value: str | None) -> list[str]:
    return [value] if value else []


@dataclass(frozen=True)
class Attachment:
    """A receipt file attached to an expense and how many scanned images it holds."""

    name: str
    images: int = 1


@dataclass
class Expense:
    """One expense as exported, one per page plus continuation pages of images."""

    expense_id: str
    employee_number: str
    employee_name: str
    date: dt.date
    amount: Decimal
    amount_text: str
    expense_type: str
    title: str
    address: str
    purpose: str | None
    notes_index: int
    merchant: str
    merchant_address: str
    coding: Coding
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def images(self) -> int:
        """Number of receipt images drawn for this expense."""
        return sum(a.images for a in self.attachments)

    def text_lines(self) -> list[str]:
        """The text block top to bottom, exactly in the report's reading order."""
        notes = [f"Receipts Notes ({self.notes_index}): {self.purpose}"] if self.purpose else []
        return [
            f"Expense Transaction Date {mdy(self.date)}",
            self.employee_number,
            self.employee_name,
            self.expense_type,
            "Transaction ID:",
            self.expense_id,
            self.title,
            "Expense Title:",
            "Amount :",
            "Address:",
            self.address,
            self.amount_text,
            "Purpose:",
            *notes,
            "Merchant Name:",
            self.merchant,
            "Merchant Address:",
            self.merchant_address,
            *self.coding.lines(),
            "Attachment Name:",
            *(a.name for a in self.attachments),
            "Request Type:",
        ]


@dataclass(frozen=True)
class ExpenseMix:
    """How often each variant of an expense occurs."""

    missing_attachment_rate: float = 0.08
    multi_page_rate: float = 0.15
    refund_rate: float = 0.05
    no_purpose_rate: float = 0.15
    fixed_amount_rate: float = 0.3
    # weights of: full job, full GL, partial (job without phase / GL without account), none
    coding_weights: tuple[float, float, float, float] = (0.5, 0.3, 0.1, 0.1)


def random_coding(rng: random.Random, mix: ExpenseMix) -> Coding:
    """Job, GL, partial or missing coding per ``mix.coding_weights``."""
    pick = rng.choices(("job", "gl", "partial", "none"), weights=mix.coding_weights)[0]
    job, phase = rng.choice(vocab.JOBS), rng.choice(vocab.PHASES)
    cost, gl = rng.choice(vocab.COST_TYPES), rng.choice(vocab.GL_ACCOUNTS)
    if pick == "job":
        return Coding("job", job, phase, cost)
    if pick == "gl":
        return Coding("gl", gl_account=gl)
    if pick == "partial":
        return rng.choice((Coding("job", job, None, cost), Coding("job", job, phase, None), Coding("gl")))
    return Coding(None)


def random_attachments(rng: random.Random, mix: ExpenseMix, day: dt.date, serial: int) -> list[Attachment]:
    """Zero (missing receipt), one, or several attachments holding one or more images."""
    if rng.random() < mix.missing_attachment_rate:
        return []
    names = (
        f"receipt_{serial:04d}.jpg",
        f"IMG_{day:%Y%m%d}_{serial % 2400:04d}.jpg",
        f"Scan {day:%Y-%m-%d} {serial}.pdf",
        f"receipt {serial}.PNG",
    )
    if rng.random() >= mix.multi_page_rate:
        return [Attachment(rng.choice(names))]
    if rng.random() < 0.5:
        return [Attachment(names[2], rng.randint(2, 4))]
    return [Attachment(names[0]), Attachment(names[1], rng.randint(1, 2))]


def merchant_address(merchant: Merchant) -> str:
    """The expense system's merchant address, empty fields and dangling ZIP dash included."""
    return f"{merchant.street}, , {merchant.city}, {merchant.state}, {merchant.zip5}-"


def make_expense(
    rng: random.Random,
    expense_id: str,
    person: Person,
    merchant: Merchant,
    day: dt.date,
    *,
    amount: Decimal,
    mix: ExpenseMix,
    serial: int,
    amount_text: str | None = None,
) -> Expense:
    """An expense of ``person`` at ``merchant`` for ``amount``; the rest is random."""
    kind = merchant.kind
    if amount_text is None:
        style = "fixed" if rng.random() < mix.fixed_amount_rate else "plain"
        amount_text = expense_amount(amount, style)
    title = rng.choice(vocab.TITLES[kind]).format(n=rng.randint(2, 40))
    purpose = None if rng.random() < mix.no_purpose_rate else rng.choice(vocab.PURPOSES)
    return Expense(
        expense_id=expense_id,
        employee_number=person.employee_number,
        employee_name=person.typed_name,
        date=day,
        amount=amount,
        amount_text=amount_text,
        expense_type=vocab.EXPENSE_TYPES[kind],
        title=title,
        address=rng.choice(vocab.HOME_STREETS),
        purpose=purpose,
        notes_index=rng.choice((1, 1, 1, 2)),
        merchant=rng.choice(merchant.typed),
        merchant_address=merchant_address(merchant),
        coding=random_coding(rng, mix),
        attachments=random_attachments(rng, mix, day, serial),
    )


def mileage_amount(rng: random.Random) -> Decimal:
    """A mileage claim: tenths of miles times a rate, so up to 4 decimals."""
    return Decimal(rng.randint(120, 4_800)).scaleb(-1) * Decimal("0.655")


def expense_ids(rng: random.Random, count: int) -> list[str]:
    """Distinct 8-digit expense-system ids in ascending order."""
    return [str(n) for n in sorted(rng.sample(range(10_000_000, 100_000_000), count))]


def random_expenses(
    rng: random.Random, count: int, month: str = "2025-03", mix: ExpenseMix | None = None
) -> list[Expense]:
    """Stand-alone random expenses (no statement behind them), sorted by employee then date."""
    mix = mix or ExpenseMix()
    people = make_people(rng, max(1, min(8, count // 3 + 1)), alias_rate=0.3)
    first = dt.date.fromisoformat(month + "-01")
    ids = expense_ids(rng, count)
    drafts = []
    for serial in range(1, count + 1):
        person = rng.choice(people)
        merchant = rng.choice(vocab.MERCHANTS)
        day = first + dt.timedelta(days=rng.randint(0, 27))
        if rng.random() < 0.04:
            merchant, amount = vocab.MILEAGE, mileage_amount(rng)
        else:
            amount = Decimal(rng.randint(300, 150_000)).scaleb(-2)
            amount = -amount if rng.random() < mix.refund_rate else amount
        drafts.append((person, merchant, day, amount, serial))
    drafts.sort(key=lambda d: (d[0].typed_name, d[2], d[4]))
    return [
        make_expense(rng, eid, person, merchant, day, amount=amount, mix=mix, serial=serial)
        for eid, (person, merchant, day, amount, serial) in zip(ids, drafts, strict=True)
    ]
