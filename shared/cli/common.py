"""What every subcommand shares: progress on stderr, one-line failures, exit codes."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tqdm import tqdm

from shared.errors import CcprocError, UsageError
from shared.settings import Settings

EXIT_FAILED = 1
EXIT_USAGE = 2
# Completed, but a file could not be read and was left out: reports were written, not a clean run.
EXIT_PARTIAL = 3


@contextmanager
def progress_bar(enabled: bool, label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr when it is a terminal; nothing otherwise."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    bar: Any = None

    # No monitor thread: the receipt cutter forks only from a single-threaded process.
    tqdm.monitor_interval = 0

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=label, unit="page", file=sys.stderr, leave=False)
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()


def fail(file: str, exc: CcprocError) -> None:
    print(f"ccproc: {file}: {exc.message}", file=sys.stderr)


def storage_settings() -> Settings | None:
    """The settings from the environment when they name a storage account; else None, said on stderr."""
    settings = Settings()
    if settings.storage_connection or settings.azure_storage_account_url:
        return settings
    print(
        "ccproc: set AzureWebJobsStorage (a connection string) or AZURE_STORAGE_ACCOUNT_URL", file=sys.stderr
    )
    return None


def check_files(paths: Iterable[Path]) -> None:
    """Every path an existing, readable file — or a UsageError naming the first that is not, before
    any work starts."""
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file")
        if not path.is_file():
            raise UsageError(f"{path}: not a file")
        if not os.access(path, os.R_OK):
            raise UsageError(f"{path}: cannot be read (permission denied)")


def writable_folder(path: Path) -> Path:
    """`path`, created if need be — or a UsageError when it cannot be made or written to."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{path}: cannot create the folder ({exc.strerror})") from exc
    if not os.access(path, os.W_OK):
        raise UsageError(f"{path}: the folder cannot be written to")
    return path
