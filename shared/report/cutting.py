"""Receipt PDFs and their ZIP made in a forked process while the caller writes the other reports.

Cutting receipt pages is CPU-bound and the longest part of writing the reports, so where `fork`
exists it runs in a process of its own. The process inherits its arguments (nothing is pickled but
the result, a few kilobytes: a process pool would pickle the whole reconciliation there and back).

The ZIP goes to a file, or, given a consumer (an upload), through a pipe to that consumer in a
thread of the calling process, as it is written: the upload then runs alongside the cutting instead
of after it, and the ZIP never lands on local disk. Written into a pipe, the ZIP cannot go back to
fill in each member's size and CRC, so zipfile puts them in a data descriptor after the member, as
the format allows; readers find them in the central directory as always.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO, cast

from shared.errors import CcprocError
from shared.models import Reconciliation
from shared.report.receipt_pdfs import PrecutReceipts, ReceiptPdfs, cut_receipts

logger = logging.getLogger(__name__)

ZipConsumer = Callable[[IO[bytes]], object]


class Done:
    """A result already at hand, with the interface of a future."""

    def __init__(self, value: ReceiptPdfs) -> None:
        self.value = value

    def result(self) -> ReceiptPdfs:
        """The receipt PDFs."""
        return self.value


def _cut_safely(  # noqa: PLR0917 — called with one tuple of arguments, in or out of a process
    reconciliation: Reconciliation,
    receipts_pdf: Path | None,
    out_dir: Path,
    password: str | None,
    zip_to: Path | int,
    keep_files: bool,
    precut: PrecutReceipts | None,
) -> ReceiptPdfs:
    """Cut the receipt PDFs and write the ZIP in the same pass (an empty ZIP without a report).
    `zip_to`: a file, or the write end of a pipe (a file descriptor) to stream the ZIP into."""
    try:
        with (
            open(zip_to, "wb") if isinstance(zip_to, int) else zip_to.open("wb") as stream,  # noqa: PTH123 — a pipe has no path
            zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_STORED) as archive,
        ):
            if receipts_pdf is None:
                return ReceiptPdfs()
            return cut_receipts(
                reconciliation,
                receipts_pdf,
                out_dir,
                password=password,
                archive=archive,
                keep_files=keep_files,
                precut=precut,
            )
    except CcprocError as exc:
        logger.warning("receipt PDFs not cut: %s", exc)
        return ReceiptPdfs(problems=[f"receipt PDFs not cut: {exc}"])


class Forked:
    """`_cut_safely` in a forked process, as a future; with `consumer`, the ZIP streams to it."""

    def __init__(self, args: tuple[object, ...], consumer: ZipConsumer | None) -> None:
        context = multiprocessing.get_context("fork")
        self._receiver, sender = context.Pipe(duplex=False)
        self._thread: threading.Thread | None = None
        self._stream_error: BaseException | None = None
        read_end = write_end = None
        if consumer is not None:
            read_end, write_end = os.pipe()
            args = (*args[:4], write_end, *args[5:])
        self._process = context.Process(target=_cut_in_child, args=(sender, args, read_end), daemon=True)
        self._process.start()
        sender.close()
        if consumer is not None and read_end is not None and write_end is not None:
            os.close(write_end)  # the child holds the only write end: its exit is the ZIP's end
            self._thread = threading.Thread(
                target=self._consume, args=(consumer, read_end), name="receipts zip", daemon=True
            )
            self._thread.start()

    def _consume(self, consumer: ZipConsumer, read_end: int) -> None:
        # Closing the read end on any failure makes the child's next write fail, so it never waits
        # on a pipe nobody reads.
        with open(read_end, "rb") as stream:
            try:
                consumer(stream)
            except BaseException as exc:  # noqa: BLE001 — raised in the caller's thread by result()
                self._stream_error = exc

    def result(self) -> ReceiptPdfs:
        """The receipt PDFs, once the consumer has the whole ZIP; the child's or the consumer's
        exception is raised here, as a future would."""
        try:
            done, value = self._receiver.recv()
        except EOFError:
            done, value = (
                False,
                RuntimeError(
                    f"the receipt-cutting process ended without a result (exit code {self._process.exitcode})"
                ),
            )
        finally:
            self._receiver.close()
        self._process.join()
        if self._thread is not None:
            self._thread.join()
        if self._stream_error is not None:
            raise self._stream_error
        if done:
            return cast(ReceiptPdfs, value)
        raise cast(BaseException, value)

    def close(self) -> None:
        """Stop the process if it still runs (the caller failed before asking for the result)."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._receiver.close()
        if self._thread is not None:
            self._thread.join()


def _cut_in_child(sender: Connection, args: tuple[object, ...], read_end: int | None) -> None:
    if read_end is not None:
        os.close(read_end)  # else a reader that gave up would leave this process writing for ever
    try:
        outcome: tuple[bool, object] = (True, _cut_safely(*args))  # type: ignore[arg-type]
    except BaseException as exc:  # noqa: BLE001 — handed to the parent, which raises it
        outcome = (False, exc)
    try:
        sender.send(outcome)
    except Exception as exc:  # noqa: BLE001 — an exception that cannot be pickled: its text then
        sender.send((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
    sender.close()


@contextmanager
def cutting(
    reconciliation: Reconciliation,
    receipts_pdf: Path | None,
    out_dir: Path,
    password: str | None,
    *,
    zip_path: Path,
    keep_files: bool,
    precut: PrecutReceipts | None,
    zip_consumer: ZipConsumer | None = None,
) -> Iterator[Forked | Done]:
    """Receipt PDFs and their ZIP made in a forked process (where fork exists), as a future. With
    `zip_consumer`, the ZIP is handed to it as a stream and not written to `zip_path`."""
    args = (reconciliation, receipts_pdf, out_dir, password, zip_path, keep_files, precut)
    if receipts_pdf is None or "fork" not in multiprocessing.get_all_start_methods():
        done = Done(_cut_safely(*args))
        if zip_consumer is not None:
            with zip_path.open("rb") as stream:
                zip_consumer(stream)
            zip_path.unlink()
        yield done
        return
    forked = Forked(args, zip_consumer)
    try:
        yield forked
    finally:
        forked.close()
