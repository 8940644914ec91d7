"""Aliases with care: which cardholder an unresolved name most likely is, what an alias would
change before it is saved, and which sessions each alias reached.

Like `shared.sessions.review`, each is a function of (storage, settings, input) taking the caller's
`owner` (another owner's session is an unknown one). None writes anything: a preview runs the
matcher on the session's stored extractions with the alias added, in memory only.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from shared.errors import NotFoundError, WrongStateError
from shared.matching.aliases import pair
from shared.matching.match import reconcile
from shared.models import Amount, DocumentKind, Expense, Reconciliation, Status, Transaction
from shared.sessions.alias_names import name_similarity
from shared.sessions.aliases import BlobAliasStore

# The finalize step's own choice of the files to match (the latest statement and receipts report
# extracted) and its reading of them: a preview must match exactly what reconciling again would.
from shared.sessions.finalize import latest_record, load_document
from shared.sessions.layout import reconciliation_blob
from shared.sessions.models import SessionManifest, SessionStatus
from shared.sessions.requests import reconciliation
from shared.sessions.store import ANYONE, Owner, OwnerCheck, load_manifest, load_records
from shared.sessions.tenants import list_page
from shared.settings import Settings
from shared.storage.gateway import Storage
from shared.values import normalise_name

USAGE_SESSIONS = 24  # the newest sessions read to tell which an alias reached: two years of months
_READERS = 8
NAME_WEIGHT = 0.5  # the rank: half how alike the names are, half the share of expenses that fit
ZERO = Decimal("0.00")


# -- candidates ----------------------------------------------------------------------------------
class Candidate(BaseModel):
    """One alias that could resolve an unresolved name, with why it ranks where it does."""

    name: str = Field(description="the name as typed in the expense system")
    cardholder: str = Field(description="the cardholder as the statement prints the name")
    score: float = Field(description="0 to 100: the rank (name similarity and expenses that fit, half each)")
    name_similarity: float = Field(description="0 to 100: how alike the two names are")
    expenses: int = Field(
        description="of the name's unmatched expenses, how many the cardholder's unmatched "
        "transactions could take (same amount, within the date window)"
    )
    amount: Amount = Field(description="those expenses' amount")


class NameCandidates(BaseModel):
    """An unresolved name with its candidates, best first."""

    name: str
    normalized: str
    side: Literal["statement", "receipts"]
    expenses: int = Field(
        description="unmatched expenses under the name (receipts side) or that name none of the "
        "statement's cardholders (statement side)"
    )
    candidates: list[Candidate]


class AliasCandidates(BaseModel):
    """Each unresolved name of a completed session with the aliases that could resolve it, ranked."""

    names: list[NameCandidates]


def fitting(expenses: Sequence[Expense], transactions: Sequence[Transaction], window: int) -> list[Expense]:
    """The expenses a one-to-one pairing with `transactions` could take by amount (to the cent)
    and date (within ± `window` days): each takes the nearest-dated free transaction of its amount."""
    free: dict[Decimal, list[Transaction]] = defaultdict(list)
    for t in transactions:
        free[t.net.quantize(Decimal("0.01"))].append(t)
    taken: list[Expense] = []
    for e in sorted(expenses, key=lambda e: e.date):
        options = free.get(e.amount.quantize(Decimal("0.01")), [])
        near = [t for t in options if abs((e.date - t.transaction_date).days) <= window]
        if near:
            best = min(near, key=lambda t: abs((e.date - t.transaction_date).days))
            options.remove(best)
            taken.append(e)
    return taken


def _candidate(
    name: str, holder: str, expenses: Sequence[Expense], open_rows: Sequence[Transaction], window: int
) -> Candidate:
    fit = fitting(expenses, open_rows, window)
    similarity = name_similarity(name, holder)
    share = len(fit) / len(expenses) if expenses else 0.0
    return Candidate(
        name=name,
        cardholder=holder,
        score=round(NAME_WEIGHT * similarity + (1 - NAME_WEIGHT) * 100 * share, 1),
        name_similarity=similarity,
        expenses=len(fit),
        amount=sum((e.amount for e in fit), ZERO),
    )


def rank_candidates(reconciled: Reconciliation, *, window: int) -> AliasCandidates:
    """Every unresolved name of a reconciliation with its candidates, best first: for a typed name,
    every cardholder; for a cardholder nobody's expenses reach, every typed name that reaches none."""
    holders: dict[str, str] = {}
    open_rows: dict[str, list[Transaction]] = defaultdict(list)
    for rt in reconciled.transactions:
        holder = rt.transaction.cardholder
        if holder:
            holders.setdefault(normalise_name(holder), holder)
            if rt.expense is None:
                open_rows[normalise_name(holder)].append(rt.transaction)
    by_name: dict[str, list[Expense]] = defaultdict(list)
    for e in reconciled.unmatched_expenses:
        if e.employee_name:
            by_name[normalise_name(e.employee_name)].append(e)
    typed = {u.normalized: u.name for u in reconciled.unresolved_names if u.side == "receipts"}

    def ranked(found: Iterable[Candidate]) -> list[Candidate]:
        return sorted(found, key=lambda c: (-c.score, -c.name_similarity, c.cardholder, c.name))

    names = []
    for u in reconciled.unresolved_names:
        if u.side == "receipts":
            expenses = by_name.get(u.normalized, [])
            found = (_candidate(u.name, h, expenses, open_rows[k], window) for k, h in holders.items())
        else:
            expenses = [e for k in typed for e in by_name.get(k, [])]
            rows = open_rows[u.normalized]
            found = (_candidate(raw, u.name, by_name.get(k, []), rows, window) for k, raw in typed.items())
        names.append(
            NameCandidates(
                name=u.name,
                normalized=u.normalized,
                side=u.side,
                expenses=len(expenses),
                candidates=ranked(found),
            )
        )
    return AliasCandidates(names=names)


