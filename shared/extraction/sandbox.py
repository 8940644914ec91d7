"""Extraction of one file in a child process under CPU, memory and wall-clock limits.

pypdf caps what it decompresses and parses, but a hostile file can still make honest work explode
(a form drawn thousands of times, thousands of pages sharing one huge content stream). So each file
is read by a child process that cannot take more than `Settings.extract_cpu_seconds` of CPU time
(RLIMIT_CPU), `extract_memory_bytes` of address space (RLIMIT_AS) or `extract_wall_seconds` of
wall time. Whatever kills the child ends as that file failed with a reason (`ResourceLimitError`),
while the worker, and the other files of the session, carry on.

* **forkserver**, not fork: the caller is often multi-threaded (the worker's lease keeper, the
  Functions host's gRPC threads) and a fork copies locks held by other threads. The fork server is a
  fresh single-threaded process with the extraction modules loaded once (`set_forkserver_preload`),
  so a child still starts in milliseconds. The child may fork its own page-reading pool
  (`shared.extraction.extract`): it is single-threaded, and the pool's processes inherit its limits (which
  are per process: a pool of n may use n times the memory limit).
* The child leads its own process group, so a timeout kills the pool with it.
* The result comes back as the `Document`'s JSON, validated by the model: the parent never
  unpickles what a process fed hostile bytes produced (the pipeline stores documents as this JSON).
* An error of the child is sent back as its class name and message: a `PermanentError` comes back
  as the same class. Any other exception raised inside pypdf (an escaped `KeyError`, `zlib.error`)
  is the file's fault and becomes a `DamagedPdfError`; one raised in our own code is a bug, and
  becomes a `SandboxCrashError` (retried, then set aside), never a verdict on the file.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import multiprocessing
import os
import resource
import signal
import struct
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkServerContext
from pathlib import Path
from typing import Any

import pypdf
from pydantic import BaseModel

from shared import errors
from shared.errors import (
    DamagedPdfError,
    ImageOnlyPdfError,
    PermanentError,
    ResourceLimitError,
    SandboxCrashError,
)
from shared.extraction.extract import Progress, extract_document
from shared.extraction.layouts import StatementLayout
from shared.models import Document
from shared.pdf.read import PdfSource
from shared.report.receipt_cutter import ReceiptCutter
from shared.report.receipt_pdfs import ReceiptCuts
from shared.settings import Settings
from shared.values import mask_card_numbers

# Seconds between the child's progress reports: often enough for a progress bar.
_PROGRESS_EVERY = 0.1
# After SIGXCPU at the soft limit, the kernel sends SIGKILL at the hard one.
_CPU_GRACE_SECONDS = 5
_LIBRARIES = (Path(pypdf.__file__).parent,)
_OURS = Path(__file__).resolve().parents[1]  # the whole `shared` package
Work = Callable[[Progress], bytes]


@dataclass(frozen=True, slots=True)
class Limits:
    """What one file's extraction may use."""

    cpu_seconds: int
    memory_bytes: int
    wall_seconds: float

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(settings.extract_cpu_seconds, settings.extract_memory_bytes, settings.extract_wall_seconds)

    def cpu_error(self) -> ResourceLimitError:
        return ResourceLimitError(
            f"the PDF needed more than {self.cpu_seconds} s of CPU time to read (a hostile or damaged file?)"
        )

    def memory_error(self) -> ResourceLimitError:
        return ResourceLimitError(
            f"the PDF needed more than {_size(self.memory_bytes)} of memory to read "
            "(a hostile or damaged file?)"
        )

    def wall_error(self) -> ResourceLimitError:
        return ResourceLimitError(
            f"the PDF took longer than {self.wall_seconds:g} s to read (a hostile or damaged file?)"
        )


def _size(count: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} bytes"


@functools.cache
def _context() -> ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])  # children start with extraction imported
    return context


# -- the entry point ---------------------------------------------------------------------------
class Phase(BaseModel):
    """One phase of the child's work and when it ran (epoch nanoseconds, one clock for both
    processes): the parent records it as a span of the file's trace (the child exports nothing)."""

    name: str
    start_ns: int
    end_ns: int


class Extraction(BaseModel):
    """What a sandboxed extraction hands back: the document and, when receipt pages were cut while it
    was read, the index of the folder they went into; and how long each phase of the work took."""

    document: Document
    cuts: ReceiptCuts | None = None
    phases: list[Phase] = []


@contextlib.contextmanager
def _phase(phases: list[Phase], name: str) -> Iterator[None]:
    start = time.time_ns()
    try:
        yield
    finally:
        phases.append(Phase(name=name, start_ns=start, end_ns=time.time_ns()))


def extract_sandboxed(
    path: str | Path,
    settings: Settings,
    *,
    password: str | None = None,
    name: str | None = None,
    layouts: Sequence[StatementLayout] | None = None,
    progress: Progress | None = None,
) -> Document:
    """`extract_document` in a child process under the limits of `settings`: the same `Document`, or
    a `PermanentError` subclass (`ResourceLimitError` when a limit stopped it); an `OSError` when
    `path` cannot be opened, a `SandboxCrashError` for a bug of ours."""
    return extract_and_cut_sandboxed(
        path, settings, password=password, name=name, layouts=layouts, progress=progress
    ).document


