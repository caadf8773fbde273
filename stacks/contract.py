"""What the stacks and areas hand each other: shared types, stack-output names, namespaces.

Fleet-colour stacks read their environment's outputs by StackReference, the traffic stack reads the
environment's and the colour stacks', and the DR site reads the primary's; the environment reads
nothing (stacks/references.py: the graph is acyclic). The names below are that contract: the producer
exports each of them (tests check it) and the offline plan's mocks answer them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from lib.kube.target import BackupTarget, KubeTarget

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
    "ebs_kms_key_arn",
    "data_plane_security_group_id",
    "otlp_endpoint",
    "fleet_security_group_ids",
    "ingest_lb_security_group_id",
    "handoff_lb_security_group_ids",
    "public_ingest",
    # The fleets' endpoints of the data plane (an internal load balancer each, admitting the VPC).
    "kafka_fleet_bootstrap",
    "postgres_fleet_endpoint",
    "log_archive_streams",
    "log_subscription_role_arn",
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
    # ScyllaDB: this datacenter's seeds (names in the DR pair's private zone) and that zone, which the
    # primary creates and the DR site associates its VPC with.
    "scylla_external_seeds",
    "scylla_seed_zone_id",
    "kafka_bootstrap_servers",
    "postgres_cluster_name",
    "backup_bucket",
    "backup_bucket_region",
    # Kafka replication into the DR site (MirrorMaker 2): the primary's cluster CA certificate (public)
    # and the password of its replication user (a Pulumi secret).
    "kafka_cluster_ca_cert",
    "kafka_mirrormaker_password",
    # PostgreSQL streaming replication into the DR site (its replica cluster): the replication
    # endpoint over the peering and the replication role's password (a Pulumi secret); the restore
    # source in the DR region (the replicated backups bucket and its key).
    "postgres_replication_host",
    "postgres_replication_password",
    "backup_replica_bucket",
    "backup_replica_kms_key_arn",
)

# Outputs an environment with `dns` exports: the traffic stack's zone and domain, and what the other
# site of a DR pair checks its own `dns` against.
INGEST_OUTPUTS: tuple[str, ...] = ("ingest_zone_name", "ingest_domain")
# Outputs the primary site of a DR pair exports for its traffic stack's PRIMARY failover record.
DR_GATE_OUTPUTS: tuple[str, ...] = ("dr_gate_alarm_name", "dr_gate_alarm_region")


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
    # host:port of Kafka's listener for the fleets (SCRAM-SHA-512 over TLS) and of the PgBouncer
    # Pooler's load balancer; the data plane fills them in ("" until they have an address).
    kafka_fleet_bootstrap: pulumi.Input[str] = ""
    postgres_fleet_endpoint: pulumi.Input[str] = ""
    # The log archive (seed 003 Log Retention, cold tier): {log class: Firehose stream ARN} and the
    # role the fleets' subscription filters deliver as (components/backups/archive.py).
    log_archive_streams: pulumi.Input[dict[str, str]] | None = None
    log_subscription_role_arn: pulumi.Input[str] | None = None
    # The environment's EBS key (Auto Scaling may use it): the fleets' volumes. kms_key_arn above is
    # the backups key (artifacts and state backups in S3), never used for volumes.
    ebs_kms_key_arn: pulumi.Input[str] = None  # type: ignore[assignment]


@dataclass(frozen=True)
class AwsInfra:
    """An AWS environment's foundation: network, cluster and backups."""

    network: FleetNetwork
    kube: KubeTarget
    backups: BackupTarget
