"""Receipt PDFs in storage: cut once while the receipts report is extracted, served from there.

The extract step cuts every expense of a receipts report while reading it (`ReceiptCutter`, inside
the sandbox, into numbered files on scratch space) and uploads the PDFs as they come, end to end in
one blob, the *bundle* (`cuts/<file>-<try>.pdfs`), then stores its index (`cuts/<file>.json`);
finalize writes `reports/receipts-index.json` (see `shared.sessions.layout`).

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
import zipfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pydantic import BaseModel, Field

from shared.errors import CcprocError, MissingReceiptError, NotFoundError, PermanentError
from shared.models import Reconciliation
from shared.pdf.read import PdfSource
from shared.report.receipt_pdfs import (
    CutFailure,
    Job,
    ReceiptCuts,
    ReceiptPdfs,
    cut_into_files,
    planned_names,
)
from shared.sessions.layout import (
    cuts_index_blob,
    new_cuts_blob,
    receipts_extra_blob,
    receipts_index_blob,
    source_blob,
)
from shared.settings import Settings
from shared.storage.gateway import Storage
from shared.storage.streams import NumberedFiles


class StoredCut(BaseModel):
    """One expense's receipt PDF in a bundle: the report pages it holds, where its bytes are."""

    pages: tuple[int, ...]
    offset: int = Field(ge=0)
    length: int = Field(gt=0)


class StoredCuts(BaseModel):
    """A stored bundle: its blob, where each expense's PDF is in it, and what could not be cut."""

    bundle: str
    cuts: list[StoredCut] = Field(default_factory=list)
    failures: list[CutFailure] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


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


# -- the extract step ---------------------------------------------------------------------------
class CutsUpload:
    """The receipt PDFs a sandboxed extraction is cutting into `folder`, uploaded end to end as one
    blob while they come: the upload runs on the core the single-process reading of the report
    leaves, instead of after it. Nothing is stored until `keep` (an abandoned or failed upload
    commits no block)."""

    def __init__(
        self, storage: Storage, settings: Settings, session_id: str, file_id: str, folder: Path
    ) -> None:
        self._storage, self._settings = storage, settings
        self._session_id, self._file_id = session_id, file_id
        self._file = NumberedFiles(folder)
        self._blob = new_cuts_blob(session_id, file_id)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cuts upload")
        self._upload = self._pool.submit(
            storage.put_stream, settings.sessions_container, self._blob, self._file
        )

    def keep(self, cuts: ReceiptCuts) -> None:
        """The extraction is done: finish the upload, then store the index of the bundle."""
        self._file.finished.set()
        self._upload.result()
        stored = _stored(self._blob, cuts, self._file.placed)
        self._storage.put_bytes(
            self._settings.sessions_container,
            cuts_index_blob(self._session_id, self._file_id),
            stored.model_dump_json().encode(),
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


def _stored(blob: str, cuts: ReceiptCuts, placed: dict[int, tuple[int, int]]) -> StoredCuts:
    """The index of a bundle: each PDF the extraction cut, where the upload placed its file. One not
    placed whole (its index came from a process that read an untrusted file) is left out, and so
    cut again by finalize if it is needed."""
    stored = [
        StoredCut(pages=c.pages, offset=placed[c.number][0], length=c.length)
        for c in cuts.cuts
        if placed.get(c.number, (0, -1))[1] == c.length
    ]
    return StoredCuts(bundle=blob, cuts=stored, failures=cuts.failures, warnings=cuts.warnings)


def _load_cuts(storage: Storage, settings: Settings, session_id: str, file_id: str) -> StoredCuts:
    try:
        data, _ = storage.get_bytes(settings.sessions_container, cuts_index_blob(session_id, file_id))
    except NotFoundError:
        return StoredCuts(bundle="")  # nothing was cut ahead: finalize cuts them all
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
    planned = planned_names(reconciliation) if receipts_file is not None else {}
    expenses = {i: reconciliation.transactions[i].expense for i in planned}
    cuts = (
        _load_cuts(storage, settings, session_id, receipts_file)
        if receipts_file is not None
        else StoredCuts(bundle="")
    )
    where = {c.pages: (cuts.bundle, c) for c in cuts.cuts}
    failed = {f.pages: f.reason for f in cuts.failures}
    uncut: dict[tuple[int, ...], Job] = {}
    for expense in expenses.values():
        assert expense is not None  # only matched transactions are named
        key = tuple(expense.pages)
        if key not in where and key not in failed and key not in uncut:
            uncut[key] = (key, expense.expense_id, tuple(expense.card_number_pages), len(uncut))
    if uncut and receipts_file is not None:
        extra = _cut_here(storage, settings, session_id, receipts_file, list(uncut.values()), scratch)
        cuts.warnings.extend(extra.warnings)
        where.update({c.pages: (extra.bundle, c) for c in extra.cuts})
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
        receipts_index_blob(session_id),
        receipts.model_dump_json().encode(),
        content_type="application/json",
    )
    return result


def _cut_here(  # noqa: PLR0917 — a private helper of place_receipts
    storage: Storage, settings: Settings, session_id: str, receipts_file: str, jobs: list[Job], scratch: Path
) -> StoredCuts:
    """Cut what was not cut ahead from the kept receipts report into the session's extra bundle."""
    report, folder = scratch / "receipts.pdf", scratch / "cuts"
    folder.mkdir()
    blob = receipts_extra_blob(session_id)
    try:
        storage.download_to(settings.sessions_container, source_blob(session_id, receipts_file), report)
        with PdfSource(report) as source:
            cuts = cut_into_files(source, jobs, folder)
    except (NotFoundError, CcprocError) as exc:
        reason = f"the receipts report cannot be read: {exc}"
        return StoredCuts(bundle=blob, failures=[CutFailure(pages=job[0], reason=reason) for job in jobs])
    files = NumberedFiles(folder)
    files.finished.set()
    if cuts.cuts:
        storage.put_stream(settings.sessions_container, blob, files)
    return _stored(blob, cuts, files.placed)


# -- downloads ----------------------------------------------------------------------------------
def load_index(storage: Storage, settings: Settings, session_id: str) -> ReceiptsIndex:
    """The receipt PDFs of a completed session (every completed session has an index, if only an
    empty one); MissingReceiptError when it has none, as one completed before receipt PDFs were
    kept this way: reconciling it again makes them."""
    try:
        data, _ = storage.get_bytes(settings.sessions_container, receipts_index_blob(session_id))
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
