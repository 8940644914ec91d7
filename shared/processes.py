"""Starting processes safely: `fork` only while this process has a single thread.

A fork copies the whole process, locks held by other threads included, so a child forked while
another thread runs (a download, an upload, a lease keeper, a progress bar's monitor) can deadlock;
Python 3.12 warns on it. Where a fork would give a child the caller's already-open objects for
free, callers ask `can_fork()` and otherwise take a path that needs no fork.
"""

from __future__ import annotations

import multiprocessing
import threading
from multiprocessing.context import BaseContext
from pathlib import Path

_TASKS = "/proc/self/task"


def thread_count() -> int:
    """The threads of this process as the operating system counts them (C threads included)."""
    try:
        return sum(1 for _ in Path(_TASKS).iterdir())
    except OSError:
        return threading.active_count()


def can_fork() -> bool:
    """True when `fork` exists here and this process runs a single thread."""
    return "fork" in multiprocessing.get_all_start_methods() and thread_count() == 1


def pool_context() -> BaseContext:
    """`fork` where it is safe (children start in milliseconds), `forkserver` or `spawn` otherwise:
    for process pools whose tasks and initialisers can be pickled."""
    if can_fork():
        return multiprocessing.get_context("fork")
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
