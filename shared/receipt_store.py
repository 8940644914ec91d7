"""Receipt PDFs in storage: cut once while the receipts report is extracted, served from there.

The extract step cuts every expense of a receipts report while reading it (`ReceiptCutter`, inside
the sandbox) and stores the PDFs end to end in one blob, the *bundle*, with its index:

    sessions/<session>/cuts/<file>-<n>.pdfs  the receipt PDFs of one receipts report, end to end
                                             (<n>: one per try, so two tries never mix blocks)
    sessions/<session>/cuts/<file>.json      which bundle, and where each expense's PDF is in it
    sessions/<session>/reports/receipts-index.json
                                             each matched transaction's PDF: its name and bytes
    sessions/<session>/reports/receipts-extra.pdfs
                                             PDFs finalize had to cut itself (rarely any)

Finalizing a session then moves no receipt bytes: matching names the matched expenses' PDFs, and
the index records where each one's bytes are (`place_receipts`). A single receipt PDF is one ranged
read (`receipt_pdf`); the ZIP of them all (`receipts_zip`) is written as it is downloaded, reading
each bundle once from start to end. A reconciliation run again (an alias added) reuses the bundle.

Only an expense that was not cut ahead (the cutting process broke, or a session stored before
bundles) is cut by finalize, from the receipts report kept under `sources/`.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
import threading
import zipfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from pydantic import BaseModel, Field

from shared.errors import CcprocError, PermanentError
from shared.models import Reconciliation
from shared.read import PdfSource
from shared.report.receipt_pdfs import (
    CutFailure,
    Job,
    ReceiptCuts,
    ReceiptPdfs,
    cut_into_bundle,
    planned_names,
)
from shared.settings import Settings
from shared.storage import NotFoundError, Storage


def _new_cuts_blob(session_id: str, file_id: str) -> str:
    """A bundle of a receipts report's PDFs: a name of its own for each try, so that two tries of
    one upload (a repeated event) never stage blocks into the same blob."""
    return f"{session_id}/cuts/{file_id}-{secrets.token_hex(6)}.pdfs"


def cuts_index_blob(session_id: str, file_id: str) -> str:
    return f"{session_id}/cuts/{file_id}.json"


def source_blob(session_id: str, file_id: str) -> str:
    """A receipts report kept for cutting what was not cut ahead."""
    return f"{session_id}/sources/{file_id}.pdf"


def _index_blob(session_id: str) -> str:
    return f"{session_id}/reports/receipts-index.json"


def _extra_blob(session_id: str) -> str:
    return f"{session_id}/reports/receipts-extra.pdfs"


class StoredCuts(BaseModel):
    """A stored bundle: its blob and its index."""

    bundle: str
    index: ReceiptCuts


class StoredPdf(BaseModel):
    """One receipt PDF of a completed session: its file name and where its bytes are."""

    name: str
    blob: str
    offset: int = Field(ge=0)
    length: int = Field(gt=0)


class ReceiptsIndex(BaseModel):
    """The receipt PDFs of a completed session, in the order their bytes are stored."""

    made: dt.datetime
    pdfs: list[StoredPdf] = Field(default_factory=list)


class MissingReceiptError(PermanentError):
    """No receipt PDF of that name in the session."""

    code = "unknown_receipt"


# -- the extract step ---------------------------------------------------------------------------
class _AbandonedError(Exception):
    """The bundle being uploaded is not wanted after all (the extraction failed, or cut nothing)."""


class _GrowingFile:
    """A file another process is still appending to, read as it grows and to its very end once
    `finished` is set; a read raises `_AbandonedError` once `abandoned` is set."""

    _POLL_SECONDS = 0.02

    def __init__(self, path: Path) -> None:
        self._path = path
        self._handle: BinaryIO | None = None
        self.finished, self.abandoned = threading.Event(), threading.Event()

    def read(self, size: int = -1, /) -> bytes:
        """`size` bytes (all the rest with -1) once written, fewer only at the end: a reader that
        concatenates short reads (the SDK does, into each block) would copy each block many times."""
        while True:
            if self.abandoned.is_set():
                raise _AbandonedError
            finished = self.finished.is_set()  # before looking: whatever was written by then is read
            if self._handle is None and self._path.exists():
                self._handle = self._path.open("rb")
            if self._handle is not None:
                written = self._path.stat().st_size - self._handle.tell()
                if finished or (size >= 0 and written >= size):
                    return self._handle.read(size)
            elif finished:
                return b""
            self.abandoned.wait(self._POLL_SECONDS)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


class CutsUpload:
    """The bundle a sandboxed extraction is cutting into, uploaded while it is written: the upload
    runs on the core the single-process reading of the report leaves, instead of after it.
    Nothing is stored until `keep` (an abandoned or failed upload commits no block)."""

    def __init__(
        self, storage: Storage, settings: Settings, session_id: str, file_id: str, bundle: Path
    ) -> None:
        self._storage, self._settings = storage, settings
        self._session_id, self._file_id = session_id, file_id
        self._file = _GrowingFile(bundle)
        self._blob = _new_cuts_blob(session_id, file_id)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cuts upload")
        self._upload = self._pool.submit(
            storage.put_stream, settings.sessions_container, self._blob, self._file
        )

    def keep(self, cuts: ReceiptCuts) -> None:
        """The extraction is done: finish the upload, then store the index (it names only bytes
        the bundle holds)."""
        self._file.finished.set()
        self._upload.result()
        self._storage.put_bytes(
            self._settings.sessions_container,
            cuts_index_blob(self._session_id, self._file_id),
            StoredCuts(bundle=self._blob, index=cuts).model_dump_json().encode(),
            content_type="application/json",
        )

    def close(self) -> None:
        """Abandon the upload unless kept, and wait for its thread."""
        self._file.abandoned.set()
        self._upload.exception()  # waits for it; an abandoned or failed upload committed nothing
        self._pool.shutdown(wait=True)
        self._file.close()

    def __enter__(self) -> CutsUpload:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _load_cuts(storage: Storage, settings: Settings, session_id: str, file_id: str) -> StoredCuts:
    try:
        data, _ = storage.get_bytes(settings.sessions_container, cuts_index_blob(session_id, file_id))
    except NotFoundError:
        return StoredCuts(bundle="", index=ReceiptCuts())  # nothing cut ahead: finalize cuts them all
    return StoredCuts.model_validate_json(data)


# -- the finalize step --------------------------------------------------------------------------
def place_receipts(
    storage: Storage,
    settings: Settings,
    session_id: str,
    reconciliation: Reconciliation,
    *,
    receipts_file: str | None,
    scratch: Path,
) -> ReceiptPdfs:
    """Name each matched transaction's receipt PDF and store the index of where its bytes are; the
    names, and a problem line for each PDF that could not be made. `receipts_file` is the id of the
    session's receipts report (None: there is none, and so no PDF)."""
    if receipts_file is None:
        storage.put_bytes(
            settings.sessions_container,
            _index_blob(session_id),
            ReceiptsIndex(made=dt.datetime.now(dt.UTC)).model_dump_json().encode(),
            content_type="application/json",
        )
        return ReceiptPdfs()
    planned = planned_names(reconciliation)
    expenses = {i: reconciliation.transactions[i].expense for i in planned}
    stored_cuts = _load_cuts(storage, settings, session_id, receipts_file)
    cuts = stored_cuts.index
    where = {c.pages: (stored_cuts.bundle, c) for c in cuts.cuts}
    failed = {f.pages: f.reason for f in cuts.failures}
    uncut = {
        tuple(e.pages): (tuple(e.pages), e.expense_id, tuple(e.card_number_pages))
        for e in expenses.values()
        if e is not None and tuple(e.pages) not in where and tuple(e.pages) not in failed
    }
    if uncut:
        extra = _cut_here(storage, settings, session_id, receipts_file, list(uncut.values()), scratch)
        cuts.warnings.extend(extra.warnings)
        where.update({c.pages: (_extra_blob(session_id), c) for c in extra.cuts})
        failed.update({f.pages: f.reason for f in extra.failures})
    result, stored = ReceiptPdfs(), []
    for index, name in planned.items():
        expense = expenses[index]
        assert expense is not None  # only matched transactions are named
        key = tuple(expense.pages)
        if key in where:
            blob, cut = where[key]
            stored.append((index, StoredPdf(name=name, blob=blob, offset=cut.offset, length=cut.length)))
            result.names[index] = name
        else:
            number = reconciliation.transactions[index].transaction.transaction_number
            reason = failed.get(key, "its pages were not cut")
            result.problems.append(f"transaction {number}: no receipt PDF: {reason}")
    result.problems.extend(f"receipts report: {w}" for w in cuts.warnings)
    stored.sort(key=lambda item: (item[1].blob, item[1].offset, item[0]))
    receipts = ReceiptsIndex(made=dt.datetime.now(dt.UTC), pdfs=[pdf for _, pdf in stored])
    storage.put_bytes(
        settings.sessions_container,
        _index_blob(session_id),
        receipts.model_dump_json().encode(),
        content_type="application/json",
    )
    return result


