"""Receipt PDFs cut during the receipts extraction, stored as a bundle, named by finalize and served
from there: the ZIP written as it is downloaded, single PDFs by ranged reads, the fallback cutting
when nothing was cut ahead, and what a finalize moves (no receipt bytes)."""

from __future__ import annotations

import io
import itertools
import json
import secrets
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pypdf
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pypdf.generic import StreamObject

from shared import errors
from shared.errors import AbandonedError, PermanentError
from shared.matching.aliases import JsonFileAliasStore
from shared.offline import reconcile_files
from shared.sessions import layout, store
from shared.sessions import requests as sessions
from shared.sessions.aliases import BlobAliasStore
from shared.sessions.extract import extract_upload
from shared.sessions.finalize import finalize_session
from shared.sessions.models import SessionStatus
from shared.sessions.receipt_store import (
    _slices,
    cuts_index_blob,
    receipt_pdf,
    receipts_zip,
    source_blob,
)
from shared.sessions.review import reconcile_again, review
from shared.settings import Settings
from shared.storage.azure import AzureStorage
from shared.storage.gateway import Storage
from shared.storage.streams import NumberedFiles
from tests.builders.month import build_month


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("month")
    return folder, build_month(folder, size="small", seed=33)


def _extract(storage: Storage, settings: Settings, folder: Path, names: tuple[str, ...]) -> str:
    session = sessions.create_session(storage, settings)
    for name in names:
        path = folder / name
        with path.open("rb") as body:
            sessions.accept_upload(
                storage,
                settings,
                session.id,
                name,
                body=body,
                length=path.stat().st_size,
                allow_duplicate=True,
            )
    for info in list(storage.list(settings.uploads_container)):
        extract_upload(storage, settings, info.name)
    return session.id


def _finish(storage: Storage, settings: Settings, session_id: str) -> None:
    if sessions.get_session(storage, settings, session_id).status is SessionStatus.OPEN:
        sessions.request_processing(storage, settings, session_id)
    finalize_session(storage, settings, json.dumps({"session": session_id}))
    view = sessions.get_session(storage, settings, session_id)
    assert view.status is SessionStatus.COMPLETED, view.error


def _zip(storage: Storage, settings: Settings, session_id: str) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(receipts_zip(storage, settings, session_id))))


def _images(pdf: bytes) -> list[list[bytes]]:
    """Each page's image streams, as stored (encoded)."""
    pages = []
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        xobjects: Any = page["/Resources"].get_object().get("/XObject", {})
        found = [xobjects[k].get_object() for k in sorted(xobjects)]
        pages.append([x._data for x in found if isinstance(x, StreamObject)])
    return pages


class Counting:
    """The real storage, counting the bytes of receipt reports and bundles moved through it."""

    def __init__(self, storage: AzureStorage) -> None:
        self._storage = storage
        self.downloads: list[str] = []
        self.uploads: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._storage, name)

    def download_to(self, container: str, name: str, path: Path) -> int:
        self.downloads.append(name)
        return self._storage.download_to(container, name, path)

    def put_file(self, container: str, name: str, path: Path, **kwargs: Any) -> str:
        self.uploads.append(name)
        return self._storage.put_file(container, name, path, **kwargs)

    def put_stream(self, container: str, name: str, stream: Any, **kwargs: Any) -> str:
        self.uploads.append(name)
        return self._storage.put_stream(container, name, stream, **kwargs)


