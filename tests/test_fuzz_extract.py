"""Fuzz the extraction entry point (`extract_sandboxed`) with mutations of a small valid statement:
byte flips, truncations, inserted junk, duplicated and deleted objects. Every outcome must be a
Document or a PermanentError subclass; anything else (a SandboxCrashError is a bug of ours, any
other exception a hole in the error mapping) fails the test with the mutated bytes to reproduce.

The default suite runs CCPROC_FUZZ_EXAMPLES (default 60) examples; a longer run:

    CCPROC_FUZZ_EXAMPLES=5000 .venv/bin/pytest tests/test_fuzz_extract.py -p no:cacheprovider
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.errors import PermanentError
from shared.extraction.sandbox import extract_sandboxed
from shared.models import Document
from shared.settings import Settings
from tests.builders.hostile import statement_pdf

EXAMPLES = int(os.environ.get("CCPROC_FUZZ_EXAMPLES", "60"))
SEED = statement_pdf().bytes()
OBJECTS = [m.span() for m in re.finditer(rb"\d+ 0 obj\n.*?endobj\n", SEED, re.DOTALL)]
LIMITED = Settings(
    extract_cpu_seconds=4, extract_memory_bytes=512 << 20, extract_wall_seconds=30, extract_processes=1
)

position = st.integers(min_value=0, max_value=len(SEED))
junk = st.binary(min_size=1, max_size=64) | st.sampled_from(
    [
        b"<<",
        b">>",
        b"[",
        b"]",
        b" 0 R",
        b"endobj",
        b"stream\n",
        b"endstream",
        b"%%EOF",
        b"9999999999",
        b"/Length -1",
    ]
)
mutation = st.one_of(
    st.tuples(st.just("flip"), position, st.integers(min_value=0, max_value=255)),
    st.tuples(st.just("truncate"), position, st.just(0)),
    st.tuples(st.just("insert"), position, junk),
    st.tuples(st.just("duplicate"), st.sampled_from(range(len(OBJECTS))), position),
    st.tuples(st.just("delete"), position, st.integers(min_value=1, max_value=200)),
)


def mutate(data: bytes, steps: list[tuple[str, int, object]]) -> bytes:
    """Apply the mutations in order; positions are taken modulo the current length."""
    out = bytearray(data)
    for kind, where, what in steps:
        at = where % (len(out) + 1)
        if kind == "flip" and out:
            out[at % len(out)] = int(what)  # type: ignore[call-overload]
        elif kind == "truncate":
            del out[at:]
        elif kind == "insert":
            out[at:at] = what  # type: ignore[assignment]
        elif kind == "duplicate":
            start, end = OBJECTS[where]
            target = int(what) % (len(out) + 1)  # type: ignore[call-overload]
            out[target:target] = data[start:end]
        elif kind == "delete":
            del out[at : at + int(what)]  # type: ignore[call-overload]
    return bytes(out)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(mutation, min_size=1, max_size=6))
def test_mutated_statement_gives_a_document_or_a_permanent_error(
    tmp_path: Path, steps: list[tuple[str, int, object]]
) -> None:
    """Any mutation of a valid statement ends as a Document or a PermanentError with a message."""
    path = tmp_path / "mutant.pdf"
    path.write_bytes(mutate(SEED, steps))
    try:
        outcome: Document | PermanentError = extract_sandboxed(path, LIMITED)
    except PermanentError as exc:
        outcome = exc
        assert exc.message.strip()
    assert isinstance(outcome, Document | PermanentError)


def test_seed_is_a_valid_statement(tmp_path: Path) -> None:
    """The fuzz starts from a statement that reads whole: mutations, not the seed, make it fail."""
    path = tmp_path / "seed.pdf"
    path.write_bytes(SEED)
    assert len(extract_sandboxed(path, LIMITED).transactions) == 1
