"""compose.yaml checked with no Docker: valid against the Compose specification's JSON schema
(../shared/schemas/compose/), and running what Kubernetes runs — the same commands, probes, image,
user and settings as the prod overlay's workloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.test_infra import setting_names
from tests.test_k8s_manifests import HEALTH_DIR, containers, render, settings_data

ROOT = Path(__file__).parent.parent
COMPOSE_SCHEMA = ROOT.parent / "shared" / "schemas" / "compose" / "compose-spec.json"
# compose service -> the Kubernetes workload that runs the same process.
WORKLOADS = {
    "api": "ccproc-api",
    "extract": "ccproc-extract",
    "finalize": "ccproc-finalize",
    "sweep": "ccproc-sweep",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """compose.yaml as Compose reads it (YAML merge keys resolved)."""
    return dict(yaml.safe_load((ROOT / "compose.yaml").read_text()))


@pytest.fixture(scope="module")
def prod() -> list[dict[str, Any]]:
    """The prod overlay's objects."""
    return [doc for doc in yaml.safe_load_all(render("prod")) if doc]


def test_compose_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    """compose.yaml validates against the Compose specification's schema, and the schema bites."""
    if not COMPOSE_SCHEMA.is_file():
        pytest.skip(
            f"Compose schema not found at {COMPOSE_SCHEMA}: compose.yaml not validated on this machine"
        )
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(compose)]
    assert not errors
    broken = compose | {"services": {"api": {"image": "x", "restart_policy": "always"}}}
    assert not validator.is_valid(broken)


def test_services_run_the_kubernetes_commands(compose: dict[str, Any], prod: list[dict[str, Any]]) -> None:
    """Each ccproc service runs its Kubernetes workload's args, and the workers' health checks are the
    workloads' exec probes; Azurite aside, that is every service."""
    services = compose["services"]
    assert set(services) == set(WORKLOADS) | {"azurite"}
    workloads = dict(containers(prod))
    for service, workload in WORKLOADS.items():
        container = workloads[workload]
        assert services[service]["command"] == container["args"], service
        if "exec" in container.get("livenessProbe", {}):
            assert services[service]["healthcheck"]["test"] == [
                "CMD",
                *container["livenessProbe"]["exec"]["command"],
            ]


def test_one_image_restricted_as_on_kubernetes(compose: dict[str, Any]) -> None:
    """Every ccproc service is the one image built from k8s-fallback/Dockerfile, runs as the manifests'
    user with a read-only root and no capabilities, writing only /scratch and /tmp/ccproc."""
    ccproc = [compose["services"][name] for name in WORKLOADS]
    assert len({(s["image"], s["build"]["dockerfile"]) for s in ccproc}) == 1
    assert (ROOT / ccproc[0]["build"]["dockerfile"]).is_file()
    for service in ccproc:
        assert service["user"] == "10001:10001"
        assert service["read_only"] is True
        assert service["cap_drop"] == ["ALL"]
        assert {mount.split(":")[0] for mount in service["tmpfs"]} == {"/scratch", HEALTH_DIR}


def test_settings_are_the_overlays(compose: dict[str, Any], prod: list[dict[str, Any]]) -> None:
    """Every variable a service gets is a setting (or the API keys); where the prod ConfigMap sets
    the same setting, compose gives it the same value, storage aside (Azurite's connection string)."""
    config = settings_data(prod)
    for name in WORKLOADS:
        environment = compose["services"][name]["environment"]
        assert set(environment) <= setting_names() | {"CCPROC_API_KEYS"}, name
        for key in set(environment) & set(config):
            assert str(environment[key]) == config[key], f"{name}: {key}"
        assert environment["AzureWebJobsStorage"].endswith(
            "QueueEndpoint=http://azurite:10001/devstoreaccount1;"
        )


def test_azurite_is_the_release_the_tests_run(compose: dict[str, Any]) -> None:
    """The Azurite image is the release package.json pins for the tests."""
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["azurite"]
    assert compose["services"]["azurite"]["image"].endswith(f"/azurite:{pinned}")