def test_the_served_zip_holds_what_ccproc_reconcile_cuts(
    storage: AzureStorage, settings: Settings, month: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """The pipeline's ZIP (written as it is read out of the bundle) has the members `ccproc reconcile`
    writes for the same files, each with the same pages and image bytes; every single PDF served
    equals its ZIP member; the manifest names exactly those PDFs."""
    folder, truth = month
    session_id = _extract(storage, settings, folder, ("statement.pdf", "receipts.pdf"))
    _finish(storage, settings, session_id)
    aliases = tmp_path / "aliases.json"
    aliases.write_text(json.dumps(truth["aliases"]))
    local = tmp_path / "local"
    # The session's alias table: the same as the file's, so the same matches and names.
    for name, holder in truth["aliases"].items():
        BlobAliasStore(storage, settings).add(name, holder)
    reconcile_again(storage, settings, session_id)
    _finish(storage, settings, session_id)
    reconcile_files(
        [folder / "statement.pdf", folder / "receipts.pdf"],
        local,
        settings=settings,
        aliases=JsonFileAliasStore(aliases),
    )
    served = _zip(storage, settings, session_id)
    assert served.testzip() is None
    with zipfile.ZipFile(local / "receipts.zip") as written:
        assert sorted(served.namelist()) == sorted(written.namelist())
        assert len(written.namelist()) > 10
        for name in written.namelist():
            assert _images(served.read(name)) == _images(written.read(name)), name
    manifest, _ = store.load_manifest(storage, settings, session_id)
    assert sorted(served.namelist()) == sorted(manifest.receipt_pdfs)
    for name in served.namelist():
        assert receipt_pdf(storage, settings, session_id, name) == served.read(name)
        assert all(info.compress_type == zipfile.ZIP_STORED for info in served.infolist())


def test_finalize_moves_no_receipt_bytes_and_a_rerun_reuses_the_bundle(
    storage: AzureStorage, settings: Settings, month: tuple[Path, dict[str, Any]]
) -> None:
    """The receipts extraction stores one bundle; finalize, and a reconciliation run again,
    download and upload nothing of the receipts (only small JSON and the four other reports)."""
    folder, _ = month
    counting = Counting(storage)
    session_id = _extract(counting, settings, folder, ("statement.pdf", "receipts.pdf"))  # type: ignore[arg-type]
    stored = storage.list(settings.sessions_container, f"{session_id}/cuts/")
    assert len([i for i in stored if i.name.endswith(".pdfs")]) == 1  # the statement left none
    counting.downloads.clear()
    counting.uploads.clear()
    _finish(counting, settings, session_id)  # type: ignore[arg-type]
    reconcile_again(storage, settings, session_id)
    _finish(counting, settings, session_id)  # type: ignore[arg-type]
    assert counting.downloads == []
    assert {name.rsplit("/", 1)[-1] for name in counting.uploads} == {
        "exceptions.xlsx",
        "pvault.csv",
        "transactions.csv",
        "reconciliation.json",
    }


def test_without_the_bundle_finalize_cuts_the_pdfs_itself(
    storage: AzureStorage, settings: Settings, month: tuple[Path, dict[str, Any]]
) -> None:
    """A receipts report whose expenses were not cut ahead (its bundle's index is gone, as when the
    cutting process broke): finalize cuts the matched ones from the kept report, with the same
    names and pages as from the bundle."""
    folder, _ = month
    ahead = _extract(storage, settings, folder, ("statement.pdf", "receipts.pdf"))
    _finish(storage, settings, ahead)
    here = _extract(storage, settings, folder, ("statement.pdf", "receipts.pdf"))
    for info in list(storage.list(settings.sessions_container, f"{here}/cuts/")):
        storage.delete(settings.sessions_container, info.name)
    _finish(storage, settings, here)
    assert any(
        i.name.endswith("receipts-extra.pdfs") for i in storage.list(settings.sessions_container, here)
    )
    one, other = _zip(storage, settings, ahead), _zip(storage, settings, here)
    assert sorted(one.namelist()) == sorted(other.namelist())
    for name in one.namelist():
        assert _images(one.read(name)) == _images(other.read(name))


def test_with_nothing_to_cut_from_the_session_completes_and_says_why(
    storage: AzureStorage, settings: Settings, month: tuple[Path, dict[str, Any]]
) -> None:
    """Bundle and kept report both gone: the session still completes, with no receipt PDF, and each
    matched transaction has a warning in reconciliation.json that says the report cannot be read."""
    folder, _ = month
    session_id = _extract(storage, settings, folder, ("statement.pdf", "receipts.pdf"))
    records = store.load_records(storage, settings, session_id)
    (receipts,) = [r for r in records if r.expenses is not None]
    for name in (cuts_index_blob(session_id, receipts.id), source_blob(session_id, receipts.id)):
        storage.delete(settings.sessions_container, name)
    _finish(storage, settings, session_id)
    manifest, _ = store.load_manifest(storage, settings, session_id)
    assert manifest.receipt_pdfs == []
    assert _zip(storage, settings, session_id).namelist() == []
    _, _, chunks = sessions.report(storage, settings, session_id, "reconciliation")
    problems = [w for w in json.loads(b"".join(chunks))["warnings"] if "no receipt PDF" in w]
    matched = sum(rt.expense is not None for rt in review(storage, settings, session_id).transactions)
    assert len(problems) == matched > 0
    assert all("no receipt PDF: the receipts report cannot be read" in p for p in problems)


def test_only_a_receipts_report_leaves_a_bundle(
    storage: AzureStorage, settings: Settings, month: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """A statement, and a receipts report that fails extraction, store no bundle (the upload that
    started alongside commits nothing)."""
    folder, _ = month
    broken = tmp_path / "broken.pdf"
    broken.write_bytes((folder / "receipts.pdf").read_bytes()[:200_000])
    session_id = _extract(storage, settings, folder, ("statement.pdf",))
    with broken.open("rb") as body:
        sessions.accept_upload(storage, settings, session_id, "broken.pdf", body=body, length=200_000)
    for info in list(storage.list(settings.uploads_container)):
        extract_upload(storage, settings, info.name)
    assert not [i.name for i in storage.list(settings.sessions_container, f"{session_id}/cuts/")]
    records = store.load_records(storage, settings, session_id)
    assert any(r.error for r in records)
    receipts_id = _extract(storage, settings, folder, ("receipts.pdf",))
    (bundle,) = [
        i
        for i in storage.list(settings.sessions_container, f"{receipts_id}/cuts/")
        if i.name.endswith(".pdfs")
    ]
    assert bundle.size > 0


# -- reading PDFs out of a bundle stream ---------------------------------------------------------
def _chunked(data: bytes, cuts: list[int]) -> Iterator[bytes]:
    edges = [0, *sorted(c % (len(data) + 1) for c in cuts), len(data)]
    return (data[a:b] for a, b in itertools.pairwise(edges))


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    data=st.binary(min_size=1, max_size=400),
    cuts=st.lists(st.integers(min_value=0), max_size=12),
    spans=st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=1, max_value=60)), max_size=10),
    repeat=st.booleans(),
)
def test_slices_of_a_stream_equal_the_slices_of_its_bytes(
    data: bytes, cuts: list[int], spans: list[tuple[int, int]], repeat: bool
) -> None:
    """Any chunking of the stream, any ordered ranges that do not overlap (a range may repeat):
    the bytes of each range, as slicing the whole would give."""
    ranges, end = [], 0
    for gap, length in spans:
        offset = end + gap % 50
        if offset + length > len(data):
            break
        ranges.append((offset, length))
        if repeat:
            ranges.append((offset, length))
        end = offset + length
    got = list(_slices(_chunked(data, cuts), ranges, "bundle"))
    assert got == [data[o : o + n] for o, n in ranges]


