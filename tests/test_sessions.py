"""Session state under concurrent writers, against Azurite."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from shared.sessions import names, store
from shared.sessions import requests as sessions
from shared.sessions.models import SessionManifest
from shared.settings import Settings
from shared.storage.azure import AzureStorage


def test_concurrent_manifest_updates_lose_nothing(storage: AzureStorage, tmp_path: Path) -> None:
    """Eight writers each bump the run counter five times under ETag conditions: all 40 land."""
    tag = secrets.token_hex(4)
    settings = Settings(
        uploads_container=f"up-{tag}", sessions_container=f"se-{tag}", results_queue=f"re-{tag}"
    )
    session = sessions.create_session(storage, settings)

    def bump(m: SessionManifest) -> bool:
        m.runs += 1
        return True

    def writer(_: int) -> None:
        for _ in range(5):
            store.update_manifest(storage, settings, session.id, bump)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(writer, range(8)))
    manifest, _ = store.load_manifest(storage, settings, session.id)
    assert manifest.runs == 40


def test_names_never_carry_card_numbers() -> None:
    """A file name with a card number becomes a blob-safe name with only the last four."""
    assert names.safe_name("stmt 4111 1111 1111 1111 March.pdf") == "stmt_xxxx1111_March.pdf"
    assert names.safe_name("../../etc/passwd") == "etc_passwd"
    assert names.safe_name("") == "document.pdf"


def test_names_lose_invisible_and_bidirectional_characters() -> None:
    """A session name or an alias typed with a right-to-left override or a zero-width space reads as
    typed, never reordered: control and format characters go."""
    from shared.values import normalise_name

    assert names.session_name("March \u202ecard\u202c 2025\u200b") == "March card 2025"
    assert normalise_name("Jane\u202e Q.\u2066 Doe") == "JANEQDOE"
