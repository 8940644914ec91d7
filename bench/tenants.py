"""One tenant's session list while another tenant makes 1,000 sessions: `make bench-tenants`.

On Azurite, tenant A holds 20 sessions. Its first page of the session list (the API's default page
size), its session-quota check and its stored-bytes check are timed (median of 15) before and after
tenant B holds 1,000 sessions; so is a list that reads every manifest and then keeps the caller's
(what the list did before the per-tenant index), as the yardstick in the same run. Prints the
figures and the after/before ratios; exits 1 when A's list slows by more than half.

B's sessions are written as `create_session` writes them (index entry, then manifest) without its
quota check, which lists B's own index each time: at 1,000 sessions that alone takes minutes on
Azurite, and it is B's cost, not A's.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from shared.sessions.layout import is_manifest_blob, manifest_blob
from shared.sessions.models import SessionManifest, now
from shared.sessions.requests import create_session, list_sessions
from shared.sessions.tenants import add_to_index, check_session_quota, stored_bytes
from shared.settings import Settings
from shared.storage.azure import AzureStorage
from tests.azurite import Azurite
from tests.scenarios import fresh_settings

ALICE, BOB = "key-bench-alice", "key-bench-bob"
REPEAT = 15


def _median_ms(call: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _stored_session(storage: AzureStorage, settings: Settings, owner: str) -> None:
    """A session in storage as `create_session` leaves it: its index entry, then its manifest."""
    stamp = now()
    manifest = SessionManifest(id=secrets.token_hex(16), owner=owner, created=stamp, updated=stamp)
    add_to_index(storage, settings, manifest)
    storage.put_bytes(
        settings.sessions_container, manifest_blob(manifest.id), manifest.model_dump_json().encode()
    )


def _every_manifest(storage: AzureStorage, settings: Settings, owner: str) -> int:
    """The yardstick: every manifest read, then the caller's kept (the list without an index)."""
    kept = 0
    for info in storage.list(settings.sessions_container):
        if is_manifest_blob(info.name):
            data, _ = storage.get_bytes(settings.sessions_container, info.name)
            kept += SessionManifest.model_validate_json(data).owner == owner
    return kept


def _measure(storage: AzureStorage, settings: Settings) -> dict[str, float]:
    return {
        "A's first page": _median_ms(lambda: list_sessions(storage, settings, owner=ALICE)),
        "A's session-quota check": _median_ms(lambda: check_session_quota(storage, settings, ALICE)),
        "A's stored-bytes check": _median_ms(lambda: stored_bytes(storage, settings, ALICE)),
        "yardstick: read every manifest": _median_ms(lambda: _every_manifest(storage, settings, ALICE)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--others", type=int, default=1000, help="sessions tenant B makes")
    parser.add_argument("--own", type=int, default=20, help="sessions tenant A holds")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch, Azurite() as azurite:
        settings = fresh_settings(Path(scratch), max_sessions_per_tenant=args.others + args.own)
        storage = AzureStorage(azurite.connection_string)
        for _ in range(args.own):
            create_session(storage, settings, owner=ALICE)
        assert len(list_sessions(storage, settings, owner=ALICE).sessions) == args.own
        before = _measure(storage, settings)
        started = time.perf_counter()
        for _ in range(args.others):
            _stored_session(storage, settings, BOB)
        made = time.perf_counter() - started
        after = _measure(storage, settings)
        assert len(list_sessions(storage, settings, owner=ALICE).sessions) == args.own
        storage.close()
    print(f"Tenant A holds {args.own} sessions; then tenant B's {args.others} are stored ({made:.1f} s).")
    print(f"  {'median of ' + str(REPEAT):34} {'before':>9} {'after':>9} {'ratio':>7}")
    for name, was in before.items():
        now = after[name]
        print(f"  {name:34} {was:7.1f}ms {now:7.1f}ms {now / was:6.2f}x")
    ratio = after["A's first page"] / before["A's first page"]
    if ratio > 1.5:
        print(f"FAIL: A's list slowed {ratio:.2f}x with B's sessions")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
