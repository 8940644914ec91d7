"""The Azure deployment (azure.yaml, infra/) checked with no Azure: every Bicep file parsed by
pycep-parser (the parser checkov uses) and scanned by checkov, and cross-checked against the code:
the app settings against the settings object and the bindings, the roles against what the storage
gateway does, the Event Grid filter against the trigger, the AKS identity and overlay against the
Kubernetes manifests."""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pycep import BicepParser
from pydantic import AliasChoices

from functions.extract import trigger_source
from shared.settings import Settings
from shared.storage.access import storage_access
from shared.storage.gateway import Storage
from tests.test_k8s_manifests import checkov

ROOT = Path(__file__).parent.parent
INFRA = ROOT / "infra"
BICEP_FILES = sorted(INFRA.rglob("*.bicep"))
Bicep = dict[str, Any]

# Settings whose value this deployment decides (names, sizes, where storage and telemetry are); every
# other setting keeps its default from shared/settings.py, the same under every runtime.
DECIDED = {
    "UPLOADS_CONTAINER",
    "SESSIONS_CONTAINER",
    "RESULTS_QUEUE",
    "MAX_UPLOAD_BYTES",
    "EXTRACT_PROCESSES",
    "EXTRACT_MEMORY_BYTES",
    "EXTRACT_CPU_SECONDS",
    "EXTRACT_WALL_SECONDS",
}
DECIDED_FUNCTIONS = DECIDED | {
    "UPLOADS_POISON_QUEUE",
    "SWEEP_SCHEDULE",
    "MAX_DEQUEUE_COUNT",
    "UPLOADS_TRIGGER_SOURCE",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
}
DECIDED_AKS = DECIDED | {"TEMP_STORAGE_PATH", "AZURE_STORAGE_ACCOUNT_URL"}
# Set differently on purpose: a Flex instance extracts with one process and scales out instead.
PER_RUNTIME = {"EXTRACT_PROCESSES"}

# Azure's built-in role definitions this deployment assigns (their published permissions). A role
# not listed here fails the test: add it only with its real definition.
BLOB = "Microsoft.Storage/storageAccounts/blobServices"
QUEUE = "Microsoft.Storage/storageAccounts/queueServices/queues"
ROLES: dict[str, tuple[str, frozenset[str]]] = {
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": (
        "Storage Blob Data Contributor",
        frozenset(
            {
                f"{BLOB}/containers/delete",
                f"{BLOB}/containers/read",
                f"{BLOB}/containers/write",
                f"{BLOB}/generateUserDelegationKey/action",
                f"{BLOB}/containers/blobs/delete",
                f"{BLOB}/containers/blobs/read",
                f"{BLOB}/containers/blobs/write",
                f"{BLOB}/containers/blobs/move/action",
                f"{BLOB}/containers/blobs/add/action",
            }
        ),
    ),
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": (
        "Storage Queue Data Contributor",
        frozenset(
            {
                f"{QUEUE}/delete",
                f"{QUEUE}/read",
                f"{QUEUE}/write",
                f"{QUEUE}/messages/delete",
                f"{QUEUE}/messages/read",
                f"{QUEUE}/messages/write",
                f"{QUEUE}/messages/process/action",
            }
        ),
    ),
    "7f951dda-4ed3-4680-a7ca-43fe172d538d": (
        "AcrPull",
        frozenset({"Microsoft.ContainerRegistry/registries/pull/read"}),
    ),
}
# Roles broader than any data path needs: never assigned here.
TOO_BROAD = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "17d1049b-9a84-46fb-8f53-869881c3d3ab": "Storage Account Contributor",
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
}
# What each method of the storage gateway asks of Azure Storage (any one permission of a set will
# do). Every blob call goes through a container the code creates on first use (containers/write),
# every queue call through a queue it creates (queues/write).
CREATE_CONTAINER = {f"{BLOB}/containers/write"}
CREATE_QUEUE = {f"{QUEUE}/write"}
READ, WRITE, DELETE = (f"{BLOB}/containers/blobs/{op}" for op in ("read", "write", "delete"))
NEEDS: dict[str, list[set[str]]] = {
    "put_bytes": [{WRITE}, CREATE_CONTAINER],
    "put_stream": [{WRITE}, CREATE_CONTAINER],
    "put_file": [{WRITE}, CREATE_CONTAINER],
    "get_bytes": [{READ}, CREATE_CONTAINER],
    "download_to": [{READ}, CREATE_CONTAINER],
    "open_read": [{READ}, CREATE_CONTAINER],
    "read_range": [{READ}, CREATE_CONTAINER],
    "info": [{READ}, CREATE_CONTAINER],
    "list": [{READ}, CREATE_CONTAINER],
    "list_page": [{READ}, CREATE_CONTAINER],
    "delete": [{DELETE}, CREATE_CONTAINER],
    "copy": [{READ}, {WRITE}, CREATE_CONTAINER],
    # Keyless: a user delegation SAS, signed by a key the service lends.
    "upload_url": [{f"{BLOB}/generateUserDelegationKey/action"}, CREATE_CONTAINER],
    # Leases are writes; a missing claim blob is created empty first.
    "acquire_lease": [{WRITE}, CREATE_CONTAINER],
    "renew_lease": [{WRITE}, CREATE_CONTAINER],
    "release_lease": [{WRITE}, {DELETE}, CREATE_CONTAINER],
    # Put Message is messages/add/action, which messages/write includes.
    "send": [{f"{QUEUE}/messages/add/action", f"{QUEUE}/messages/write"}, CREATE_QUEUE],
    "receive": [{f"{QUEUE}/messages/process/action"}, CREATE_QUEUE],
    "extend": [{f"{QUEUE}/messages/write"}, CREATE_QUEUE],
    "remove": [{f"{QUEUE}/messages/delete", f"{QUEUE}/messages/process/action"}, CREATE_QUEUE],
    "peek_count": [{f"{QUEUE}/read"}, CREATE_QUEUE],
}


