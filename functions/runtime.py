"""The edge where the Functions app gets its settings and storage: built once, on first use."""

from __future__ import annotations

from functools import cached_property

from shared.settings import Settings
from shared.storage.azure import storage_from_settings
from shared.storage.gateway import Storage
from shared.telemetry.setup import configure


class Runtime:
    """What every function needs: the settings, and the storage gateway (made when first used, so
    that a function that needs no storage — the page — runs without its settings)."""

    def __init__(self, settings: Settings, storage: Storage | None = None) -> None:
        self.settings = settings
        if storage is not None:
            self.__dict__["storage"] = self.__dict__["api_storage"] = storage

    @cached_property
    def storage(self) -> Storage:
        """The storage gateway of the pipeline's steps, built from the settings on first use."""
        return storage_from_settings(self.settings)

    @cached_property
    def api_storage(self) -> Storage:
        """The gateway of API requests: it gives up on storage sooner (`api_storage_seconds`)."""
        return storage_from_settings(self.settings, deadline=self.settings.api_storage_seconds)


_current: Runtime | None = None


def runtime() -> Runtime:
    """The app's runtime, built from the app settings (environment) the first time it is asked for."""
    global _current  # noqa: PLW0603 — one gateway per worker process, built lazily, not at import
    if _current is None:
        settings = Settings()
        # Application Insights when the app has its connection string (the Functions convention).
        configure("functions", settings)
        _current = Runtime(settings)
    return _current


def use(settings: Settings, storage: Storage) -> None:
    """Run the functions on the given settings and storage (tests, local tools)."""
    global _current  # noqa: PLW0603
    _current = Runtime(settings, storage)


def reset() -> None:
    """Forget the runtime: the next call builds it from the environment again (tests)."""
    global _current  # noqa: PLW0603
    _current = None