def _cut_here(  # noqa: PLR0917 — a private helper of place_receipts
    storage: Storage, settings: Settings, session_id: str, receipts_file: str, jobs: list[Job], scratch: Path
) -> ReceiptCuts:
    """Cut what was not cut ahead from the kept receipts report into the session's extra bundle."""
    report, bundle = scratch / "receipts.pdf", scratch / "extra.pdfs"
    try:
        storage.download_to(settings.sessions_container, source_blob(session_id, receipts_file), report)
        with PdfSource(report) as source:
            cuts = cut_into_bundle(source, jobs, bundle)
    except (NotFoundError, CcprocError) as exc:
        reason = f"the receipts report cannot be read: {exc}"
        return ReceiptCuts(failures=[CutFailure(pages=pages, reason=reason) for pages, _, _ in jobs])
    if cuts.cuts:
        storage.put_file(settings.sessions_container, _extra_blob(session_id), bundle)
    return cuts


# -- downloads ----------------------------------------------------------------------------------
def load_index(storage: Storage, settings: Settings, session_id: str) -> ReceiptsIndex:
    """The receipt PDFs of a completed session (every completed session has an index, if only an
    empty one); MissingReceiptError when it has none, as one completed before receipt PDFs were
    kept this way: reconciling it again makes them."""
    try:
        data, _ = storage.get_bytes(settings.sessions_container, _index_blob(session_id))
    except NotFoundError as exc:
        raise MissingReceiptError(
            f"session {session_id} has no receipt PDFs stored: reconcile it again to cut them"
        ) from exc
    return ReceiptsIndex.model_validate_json(data)