@pytest.fixture(scope="module")
def parsed() -> dict[str, Bicep]:
    """Every Bicep file parsed, by its path under infra/."""
    parser = BicepParser()
    return {str(path.relative_to(INFRA)): parser.parse(file_path=path) for path in BICEP_FILES}


def unquoted(key: str) -> str:
    return key.strip("'")


def resolve(value: Any, bicep: Bicep, passed: dict[str, Any] | None = None) -> Any:
    """A Bicep value with references followed: a variable to its value, a parameter to what the
    caller `passed` it (pycep gives identifiers and literals both as strings)."""
    if not isinstance(value, str):
        return value
    if value in bicep.get("variables", {}):
        return resolve(bicep["variables"][value]["value"], bicep, passed)
    if passed is not None and value in bicep.get("parameters", {}) and value in passed:
        return passed[value]

    def interpolated(match: re.Match[str]) -> str:
        found = resolve(match[1], bicep, passed)
        return found if isinstance(found, str) and found != match[1] else match[0]

    return re.sub(r"\$\{(\w+)\}", interpolated, value)


def module_body(module: Bicep) -> Bicep:
    """A module's name, scope and parameters, whether or not it has a condition."""
    config = module["config"]
    return config["config"] if "condition" in config else config


def module_params(main: Bicep, module: str) -> dict[str, Any]:
    """The parameters main.bicep passes one module, its own variables followed."""
    params = module_body(main["modules"][module])["params"]
    return {name: resolve(value, main) for name, value in params.items()}


def app_settings(parsed: dict[str, Bicep]) -> dict[str, Any]:
    """The Function App's app settings, values followed to literals where the Bicep has them."""
    functions, main = parsed["modules/functions.bicep"], parsed["main.bicep"]
    passed = module_params(main, "functions")
    site = functions["resources"]["app"]["config"]["properties"]["siteConfig"]
    return {s["name"]: resolve(s["value"], functions, passed) for s in site["appSettings"]}


def setting_names() -> set[str]:
    """Every name the settings object reads from the environment."""
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(field.alias or name.upper())
        if isinstance(field.validation_alias, AliasChoices):
            names |= {str(choice) for choice in field.validation_alias.choices}
    return names


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: str(p.relative_to(INFRA)))
def test_every_bicep_file_parses(path: Path) -> None:
    """pycep-parser (checkov's Bicep parser) reads each file into resources, parameters or outputs."""
    parsed = BicepParser().parse(file_path=path)
    assert parsed.get("resources") or parsed.get("modules"), path