@pytest.mark.parametrize(
    ("ranges", "message"),
    [([(0, 5), (3, 4)], "overlap"), ([(8, 5)], "end early")],
)
def test_slices_refuse_overlaps_and_a_short_stream(ranges: list[tuple[int, int]], message: str) -> None:
    reader: Callable[[], list[bytes]] = lambda: list(_slices(iter([b"0123456789"]), ranges, "bundle"))  # noqa: E731
    with pytest.raises(PermanentError, match=message):
        reader()


def test_a_session_without_stored_receipt_pdfs_says_so_and_a_rerun_makes_them(
    storage: AzureStorage, settings: Settings, month: tuple[Path, dict[str, Any]]
) -> None:
    """A completed session whose index of receipt PDFs is missing (one completed before they were
    kept this way) answers the ZIP and each PDF with a 404 that says what to do, before any byte;
    reconciling it again brings them back."""
    folder, _ = month
    session_id = _extract(storage, settings, folder, ("statement.pdf", "receipts.pdf"))
    _finish(storage, settings, session_id)
    names = _zip(storage, settings, session_id).namelist()
    storage.delete(settings.sessions_container, f"{session_id}/reports/receipts-index.json")
    with pytest.raises(errors.UnknownSessionError, match="reconcile it again"):
        sessions.report(storage, settings, session_id, "receipts")
    with pytest.raises(errors.UnknownSessionError, match="reconcile it again"):
        sessions.report(storage, settings, session_id, f"receipts/{names[0]}")
    reconcile_again(storage, settings, session_id)
    _finish(storage, settings, session_id)
    assert _zip(storage, settings, session_id).namelist() == names


