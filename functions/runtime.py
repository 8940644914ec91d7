"""The edge where the Functions app gets its settings and storage: built once, on first use."""

from __future__ import annotations

from dataclasses import dataclass

from shared.settings import Settings
from shared.storage.azure import storage_from_settings
from shared.storage.gateway import Storage


@dataclass(frozen=True)
class Runtime:
    """What every function needs: the settings and the storage gateway."""

    settings: Settings
    storage: Storage


_current: Runtime | None = None


def runtime() -> Runtime:
    """The app's runtime, built from the app settings (environment) the first time it is asked for."""
    global _current  # noqa: PLW0603 — one gateway per worker process, built lazily, not at import
    if _current is None:
        settings = Settings()
        _current = Runtime(settings, storage_from_settings(settings))
    return _current


def use(settings: Settings, storage: Storage) -> None:
    """Run the functions on the given settings and storage (tests, local tools)."""
    global _current  # noqa: PLW0603
    _current = Runtime(settings, storage)
