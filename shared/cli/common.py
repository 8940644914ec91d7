"""What every subcommand shares: progress on stderr, one-line failures, exit codes."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tqdm import tqdm

from shared.errors import CcprocError
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