def extract_and_cut_sandboxed(
    path: str | Path,
    settings: Settings,
    *,
    cuts_folder: Path | None = None,
    password: str | None = None,
    name: str | None = None,
    layouts: Sequence[StatementLayout] | None = None,
    progress: Progress | None = None,
) -> Extraction:
    """`extract_sandboxed`; with `cuts_folder`, a receipts report's expenses are also cut into that
    folder while it is read (`ReceiptCutter`, forked inside the child, under the same limits), and
    the folder's index comes back with the document."""
    with Path(path).open("rb"):
        pass  # a missing or unreadable file is the caller's to report, as without the sandbox
    work = functools.partial(
        _extract_job,
        str(path),
        password,
        name,
        tuple(layouts) if layouts else None,
        settings.extract_processes,
        str(cuts_folder) if cuts_folder is not None else None,
    )
    return Extraction.model_validate_json(run_sandboxed(work, Limits.of(settings), progress))


def run_sandboxed(work: Work, limits: Limits, progress: Progress | None = None) -> bytes:
    """Run `work` (picklable: a module-level function or a partial of one) in a child process under
    `limits`, and return the bytes it returns, or raise what its failure means."""
    context = _context()
    reader, writer = context.Pipe(duplex=False)
    # Not a daemon: daemonic processes may not start the page-reading pool.
    child = context.Process(target=_child, args=(writer, limits, work), name="ccproc-extract")
    child.start()
    writer.close()  # the child holds the only write end: its death is the reader's end-of-file
    try:
        return _await(child, reader, limits, progress)
    finally:
        reader.close()
        _end(child)


def _await(child: Any, reader: Connection, limits: Limits, progress: Progress | None) -> bytes:
    deadline = time.monotonic() + limits.wall_seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise limits.wall_error()
        ready = wait([reader, child.sentinel], timeout=left)
        if reader in ready:
            try:
                message = reader.recv_bytes()
            except EOFError:
                child.join(timeout=max(0.0, deadline - time.monotonic()))
                raise _death(child.exitcode, limits) from None
            kind, body = message[:1], message[1:]
            if kind == b"P":
                if progress is not None:
                    progress(*struct.unpack("!II", body))
                continue
            if kind == b"D":
                return body
            raise _error(json.loads(body))
        if ready:  # the child ended without a word, nor (yet) an end-of-file
            raise _death(child.exitcode, limits)


def _end(child: Any) -> None:
    """Stop the child and whatever it started (its process group), and reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)  # the pool too; a group left empty is no longer there
    if child.exitcode is None:
        child.kill()
    child.join()
    child.close()


def _death(exitcode: int | None, limits: Limits) -> Exception:
    """What a child that ended without an answer means."""
    if exitcode == -signal.SIGXCPU:
        return limits.cpu_error()
    if exitcode == -signal.SIGKILL:
        # Not ours (we kill only after an answer or at the deadline): the hard CPU limit, or the
        # kernel's out-of-memory killer when the container's memory is below our own limit.
        return limits.memory_error()
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name
        return DamagedPdfError(f"reading the PDF crashed its reader ({name}): a damaged or hostile file")
    return SandboxCrashError(f"the extraction process ended with status {exitcode} and no answer")


def _error(verdict: dict[str, str]) -> Exception:
    """The exception a child's verdict stands for."""
    message = mask_card_numbers(verdict["message"])
    if verdict["kind"] == "crash":
        return SandboxCrashError(
            f"extraction failed (a fault of ours, not the file's): {message}",
            mask_card_numbers(verdict.get("details", "")),
        )
    cls = getattr(errors, verdict["class"], None)
    if not (isinstance(cls, type) and issubclass(cls, PermanentError)):
        cls = DamagedPdfError
    return cls(message)


# -- in the child ------------------------------------------------------------------------------
def _child(writer: Connection, limits: Limits, work: Work) -> None:
    os.setpgid(0, 0)
    _quiet_logging()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a killed child leaves no multi-GB core file
    cpu = limits.cpu_seconds
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + _CPU_GRACE_SECONDS))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    last = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal last
        if done == total or time.monotonic() - last >= _PROGRESS_EVERY:
            last = time.monotonic()
            writer.send_bytes(b"P" + struct.pack("!II", done, total))

    try:
        answer = b"D" + work(progress)
    except BaseException as exc:  # noqa: BLE001 — every failure becomes a verdict for the parent
        answer = b"E" + json.dumps(_verdict(exc, limits)).encode()
    writer.send_bytes(answer)
    writer.close()


