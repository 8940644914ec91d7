"""Use cases of reviewing a session once its files are in: naming it, reading its reconciliation with the
links a person follows, and reconciling again after the alias table changed.

Like `shared.sessions.requests`, each is a function of (storage, settings, input) and takes the caller's
`owner` (another owner's session is an unknown one); the HTTP API calls them.
"""

from __future__ import annotations

from pydantic import Field

from shared.errors import WrongStateError
from shared.models import ReconciledTransaction, Reconciliation
from shared.report.receipt_pdfs import planned_names
from shared.sessions.layout import results_message
from shared.sessions.models import SessionManifest, SessionStatus, SessionView, now
from shared.sessions.names import session_name
from shared.sessions.requests import reconciliation, view
from shared.sessions.store import ANYONE, OwnerCheck, load_manifest, load_records, update_manifest
from shared.settings import Settings
from shared.storage.gateway import Storage


class ReviewedTransaction(ReconciledTransaction):
    """A transaction with its match, and the receipt PDF cut for it, if one was."""

    receipt_pdf: str | None = Field(
        default=None, description="file name under the session's `reports/receipts/`, if one was cut"
    )


class Review(Reconciliation):
    """A completed session's reconciliation, each transaction with its receipt PDF."""

    transactions: list[ReviewedTransaction] = Field(default_factory=list)  # type: ignore[assignment]


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


def review(storage: Storage, settings: Settings, session_id: str, *, owner: OwnerCheck = ANYONE) -> Review:
    """The completed session's reconciliation; `receipt_pdf` names each match's PDF in the reports."""
    manifest, _ = load_manifest(storage, settings, session_id, owner=owner)
    reconciled = reconciliation(storage, settings, session_id, owner=owner)
    cut = set(manifest.receipt_pdfs)
    names = planned_names(reconciled)
    # The names are planned from the reconciliation exactly as the reports were; a PDF that could not be cut
    # is not in the manifest and gets no link.
    return Review.model_validate(
        {
            **reconciled.model_dump(exclude={"transactions"}),
            "transactions": [
                {**rt.model_dump(), "receipt_pdf": names[i] if names.get(i) in cut else None}
                for i, rt in enumerate(reconciled.transactions)
            ],
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