def test_main_parameters_and_modules_line_up(parsed: dict[str, Bicep]) -> None:
    """main.parameters.json sets exactly main.bicep's parameters; every module path exists and gets
    every parameter it declares without a default, and none it does not declare."""
    main = parsed["main.bicep"]
    given = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert set(given) == set(main["parameters"])
    assert given["target"]["value"].startswith("${CCPROC_TARGET")
    for name, module in main["modules"].items():
        path = module["detail"]["path"]
        declared = parsed[path]["parameters"]
        passed = set(module_body(module)["params"])
        required = {p for p, d in declared.items() if d.get("default") is None}
        assert required <= passed <= set(declared), name


def test_function_app_settings_cover_the_code(
    parsed: dict[str, Bicep], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Function App sets every binding's %NAME%, the bindings' connection in its identity-based
    form, and every setting this deployment decides; every name it sets is one the code reads; and
    the values build the settings object, reaching storage as the user-assigned identity."""
    settings = app_settings(parsed)
    sources = "".join(p.read_text() for p in (ROOT / "functions").glob("*.py"))
    for name in set(re.findall(r"%([A-Za-z_]+)%", sources)):
        assert name in settings, name
    (connection,) = set(re.findall(r'connection="(\w+)"', sources))
    for part in ("blobServiceUri", "queueServiceUri", "credential", "clientId"):
        assert f"{connection}__{part}" in settings, part
    assert settings[f"{connection}__credential"] == "managedidentity"
    assert set(settings) >= DECIDED_FUNCTIONS, sorted(DECIDED_FUNCTIONS - set(settings))
    read_by_extract = {"UPLOADS_TRIGGER_SOURCE"}
    assert set(settings) <= setting_names() | read_by_extract, sorted(set(settings) - setting_names())
    assert all(n in (ROOT / "functions" / "extract.py").read_text() for n in read_by_extract)
    identity = {
        f"{connection}__blobServiceUri": "https://stccprocx.blob.core.windows.net/",
        f"{connection}__queueServiceUri": "https://stccprocx.queue.core.windows.net/",
        f"{connection}__clientId": "11111111-2222-3333-4444-555555555555",
        "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=00000000-0000-0000-0000-000000000000",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, identity.get(name, value))
        assert isinstance(identity.get(name, value), str), f"{name}: not a literal nor a known reference"
    built = Settings()
    access = storage_access(built)
    assert (access.credential, access.client_id) == ("managed-identity", identity[f"{connection}__clientId"])
    assert access.blob_url == "https://stccprocx.blob.core.windows.net"
    host = json.loads((ROOT / "host.json").read_text())
    assert host["extensions"]["queues"]["maxDequeueCount"] == built.max_dequeue_count


def test_the_deployed_app_takes_uploads_from_event_grid(parsed: dict[str, Bicep]) -> None:
    """The Bicep pins UPLOADS_TRIGGER_SOURCE=EventGrid, which the extract function reads as Event Grid
    in Azure; there, without the setting, or with polling on Flex Consumption, it refuses to index."""
    import azure.functions as func

    setting = app_settings(parsed)["UPLOADS_TRIGGER_SOURCE"]
    in_azure = {"WEBSITE_SITE_NAME": "func-ccproc-x", "WEBSITE_SKU": "FlexConsumption"}
    assert trigger_source(in_azure | {"UPLOADS_TRIGGER_SOURCE": setting}) is func.BlobSource.EVENT_GRID
    with pytest.raises(RuntimeError, match="UPLOADS_TRIGGER_SOURCE is not set"):
        trigger_source(in_azure)
    with pytest.raises(RuntimeError, match="Flex Consumption does not poll"):
        trigger_source(in_azure | {"UPLOADS_TRIGGER_SOURCE": "LogsAndContainerScan"})
    with pytest.raises(RuntimeError, match="EventGrid or LogsAndContainerScan"):
        trigger_source({"UPLOADS_TRIGGER_SOURCE": "Event Grid"})
    # func start on Azurite, where Event Grid cannot reach: polling.
    assert trigger_source({}) is func.BlobSource.LOGS_AND_CONTAINER_SCAN


def test_storage_holds_every_container_and_queue_the_settings_name(parsed: dict[str, Bicep]) -> None:
    """The storage module creates the containers and queues the app settings name, both poison
    queues (the blob trigger's and finalize's, '<queue>-poison') and the dead-letter container."""
    main = parsed["main.bicep"]
    storage = module_params(main, "storage")
    containers = {resolve(c, main) for c in storage["containers"]}
    queues = {resolve(q, main) for q in storage["queues"]}
    settings = app_settings(parsed)
    assert {settings["UPLOADS_CONTAINER"], settings["SESSIONS_CONTAINER"]} <= containers
    results = settings["RESULTS_QUEUE"]
    assert {results, f"{results}-poison", settings["UPLOADS_POISON_QUEUE"]} <= queues
    assert resolve("deadLetterContainer", main) in containers
    account = parsed["modules/storage.bicep"]["resources"]["account"]["config"]["properties"]
    assert account["allowSharedKeyAccess"] is False
    assert account["supportsHttpsTrafficOnly"] is True
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["allowBlobPublicAccess"] is False


def assignments(parsed: dict[str, Bicep]) -> list[tuple[str, str, str]]:
    """(file, scope, role id) of every role assignment in the Bicep, loops unrolled."""
    found = []
    for path, bicep in parsed.items():
        for resource in bicep.get("resources", {}).values():
            if resource["type"] != "Microsoft.Authorization/roleAssignments":
                continue
            config = resource["config"]
            loop = config.get("loop_type")
            body = config["config"] if loop else config
            role = body["properties"]["roleDefinitionId"]["function"]["parameters"]["resource_name_1"]
            if loop:
                assert role == loop["detail"]["item_name"]
                roles = resolve(loop["detail"]["array_name"], bicep)
            else:
                roles = [role]
            found += [(path, body["scope"], resolve(r, bicep)) for r in roles]
    return found


def test_each_storage_call_is_allowed_and_nothing_broader_is_assigned(parsed: dict[str, Bicep]) -> None:
    """Every method of the storage gateway maps to the permissions it needs, and the roles assigned to
    the product's identity on the storage account grant them; each of those roles is needed (none
    could go), none is Owner/Contributor-like, and every role assigned anywhere is a known one
    scoped to one resource (the account, a container, the registry), never a resource group."""
    methods = {
        name for name, _ in inspect.getmembers(Storage, inspect.isfunction) if not name.startswith("_")
    }
    assert methods == set(NEEDS), f"gateway methods without a mapping: {sorted(methods ^ set(NEEDS))}"
    every = assignments(parsed)
    assert every, "no role assignments found"
    for path, scope, role in every:
        assert role not in TOO_BROAD, f"{path}: {TOO_BROAD.get(role)}"
        assert role in ROLES, f"{path}: role {role} is not one whose permissions this test knows"
        declared = parsed[path]["resources"]
        assert scope in declared, f"{path}: assigned at {scope}, not at one of its resources"
    product = [role for path, scope, role in every if path == "modules/storage.bicep" and scope == "account"]
    granted = set().union(*(ROLES[r][1] for r in product))
    needs = [alternatives for method_needs in NEEDS.values() for alternatives in method_needs]
    missing = [sorted(alternatives) for alternatives in needs if not alternatives & granted]
    assert not missing, missing
    for role in product:
        rest = set().union(*(ROLES[r][1] for r in product if r != role))
        assert any(not alternatives & rest for alternatives in needs), f"{ROLES[role][0]} is not needed"


def test_event_grid_delivers_the_uploads_the_trigger_binds(
    parsed: dict[str, Bicep], indexed_functions: dict[str, Any]
) -> None:
    """The subscription filters BlobCreated on the container the blob trigger binds (what the hook
    passes it is the provisioning's UPLOADS_CONTAINER output, the app setting's value), delivers to
    the extract function's blob-extension endpoint, retries, and dead-letters into a container the
    storage module creates."""
    main, subscription = parsed["main.bicep"], parsed["eventgrid/subscription.bicep"]
    event = subscription["resources"]["subscription"]["config"]["properties"]
    assert event["filter"]["includedEventTypes"] == ["Microsoft.Storage.BlobCreated"]
    assert event["filter"]["subjectBeginsWith"] == "/blobServices/default/containers/${uploadsContainer}/"
    hook = (INFRA / "hooks" / "postdeploy.sh").read_text()
    passed = dict(re.findall(r'(\w+)="\$(\w+)"', hook))
    assert set(passed) == set(subscription["parameters"])
    outputs = main["outputs"]
    container = resolve(outputs[passed["uploadsContainer"]]["value"], main)
    assert container == app_settings(parsed)["UPLOADS_CONTAINER"]
    (binding,) = [b for b in indexed_functions["extract"].get_bindings() if b.type == "blobTrigger"]
    assert binding.path.split("/")[0] == "%UPLOADS_CONTAINER%"
    endpoint = subscription["variables"]["endpoint"]["value"]
    assert "/runtime/webhooks/blobs?functionName=Host.Functions.extract&code=${blobsExtensionKey}" in endpoint
    assert event["retryPolicy"]["maxDeliveryAttempts"] > 1
    dead = event["deadLetterWithResourceIdentity"]["deadLetterDestination"]["properties"]
    assert resolve(outputs[passed[dead["blobContainerName"]]]["value"], main) in {
        resolve(c, main) for c in module_params(main, "storage")["containers"]
    }


def test_one_parameter_picks_functions_or_aks(parsed: dict[str, Bicep]) -> None:
    """azure.yaml deploys the Function App or the AKS service by the provisioning's outputs, both
    computed from the one `target` parameter; each service's hook and files exist."""
    project = yaml.safe_load((ROOT / "azure.yaml").read_text())
    outputs = parsed["main.bicep"]["outputs"]
    conditions = {name: service["condition"] for name, service in project["services"].items()}
    assert conditions == {"functions": "${DEPLOY_FUNCTIONS}", "aks": "${DEPLOY_AKS}"}
    for output, target in (("DEPLOY_FUNCTIONS", "functions"), ("DEPLOY_AKS", "aks")):
        expression = outputs[output]["value"]["operator"]
        assert (expression["type"], expression["operands"]) == (
            "equals",
            {"operand_1": "target", "operand_2": target},
        )
    aks = project["services"]["aks"]
    assert (ROOT / aks["docker"]["path"]).is_file()
    assert (ROOT / aks["k8s"]["kustomize"]["dir"]).resolve() == (ROOT / "k8s-fallback/overlays/azd").resolve()
    for service in project["services"].values():
        for hook in service.get("hooks", {}).values():
            script = hook["run"].split()[-1]
            assert (ROOT / script).is_file(), script


