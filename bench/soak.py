"""Soak: `make soak` (`python -m bench.soak`). The reliability scenarios of tests/test_faults.py
and tests/test_load.py with larger counts, in one run of under ten minutes on two cores:

* workers SIGKILLed at a random point of a session (one kill per session), and started again;
* Azurite stopped mid-session and started again on the same ports with its data;
* transient storage errors injected at the gateway (FlakyStorage under RetryingStorage), with the
  steps driven as the Functions host drives them and with the two workers;
* each blob event delivered twice (in turn and at once) and a results message redelivered;
* sessions submitted at once over HTTP to a real `ccproc dev` (no 5xx allowed).

Each session is checked against the truth of its generated month. It prints one table and, last,
`sessions N completed N failed N faults N lost N duplicates N p95 Xs`: lost counts expected
transactions missing from completed sessions plus sessions that never finished; duplicates counts
transactions seen more than once; faults counts kills, restarts and injected storage errors; p95 is
the time to completion of all sessions. Exit 1 when lost or duplicates is not 0, a session is stuck,
failed without a reason, or the load saw a 5xx.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.azurite import Azurite
from tests.builders.month import build_month
from tests.scenarios import Outcome, duplicate_run, flaky_run, kill_run, restart_run
from tests.test_load import percentile, run_load

Month = tuple[Path, dict[str, Any]]


@dataclass
class Row:
    """One scenario's figures."""

    scenario: str
    sessions: int = 0
    completed: int = 0
    failed: int = 0
    faults: int = 0
    lost: int = 0
    duplicates: int = 0
    times: list[float] = field(default_factory=list)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    note: str = ""

    def add(self, found: Outcome, *, faults: int = 0) -> None:
        self.sessions += 1
        self.completed += found.status == "completed"
        self.failed += found.status == "failed"
        self.faults += faults
        self.lost += found.lost
        self.duplicates += found.duplicates
        self.times.append(found.seconds)
        if not found.finished:
            self.problems.append(f"session {found.session} stuck {found.status}")
        elif found.status == "failed" and not found.failed_with_reason:
            self.problems.append(f"session {found.session} failed without a reason")
        if found.unexpected:
            self.problems.append(f"session {found.session}: {found.unexpected} transactions not in the month")
        if found.uploads_left:
            self.problems.append(f"session {found.session}: {found.uploads_left} uploads left behind")


def kills(connection: str, scratch: Path, months: list[Month], runs: int, parallel: int) -> Row:
    """`runs` sessions, each with one worker SIGKILLed at a random point; `parallel` at a time."""
    row, started = Row("SIGKILL a worker"), time.monotonic()

    def one(n: int) -> tuple[Outcome, str]:
        folder = scratch / f"kill-{n}"
        folder.mkdir()
        month, truth = months[n % len(months)]
        return kill_run(connection, folder, month, truth, seed=1000 + n, window=4.0)

    late = 0
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        for found, what in pool.map(one, range(runs)):
            row.add(found, faults=1)
            late += "after the session ended" in what
    row.seconds = time.monotonic() - started
    row.note = f"{parallel} at a time; {runs - late} of {runs} mid-session"
    return row


def restarts(scratch: Path, months: list[Month], runs: int) -> Row:
    """`runs` sessions, each with Azurite stopped for 3 s at a random point."""
    row, started = Row("Azurite restart"), time.monotonic()
    late, recoveries = 0, []
    for n in range(runs):
        folder = scratch / f"restart-{n}"
        folder.mkdir()
        month, truth = months[n % len(months)]
        found, when = restart_run(folder, month, truth, seed=2000 + n, down=3.0)
        row.add(found, faults=1)
        late += "after the session ended" in when
        if found.recovery is not None:
            recoveries.append(found.recovery)
    row.seconds = time.monotonic() - started
    resumed = f"; work resumed {max(recoveries):.1f} s at most after storage came back" if recoveries else ""
    row.note = f"down 3 s each; {runs - late} of {runs} mid-session{resumed}"
    return row


def storage_errors(
    connection: str, scratch: Path, months: list[Month], runs: int, rate: float, *, workers: bool
) -> Row:
    """`runs` sessions with `rate` of the storage calls failing (a third of them after running),
    driven through the steps as the Functions host does, or by the workers."""
    row, started = Row(f"storage errors, {'workers' if workers else 'steps'}"), time.monotonic()
    swept = 0
    for n in range(runs):
        month, truth = months[n % len(months)]
        found, injected = flaky_run(
            connection,
            scratch,
            month,
            truth,
            rate=rate,
            seed=(4000 if workers else 3000) + n,
            workers=workers,
        )
        row.add(found, faults=injected)
        swept += found.swept
    row.seconds = time.monotonic() - started
    row.note = f"rate {rate:g}; {swept} finished by the daily sweep"
    return row


