"""Validated records extracted from the two input documents, and the document result around them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, field_validator

from shared.values import mask_card_numbers

# Money and quantities stay Decimal in memory and travel as strings, never floats.
Amount = Annotated[Decimal, PlainSerializer(str, return_type=str, when_used="json")]
# Free text copied from documents we do not control (merchant names, purposes, file names, messages):
# a card number typed into it is masked the moment a record is made, so nothing downstream — results
# in storage, reports, logs, API answers — can carry it.
Text = Annotated[str, AfterValidator(mask_card_numbers)]


class DocumentKind(StrEnum):
    """What a PDF turned out to be."""

    CARDHOLDER_ACTIVITY = "cardholder_activity"
    RECEIPT_IMAGES = "receipt_images"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Transaction(_Record):
    """One statement row: a charge or a credit on one card."""

    transaction_number: str
    transaction_date: dt.date
    posted_date: dt.date | None = None
    level: str | None = None
    cardholder: Text | None = None
    employee_id: str | None = None
    card_last4: str | None = Field(default=None, pattern=r"^\d{4}$")
    merchant: Text
    city: Text | None = None
    state: str | None = None
    merchant_group: Text | None = None
    product: Text | None = None
    unit_price: Amount | None = None
    quantity: Amount | None = None
    gross: Amount | None = None
    discount: Amount | None = None
    net: Amount
    page: int = Field(exclude=True, default=0)


class Coding(_Record):
    """How an expense is charged: to a job (job, phase, cost type) or to a GL account."""

    type: Literal["job", "gl"] | None = None
    job: str | None = None
    phase: str | None = None
    cost_type: str | None = None
    gl_account: str | None = None

    @property
    def complete(self) -> bool:
        """True when the job coding is whole or a GL account is given."""
        job_complete = bool(self.job and self.phase and self.cost_type)
        return job_complete or bool(self.gl_account)


class Expense(_Record):
    """One expense filed in the expense system, with the report pages that hold it."""

    expense_id: str
    employee_number: str | None = None
    employee_name: Text | None = None
    date: dt.date
    amount: Amount
    expense_type: Text | None = None
    expense_title: Text | None = None
    purpose: Text | None = None
    merchant: Text | None = None
    merchant_address: Text | None = None
    coding: Coding = Coding()
    attachments: list[Text] = []
    pages: list[int]
    card_number_pages: list[int] = Field(
        default=[], description="pages of this expense that show a card number (masked in its receipt PDF)"
    )

    @field_validator("pages")
    @classmethod
    def _pages_one_based(cls, pages: list[int]) -> list[int]:
        if not pages or min(pages) < 1:
            raise ValueError("an expense spans at least one 1-based page")
        return pages


class Check(_Record):
    """A reconciliation of printed totals against parsed rows that did not hold."""

    code: str
    message: Text
    card_last4: str | None = None
    transaction_number: str | None = None
    page: int | None = None
    printed: Amount | None = None
    computed: Amount | None = None


class Document(BaseModel):
    """Everything extracted from one PDF: an extraction.

    `expenses` is written and read as `receipts` in JSON — the public name of `ccproc extract`'s
    output and of stored extractions, kept as it was; in the code it is `expenses`, as everywhere.
    """

    model_config = ConfigDict(
        extra="forbid", serialize_by_alias=True, validate_by_name=True, validate_by_alias=True
    )

    file: Text
    kind: DocumentKind
    layout: str | None = None
    pages: int
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    transactions: list[Transaction] = []
    expenses: list[Expense] = Field(default=[], alias="receipts")
    checks: list[Check] = []
    warnings: list[Text] = []


class Status(StrEnum):
    """A statement transaction's standing once matched (see the reports' definitions)."""

    COMPLETE = "Complete"
    MISSING_RECEIPT = "Missing Receipt"
    MISSING_CODING = "Missing Coding"
    MISSING_BOTH = "Missing Both"


class Evidence(_Record):
    """Why a transaction and an expense were matched, so a person can check it."""

    employee: str = Field(description="the statement cardholder both resolve to")
    via_alias: bool = Field(description="the expense's name reached the cardholder through the alias table")
    amount: Amount
    date_offset_days: int = Field(description="expense date minus transaction date")
    merchant_similarity: float = Field(ge=0, le=100)
    score: float
    rules: list[str]


class ReconciledTransaction(_Record):
    """One statement transaction with its matched expense (if any) and its status."""

    transaction: Transaction
    expense: Expense | None = None
    status: Status
    evidence: Evidence | None = None
    note: Text | None = None


class UnresolvedName(_Record):
    """A name on one side that reaches nobody on the other, with a suggestion never applied."""

    name: Text
    normalized: str
    side: Literal["statement", "receipts"]
    suggestion: str | None = None


class FileNotRead(BaseModel):
    """An uploaded file that could not be read, and why: left out of a reconciliation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: Text
    reason: Text


class PvaultHeldBack(_Record):
    """One employee kept out of the pVault import, and how far they are from getting in."""

    employee: str = Field(description="the statement's employee id, else cardholder, else card")
    cardholder: Text | None = Field(default=None, description="the name the statement prints")
    transactions: int = Field(ge=1, description="all of the employee's transactions, held back together")
    not_complete: dict[Status, int] = Field(
        description="transactions not Complete, by status (only those present, in the status order)"
    )
    amount: Amount = Field(description="net of all the employee's transactions, the dollars held back")
    not_complete_amount: Amount = Field(description="net of the transactions that are not Complete")

    @property
    def exceptions(self) -> int:
        """How many of the employee's transactions are not Complete."""
        return sum(self.not_complete.values())


class PvaultSummary(_Record):
    """What `pvault.csv` holds and why the others are held back: one line not Complete keeps out every
    row of its employee, so the import may hold far fewer rows than the month has Complete."""

    employees: int = Field(ge=0, description="employees in the import: all their transactions Complete")
    rows: int = Field(ge=0, description="rows of the import, one per transaction of those employees")
    amount: Amount = Field(description="net of the import's rows")
    total_employees: int = Field(ge=0, description="employees with a transaction on the statement")
    total_transactions: int = Field(ge=0)
    complete_transactions: int = Field(ge=0, description="Complete transactions, in the import or not")
    held_back: list[PvaultHeldBack] = Field(
        default=[], description="employees kept out, closest to complete first"
    )


class Reconciliation(BaseModel):
    """The whole result of matching one statement with one receipts report."""

    model_config = ConfigDict(extra="forbid")

    statement_file: Text | None = None
    receipts_file: Text | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    transactions: list[ReconciledTransaction] = []
    unmatched_expenses: list[Expense] = []
    unresolved_names: list[UnresolvedName] = []
    checks: list[Check] = []
    warnings: list[Text] = []
    # Files of the session that could not be read: the reconciliation leaves them out, and says so.
    files_not_read: list[FileNotRead] = []
    # Filled by the report stage (`shared.report.pvault`) when it writes pvault.csv; absent from a
    # reconciliation stored before it was.
    pvault: PvaultSummary | None = None
