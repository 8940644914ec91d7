"""Fault injection at the storage gateway: `FlakyStorage` wraps a real gateway (Azurite) and makes a
seeded share of its calls fail as an unreachable service would — before the call (nothing happened)
or after it (the call went through, its answer was lost). No module is patched: the pipeline gets
this object where it would get the real gateway, under `RetryingStorage` as in production."""

from __future__ import annotations

import builtins
import random
import threading
from collections import Counter
from typing import Any

from shared.errors import StorageUnavailableError
from shared.storage.gateway import Storage

# Every call of the gateway Protocol (its public methods), and nothing else (`close`, attributes).
CALLS = frozenset(name for name in vars(Storage) if not name.startswith("_"))


class FlakyStorage:
    """`storage`, with each call failing before it runs at `rate`, and after it ran (answer lost) at
    `rate * after_share`; seeded, so a run can be repeated. `faults` counts what was injected."""

    def __init__(
        self,
        storage: Any,
        rate: float,
        seed: int,
        *,
        after_share: float = 0.5,
        before: bool = True,
        only: frozenset[str] = CALLS,
        limit: int | None = None,
    ) -> None:
        """`only`: the calls that may fail; `limit`: stop injecting after this many faults."""
        self.inner, self.rate, self.after_share, self.before = storage, rate, after_share, before
        self.only, self.limit = only, limit
        self.enabled = True
        self.injected: Counter[str] = Counter()
        self._random = random.Random(seed)
        self._lock = threading.Lock()  # one generator shared by the pipeline's threads

    @property
    def faults(self) -> int:
        """How many failures were injected so far."""
        return sum(self.injected.values())

    def _roll(self, chance: float) -> bool:
        with self._lock:
            spent = self.limit is not None and sum(self.injected.values()) >= self.limit
            return self.enabled and not spent and self._random.random() < chance

    def _fail(self, name: str, when: str) -> None:
        with self._lock:
            self.injected[f"{name} {when}"] += 1
        raise StorageUnavailableError(f"{name}: storage unreachable (injected {when} the call)")

    def __getattr__(self, name: str) -> Any:
        real = getattr(self.inner, name)
        if name not in self.only:
            return real

        def flaky(*args: Any, **kwargs: Any) -> Any:
            if self.before and self._roll(self.rate):
                self._fail(name, "before")
            result = real(*args, **kwargs)
            if name == "list":
                # A listing is lazy: its requests are made while it is read, so read it here.
                result = iter(builtins.list(result))
            if self._roll(self.rate * self.after_share):
                self._fail(name, "after")
            return result

        return flaky
