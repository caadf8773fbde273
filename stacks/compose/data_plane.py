"""The Kubernetes data plane of an AWS environment: operators, ScyllaDB, PostgreSQL, then the
streaming layer (Kafka, Kafka Connect, Schema Registry) wired to them.

On the DR site (dr.site: dr) ScyllaDB joins the primary's cluster as a second datacenter (external
seed names from the primary stack, in the DR pair's private zone) and PostgreSQL is a replica cluster
of the primary's, which `dr.role: primary` promotes without replacing a stateful resource.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi

from components.dataplane.operators.component import Operators, OperatorsArgs
from components.dataplane.postgres.component import (
    CdcReconciliation,
    Postgres,
    PostgresArgs,
    PostgresReplica,
)
from components.dataplane.scylla import manifests as scylla_manifests
from components.dataplane.scylla.component import ScyllaArgs, ScyllaDb, SeedExposure, SeedZone, SeedZoneArgs
from lib.dr import archive_timeout
from lib.kube.target import NAMESPACES, BackupTarget, KubeTarget
from stacks.references import stack_reference
from stacks.settings import StackSettings

SCYLLA_CLUSTER = "scylla"  # the same on every site: the DR datacenter joins this ScyllaDB cluster
POSTGRES_CLUSTER = "warehouse"
POSTGRES_DR_CLUSTER = "warehouse-dr"


def build_data_plane(
    settings: StackSettings,
    kube: KubeTarget,
    backups: BackupTarget,
    *,
    monitoring: Sequence[pulumi.Resource] = (),
    vpc_id: pulumi.Input[str] | None = None,
) -> dict[str, Any]:
    """`monitoring`: what installs the monitoring.coreos.com CRDs (kube-prometheus-stack), if built
    first; the PodMonitor waits for it. `vpc_id`: the stack's VPC (a DR pair's private seed zone is
    associated with it)."""
    from stacks.compose.streaming import build_streaming

    assert settings.scylla is not None and settings.postgres is not None
    dr = settings.dr
    dr_site = dr is not None and dr.site == "dr"
    # The site's role: standby (a replica of the other site) or primary (writable). A primary site
    # in a failback (dr.role standby, or promoted back with a token) replicates from the DR site.
    writable = dr is None or dr.role == "primary"
    reads_peer = dr is not None and dr.references_peer()

    operators = Operators("operators", OperatorsArgs(kube=kube))
    namespaces = list(operators.namespaces.values())

    datacenter = kube.region
    rf = settings.scylla.replication_factor
    peer = None
    if reads_peer:
        assert dr is not None
        peer = stack_reference(dr.peer_stack)
    if dr_site:
        assert dr is not None and peer is not None
        schema_dcs = {dr.peer_region: rf, datacenter: rf}
        # Explicit seeds (scylla.external_seeds) win over the primary stack's output.
        seeds = list(settings.scylla.external_seeds) or peer.require_output("scylla_external_seeds")
    else:
        schema_dcs = {datacenter: rf}
        seeds = None

    exposure, outputs = _seed_exposure(settings, peer, vpc_id)
    scylla = ScyllaDb(
        "scylla",
        ScyllaArgs(
            settings=settings.scylla,
            kube=kube,
            datacenter=datacenter,
            schema_datacenters=schema_dcs,
            operators=operators.scylla,
            namespace_resources=namespaces,
            backups=backups,
            external_seeds=seeds,
            seed_exposure=exposure,
            # One Scylla Manager schedules backups and repairs: the one of the site that is primary.
            manage_tasks=writable,
            cluster_name=SCYLLA_CLUSTER,
        ),
    )

    replica = None
    if dr_site and peer is not None and dr is not None:
        replica = PostgresReplica(
            primary_cluster=peer.require_output("postgres_cluster_name"),
            # The restore source in this site's own region: the primary's backups as S3 replicates
            # them here (backups.replicate_to_region on the primary), readable during a regional loss.
            source_bucket=peer.require_output("backup_replica_bucket"),
            source_key_arn=peer.require_output("backup_replica_kms_key_arn"),
            source_region=kube.region,
            promote=writable,
            promotion_token=dr.promotion_token,
            source_host=peer.require_output("postgres_replication_host"),
            source_password=peer.require_output("postgres_replication_password"),
        )
    elif peer is not None and dr is not None:
        # Failback (seed 003 M.1 DR Deactivation, "synchronize data from DR to primary"): the primary
        # site comes back as a replica cluster of the DR site, streaming from it (the DR site's own
        # backups as the fallback), and is promoted back with the DR site's demotion token.
        replica = PostgresReplica(
            primary_cluster=peer.require_output("postgres_cluster_name"),
            source_bucket=peer.require_output("backup_bucket"),
            source_key_arn=peer.require_output("kms_key_arn"),
            source_region=dr.peer_region,
            promote=writable,
            promotion_token=dr.promotion_token,
            source_host=peer.require_output("postgres_replication_host"),
            source_password=peer.require_output("postgres_replication_password"),
            keep_initdb=True,
        )
    postgres = Postgres(
        "postgres",
        PostgresArgs(
            settings=settings.postgres,
            kube=kube,
            backups=backups,
            operators=operators.postgres,
            namespace_resources=namespaces,
            replica=replica,
            monitoring=monitoring,
            cluster_name=POSTGRES_DR_CLUSTER if dr_site else POSTGRES_CLUSTER,
            fleet_cidrs=fleet_cidrs(settings),
            peer_cidr=dr.peer_cidr if dr is not None else None,
            archive_timeout=archive_timeout() if dr is not None else None,
            # seed 000 "Run daily reconciliation": each replicated table, counted at both ends
            reconciliation=CdcReconciliation(
                scylla_host=scylla_manifests.client_service(SCYLLA_CLUSTER, NAMESPACES["scylla"]),
                scylla_port=scylla_manifests.CQL_PORT,
                keyspace=settings.scylla.keyspace,
                tables=[t.name for t in settings.scylla.tables],
            ),
        ),
    )

    ready: list[pulumi.Resource] = [scylla.schema_job, postgres.cluster]
    if postgres.bootstrap_job is not None:
        ready.append(postgres.bootstrap_job)
    streaming = build_streaming(
        settings,
        kube,
        strimzi=operators.strimzi,
        scylla_contact_points=scylla.contact_points,
        scylla_datacenter=scylla.datacenter,
        postgres_jdbc_url=postgres.jdbc_url,
        postgres_sink_user=postgres.sink_user,
        postgres_sink_password=postgres.sink_password,
        depends_on=ready,
    )
    fleet_endpoints = _fleet_credentials(settings, postgres, streaming)
    checks = backups.irsa_role is not None
    _network(settings, kube, namespaces, postgres_cluster=postgres.cluster_name, backup_checks=checks)
    if checks:
        _backup_checks(
            kube,
            backups,
            postgres=(postgres.cluster_name, postgres.archive_server),
            active=writable,
            after=[postgres.cluster, scylla.schema_job],
        )
    replication: dict[str, Any] = {}
    if postgres.replication_host is not None:
        replication = {
            "postgres_replication_host": postgres.replication_host,
            "postgres_replication_password": postgres.replication_password,
        }
    return {
        **replication,
        **outputs,
        "scylla_external_seeds": scylla.seeds,
        "scylla_datacenter": scylla.datacenter,
        "scylla_contact_points": scylla.contact_points,
        "postgres_cluster_name": postgres.cluster_name,
        "postgres_jdbc_url": postgres.jdbc_url,
        **streaming,
        **fleet_endpoints,
    }


def _seed_exposure(
    settings: StackSettings, peer: Any, vpc_id: pulumi.Input[str] | None
) -> tuple[SeedExposure | None, dict[str, Any]]:
    """A DR pair's ScyllaDB seeds: each site publishes its datacenter's seeds behind internal NLBs
    named in the pair's private zone `scylla.<dns.zone_name>`. The primary site creates the zone (and
    exports its id); the DR site associates its VPC with it, reading the id from the primary. The
    other site's nodes resolve the names through their VPC's resolver and reach the NLBs over the
    peering; nodes broadcast their pod IPs, so gossip and streaming then run pod to pod both ways."""
    dr = settings.dr
    if dr is None:
        return None, {}
    if settings.dns is None or vpc_id is None:
        raise ValueError("a DR pair's ScyllaDB seeds need dns.zone_name and the stack's VPC")
    zone_name = scylla_manifests.seed_zone_name(settings.dns.zone_name)
    if dr.site == "dr":
        assert peer is not None
        zone_id = peer.require_output("scylla_seed_zone_id")
    else:
        zone_id = None
    zone = SeedZone(
        "scylla-seed-zone",
        SeedZoneArgs(environment=settings.environment, zone_name=zone_name, vpc_id=vpc_id, zone_id=zone_id),
    )
    outputs = {"scylla_seed_zone_id": zone.zone_id} if dr.site != "dr" else {}
    return SeedExposure(zone_id=zone.zone_id, zone_name=zone_name, peer_cidr=dr.peer_cidr), outputs


def fleet_cidrs(settings: StackSettings) -> list[str]:
    """The networks the module fleets of this environment run in: its VPC (its own fleets and its
    colour stacks' share it); none without a network (no fleets)."""
    return [settings.network.cidr] if settings.network is not None else []


def _fleet_credentials(
    settings: StackSettings, postgres: Postgres, streaming: dict[str, Any]
) -> dict[str, Any]:
    """The fleets' credentials where their credentials_ref points (SSM SecureStrings, written from the
    PostgreSQL roles' and the Kafka users' passwords) and the endpoints they reach, as outputs. Pops
    the Kafka users' passwords and CA from `streaming` (they are no stack outputs)."""
    from components.dataplane.postgres.sql import MODULE_TABLES
    from components.fleet.credentials_store import FleetCredentials, FleetCredentialsArgs, ModuleSecret
    from components.fleet.profile import MODULES
    from components.streaming.kafka.manifests import fleet_user

    kafka_passwords = streaming.pop("kafka_fleet_passwords", {})
    ca_cert = streaming.pop("kafka_fleet_ca_cert", "")
    if postgres.fleet_endpoint is None:
        return {}
    roles = {m: f"module_{m}" for m in MODULES}
    assert set(roles.values()) <= set(MODULE_TABLES), "every module has its PostgreSQL login role"
    FleetCredentials(
        "fleet-credentials",
        FleetCredentialsArgs(
            environment=settings.environment,
            postgres={
                m: ModuleSecret(role, pulumi.Output.secret(postgres.passwords[role].result))
                for m, role in roles.items()
            },
            kafka={m: ModuleSecret(fleet_user(m), pw) for m, pw in kafka_passwords.items()},
            kafka_ca_cert=ca_cert or "",
        ),
    )
    return {"postgres_fleet_endpoint": postgres.fleet_endpoint}


def _network(
    settings: StackSettings,
    kube: KubeTarget,
    namespaces: Sequence[pulumi.Resource],
    *,
    postgres_cluster: str,
    backup_checks: bool,
) -> None:
    """Default deny in every namespace of the data plane, and the flows it needs (NetworkPolicies)."""
    from components.backups.checks import AUDIT_EXPORT_JOB, OFFSETS_JOB, VERIFY_PREFIX
    from components.dataplane.network.component import DataPlaneNetwork, DataPlaneNetworkArgs
    from components.dataplane.network.manifests import ClusterNames
    from components.dataplane.postgres.manifests import pooler_name
    from components.streaming.connect.manifests import CONNECT_CLUSTER
    from components.streaming.kafka.manifests import CLUSTER as KAFKA_CLUSTER

    if settings.network is None:
        return
    jobs = (
        {
            "operators": [f"{VERIFY_PREFIX}state"],
            "postgres": [f"{VERIFY_PREFIX}postgres", AUDIT_EXPORT_JOB],
            "scylla-manager": [f"{VERIFY_PREFIX}scylla"],
            "kafka": [OFFSETS_JOB],
        }
        if backup_checks
        else {}
    )
    DataPlaneNetwork(
        "network-policies",
        DataPlaneNetworkArgs(
            kube=kube,
            names=ClusterNames(
                scylla=SCYLLA_CLUSTER,
                postgres=postgres_cluster,
                kafka=KAFKA_CLUSTER,
                connect=CONNECT_CLUSTER,
                pooler=pooler_name(postgres_cluster),  # a policy of no pods where there is no Pooler
            ),
            vpc_cidrs=(settings.network.cidr,),
            peer_cidr=settings.dr.peer_cidr if settings.dr is not None else None,
            backup_jobs=jobs,
            namespace_resources=namespaces,
        ),
    )


def _backup_checks(
    kube: KubeTarget,
    backups: BackupTarget,
    *,
    postgres: tuple[str, str],
    active: bool,
    after: Sequence[pulumi.Resource],
) -> None:
    """Daily backup verification (seed 003) and Connect offsets backup (seed 000). A standby DR site
    takes no PostgreSQL or ScyllaDB backup and runs no connector: only its fleets' state is checked."""
    from components.backups.verification import (
        AuditExport,
        BackupChecks,
        BackupChecksArgs,
        OffsetsBackup,
        PostgresCheck,
        ScyllaCheck,
    )
    from components.dataplane.postgres.manifests import destination_path, rw_service, secret_name
    from components.dataplane.postgres.sql import PIPELINE_DB, READONLY_ROLE
    from components.streaming.connect.config import SINK_NAME, SOURCE_NAME
    from components.streaming.connect.manifests import CONNECT_CLUSTER

    bucket = pulumi.Output.from_input(backups.bucket)
    kafka = NAMESPACES["kafka"]
    BackupChecks(
        "backup-checks",
        BackupChecksArgs(
            kube=kube,
            backups=backups,
            state_namespace=NAMESPACES["operators"],
            postgres=PostgresCheck(NAMESPACES["postgres"], *postgres, bucket.apply(destination_path))
            if active
            else None,
            scylla=ScyllaCheck(
                NAMESPACES["scylla-manager"],
                f"{NAMESPACES['scylla']}/{SCYLLA_CLUSTER}",
                bucket.apply(lambda b: f"s3:{b}"),
                f"http://scylla-manager.{NAMESPACES['scylla-manager']}.svc/api/v1",
            )
            if active
            else None,
            offsets=OffsetsBackup(
                kafka,
                CONNECT_CLUSTER,
                f"http://{CONNECT_CLUSTER}-connect-api.{kafka}.svc:8083",
                (SOURCE_NAME, SINK_NAME),
            )
            if active
            else None,
            audit=AuditExport(
                NAMESPACES["postgres"],
                rw_service(postgres[0], NAMESPACES["postgres"]),
                PIPELINE_DB,
                secret_name(postgres[0], READONLY_ROLE),
            )
            if active and backups.audit_writer is not None
            else None,
            depends_on=after,
        ),
    )
