"""Hostile and broken PDFs through the sandboxed extraction: each ends as a Document with its data or
as a PermanentError with a reason, within bounded time, without the parent process paying for it;
and a hostile file in a session fails alone while the good file beside it is extracted.

The limits are lowered here (4 s CPU, 512 MiB) so that the cases that hit them cost seconds.
"""

from __future__ import annotations

import functools
import os
import re
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pypdf
import pytest

from shared.errors import DamagedPdfError, ResourceLimitError, SandboxCrashError, WrongPasswordError
from shared.extraction.sandbox import Limits, extract_sandboxed, run_sandboxed
from shared.sessions import extract as extract_step
from shared.sessions import requests as sessions
from shared.sessions.models import FileRecord, FileStatus
from shared.settings import Settings
from shared.storage.azure import AzureStorage
from tests.builders import hostile
from tests.builders.hostile import CASES, Case

CPU_SECONDS, MEMORY_BYTES, WALL_SECONDS = 6, 512 << 20, 30.0  # 6 s: Python 3.12 parses deep nesting slower
# A case may take its CPU limit plus start-up and the kernel's grace; anything longer is a hang.
CASE_SECONDS = 15.0
# The parent's peak memory may grow by this much over the whole corpus: the 2 GiB bomb, or even
# pypdf's 75 MB share of it, inflated in the parent would show.
PARENT_GROWTH_BYTES = 48 << 20
LIMITS = Limits(CPU_SECONDS, MEMORY_BYTES, WALL_SECONDS)


@pytest.fixture
def limited(settings: Settings) -> Settings:
    """The test's settings with limits small enough to be hit in seconds."""
    return settings.model_copy(
        update={
            "extract_cpu_seconds": CPU_SECONDS,
            "extract_memory_bytes": MEMORY_BYTES,
            "extract_wall_seconds": WALL_SECONDS,
        }
    )


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case_ends_as_expected(case: Case, limited: Settings, tmp_path: Path) -> None:
    """Each corpus file gives its expected Document or PermanentError (with a reason), in bounded time,
    and the parent's memory does not grow with it."""
    path = case.build(tmp_path)
    peak_before, started = peak_rss_bytes(), time.monotonic()
    if case.error is None:
        document = extract_sandboxed(path, limited)
        assert [t.net for t in document.transactions] == [pytest.approx(412.5)]
    else:
        with pytest.raises(case.error) as caught:
            extract_sandboxed(path, limited)
        assert type(caught.value) is case.error  # exactly: a WrongPassword is not an Encrypted here
        assert re.search(case.reason, caught.value.message), caught.value.message
        assert caught.value.message[0].islower()  # a sentence that goes on after the file's name
        assert len(caught.value.message) < 300
    assert time.monotonic() - started < CASE_SECONDS
    assert peak_rss_bytes() - peak_before < PARENT_GROWTH_BYTES


def test_active_content_is_named_not_run(limited: Settings, tmp_path: Path) -> None:
    """A statement carrying JavaScript and an embedded .exe is read, with warnings naming both."""
    case = next(c for c in CASES if c.name == "javascript_and_attachment")
    document = extract_sandboxed(case.build(tmp_path), limited)
    assert len(document.transactions) == 1
    assert any("JavaScript" in w and "not run" in w for w in document.warnings)
    assert any("embedded files" in w and "not opened" in w for w in document.warnings)


# -- workloads for the sandbox's own tests (module level: a child process unpickles them by name) ----
def burn_cpu(_: Callable[[int, int], None]) -> bytes:
    while True:
        sum(range(10_000))


def eat_memory(_: Callable[[int, int], None]) -> bytes:
    hoard = []
    while True:
        hoard.append(bytearray(16 * (1 << 20)))


def sleep_with_a_child(pid_file: str, _: Callable[[int, int], None]) -> bytes:
    """Start a grandchild that would outlive us, say its pid, and hang: the timeout must end both."""
    grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    Path(pid_file).write_text(str(grandchild.pid))
    time.sleep(600)
    return b""


def our_bug(_: Callable[[int, int], None]) -> bytes:
    return {}["a typo of ours"]  # type: ignore[no-any-return]


def pypdf_bug(_: Callable[[int, int], None]) -> bytes:
    """A KeyError from inside pypdf, as a damaged file may provoke: the file's fault."""
    pypdf.generic.DictionaryObject()["/Missing"]
    return b""


def wrong_password(_: Callable[[int, int], None]) -> bytes:
    raise WrongPasswordError("the password does not open this PDF (card 4111111111111111)")


def count_to_three(progress: Callable[[int, int], None]) -> bytes:
    for done in (1, 2, 3):
        progress(done, 3)
    return b"counted"


def test_cpu_limit_ends_the_child_with_a_sentence() -> None:
    """A child that spins is stopped by RLIMIT_CPU and reported as a ResourceLimitError about CPU time."""
    with pytest.raises(ResourceLimitError, match=r"more than 2 s of CPU time .*hostile or damaged"):
        run_sandboxed(burn_cpu, Limits(2, MEMORY_BYTES, WALL_SECONDS))


