"""Helm values of the operators (pure: no Pulumi). Every operator runs on the platform nodes."""

from __future__ import annotations

from typing import Any

from lib import versions
from lib.kube.placement import PLATFORM, WORKLOAD_LABEL, placement
from lib.kube.target import NAMESPACES

# The Scylla Manager agent's sidecar of the manager's own ScyllaDB (as the data cluster's).
AGENT = {"cpu": "100m", "memory": "256Mi"}


def cert_manager_values() -> dict[str, Any]:
    p = placement()
    return {
        "crds": {"enabled": True, "keep": True},
        **p,
        "webhook": dict(p),
        "cainjector": dict(p),
        "startupapicheck": dict(p),
    }


def strimzi_values() -> dict[str, Any]:
    # The cluster operator lives in the operators namespace and watches only the kafka namespace.
    return {"watchNamespaces": [NAMESPACES["kafka"]], "watchAnyNamespace": False, **placement()}


def scylla_operator_values() -> dict[str, Any]:
    # The admission webhook's serving certificate is issued by cert-manager (chart default). The
    # webhook server is its own Deployment with its own placement keys (webhookServer*).
    p = placement()
    return {
        "replicas": 2,
        "webhookServerReplicas": 2,
        **p,
        "webhookServerNodeSelector": p["nodeSelector"],
        "webhookServerTolerations": p["tolerations"],
    }


def scylla_manager_values(storage_class: str) -> dict[str, Any]:
    """Scylla Manager with its own small ScyllaDB (the chart's `scylla` section) on platform nodes;
    the manager and its cluster's agent on SCYLLA_MANAGER_VERSION (the data cluster's agents too)."""
    p = placement()
    resources = {"cpu": "1", "memory": "2Gi"}
    return {
        **p,
        "image": {"tag": versions.SCYLLA_MANAGER_VERSION},
        "scylla": {
            "developerMode": True,
            "scyllaImage": {"tag": versions.SCYLLA_VERSION},
            "agentImage": {"tag": versions.SCYLLA_AGENT_VERSION},
            "datacenter": "manager-dc",
            "racks": [
                {
                    "name": "manager-rack",
                    "members": 1,
                    "storage": {"capacity": "20Gi", "storageClassName": storage_class},
                    "resources": {"requests": dict(resources), "limits": dict(resources)},
                    "agentResources": {"requests": dict(AGENT), "limits": dict(AGENT)},
                    "placement": {
                        "nodeAffinity": {
                            "requiredDuringSchedulingIgnoredDuringExecution": {
                                "nodeSelectorTerms": [
                                    {
                                        "matchExpressions": [
                                            {"key": WORKLOAD_LABEL, "operator": "In", "values": [PLATFORM]}
                                        ],
                                    }
                                ]
                            }
                        },
                        "tolerations": p["tolerations"],
                    },
                }
            ],
        },
    }


def cloudnative_pg_values() -> dict[str, Any]:
    return {
        "crds": {"create": True},
        "config": {"clusterWide": True},
        # The PodMonitors are declared per cluster by the postgres component.
        "monitoring": {"podMonitorEnabled": False},
        "image": {"tag": versions.CLOUDNATIVE_PG_OPERATOR},
        **placement(),
    }


def barman_cloud_values() -> dict[str, Any]:
    # Must share the CloudNativePG operator's namespace; its TLS certificates come from cert-manager.
    tag = versions.BARMAN_CLOUD_PLUGIN_IMAGE
    return {"crds": {"create": True}, "image": {"tag": tag}, "sidecarImage": {"tag": tag}, **placement()}
