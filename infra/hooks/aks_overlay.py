"""Writes the overlay azd applies to AKS: the prod overlay with this azd environment's values.

Run by azd before it deploys the `aks` service (azure.yaml); azd then sets the image it built
(`kustomize edit set image`) and applies the result. The values come from the provisioning's
outputs, which azd puts in the environment: the identity's client id (the pods' ServiceAccount and
KEDA's TriggerAuthentication), the storage account (the settings and KEDA's scalers), and the host
name; the Ingress moves to the cluster's application routing add-on (class and namespace).

Plain Python, no dependency: the same kustomization fields `kustomize edit` would write, written
whole each time (so a re-run never stacks edits), and rendered by `kubectl kustomize` in the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PROD = ROOT / "k8s-fallback" / "overlays" / "prod"
OUT = ROOT / "k8s-fallback" / "overlays" / "azd"
# The AKS application routing add-on: its IngressClass, and the namespace of its nginx controllers.
INGRESS_CLASS = "webapprouting.kubernetes.azure.com"
INGRESS_NAMESPACE = "app-routing-system"
FROM_NAMESPACE = "/spec/ingress/0/from/0/namespaceSelector/matchLabels"
REQUIRED = ("AZURE_CLIENT_ID", "AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_BLOB_ENDPOINT", "AKS_HOST_NAME")


def patch(kind: str, name: str | None, operations: list[dict[str, object]]) -> dict[str, object]:
    """One JSON 6902 patch of the objects of `kind` (and `name`), as `kustomize edit add patch` writes."""
    target: dict[str, object] = {"kind": kind} | ({"name": name} if name else {})
    return {"target": target, "patch": json.dumps(operations)}


def kustomization(values: dict[str, str], out: Path) -> dict[str, object]:
    """The overlay's kustomization for these values, its paths relative to `out`."""
    client_id, account, host = (
        values["AZURE_CLIENT_ID"],
        values["AZURE_STORAGE_ACCOUNT_NAME"],
        values["AKS_HOST_NAME"],
    )
    blob = values["AZURE_STORAGE_BLOB_ENDPOINT"].rstrip("/")
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [os.path.relpath(PROD, out)],
        "configMapGenerator": [
            {
                "name": "ccproc-settings",
                "behavior": "merge",
                "literals": [f"AZURE_STORAGE_ACCOUNT_URL={blob}"],
            }
        ],
        "patches": [
            patch(
                "ServiceAccount",
                "ccproc",
                [
                    {
                        "op": "replace",
                        "path": "/metadata/annotations/azure.workload.identity~1client-id",
                        "value": client_id,
                    }
                ],
            ),
            patch(
                "TriggerAuthentication",
                "ccproc-storage",
                [{"op": "replace", "path": "/spec/podIdentity/identityId", "value": client_id}],
            ),
            patch(
                "ScaledObject",
                None,
                [{"op": "replace", "path": "/spec/triggers/0/metadata/accountName", "value": account}],
            ),
            patch(
                "Ingress",
                "ccproc-api",
                [
                    {"op": "replace", "path": "/spec/ingressClassName", "value": INGRESS_CLASS},
                    {"op": "replace", "path": "/spec/rules/0/host", "value": host},
                    {"op": "replace", "path": "/spec/tls/0/hosts/0", "value": host},
                ],
            ),
            patch(
                "NetworkPolicy",
                "ccproc-api-from-ingress",
                [
                    {
                        "op": "replace",
                        "path": f"{FROM_NAMESPACE}/kubernetes.io~1metadata.name",
                        "value": INGRESS_NAMESPACE,
                    }
                ],
            ),
        ],
    }


def main(argv: list[str] | None = None) -> int:
    """Write `kustomization.yaml` (JSON is YAML) into the overlay folder; 2 when a value is missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="the overlay folder (default: %(default)s)")
    args = parser.parse_args(argv)
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing:
        print(
            f"aks_overlay: not set: {', '.join(missing)} "
            "(azd provision sets them; AKS_HOST_NAME from CCPROC_AKS_HOST)",
            file=sys.stderr,
        )
        return 2
    values = {name: os.environ[name] for name in REQUIRED}
    if not re.fullmatch(r"[a-z0-9]{3,24}", values["AZURE_STORAGE_ACCOUNT_NAME"]):
        print(
            f"aks_overlay: not a storage account name: {values['AZURE_STORAGE_ACCOUNT_NAME']}",
            file=sys.stderr,
        )
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(kustomization(values, args.out.resolve()), indent=2) + "\n"
    (args.out / "kustomization.yaml").write_text(text)
    print(f"aks_overlay: wrote {args.out / 'kustomization.yaml'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
