"""Use cases of reviewing a session once its files are in: naming it, reading its reconciliation with the
links a person follows, its money totals, each exception's follow-up and each person's readable name,
and reconciling again after the alias table changed.

Like `shared.sessions.requests`, each is a function of (storage, settings, input) and takes the caller's
`owner` (another owner's session is an unknown one); the HTTP API calls them.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from shared.errors import WrongStateError
from shared.models import Amount, ReconciledTransaction, Reconciliation, Status
from shared.report.chase import SETTLED, FollowUp, FollowUpState, display_names, follow_up_of, is_exception
from shared.report.fields import STATUS_ORDER
from shared.report.receipt_pdfs import planned_names
from shared.report.words import match_confidence, match_words
from shared.sessions.followup import stored_follow_up
from shared.sessions.layout import results_message
from shared.sessions.models import SessionManifest, SessionStatus, SessionView, now
from shared.sessions.names import session_name
from shared.sessions.requests import reconciliation, view
from shared.sessions.store import ANYONE, OwnerCheck, load_manifest, load_records, update_manifest
from shared.settings import Settings
from shared.storage.gateway import Storage


class ReviewedTransaction(ReconciledTransaction):
    """A transaction with its match said in words, and the receipt PDF cut for it, if one was."""

    receipt_pdf: str | None = Field(
        default=None, description="file name under the session's `reports/receipts/`, if one was cut"
    )
    receipt_image: bool = Field(
        default=False,
        description="the receipt PDF holds a receipt image (the expense has an attachment); false when it is "
        "the expense's form page(s) alone (`Missing Receipt`, `Missing Both`) or there is no PDF",
    )
    match_words: str | None = Field(
        default=None,
        description="the match as a sentence (`Strong match: same person, same amount, 1 day apart, "
        "similar merchant`); null when no expense matched",
    )
    match_confidence: int | None = Field(
        default=None,
        ge=0,
        le=100,
        description="how sure the match is, 0 to 100 (100: same day, same merchant; less 15 a day apart, "
        "up to 10 for an unlike merchant); null when no expense matched",
    )


class Money(BaseModel):
    """How many transactions, and their net amount (a string of a Decimal in JSON)."""

    count: int = 0
    amount: Amount = Decimal("0.00")

    def add(self, amount: Decimal) -> None:
        self.count += 1
        self.amount += amount


class EmployeeTotals(BaseModel):
    """One cardholder's money: every transaction, the exceptions, and of those the waived ones and the
    ones still to chase (neither waived nor resolved outside)."""

    name: str = Field(description="the name people read (see `Review.people`)")
    all: Money = Field(default_factory=Money)
    exceptions: Money = Field(default_factory=Money)
    waived: Money = Field(default_factory=Money)
    to_chase: Money = Field(default_factory=Money)


class Totals(BaseModel):
    """The session's money, summed on the server in Decimal: overall, per status (every status, in
    order), per follow-up state of the exceptions (waived apart), and per cardholder."""

    all: Money = Field(default_factory=Money)
    statuses: dict[Status, Money] = Field(default_factory=lambda: {s: Money() for s in STATUS_ORDER})
    exceptions: Money = Field(default_factory=Money)
    follow_up: dict[FollowUpState, Money] = Field(default_factory=lambda: {s: Money() for s in FollowUpState})
    waived: Money = Field(default_factory=Money)
    to_chase: Money = Field(default_factory=Money)
    employees: dict[str, EmployeeTotals] = Field(
        default_factory=dict, description="by cardholder as the statement prints the name"
    )


class Review(Reconciliation):
    """A completed session's reconciliation, each transaction with its receipt PDF; with its money
    totals, each exception's follow-up and each cardholder's readable name."""

    transactions: list[ReviewedTransaction] = Field(default_factory=list)  # type: ignore[assignment]
    follow_up: dict[str, FollowUp] = Field(
        default_factory=dict, description="each exception's follow-up, by transaction number"
    )
    people: dict[str, str] = Field(
        default_factory=dict,
        description="cardholder as the statement prints the name → the name people read (the expense "
        "system's spelling where an expense maps to them)",
    )
    totals: Totals = Field(default_factory=Totals)


def money_totals(
    reconciled: Reconciliation, follow_ups: dict[str, FollowUp], people: dict[str, str]
) -> Totals:
    """The reconciliation's money by status, follow-up state and cardholder."""
    totals = Totals()
    for rt in reconciled.transactions:
        holder, net = rt.transaction.cardholder or "", rt.transaction.net
        person = totals.employees.setdefault(holder, EmployeeTotals(name=people.get(holder, holder)))
        totals.all.add(net)
        totals.statuses[rt.status].add(net)
        person.all.add(net)
        if not is_exception(rt):
            continue
        state = follow_up_of(rt, follow_ups).state
        for part in (totals.exceptions, totals.follow_up[state], person.exceptions):
            part.add(net)
        if state is FollowUpState.WAIVED:
            totals.waived.add(net)
            person.waived.add(net)
        if state not in SETTLED:
            totals.to_chase.add(net)
            person.to_chase.add(net)
    return totals


