"""Uploads are idempotent per client upload id (the Idempotency-Key header): a retry of an upload
whose answer was lost finds the file already stored — one record, one blob — for direct uploads
and upload URLs alike; without the header every upload is a new file, as before."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from shared.errors import BadUploadIdError, WrongStateError
from shared.sessions import requests as sessions
from shared.sessions import store
from shared.sessions.models import FileStatus
from shared.settings import Settings
from shared.storage.azure import AzureStorage
from tests.builders.statement import build_statement


@pytest.fixture
def pdf(tmp_path: Path) -> bytes:
    path = tmp_path / "statement.pdf"
    build_statement(path, cards=1, per_card=2, seed=3)
    return path.read_bytes()


def put(
    storage: AzureStorage, settings: Settings, session_id: str, data: bytes, upload_id: str | None
) -> Any:
    return sessions.accept_upload(
        storage,
        settings,
        session_id,
        "statement.pdf",
        body=io.BytesIO(data),
        length=len(data),
        upload_id=upload_id,
    )


def test_a_retried_upload_is_one_file(storage: AzureStorage, settings: Settings, pdf: bytes) -> None:
    """The same upload id twice (the first answer lost): the same record back, one record, one blob."""
    session = sessions.create_session(storage, settings)
    first = put(storage, settings, session.id, pdf, "client-upload-0001")
    again = put(storage, settings, session.id, pdf, "client-upload-0001")
    assert again.id == first.id
    assert [r.id for r in store.load_records(storage, settings, session.id)] == [first.id]
    assert len(list(storage.list(settings.uploads_container, f"{session.id}/"))) == 1


def test_without_an_id_each_upload_is_a_new_file(
    storage: AzureStorage, settings: Settings, pdf: bytes
) -> None:
    """Regression guard: no id, two files (a user may send the same PDF twice on purpose)."""
    session = sessions.create_session(storage, settings)
    put(storage, settings, session.id, pdf, None)
    put(storage, settings, session.id, pdf, None)
    assert len(store.load_records(storage, settings, session.id)) == 2


def test_a_retry_after_extraction_answers_with_the_extracted_file(
    storage: AzureStorage, settings: Settings, pdf: bytes
) -> None:
    """The file was already extracted when the retry came: its record, nothing stored again."""
    from shared.sessions.extract import extract_upload

    session = sessions.create_session(storage, settings)
    first = put(storage, settings, session.id, pdf, "client-upload-0002")
    (blob,) = [i.name for i in storage.list(settings.uploads_container, f"{session.id}/")]
    extract_upload(storage, settings, blob)
    again = put(storage, settings, session.id, pdf, "client-upload-0002")
    assert (again.id, again.status) == (first.id, FileStatus.EXTRACTED)
    assert list(storage.list(settings.uploads_container, f"{session.id}/")) == []


def test_an_upload_url_asked_twice_is_one_file(storage: AzureStorage, settings: Settings) -> None:
    """A retried request for an upload URL: the same file, the same blob."""
    session = sessions.create_session(storage, settings)
    first = sessions.upload_url(storage, settings, session.id, "receipts.pdf", upload_id="client-upload-0003")
    again = sessions.upload_url(storage, settings, session.id, "receipts.pdf", upload_id="client-upload-0003")
    assert first["file"] == again["file"]
    assert len(store.load_records(storage, settings, session.id)) == 1


def test_bad_or_reused_ids_are_refused(storage: AzureStorage, settings: Settings, pdf: bytes) -> None:
    """An id that is not an id, or one reused for another file name, is refused, not guessed at."""
    session = sessions.create_session(storage, settings)
    with pytest.raises(BadUploadIdError):
        put(storage, settings, session.id, pdf, "x")
    put(storage, settings, session.id, pdf, "client-upload-0004")
    with pytest.raises(WrongStateError, match=r"statement\.pdf"):
        sessions.accept_upload(
            storage, settings, session.id, "other.pdf", body=io.BytesIO(pdf), length=len(pdf),
            upload_id="client-upload-0004",
        )  # fmt: skip


def test_a_session_holds_a_bounded_number_of_files(
    storage: AzureStorage, settings: Settings, pdf: bytes
) -> None:
    """Past `max_files_per_session` a session refuses more files with a QuotaError (HTTP 429); a
    retried upload of a file it already holds is still answered."""
    from shared.errors import QuotaError

    few = settings.model_copy(update={"max_files_per_session": 2})
    session = sessions.create_session(storage, few)
    put(storage, few, session.id, pdf, "client-upload-0101")
    put(storage, few, session.id, pdf, None)
    with pytest.raises(QuotaError, match="at most 2 files"):
        put(storage, few, session.id, pdf, None)
    with pytest.raises(QuotaError):
        sessions.upload_url(storage, few, session.id, "receipts.pdf")
    assert put(storage, few, session.id, pdf, "client-upload-0101").name == "statement.pdf"


def test_an_upload_larger_than_a_file_may_be_fails_before_it_is_read(
    storage: AzureStorage, settings: Settings, pdf: bytes
) -> None:
    """Written through an upload URL (which takes any size), a file over MAX_FILE_BYTES fails with
    the reason from its properties alone, and its blob is removed."""
    from shared.sessions.extract import extract_upload
    from shared.sessions.layout import upload_blob

    small = settings.model_copy(update={"max_file_bytes": 1024})
    session = sessions.create_session(storage, small)
    grant = sessions.upload_url(storage, small, session.id, "receipts.pdf")
    record = grant["file"]
    blob = upload_blob(session.id, record["id"], record["name"])
    storage.put_bytes(small.uploads_container, blob, pdf)  # as the client's PUT to the URL would
    done = extract_upload(storage, small, blob)
    assert done is not None
    assert done.status is FileStatus.FAILED
    assert done.error_code == "file_too_large"
    assert "MiB a file may be" in (done.error or "")
    assert list(storage.list(small.uploads_container, f"{session.id}/")) == []