def render_azd_overlay(tmp_path: Path) -> list[dict[str, Any]]:
    """The overlay azd applies, written by the hook for example values and rendered by kustomize."""
    env = os.environ | {
        "AZURE_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
        "AZURE_STORAGE_ACCOUNT_NAME": "stccprocexample",
        "AZURE_STORAGE_BLOB_ENDPOINT": "https://stccprocexample.blob.core.windows.net/",
        "AKS_HOST_NAME": "ccproc.example.org",
    }
    out = tmp_path / "azd"
    hook = [sys.executable, str(INFRA / "hooks" / "aks_overlay.py"), "--out", str(out)]
    done = subprocess.run(hook, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    kubectl = Path(sys.executable).with_name("kubectl")
    rendered = subprocess.run(
        [str(kubectl), "kustomize", str(out)], capture_output=True, text=True, timeout=60, check=False
    )
    assert rendered.returncode == 0, rendered.stderr
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


def test_the_aks_overlay_carries_this_environments_values(parsed: dict[str, Bicep], tmp_path: Path) -> None:
    """The overlay azd applies names the environment's identity on the ServiceAccount and in KEDA's
    auth, its storage account in the settings and every scaler, its host on the Ingress (class and
    network policy of the application routing add-on); its ConfigMap sets every setting this
    deployment decides, with the Function App's values where both set one; and the federated
    credentials name the very service accounts of the pods and of the KEDA add-on's operator."""
    objects = render_azd_overlay(tmp_path)
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], []).append(obj)
    (account,) = by_kind["ServiceAccount"]
    assert account["metadata"]["annotations"]["azure.workload.identity/client-id"].startswith("11111111")
    (auth,) = by_kind["TriggerAuthentication"]
    assert auth["spec"]["podIdentity"]["identityId"].startswith("11111111")
    assert {s["spec"]["triggers"][0]["metadata"]["accountName"] for s in by_kind["ScaledObject"]} == {
        "stccprocexample"
    }
    (ingress,) = by_kind["Ingress"]
    assert (
        ingress["spec"]["rules"][0]["host"] == ingress["spec"]["tls"][0]["hosts"][0] == "ccproc.example.org"
    )
    assert ingress["spec"]["ingressClassName"] == "webapprouting.kubernetes.azure.com"
    (config,) = by_kind["ConfigMap"]
    data = config["data"]
    assert data["AZURE_STORAGE_ACCOUNT_URL"] == "https://stccprocexample.blob.core.windows.net"
    assert set(data) >= DECIDED_AKS, sorted(DECIDED_AKS - set(data))
    functions = app_settings(parsed)
    for name in (DECIDED & set(functions)) - PER_RUNTIME:
        assert data[name] == functions[name], name
    namespace = account["metadata"]["namespace"]
    aks = parsed["modules/aks.bicep"]
    subjects = {
        resource["config"]["properties"]["subject"]
        for resource in aks["resources"].values()
        if resource["type"].endswith("/federatedIdentityCredentials")
    }
    defaults = {name: aks["parameters"][name]["default"] for name in ("namespace", "serviceAccount")}
    pods = f"system:serviceaccount:{namespace}:{account['metadata']['name']}"
    assert pods == "system:serviceaccount:${namespace}:${serviceAccount}".replace(
        "${namespace}", defaults["namespace"]
    ).replace("${serviceAccount}", defaults["serviceAccount"])
    assert subjects == {
        "system:serviceaccount:${namespace}:${serviceAccount}",
        "system:serviceaccount:kube-system:keda-operator",
    }


