"""The names in bindings, host.json and the sample settings agree with the settings object."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from shared.settings import Settings

ROOT = Path(__file__).parent.parent


def test_every_binding_reference_is_in_the_sample_settings() -> None:
    """Each %NAME% a binding uses, and the connection, is defined in local.settings.sample.json."""
    values = json.loads((ROOT / "local.settings.sample.json").read_text())["Values"]
    sources = "".join(p.read_text() for p in (ROOT / "functions").glob("*.py"))
    for name in set(re.findall(r"%([A-Z_]+)%", sources)) | {"AzureWebJobsStorage"}:
        assert name in values, name


def test_sample_settings_build_the_settings_object(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every sample value reaches the settings object by its name; maxDequeueCount agrees with host.json."""
    values = json.loads((ROOT / "local.settings.sample.json").read_text())["Values"]
    host_only = {"FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsFeatureFlags", "UPLOADS_TRIGGER_SOURCE"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.storage_connection == values["AzureWebJobsStorage"]
    for name, value in values.items():
        if name in host_only or name == "AzureWebJobsStorage":
            continue
        field = name.lower()
        assert field in Settings.model_fields, f"{name}: no setting reads it"
        got = getattr(settings, field)
        assert str(got).lower() == value.lower(), name
    host = json.loads((ROOT / "host.json").read_text())
    assert host["extensions"]["queues"]["maxDequeueCount"] == settings.max_dequeue_count