class _Masking(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = mask_card_numbers(record.getMessage()), None
        return True


def _quiet_logging() -> None:
    """pypdf's repair notes reach the document's warnings through `shared.pdf.read`; the ones it logs
    outside extraction (a second look at the catalog) are dropped rather than printed unformatted on
    the worker's stderr. Anything else the child logs goes to stderr with card numbers masked."""
    pypdf_log = logging.getLogger("pypdf")
    pypdf_log.addHandler(logging.NullHandler())
    pypdf_log.propagate = False
    handler = logging.StreamHandler()
    handler.addFilter(_Masking())
    handler.setFormatter(logging.Formatter("ccproc extract[%(process)d] %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)


def _verdict(exc: BaseException, limits: Limits) -> dict[str, str]:
    """A child's failure as the parent will raise it: a permanent error's class and message, or a crash."""
    if isinstance(exc, MemoryError) or (isinstance(exc, PermanentError) and _caused_by(exc, MemoryError)):
        exc = limits.memory_error()
    elif isinstance(exc, BrokenProcessPool):
        # A page-reading process was killed, and only a limit kills one.
        exc = ResourceLimitError(
            f"a process reading the PDF's pages was stopped for using more than {limits.cpu_seconds} s "
            f"of CPU time or {_size(limits.memory_bytes)} of memory (a hostile or damaged file?)"
        )
    elif isinstance(exc, Exception) and not isinstance(exc, PermanentError) and _raised_in_library(exc):
        exc = DamagedPdfError(f"the PDF is damaged: {type(exc).__name__}: {exc}")
    if isinstance(exc, PermanentError):
        return {"kind": "permanent", "class": type(exc).__name__, "message": exc.message}
    details = "".join(traceback.format_exception(exc))
    return {"kind": "crash", "message": f"{type(exc).__name__}: {exc}", "details": details}


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc.__cause__ or exc.__context__
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _raised_in_library(exc: BaseException) -> bool:
    """True when the innermost frame that is pypdf's or ours is pypdf's: the file made pypdf fail.
    Standard-library and C frames (zlib, codecs, struct) count for whoever called them."""
    if type(exc).__module__.split(".")[0] == "pypdf":
        return True
    frames = [Path(frame.f_code.co_filename) for frame, _ in traceback.walk_tb(exc.__traceback__)]
    for file in reversed(frames):
        if any(file.is_relative_to(folder) for folder in _LIBRARIES):
            return True
        if file.is_relative_to(_OURS):
            return False
    return False


def _extract_job(  # noqa: PLR0917 — a partial binds the arguments positionally
    path: str,
    password: str | None,
    name: str | None,
    layouts: tuple[StatementLayout, ...] | None,
    processes: int | None,
    cuts_folder: str | None,
    progress: Progress,
) -> bytes:
    phases: list[Phase] = []
    with contextlib.ExitStack() as stack:
        cutter = stack.enter_context(ReceiptCutter(Path(cuts_folder))) if cuts_folder is not None else None
        try:
            with _phase(phases, "read pages"):
                document = extract_document(
                    path,
                    password=password,
                    layouts=layouts,
                    processes=processes,
                    progress=progress,
                    name=name,
                    expenses=cutter.sink if cutter is not None else None,
                )
        except ImageOnlyPdfError as exc:
            raise _why_no_text(path, password) or exc from None
        with _phase(phases, "finish cutting receipts"):
            precut = cutter.finish() if cutter is not None else None
    with _phase(phases, "check active content"):
        document.warnings.extend(active_content(path, password))
    cuts = precut.index if precut is not None and precut.folder is not None else None
    return Extraction(document=document, cuts=cuts, phases=phases).model_dump_json().encode()


def _why_no_text(path: str, password: str | None, pages: int = 5) -> DamagedPdfError | None:
    """When the first pages gave no text because they could not be read (a bomb, missing content),
    the file is damaged, not a scan: say so rather than suggest OCR."""
    with PdfSource(path, password) as source:
        for index in range(min(pages, source.page_count)):
            try:
                source.page(index)
            except DamagedPdfError as damage:
                cause = damage.__cause__
                if isinstance(cause, MemoryError):
                    raise
                reason = f"{type(cause).__name__}: {cause}" if cause else damage.message
                return DamagedPdfError(f"page {index + 1} of the PDF cannot be read ({reason[:200]})")
        if source.warnings:
            return DamagedPdfError(
                f"the PDF is damaged and its first pages show no text ({source.warnings[0][:200]})"
            )
    return None


def active_content(path: str | Path, password: str | None = None) -> list[str]:
    """Warnings for JavaScript and embedded files. Extraction reads text only, so they are never run
    or opened; a statement carrying them is still read (exporters add scripts to forms), but a
    person should know. Best effort: a catalog that cannot be read here was read by extraction."""
    found: list[str] = []
    try:
        with Path(path).open("rb") as handle:
            reader = pypdf.PdfReader(handle, strict=False, password=password)
            root: Any = reader.trailer["/Root"].get_object()
            names: Any = root["/Names"].get_object() if "/Names" in root else {}
            action: Any = root["/OpenAction"].get_object() if "/OpenAction" in root else None
            script = "/JavaScript" in names or "/AA" in root
            if isinstance(action, dict) and action.get("/S") == "/JavaScript":
                script = True
            if script:
                found.append("the PDF carries JavaScript; it was not run (only the text was read)")
            if "/EmbeddedFiles" in names:
                found.append("the PDF carries embedded files; they were not opened (only the text was read)")
    except Exception:  # noqa: BLE001, S110 — a warning is a courtesy: extraction already succeeded
        pass
    return found