def receipt_pdf(storage: Storage, settings: Settings, session_id: str, name: str) -> bytes:
    """One receipt PDF by file name: one ranged read."""
    index = load_index(storage, settings, session_id)
    pdf = next((p for p in index.pdfs if p.name == name), None)
    if pdf is None:
        raise MissingReceiptError(f"no receipt {name[:60]!r}")
    data = storage.read_range(settings.sessions_container, pdf.blob, pdf.offset, pdf.length)
    if len(data) != pdf.length:
        raise PermanentError(f"receipt {name!r}: its stored bytes end early")
    return data


class _Sink(io.RawIOBase):
    """What `zipfile` writes into: parts taken out as they come (not seekable: zipfile then puts
    each member's size and CRC in a data descriptor after it, as the format allows)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> list[bytes]:
        parts, self._parts = self._parts, []
        return parts


def receipts_zip(storage: Storage, settings: Settings, session_id: str) -> Iterator[bytes]:
    """The ZIP of a session's receipt PDFs, written as it is read: each bundle is read once, from
    start to end, and one PDF at a time is held. Members are stored (PDFs of JPEGs do not deflate).
    The index is read here, so a missing one raises before any byte is sent."""
    return _zip_stream(storage, settings.sessions_container, load_index(storage, settings, session_id))


def _zip_stream(storage: Storage, container: str, index: ReceiptsIndex) -> Iterator[bytes]:
    stamp = index.made.timetuple()[:6]
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        for pdf, data in _contents(storage, container, index.pdfs):
            archive.writestr(zipfile.ZipInfo(pdf.name, date_time=stamp), data)
            yield from sink.take()
    yield from sink.take()


def _contents(storage: Storage, container: str, pdfs: list[StoredPdf]) -> Iterator[tuple[StoredPdf, bytes]]:
    """Each PDF's bytes, the PDFs being in (blob, offset) order: one streamed read of each blob."""
    for blob in dict.fromkeys(p.blob for p in pdfs):
        mine = [p for p in pdfs if p.blob == blob]
        chunks = storage.open_read(container, blob)
        yield from zip(mine, _slices(chunks, [(p.offset, p.length) for p in mine], blob), strict=True)


def _slices(chunks: Iterable[bytes], ranges: list[tuple[int, int]], blob: str) -> Iterator[bytes]:
    """The bytes of each (offset, length) of a stream, ranges in offset order (a range may repeat).
    Chunks are sliced, never joined into a growing buffer: each byte is copied once."""
    stream = iter(chunks)
    chunk, start = b"", 0  # the current chunk, and where it starts in the stream
    last: tuple[tuple[int, int], bytes] | None = None
    for offset, length in ranges:
        if last is not None and last[0] == (offset, length):
            yield last[1]  # two transactions matched to one expense
            continue
        if last is not None and offset < sum(last[0]):
            raise PermanentError(f"{blob}: receipt PDFs overlap")
        pieces, at, end = [], offset, offset + length
        while at < end:
            if at >= start + len(chunk):  # past this chunk: the next one
                following = next(stream, None)
                if following is None:
                    raise PermanentError(f"{blob}: the stored receipt PDFs end early")
                start, chunk = start + len(chunk), following
                continue
            piece = memoryview(chunk)[at - start : end - start]
            pieces.append(piece)
            at += len(piece)
        data = b"".join(pieces)
        last = ((offset, length), data)
        yield data