class KeepsUploads(Counting):
    """The real storage, except that removing an upload does nothing (a step that died just before)."""

    def delete(self, container: str, name: str) -> bool:
        if container.startswith("up"):
            return False
        return bool(self._storage.delete(container, name))


def test_a_session_never_completes_with_uploads_left(
    storage: AzureStorage, settings: Settings, month: tuple[Path, dict[str, Any]]
) -> None:
    """Extract steps that died before removing their uploads: the step that completes the session
    removes the uploads of files already done, so completed means the uploads container is empty."""
    assert settings.uploads_container.startswith("up")
    folder, _ = month
    session_id = _extract(KeepsUploads(storage), settings, folder, ("statement.pdf", "receipts.pdf"))  # type: ignore[arg-type]
    assert len(list(storage.list(settings.uploads_container, f"{session_id}/"))) == 2
    _finish(storage, settings, session_id)
    assert list(storage.list(settings.uploads_container, f"{session_id}/")) == []


# -- numbered PDFs read end to end while they are cut ---------------------------------------------
def test_numbered_files_are_read_end_to_end_while_they_come(tmp_path: Path) -> None:
    """Files written (whole, by rename) one after another by another thread, some numbers never
    coming (failed cuts), are read in order as one stream; each file's place in it is recorded; the
    stream ends only once the writer is finished."""
    folder = tmp_path / "cuts"
    folder.mkdir()
    files = {0: b"a" * 10, 1: None, 2: b"b" * 5, 3: b"c" * 7, 4: None, 5: None}
    reader = NumberedFiles(folder)

    def write() -> None:
        for number, data in files.items():
            time.sleep(0.03)
            if data is not None:
                (folder / f"{number}.pdf.part").write_bytes(data)
                (folder / f"{number}.pdf.part").replace(folder / f"{number}.pdf")
        reader.finished.set()

    writer = threading.Thread(target=write)
    writer.start()
    got = b""
    while chunk := reader.read(4):
        assert len(chunk) == 4 or not reader.read(1)  # short only at the end
        got += chunk
    writer.join()
    reader.close()
    assert got == b"a" * 10 + b"b" * 5 + b"c" * 7
    assert reader.placed == {0: (0, 10), 2: (10, 5), 3: (15, 7)}


def test_an_abandoned_upload_stops_reading(tmp_path: Path) -> None:
    """Nothing cut (a statement) and the upload abandoned: the waiting read raises, so the upload
    commits nothing."""
    reader = NumberedFiles(tmp_path / "never")
    threading.Timer(0.1, reader.abandoned.set).start()
    with pytest.raises(AbandonedError):
        reader.read(100)


def test_an_upload_without_a_record_is_removed_not_extracted(
    storage: AzureStorage, settings: Settings, month: tuple[Path, dict[str, Any]]
) -> None:
    """An upload request that failed after its blob was stored removes the file's record and tells
    its client, who sends the file again: the stray blob never becomes a file of the session. The
    extract step removes it, and so does the step completing the session if it comes first."""
    folder, _ = month
    session_id = _extract(storage, settings, folder, ("statement.pdf",))
    stray = layout.upload_blob(session_id, secrets.token_hex(8), "receipts.pdf")
    storage.put_file(settings.uploads_container, stray, folder / "receipts.pdf")
    _finish(storage, settings, session_id)
    assert list(storage.list(settings.uploads_container, f"{session_id}/")) == []
    assert [r.name for r in store.load_records(storage, settings, session_id)] == ["statement.pdf"]
    storage.put_file(settings.uploads_container, stray, folder / "receipts.pdf")
    assert extract_upload(storage, settings, stray) is None
    assert list(storage.list(settings.uploads_container, f"{session_id}/")) == []
    assert len(store.load_records(storage, settings, session_id)) == 1