def alias_candidates(
    storage: Storage, settings: Settings, session_id: str, *, owner: OwnerCheck = ANYONE
) -> AliasCandidates:
    """The completed session's unresolved names, each with its candidates ranked."""
    return rank_candidates(
        reconciliation(storage, settings, session_id, owner=owner), window=settings.date_window_days
    )


# -- preview -------------------------------------------------------------------------------------
class StatusChange(BaseModel):
    """A transaction whose status the alias would change."""

    transaction_number: str
    cardholder: str | None
    amount: Amount
    before: Status
    after: Status


class AliasPreview(BaseModel):
    """What saving one alias would change in one session, found by matching its stored extractions
    with the alias table as it is and with the alias added; nothing is written."""

    name: str = Field(description="the typed name, normalised")
    cardholder: str = Field(description="the cardholder, normalised")
    replaces: str | None = Field(
        default=None, description="the cardholder the name is an alias of now, if any"
    )
    expenses: int = Field(description="expenses that would be matched and are not now")
    amount: Amount = Field(description="those expenses' amount")
    lost: int = Field(default=0, description="expenses matched now that would no longer be")
    lost_amount: Amount = ZERO
    typed: int = Field(description="expenses in the session typed with the name")
    still_unmatched: int = Field(description="of those, how many would stay unmatched")
    on_statement: bool = Field(description="the cardholder is on the session's statement")
    changes: list[StatusChange] = Field(default_factory=list)
    matches_nothing: bool
    message: str = Field(description="what the preview says, as a sentence")


def _key(e: Expense) -> tuple[str, dt.date, Decimal, str]:
    return (e.expense_id, e.date, e.amount, normalise_name(e.employee_name or ""))


def _matched(reconciled: Reconciliation) -> dict[tuple[str, dt.date, Decimal, str], Expense]:
    return {_key(rt.expense): rt.expense for rt in reconciled.transactions if rt.expense is not None}


def _completed(storage: Storage, settings: Settings, session_id: str, owner: OwnerCheck) -> SessionManifest:
    manifest, _ = load_manifest(storage, settings, session_id, owner=owner)
    if manifest.status is not SessionStatus.COMPLETED:
        raise WrongStateError(f"session {session_id} is {manifest.status.value}, not completed")
    return manifest


def preview_alias(
    storage: Storage,
    settings: Settings,
    session_id: str,
    name: str,
    cardholder: str,
    *,
    owner: OwnerCheck = ANYONE,
) -> AliasPreview:
    """What the alias `name` → `cardholder` would change in the completed session (a dry run)."""
    manifest = _completed(storage, settings, session_id, owner)
    key, value = pair(name, cardholder)
    records = load_records(storage, settings, session_id)
    statement = load_document(
        storage, settings, session_id, latest_record(records, DocumentKind.CARDHOLDER_ACTIVITY)
    )
    receipts = load_document(
        storage, settings, session_id, latest_record(records, DocumentKind.RECEIPT_IMAGES)
    )
    table = BlobAliasStore(storage, settings, manifest.owner).load()
    before = reconcile(statement, receipts, aliases=table, settings=settings)
    after = reconcile(statement, receipts, aliases={**table, key: value}, settings=settings)
    was, now_ = _matched(before), _matched(after)
    gained = [e for k, e in now_.items() if k not in was]
    lost = [e for k, e in was.items() if k not in now_]
    typed = [
        e for e in (receipts.expenses if receipts else []) if normalise_name(e.employee_name or "") == key
    ]
    holders = {
        normalise_name(t.cardholder) for t in (statement.transactions if statement else []) if t.cardholder
    }
    changes = [
        StatusChange(
            transaction_number=b.transaction.transaction_number,
            cardholder=b.transaction.cardholder,
            amount=b.transaction.net,
            before=b.status,
            after=a.status,
        )
        for b, a in zip(before.transactions, after.transactions, strict=True)
        if b.status is not a.status
    ]
    amount = sum((e.amount for e in gained), ZERO)
    preview = AliasPreview(
        name=key,
        cardholder=value,
        replaces=table.get(key),
        expenses=len(gained),
        amount=amount,
        lost=len(lost),
        lost_amount=sum((e.amount for e in lost), ZERO),
        typed=len(typed),
        still_unmatched=sum(1 for e in typed if _key(e) not in now_),
        on_statement=value in holders,
        changes=changes,
        matches_nothing=not gained,
        message="",
    )
    preview.message = _say(preview, window=settings.date_window_days)
    return preview


