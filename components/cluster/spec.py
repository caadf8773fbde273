"""Pure pieces of the EKS cluster: node-group placement, kubeconfig, IRSA trust. No Pulumi."""

from __future__ import annotations

import json
from typing import Any

WORKLOAD_KEY = "pipeline-infra/workload"
# Node groups that carry only a label: the platform group runs everything without a toleration
# (operators, Prometheus, Grafana, the OTLP collector, the EBS CSI controller, CoreDNS).
UNTAINTED_GROUPS = frozenset({"platform"})
CONTROL_PLANE_LOGS = ("api", "audit", "authenticator", "controllerManager", "scheduler")
EBS_CSI_SERVICE_ACCOUNT = ("kube-system", "ebs-csi-controller-sa")
STORAGE_CLASS = "gp3-encrypted"


def node_group_labels(group: str) -> dict[str, str]:
    return {WORKLOAD_KEY: group}


def node_group_taints(group: str) -> list[dict[str, str]]:
    """EKS API taints (effect NO_SCHEDULE) matching KubeTarget.placement(group)'s toleration."""
    if group in UNTAINTED_GROUPS:
        return []
    return [{"key": WORKLOAD_KEY, "value": group, "effect": "NO_SCHEDULE"}]


def kubeconfig(*, cluster_name: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig whose user runs `aws eks get-token` (short-lived tokens, nothing stored)."""
    user = f"aws-{cluster_name}"
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}
        ],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": user}}],
        "current-context": cluster_name,
        "users": [
            {
                "name": user,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "aws",
                        "args": [
                            "eks",
                            "get-token",
                            "--cluster-name",
                            cluster_name,
                            "--region",
                            region,
                            "--output",
                            "json",
                        ],
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
    }
    return json.dumps(doc, sort_keys=True)