def duplicates(connection: str, scratch: Path, months: list[Month], runs: int) -> Row:
    """`runs` rounds of doubled blob events (in turn and racing) and a redelivered message."""
    row, started = Row("duplicate events"), time.monotonic()
    for n in range(runs):
        month, truth = months[n % len(months)]
        round_started = time.monotonic()
        outcomes, changed = duplicate_run(connection, scratch, month, truth)
        for found in outcomes:
            found.seconds = time.monotonic() - round_started
            row.add(found)
        row.problems += changed
    row.seconds, row.note = time.monotonic() - started, "2 sessions a round"
    return row


def load(scratch: Path, months: list[Month], count: int) -> Row:
    """`count` sessions submitted at once over HTTP to `ccproc dev`."""
    row = Row(f"{count} at once, HTTP")
    result = run_load(count, months, scratch / "dev")
    for session in result.sessions:
        found = Outcome(session.id, session.status, session.error, missing=session.missing)
        found.duplicates, found.unexpected, found.seconds = (
            session.duplicates,
            session.unexpected,
            session.seconds,
        )
        row.add(found)
    row.problems += [f"{n} x {what}" for what, n in result.server_errors.items()]
    row.seconds = result.wall_seconds
    row.note = f"{result.throughput:.1f} sessions/min, 5xx {sum(result.server_errors.values())}"
    return row


def print_table(rows: list[Row]) -> Row:
    """The table, then the totals row (returned)."""
    total = Row("total")
    for row in rows:
        for name in ("sessions", "completed", "failed", "faults", "lost", "duplicates", "seconds"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
        total.times += row.times
        total.problems += row.problems
    head = f"{'scenario':<24} {'sessions':>8} {'done':>5} {'failed':>6} {'faults':>6} {'lost':>5} {'dups':>5}"
    print(f"{head} {'p50 s':>6} {'p95 s':>6} {'wall s':>7}  note")
    for row in [*rows, total]:
        print(
            f"{row.scenario:<24} {row.sessions:>8} {row.completed:>5} {row.failed:>6} {row.faults:>6} "
            f"{row.lost:>5} {row.duplicates:>5} {percentile(row.times, 0.5):>6.1f} "
            f"{percentile(row.times, 0.95):>6.1f} {row.seconds:>7.0f}  {row.note}"
        )
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20, help="sessions with a worker SIGKILLed")
    parser.add_argument("--parallel", type=int, default=4, help="kill runs side by side")
    parser.add_argument("--restarts", type=int, default=3, help="sessions with Azurite restarted")
    parser.add_argument("--flaky", type=int, default=10, help="sessions over failing storage calls")
    parser.add_argument("--flaky-workers", type=int, default=5, help="the same, run by the workers")
    parser.add_argument("--rate", type=float, default=0.2, help="share of storage calls that fail")
    parser.add_argument("--duplicates", type=int, default=3, help="rounds of doubled events")
    parser.add_argument("--load", type=int, default=50, help="sessions submitted at once over HTTP")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ccproc-soak-") as folder:
        scratch = Path(folder)
        # The steps run in this process log every retry: into a file, not over the table.
        logging.basicConfig(filename=scratch / "soak.log", level=logging.INFO, force=True)
        logging.getLogger("azure").setLevel(logging.WARNING)  # the SDK logs every request at INFO
        months = [
            (scratch / f"month-{s}", build_month(scratch / f"month-{s}", size="small", seed=s))
            for s in range(4)
        ]
        started = time.monotonic()
        rows = []
        with Azurite() as azurite:
            rows.append(kills(azurite.connection_string, scratch, months, args.kills, args.parallel))
            for workers, runs in ((False, args.flaky), (True, args.flaky_workers)):
                rows.append(
                    storage_errors(
                        azurite.connection_string, scratch, months, runs, args.rate, workers=workers
                    )
                )
            rows.append(duplicates(azurite.connection_string, scratch, months, args.duplicates))
        rows.append(restarts(scratch, months, args.restarts))
        if args.load:
            rows.append(load(scratch, months, args.load))
        rows = [row for row in rows if row.sessions]  # a scenario asked for 0 times is not shown
        total = print_table(rows)
        for problem in total.problems:
            print(f"  problem: {problem}")
        print(f"whole soak: {time.monotonic() - started:.0f} s; p50/p95 are seconds from submit to finished")
    stuck = any("stuck" in p for p in total.problems)
    print(
        f"sessions {total.sessions} completed {total.completed} failed {total.failed} faults {total.faults} "
        f"lost {total.lost} duplicates {total.duplicates} p95 {percentile(total.times, 0.95):.1f}s"
    )
    return 1 if total.lost or total.duplicates or stuck or total.problems else 0


if __name__ == "__main__":
    sys.exit(main())