def test_memory_limit_ends_the_child_with_a_sentence() -> None:
    """A child that hoards memory meets RLIMIT_AS: a ResourceLimitError about memory, not a dead parent."""
    with pytest.raises(ResourceLimitError, match=r"more than 256 MiB of memory"):
        run_sandboxed(eat_memory, Limits(CPU_SECONDS, 256 << 20, WALL_SECONDS))


def test_wall_clock_ends_the_child_and_what_it_started(tmp_path: Path) -> None:
    """A child that hangs is killed at the wall-clock limit, its own children with it."""
    pid_file = tmp_path / "grandchild.pid"
    work = functools.partial(sleep_with_a_child, str(pid_file))
    started = time.monotonic()
    with pytest.raises(ResourceLimitError, match=r"longer than 3 s to read"):
        run_sandboxed(work, Limits(CPU_SECONDS, MEMORY_BYTES, 3))
    assert time.monotonic() - started < 10
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)  # killed, then reaped by init
    assert not _alive(grandchild)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead, only not yet reaped


def test_permanent_error_comes_back_as_its_class_masked() -> None:
    """A PermanentError in the child comes back as the same class and message, card numbers masked."""
    with pytest.raises(WrongPasswordError, match=r"password does not open this PDF \(card \*\*\*\*1111\)"):
        run_sandboxed(wrong_password, LIMITS)


def test_pypdf_failure_is_the_files_fault() -> None:
    """An unexpected exception raised inside pypdf becomes a DamagedPdfError with its reason."""
    with pytest.raises(DamagedPdfError, match=r"the PDF is damaged: KeyError: '/Missing'"):
        run_sandboxed(pypdf_bug, LIMITS)


def test_our_bug_is_not_a_verdict_on_the_file() -> None:
    """An exception raised in our own code is a SandboxCrashError (retried, then set aside), with the
    child's traceback, and never a PermanentError that would blame the file."""
    with pytest.raises(SandboxCrashError, match="a fault of ours") as caught:
        run_sandboxed(our_bug, LIMITS)
    assert "KeyError" in caught.value.message
    assert "our_bug" in caught.value.details


def test_progress_reaches_the_parent() -> None:
    """The child's progress reports reach the caller's callback, and its answer comes back whole."""
    seen: list[tuple[int, int]] = []
    assert run_sandboxed(count_to_three, LIMITS, lambda done, total: seen.append((done, total))) == (
        b"counted"
    )
    assert seen[-1] == (3, 3)


def test_missing_file_is_an_os_error(limited: Settings, tmp_path: Path) -> None:
    """A path that does not exist is the caller's OSError, as without the sandbox, not a verdict."""
    with pytest.raises(FileNotFoundError):
        extract_sandboxed(tmp_path / "gone.pdf", limited)


# -- one session, one hostile file and one good one ----------------------------------------------
class TookTooLong(BaseException):  # not Exception: read.py's guard would turn it into a verdict
    """Raised by the test's alarm: extraction ran in this process with no limit."""


@pytest.fixture
def alarm() -> Iterator[None]:
    """Stop a step that would run for many minutes in-process (the hostile file without a sandbox)."""

    def ring(*_: object) -> None:
        raise TookTooLong("extraction ran past the test's alarm: no CPU limit applied")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, 12)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _run_session(storage: AzureStorage, settings: Settings, folder: Path) -> dict[str, FileRecord]:
    """Upload the operator flood and a good statement to one session and extract every upload."""
    hostile_pdf = next(c for c in CASES if c.name == "operator_flood").build(folder)
    good = folder / "statement.pdf"
    good.write_bytes(hostile.statement_pdf().bytes())
    session = sessions.create_session(storage, settings)
    for pdf in (hostile_pdf, good):
        with pdf.open("rb") as body:
            sessions.accept_upload(
                storage, settings, session.id, pdf.name, body=body, length=pdf.stat().st_size
            )
    for info in list(storage.list(settings.uploads_container)):
        extract_step.extract_upload(storage, settings, info.name)
    return {r.name: r for r in sessions.get_session(storage, settings, session.id).files}


def _assert_one_failed_one_extracted(records: dict[str, FileRecord]) -> None:
    flood, good = records["operator_flood.pdf"], records["statement.pdf"]
    assert flood.status is FileStatus.FAILED
    assert flood.error_code == "resource_limit"
    assert (
        flood.error
        == f"the PDF needed more than {CPU_SECONDS} s of CPU time to read (a hostile or damaged file?)"
    )
    assert good.status is FileStatus.EXTRACTED
    assert good.transactions == 1


def test_hostile_file_fails_alone_in_its_session(
    storage: AzureStorage, limited: Settings, tmp_path: Path, alarm: None
) -> None:
    """extract_upload itself: the hostile upload ends failed with its reason within the limits, and
    the good statement of the same session is extracted."""
    _assert_one_failed_one_extracted(_run_session(storage, limited, tmp_path))
