"""`ccproc api` and `ccproc sweep`: the long-running and scheduled faces of the pipeline, for
Kubernetes and local runs — the same `shared` calls the Functions app makes."""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
from typing import Any

from shared.cli.common import EXIT_FAILED, EXIT_USAGE, storage_settings
from shared.errors import UsageError

API_KEYS_ENV = "CCPROC_API_KEYS"


def api_keys_from_env() -> frozenset[str] | None:
    """API keys from CCPROC_API_KEYS (comma-separated; mounted from a Secret); None when unset. A
    weak or empty key is refused (UsageError): its digest, stored as the tenant id, could be guessed."""
    from shared.http.auth import weak_key_reason  # noqa: PLC0415 — the web stack loads only for `api`

    raw = os.environ.get(API_KEYS_ENV, "")
    if not raw.strip():
        return None
    keys = [k.strip() for k in raw.split(",")]
    for number, key in enumerate(keys, start=1):
        reason = weak_key_reason(key) if key else "a key is empty (two commas in a row?)"
        if reason:
            raise UsageError(
                f"{API_KEYS_ENV}: key {number} refused: {reason}; make one with `ccproc keys new`"
            )
    return frozenset(keys)


def cmd_keys_new(_args: argparse.Namespace) -> int:
    """Print a new API key, strong enough for CCPROC_API_KEYS."""
    from shared.http.auth import new_key  # noqa: PLC0415

    print(new_key())
    return 0


def _loopback(host: str) -> bool:
    """True for an address only this machine reaches (`127.0.0.0/8`, `::1`, `localhost`)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_api(args: argparse.Namespace) -> int:
    """Serve the HTTP API with uvicorn."""
    # The web stack loads only for this command.
    import uvicorn  # noqa: PLC0415

    from shared.http.app import build_app  # noqa: PLC0415
    from shared.storage.azure import storage_from_settings  # noqa: PLC0415
    from shared.telemetry.setup import start_process  # noqa: PLC0415

    settings = storage_settings()
    if settings is None:
        return EXIT_FAILED
    keys = api_keys_from_env()
    if keys is None and not args.no_keys:
        print(f"ccproc: set {API_KEYS_ENV} (or pass --no-keys for a local, keyless API)", file=sys.stderr)
        return EXIT_FAILED
    if keys is None and not _loopback(args.host):
        # Keyless means anyone who can reach the port owns every session: this machine only.
        print(
            f"ccproc: --no-keys serves this machine only (a loopback address), not {args.host}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    start_process("api", settings, plain="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = build_app(
        lambda: storage_from_settings(settings, deadline=settings.api_storage_seconds),
        settings,
        api_keys=keys,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=30)
    return 0


def cmd_sweep(_args: argparse.Namespace) -> int:
    """Run the retention sweep once (a CronJob's command)."""
    from shared.sessions.sweep import sweep  # noqa: PLC0415
    from shared.storage.azure import storage_from_settings  # noqa: PLC0415
    from shared.telemetry.setup import flush, start_process  # noqa: PLC0415

    settings = storage_settings()
    if settings is None:
        return EXIT_FAILED
    start_process("sweep", settings, plain="%(asctime)s %(levelname)s %(message)s")
    print(json.dumps(sweep(storage_from_settings(settings), settings)))
    flush()
    return 0


def register(sub: Any) -> None:
    """Add `api` and `sweep` to the command line."""
    api = sub.add_parser("api", help="serve the HTTP API (same routes as the Functions app)")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8080)
    api.add_argument(
        "--no-keys", action="store_true", help=f"serve without API keys when {API_KEYS_ENV} is unset"
    )
    api.set_defaults(run=cmd_api)
    keys = sub.add_parser("keys", help="API keys for CCPROC_API_KEYS")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    keys_sub.add_parser("new", help="print a new, strong API key").set_defaults(run=cmd_keys_new)
    sweep = sub.add_parser(
        "sweep", help="delete expired sessions and orphaned uploads once; log storage used"
    )
    sweep.set_defaults(run=cmd_sweep)
