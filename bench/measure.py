"""One measurement in a fresh process: `python -m bench.measure MODE FILE` prints JSON.

Run in its own process so peak RSS (ru_maxrss) belongs to that one way of reading the file.
Wall time covers the reading only, not interpreter start-up, for every mode alike.
"""

from __future__ import annotations

import json
import mmap
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path


def _pypdf(source: object) -> int:
    import pypdf

    reader = pypdf.PdfReader(source)  # type: ignore[arg-type]
    for page in reader.pages:
        page.extract_text()
    return len(reader.pages)


def pypdf_path(path: Path) -> int:
    """Raw pypdf, given the path (it reads the file whole into memory)."""
    return _pypdf(str(path))


def pypdf_handle(path: Path) -> int:
    """Raw pypdf, given an open file handle."""
    with path.open("rb") as handle:
        return _pypdf(handle)


def pypdf_mmap(path: Path) -> int:
    """Raw pypdf, given a memory map of the file."""
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        return _pypdf(mapped)


def pdfplumber_text(path: Path) -> int:
    """pdfplumber's extract_text, as the replaced system used it."""
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            page.extract_text()
        return len(pdf.pages)


def _ours(processes: int) -> Callable[[Path], int]:
    def run(path: Path) -> int:
        from shared.extraction.extract import extract_document

        document = extract_document(path, processes=processes)
        return document.pages

    run.__doc__ = f"ccproc extraction with {processes} process(es)"
    return run


MODES: dict[str, Callable[[Path], int]] = {
    "pypdf_path": pypdf_path,
    "pypdf_handle": pypdf_handle,
    "pypdf_mmap": pypdf_mmap,
    "pdfplumber": pdfplumber_text,
    "ours_1": _ours(1),
    "ours_2": _ours(2),
}


def main() -> None:
    mode, file = sys.argv[1], Path(sys.argv[2])
    import logging

    logging.disable(logging.WARNING)  # pypdf's repair notes would flood the report
    # Libraries are imported before the clock starts, each mode its own.
    import pypdf  # noqa: F401

    if mode == "pdfplumber":
        import pdfplumber  # noqa: F401
    if mode.startswith("ours"):
        import shared.extraction.extract  # noqa: F401

    started = time.perf_counter()
    pages = MODES[mode](file)
    wall = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"mode": mode, "pages": pages, "wall": wall, "rss_kb": own, "child_rss_kb": children}))


if __name__ == "__main__":
    main()
