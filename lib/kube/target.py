"""What a Kubernetes component is handed: the cluster (provider, storage class, zones, readiness,
IRSA), the backup bucket and its writer roles, and the namespaces of the data plane."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi

from lib.kube.placement import placement

# Kubernetes namespaces of the data plane and the platform services.
NAMESPACES: dict[str, str] = {
    "operators": "operators",
    "cert-manager": "cert-manager",
    "scylla": "scylla",
    "scylla-manager": "scylla-manager",
    "postgres": "postgres",
    "kafka": "kafka",
    "observability": "observability",
}


@dataclass(frozen=True)
class KubeTarget:
    """Where and how Kubernetes resources are declared: the provider of the cluster (EKS or an
    existing one from a secret kubeconfig), the encrypted storage class and the AZs for racks."""

    provider: pulumi.ProviderResource
    storage_class: str
    zones: tuple[str, ...]
    region: str
    # Resources Kubernetes objects must wait for (node groups, CSI driver add-on, ...).
    depends_on: tuple[pulumi.Resource, ...] = ()
    # irsa_role(name, namespace, service_account, policy_json) -> Output[role ARN]: an IAM role that
    # only that service account can assume (EKS OIDC). None on an existing cluster from a kubeconfig.
    irsa_role: Callable[[str, str, str, pulumi.Input[str]], pulumi.Output[str]] | None = None

    def options(self, parent: pulumi.Resource, *deps: pulumi.Resource) -> pulumi.ResourceOptions:
        """Options of a Kubernetes child: its parent, this cluster's provider, and what it waits for
        (the cluster's readiness, then `deps`)."""
        return pulumi.ResourceOptions(
            parent=parent, provider=self.provider, depends_on=[*self.depends_on, *deps]
        )

    @staticmethod
    def placement(workload: str) -> dict[str, Any]:
        """nodeSelector and tolerations that pin a workload to its managed node group."""
        return placement(workload)


@dataclass(frozen=True)
class BackupTarget:
    """The backup bucket the data plane writes to, and a factory of IRSA roles for its writers."""

    bucket: pulumi.Input[str]
    region: str
    # irsa_role(name, namespace, service_account, prefix, read_from=()) -> role ARN allowed to read and
    # write s3://bucket/prefix/ only, and to read each (bucket, prefix, key ARN) of read_from.
    irsa_role: Callable[..., pulumi.Output[str]] | None = None
    # the audit bucket (Object Lock) and audit_writer(name, namespace, service_account) -> role ARN
    # allowed to add the daily audit exports under s3://audit bucket/audit-logs/ only
    audit_bucket: pulumi.Input[str] | None = None
    audit_writer: Callable[..., pulumi.Output[str]] | None = None
