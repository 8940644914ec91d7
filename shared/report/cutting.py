"""Receipt PDFs and their ZIP made in a forked process while the caller writes the other reports.

Cutting receipt pages is CPU-bound and the longest part of writing the reports, so where a fork is
safe (`shared.processes.can_fork`) it runs in a process of its own. The process inherits its
arguments (nothing is pickled but the result, a few kilobytes: a process pool would pickle the
whole reconciliation there and back).
"""

from __future__ import annotations

import logging
import multiprocessing
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import cast

from shared.errors import CcprocError
from shared.models import Reconciliation
from shared.processes import can_fork
from shared.report.receipt_pdfs import PrecutReceipts, ReceiptPdfs, cut_receipts

logger = logging.getLogger(__name__)


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
    zip_path: Path,
    keep_files: bool,
    precut: PrecutReceipts | None,
) -> ReceiptPdfs:
    """Cut the receipt PDFs and write the ZIP in the same pass (an empty ZIP without a report)."""
    try:
        with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_STORED) as archive:
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
    """`_cut_safely` in a forked process, as a future."""

    def __init__(self, args: tuple[object, ...]) -> None:
        context = multiprocessing.get_context("fork")
        self._receiver, sender = context.Pipe(duplex=False)
        self._process = context.Process(target=_cut_in_child, args=(sender, args), daemon=True)
        self._process.start()
        sender.close()

    def result(self) -> ReceiptPdfs:
        """The receipt PDFs; the child's exception is raised here, as a future would."""
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
        if done:
            return cast(ReceiptPdfs, value)
        raise cast(BaseException, value)

    def close(self) -> None:
        """Stop the process if it still runs (the caller failed before asking for the result)."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._receiver.close()


def _cut_in_child(sender: Connection, args: tuple[object, ...]) -> None:
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
) -> Iterator[Forked | Done]:
    """Receipt PDFs and their ZIP made in a forked process (where fork exists), as a future."""
    args = (reconciliation, receipts_pdf, out_dir, password, zip_path, keep_files, precut)
    if receipts_pdf is None or not can_fork():
        # No fork (or other threads running, which a fork could deadlock on): cut here.
        yield Done(_cut_safely(*args))
        return
    forked = Forked(args)
    try:
        yield forked
    finally:
        forked.close()