def test_the_function_timeout_outlasts_an_extraction(parsed: dict[str, Bicep]) -> None:
    """host.json's functionTimeout leaves room past EXTRACT_WALL_SECONDS (the sandbox's own limit)
    for downloading the file and writing the result, so the sandbox, not the host, ends a long file."""
    hours, minutes, seconds = map(
        int, json.loads((ROOT / "host.json").read_text())["functionTimeout"].split(":")
    )
    timeout = hours * 3600 + minutes * 60 + seconds
    wall = int(app_settings(parsed)["EXTRACT_WALL_SECONDS"])
    assert timeout >= wall + 120


def test_checkov_passes_the_bicep_with_every_skip_justified(tmp_path: Path) -> None:
    """checkov finds nothing in infra/; each check it skips is skipped in place with a reason."""
    executable = checkov()
    if executable is None and os.environ.get("CI"):
        pytest.fail("checkov is missing in CI: `make test` installs it (Makefile target $(CHECKOV))")
    if executable is None:
        pytest.skip("checkov not installed (see tests/test_k8s_manifests.py for how)")
    command = [executable, "-d", str(INFRA), "--framework", "bicep", "--output", "json", "--skip-download"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False, cwd=tmp_path)
    assert done.stdout.lstrip().startswith(("{", "[")), done.stderr[-2000:]
    reports = json.loads(done.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    assert {r["check_type"] for r in reports} == {"bicep"}
    assert all(r["summary"]["parsing_errors"] == 0 for r in reports)
    assert sum(r["summary"]["resource_count"] for r in reports) > 20
    failed = [(c["check_id"], c["resource"]) for r in reports for c in r["results"].get("failed_checks", [])]
    assert not failed, f"checkov findings (check, resource): {failed}"
    sources = "\n".join(p.read_text() for p in BICEP_FILES)
    justified = set(re.findall(r"// checkov:skip=(CKV\w+): \S", sources))
    skipped = {c["check_id"] for r in reports for c in r["results"].get("skipped_checks", [])}
    assert skipped <= justified
    # A skip that no longer matches a finding is a stale reason: remove it.
    assert justified <= skipped, sorted(justified - skipped)