def _say(p: AliasPreview, *, window: int) -> str:
    """The preview as one sentence a person reads before saving."""
    if not p.matches_nothing:
        said = f"{_count(p.expenses, 'expense')} would match, ${p.amount:,.2f}"
        if p.still_unmatched:
            said += f"; {p.still_unmatched} of {p.name}'s expenses would still match nothing"
        if p.lost:
            said += f"; {_count(p.lost, 'expense')} matched now would no longer be (${p.lost_amount:,.2f})"
        return said + "."
    if not p.on_statement:
        why = f"{p.cardholder} is not a cardholder on this session's statement"
    elif not p.typed:
        why = f"no expense in this session is typed as {p.name}"
    else:
        why = (
            f"none of {p.name}'s {_count(p.typed, 'expense')} has a transaction of {p.cardholder} with "
            f"the same amount within ±{window} days"
        )
    said = f"This alias would match nothing in this session: {why}"
    if p.lost:
        said += f"; {_count(p.lost, 'expense')} matched now would no longer be (${p.lost_amount:,.2f})"
    return said + "."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


# -- which sessions each alias reached -----------------------------------------------------------
class AliasSession(BaseModel):
    """One session an alias reached: expenses it matched there, or its name still unresolved."""

    id: str
    name: str | None
    created: dt.datetime
    status: SessionStatus
    matched: int = Field(
        default=0, description="expenses matched through the alias when it was last reconciled"
    )
    amount: Amount = ZERO
    unresolved: bool = Field(default=False, description="the alias's name is still an unresolved name there")


class AliasEntry(BaseModel):
    """One alias with the sessions it reached, newest first."""

    name: str
    cardholder: str
    sessions: list[AliasSession] = Field(default_factory=list)


class AliasUsage(BaseModel):
    """The caller's aliases with the sessions each reached, read from the reconciliations of the
    tenant's newest completed sessions (at most `USAGE_SESSIONS` of them)."""

    aliases: list[AliasEntry]
    sessions_read: int = Field(description="completed sessions whose reconciliation was read")
    older_not_read: bool = Field(description="the tenant has older sessions than those read")


def _stored(storage: Storage, settings: Settings, session_id: str) -> Reconciliation | None:
    try:
        data, _ = storage.get_bytes(settings.sessions_container, reconciliation_blob(session_id))
    except NotFoundError:
        return None
    return Reconciliation.model_validate_json(data)


def alias_usage(
    storage: Storage, settings: Settings, owner: Owner, *, limit: int = USAGE_SESSIONS
) -> AliasUsage:
    """Each of `owner`'s aliases with the sessions it reached: the reconciliation each of the
    newest `limit` completed sessions keeps says which expenses matched through an alias (and which
    names stayed unresolved), so the answer costs one index page and `limit` reads at most."""
    table = BlobAliasStore(storage, settings, owner).load()
    page = list_page(storage, settings, owner, limit=limit)
    done = [m for m in page.manifests if m.status is SessionStatus.COMPLETED]
    with ThreadPoolExecutor(max_workers=min(_READERS, max(1, len(done)))) as pool:
        stored = list(pool.map(lambda m: _stored(storage, settings, m.id), done))
    entries = {k: AliasEntry(name=k, cardholder=v) for k, v in sorted(table.items())}
    for manifest, reconciled in zip(done, stored, strict=True):
        if reconciled is None:
            continue
        reached: dict[str, AliasSession] = {}

        def seen(
            key: str, m: SessionManifest = manifest, reached: dict[str, AliasSession] = reached
        ) -> AliasSession:
            return reached.setdefault(
                key, AliasSession(id=m.id, name=m.name, created=m.created, status=m.status)
            )

        for rt in reconciled.transactions:
            if rt.expense is not None and rt.evidence is not None and rt.evidence.via_alias:
                key = normalise_name(rt.expense.employee_name or "")
                if key in entries:
                    found = seen(key)
                    found.matched += 1
                    found.amount += rt.expense.amount
        for u in reconciled.unresolved_names:
            if u.side == "receipts" and u.normalized in entries:
                seen(u.normalized).unresolved = True
        for key, found in reached.items():
            entries[key].sessions.append(found)
    return AliasUsage(
        aliases=list(entries.values()), sessions_read=len(done), older_not_read=page.next is not None
    )
