"""What the stacks and areas hand each other: shared types, stack-output names, namespaces.

Fleet-colour stacks read their environment's outputs by StackReference, the prod stack reads the
colour stacks', and the DR site reads the primary's. The names below are that contract: the producer
exports each of them (tests check it) and the offline plan's mocks answer them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi

# Outputs an AWS environment stack exports for its fleet-colour stacks (and the DR site).
ENVIRONMENT_OUTPUTS: tuple[str, ...] = (
    "environment",
    "region",
    "vpc_id",
    "vpc_cidr",
    "private_subnet_ids",
    "public_subnet_ids",
    "artifact_bucket",
    "backup_bucket",
    "kms_key_arn",
    "data_plane_security_group_id",
    "otlp_endpoint",
    "fleet_security_group_ids",
    "ingest_lb_security_group_id",
    "handoff_lb_security_group_ids",
    "public_ingest",
)
# Outputs every AWS environment stack exports for the other site of a DR pair (VPC peering routes).
PEERING_OUTPUTS: tuple[str, ...] = ("private_route_table_ids",)
# Outputs a fleet-colour stack exports for the traffic switch of its environment.
FLEET_OUTPUTS: tuple[str, ...] = (
    "colour",
    "ingest_lb_dns_name",
    "ingest_lb_zone_id",
    "fleet_sizes",
)
# Outputs the primary site exports for the DR site (replication sources).
PRIMARY_SITE_OUTPUTS: tuple[str, ...] = (
    "scylla_external_seeds",
    "kafka_bootstrap_servers",
    "postgres_cluster_name",
    "backup_bucket",
    "backup_bucket_region",
    "ingest_health_check_fqdn",
    # Kafka replication into the DR site (MirrorMaker 2): the primary's cluster CA certificate (public)
    # and the password of its replication user (a Pulumi secret).
    "kafka_cluster_ca_cert",
    "kafka_mirrormaker_password",
)

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
        from lib.kube.placement import placement

        return placement(workload)


@dataclass(frozen=True)
class BackupTarget:
    """The backup bucket the data plane writes to, and a factory of IRSA roles for its writers."""

    bucket: pulumi.Input[str]
    region: str
    # irsa_role(name, namespace, service_account, prefix, read_from=()) -> role ARN allowed to read and
    # write s3://bucket/prefix/ only, and to read each (bucket, prefix, key ARN) of read_from.
    irsa_role: Any = None


@dataclass(frozen=True)
class FleetNetwork:
    """What a module fleet needs from its environment: the ENVIRONMENT_OUTPUTS, typed."""

    environment: pulumi.Input[str]
    region: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    vpc_cidr: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[list[str]]
    public_subnet_ids: pulumi.Input[list[str]]
    artifact_bucket: pulumi.Input[str]
    backup_bucket: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    data_plane_security_group_id: pulumi.Input[str]
    otlp_endpoint: pulumi.Input[str]
    # The module security groups ({"alpha": sg, "beta": sg, "gamma": sg}) and the ingest load
    # balancer's, carrying seed 003's flows (components/network/flows.py).
    fleet_security_group_ids: pulumi.Input[dict[str, str]] = None  # type: ignore[assignment]
    ingest_lb_security_group_id: pulumi.Input[str] = None  # type: ignore[assignment]
    # The internal handoff load balancers' groups ({"beta": sg, "gamma": sg}).
    handoff_lb_security_group_ids: pulumi.Input[dict[str, str]] = None  # type: ignore[assignment]
    # network.public_ingest: alpha's ingest load balancer is internet-facing in the public subnets.
    public_ingest: pulumi.Input[bool] = False


@dataclass(frozen=True)
class AwsInfra:
    """An AWS environment's foundation: network, cluster and backups."""

    network: FleetNetwork
    kube: KubeTarget
    backups: BackupTarget