def rename_session(
    storage: Storage, settings: Settings, session_id: str, name: str, *, owner: OwnerCheck = ANYONE
) -> SessionView:
    """Give the session the name people know it by (any state)."""
    cleaned = session_name(name)

    def change(m: SessionManifest) -> bool:
        if m.name == cleaned:
            return False
        m.name = cleaned
        return True

    manifest = update_manifest(storage, settings, session_id, change, owner=owner)
    return view(manifest, load_records(storage, settings, session_id))


def _reviewed(rt: ReconciledTransaction, receipt_pdf: str | None) -> dict[str, object]:
    """A transaction as the review shows it: its match in words, its receipt PDF and what that holds.

    The PDF is the expense's pages cut from the receipts report: the form page with the receipt images of
    its attachments. An expense without an attachment (what makes it Missing Receipt) has the form alone.
    """
    return {
        **rt.model_dump(),
        "receipt_pdf": receipt_pdf,
        "receipt_image": receipt_pdf is not None and rt.expense is not None and bool(rt.expense.attachments),
        "match_words": match_words(rt),
        "match_confidence": match_confidence(rt.evidence),
    }


def review(storage: Storage, settings: Settings, session_id: str, *, owner: OwnerCheck = ANYONE) -> Review:
    """The completed session's reconciliation; `receipt_pdf` names each match's PDF in the reports."""
    manifest, _ = load_manifest(storage, settings, session_id, owner=owner)
    reconciled = reconciliation(storage, settings, session_id, owner=owner)
    cut = set(manifest.receipt_pdfs)
    names = planned_names(reconciled)
    recorded = stored_follow_up(storage, settings, session_id)
    people = display_names(reconciled)
    # The names are planned from the reconciliation exactly as the reports were; a PDF that could not be cut
    # is not in the manifest and gets no link.
    return Review.model_validate(
        {
            **reconciled.model_dump(exclude={"transactions"}),
            "transactions": [
                _reviewed(rt, names[i] if names.get(i) in cut else None)
                for i, rt in enumerate(reconciled.transactions)
            ],
            "follow_up": {
                rt.transaction.transaction_number: follow_up_of(rt, recorded)
                for rt in reconciled.transactions
                if is_exception(rt)
            },
            "people": people,
            "totals": money_totals(reconciled, recorded, people),
        }
    )


def reconcile_again(
    storage: Storage, settings: Settings, session_id: str, *, owner: OwnerCheck = ANYONE
) -> SessionView:
    """Match the completed session's files again (after an alias changed) and rewrite its reports.

    The extractions stay; the finalize step reconciles with the alias table as it is now.
    """

    def change(m: SessionManifest) -> bool:
        if m.status is SessionStatus.PROCESSING:
            return False
        if m.status is not SessionStatus.COMPLETED:
            raise WrongStateError(
                f"session {session_id} is {m.status.value}: only a completed session is reconciled again"
            )
        m.status, m.completed, m.process_requested = SessionStatus.PROCESSING, None, now()
        return True

    manifest = update_manifest(storage, settings, session_id, change, owner=owner)
    storage.send(settings.results_queue, results_message(session_id))
    return view(manifest, load_records(storage, settings, session_id))
