"""What changed when a completed session was finalized again (a newer receipts report came in, or it
was reconciled again after an alias was added): each transaction's status before and after.

Pure: two reconciliations in, a comparison out. The finalize step keeps the comparison beside the
session's reports (`changes_blob`); the API shows it (GET /api/sessions/{id}/changes) and the
session's summary carries its tallies.

Transactions are paired by transaction number (the n-th transaction of a number with the n-th, should a
statement repeat one). A status is worse when more is missing than before: Complete, then Missing
Receipt or Missing Coding, then Missing Both.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from shared.models import Amount, ReconciledTransaction, Reconciliation, Status, Text
from shared.sessions.layout import report_blob
from shared.sessions.models import Tally

CHANGES_FILE = "changes.json"
PREVIOUS_FILE = "previous.json"
_MISSING = {Status.COMPLETE: 0, Status.MISSING_RECEIPT: 1, Status.MISSING_CODING: 1, Status.MISSING_BOTH: 2}


def changes_blob(session_id: str) -> str:
    """The session's last comparison, beside its reports (not itself a report)."""
    return report_blob(session_id, CHANGES_FILE)


def previous_blob(session_id: str) -> str:
    """The reconciliation of the session's run before the last: what the comparison started from."""
    return report_blob(session_id, PREVIOUS_FILE)


class ChangeKind(StrEnum):
    """How one transaction's standing moved between two reconciliations."""

    BECAME_COMPLETE = "became_complete"
    IMPROVED = "improved"  # less missing than before, not yet Complete
    WORSE = "worse"  # more missing than before (a receipt or coding gone)
    CHANGED = "changed"  # as much missing, another thing (Missing Receipt and Missing Coding)
    STILL_MISSING = "still_missing"  # not Complete, before and after alike
    STILL_COMPLETE = "still_complete"  # counted only: never listed
    ADDED = "added"  # on the statement now, not before (a newer statement)
    REMOVED = "removed"  # on the statement before, not now


class TransactionChange(BaseModel):
    """One transaction whose standing a person should look at, with its status before and after."""

    model_config = ConfigDict(extra="forbid")

    kind: ChangeKind
    transaction_number: str
    card_last4: str | None = None
    cardholder: Text | None = None
    merchant: Text
    date: dt.date
    amount: Amount
    before: Status | None = None
    after: Status | None = None


class Changes(BaseModel):
    """A completed session's reconciliation compared with the one before it."""

    model_config = ConfigDict(extra="forbid")

    compared: dt.datetime
    statement_before: Text | None = None
    statement_after: Text | None = None
    receipts_before: Text | None = None
    receipts_after: Text | None = None
    before: dict[str, Tally]  # per status: transactions and dollars before
    after: dict[str, Tally]  # and after
    tallies: dict[str, Tally]  # per `ChangeKind`
    # Every transaction but those Complete both times, most urgent first: worse, removed, still
    # missing, changed, improved, added, became complete; by transaction number within each.
    transactions: list[TransactionChange] = []

    def of(self, kind: ChangeKind) -> list[TransactionChange]:
        """The transactions of one kind of change."""
        return [t for t in self.transactions if t.kind is kind]


_ORDER = [
    ChangeKind.WORSE,
    ChangeKind.REMOVED,
    ChangeKind.STILL_MISSING,
    ChangeKind.CHANGED,
    ChangeKind.IMPROVED,
    ChangeKind.ADDED,
    ChangeKind.BECAME_COMPLETE,
]


_RANK = {kind: i for i, kind in enumerate(_ORDER)}


def _keyed(transactions: Iterable[ReconciledTransaction]) -> dict[tuple[str, int], ReconciledTransaction]:
    seen: Counter[str] = Counter()
    keyed = {}
    for rt in transactions:
        number = rt.transaction.transaction_number
        keyed[(number, seen[number])] = rt
        seen[number] += 1
    return keyed


def _kind(before: Status | None, after: Status | None) -> ChangeKind:
    if before is None:
        return ChangeKind.ADDED
    if after is None:
        return ChangeKind.REMOVED
    if after is Status.COMPLETE:
        return ChangeKind.STILL_COMPLETE if before is Status.COMPLETE else ChangeKind.BECAME_COMPLETE
    if _MISSING[after] > _MISSING[before]:
        return ChangeKind.WORSE
    if _MISSING[after] < _MISSING[before]:
        return ChangeKind.IMPROVED
    return ChangeKind.STILL_MISSING if after is before else ChangeKind.CHANGED


def _tallies(pairs: Iterable[tuple[str, Decimal]], keys: Iterable[str]) -> dict[str, Tally]:
    out = {key: Tally() for key in keys}
    for key, amount in pairs:
        tally = out.setdefault(key, Tally())
        tally.count += 1
        tally.amount += amount
    return out


def compare(before: Reconciliation, after: Reconciliation, *, at: dt.datetime) -> Changes:
    """How `after` differs from `before`, transaction by transaction."""
    old, new = _keyed(before.transactions), _keyed(after.transactions)
    listed: list[TransactionChange] = []
    for key in [*new, *(k for k in old if k not in new)]:
        was, now = old.get(key), new.get(key)
        rt = now or was
        assert rt is not None
        tx = rt.transaction
        listed.append(
            TransactionChange(
                kind=_kind(was.status if was else None, now.status if now else None),
                transaction_number=tx.transaction_number,
                card_last4=tx.card_last4,
                cardholder=tx.cardholder,
                merchant=tx.merchant,
                date=tx.transaction_date,
                amount=tx.net,
                before=was.status if was else None,
                after=now.status if now else None,
            )
        )
    statuses = [s.value for s in Status]
    listed.sort(key=lambda t: (_RANK.get(t.kind, len(_ORDER)), t.transaction_number))
    return Changes(
        compared=at,
        statement_before=before.statement_file,
        statement_after=after.statement_file,
        receipts_before=before.receipts_file,
        receipts_after=after.receipts_file,
        before=_tallies(((rt.status.value, rt.transaction.net) for rt in before.transactions), statuses),
        after=_tallies(((rt.status.value, rt.transaction.net) for rt in after.transactions), statuses),
        tallies=_tallies(((t.kind.value, t.amount) for t in listed), (k.value for k in ChangeKind)),
        transactions=[t for t in listed if t.kind is not ChangeKind.STILL_COMPLETE],
    )
