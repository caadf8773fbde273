"""PostgreSQL on Kubernetes: a CloudNativePG Cluster (v1) with managed roles whose passwords are
Pulumi secrets, WAL archiving and daily base backups through the barman-cloud plugin (ObjectStore on
the backups bucket, IRSA), a PodMonitor, the bootstrap SQL Job, the daily CDC reconciliation and its
custom metrics query (reconciliation.py), and on the DR site a replica cluster of the primary
(distributed topology) that one setting promotes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes.apiextensions as apiextensions
import pulumi_kubernetes.batch.v1 as batch
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta
import pulumi_random as random

from components.dataplane.postgres import manifests, reconciliation
from components.dataplane.postgres.settings import PostgresSettings
from components.dataplane.postgres.sql import (
    LOGIN_ROLES,
    RECONCILER_ROLE,
    SINK_ROLE,
    WAREHOUSE_DB,
    WAREHOUSE_OWNER,
    bootstrap_sql,
)
from lib.kube.resources import custom_resource, stateful
from lib.kube.script import script_and_job
from lib.kube.target import NAMESPACES, BackupTarget, KubeTarget


@dataclass(frozen=True)
class PostgresReplica:
    """The DR site's view of the primary: its cluster name and backup bucket (StackReference)."""

    primary_cluster: pulumi.Input[str]
    source_bucket: pulumi.Input[str]
    # The KMS key the primary's backups are encrypted with (the replica reads them).
    source_key_arn: pulumi.Input[str]
    source_region: str
    # dr.role primary: this cluster becomes the primary of the distributed topology.
    promote: bool = False
    # Demotion token of the former primary: a controlled switchover (drills); None: failover.
    promotion_token: str | None = None
    # The primary's replication endpoint (its NLB over the peering) and its replication role's
    # password: streaming replication, with the WAL archive as the fallback. None: archive only.
    source_host: pulumi.Input[str] | None = None
    source_password: pulumi.Input[str] | None = None
    # The primary site in a failback (demoted to a replica of the DR site, then promoted back): its
    # cluster keeps its initdb bootstrap and its bootstrap Job.
    keep_initdb: bool = False

    def __post_init__(self) -> None:
        if self.promotion_token is not None and not self.promote:
            raise ValueError("promotion_token is only used when the replica is promoted")


@dataclass(frozen=True)
class CdcReconciliation:
    """The CDC source the daily reconciliation counts (seed 000): ScyllaDB's client endpoint, the
    keyspace and the replicated tables (settings.scylla.tables, lib/cdc.py)."""

    scylla_host: str
    scylla_port: int
    keyspace: str
    tables: Sequence[str]

    def __post_init__(self) -> None:
        if not self.tables:
            raise ValueError("the CDC reconciliation needs at least one table")


@dataclass(frozen=True)
class PostgresArgs:
    settings: PostgresSettings
    kube: KubeTarget
    backups: BackupTarget | None
    operators: Sequence[pulumi.Resource] = ()
    namespace_resources: Sequence[pulumi.Resource] = ()
    # Objects of the monitoring CRDs (PodMonitor) wait for these (the Prometheus operator), if any.
    monitoring: Sequence[pulumi.Resource] = ()
    replica: PostgresReplica | None = None
    cluster_name: str = "warehouse"
    namespace: str = field(default=NAMESPACES["postgres"])
    # The module fleets' networks: a PgBouncer Pooler behind an internal load balancer admitting only
    # them (the fleets' endpoint); none: no such endpoint.
    fleet_cidrs: Sequence[str] = ()
    # Both sites of a DR pair: the other site's CIDR (the replication endpoint and role it streams as)
    # and archive_timeout (lib/dr.yaml, the WAL archive fallback's RPO).
    peer_cidr: str | None = None
    archive_timeout: str | None = None
    # The daily CDC reconciliation and its metrics (cdc_data_accuracy_percentage); None: neither.
    reconciliation: CdcReconciliation | None = None

    def __post_init__(self) -> None:
        if self.backups is None and self.replica is not None:
            raise ValueError(
                "a replica cluster needs the backups bucket (its own WAL archive after promotion)"
            )


class Postgres(pulumi.ComponentResource):
    def __init__(self, name: str, args: PostgresArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pipeline-infra:dataplane:Postgres", name, None, opts)
        kube, s, ns, cluster = args.kube, args.settings, args.namespace, args.cluster_name

        def child(*deps: pulumi.Resource) -> pulumi.ResourceOptions:
            return kube.options(self, *args.namespace_resources, *deps)

        # --- credentials: one basic-auth Secret per role, from a Pulumi secret ---------------------
        self.passwords: dict[str, random.RandomPassword] = {}
        secrets: list[core.Secret] = []
        users = {"superuser": "postgres", WAREHOUSE_OWNER: WAREHOUSE_OWNER, **{r: r for r in LOGIN_ROLES}}
        if args.peer_cidr is not None:
            users[manifests.REPLICATION_ROLE] = manifests.REPLICATION_ROLE
        for key, username in users.items():
            pw = random.RandomPassword(
                f"{name}-{key.replace('_', '-')}-password",
                length=32,
                special=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.passwords[key] = pw
            secrets.append(
                core.Secret(
                    f"{name}-secret-{key.replace('_', '-')}",
                    metadata=meta.ObjectMetaArgs(
                        name=manifests.secret_name(cluster, key),
                        namespace=ns,
                        labels={"cnpg.io/reload": "true"},
                    ),
                    type="kubernetes.io/basic-auth",
                    string_data=pulumi.Output.secret({"username": username, "password": pw.result}),
                    opts=child(),
                )
            )

        # --- backups: ObjectStore(s) and the IRSA role of the cluster's service account -----------
        store = f"{cluster}-store"
        role_arn = None
        stores: list[apiextensions.CustomResource] = []
        if args.backups is not None:
            if args.backups.irsa_role is not None:
                # A replica also reads the primary's base backups and WAL (its source ObjectStore).
                r = args.replica
                read_from = ((r.source_bucket, manifests.BACKUP_PREFIX, r.source_key_arn),) if r else ()
                role_arn = args.backups.irsa_role(
                    f"{name}-backup", ns, cluster, manifests.BACKUP_PREFIX, read_from=read_from
                )
            doc = manifests.object_store(
                name=store,
                namespace=ns,
                destination=pulumi.Output.from_input(args.backups.bucket).apply(manifests.destination_path),
                region=args.backups.region,
                retention_days=s.backup_retention_days,
            )
            stores.append(custom_resource(f"{name}-store", doc, child(*args.operators)))
        replica_of = None
        if args.replica is not None:
            r = args.replica
            peer_secret = f"{cluster}-peer-replication"
            if r.source_password is not None:
                secrets.append(
                    core.Secret(
                        f"{name}-secret-peer-replication",
                        metadata=meta.ObjectMetaArgs(name=peer_secret, namespace=ns),
                        type="kubernetes.io/basic-auth",
                        string_data=pulumi.Output.secret(
                            {"username": manifests.REPLICATION_ROLE, "password": r.source_password}
                        ),
                        opts=child(),
                    )
                )
            source_store = f"{cluster}-source-store"
            doc = manifests.object_store(
                name=source_store,
                namespace=ns,
                destination=pulumi.Output.from_input(r.source_bucket).apply(manifests.destination_path),
                region=r.source_region,
                retention_days=None,
            )
            stores.append(custom_resource(f"{name}-source-store", doc, child(*args.operators)))
            replica_of = {
                "source": r.primary_cluster,
                "source_store": source_store,
                "primary": cluster if r.promote else r.primary_cluster,
                "promotion_token": r.promotion_token if r.promote else None,
                "host": r.source_host,
                "password_secret": peer_secret if r.source_password is not None else None,
                "keep_initdb": r.keep_initdb,
            }

        # --- the reconciliation's metrics: a custom query of the instances' exporter ---------------
        queries: list[core.ConfigMap] = []
        queries_name = f"{cluster}-monitoring-queries"
        if args.reconciliation is not None:
            doc = reconciliation.queries_configmap(
                name=queries_name, namespace=ns, tables=list(args.reconciliation.tables)
            )
            queries.append(
                core.ConfigMap(
                    f"{name}-monitoring-queries",
                    metadata=doc["metadata"],
                    data=doc["data"],
                    opts=child(),
                )
            )

        # --- the cluster --------------------------------------------------------------------------
        doc = manifests.cluster(
            name=cluster,
            namespace=ns,
            settings=s,
            storage_class=kube.storage_class,
            tolerations=KubeTarget.placement("postgres")["tolerations"],
            store=store,
            role_arn=role_arn,
            replica_of=replica_of,
            peer_cidr=args.peer_cidr,
            archive_timeout=args.archive_timeout,
        )
        if args.backups is None:
            doc["spec"].pop("plugins")
        if queries:
            doc["spec"]["monitoring"] = reconciliation.monitoring(queries_name)
        self.cluster = custom_resource(
            f"{name}-cluster", doc, stateful(child(*args.operators, *secrets, *stores, *queries))
        )

        if args.backups is not None:
            doc = manifests.scheduled_backup(
                name=f"{cluster}-daily",
                namespace=ns,
                cluster_name=cluster,
                schedule=s.backup_schedule,
                # A standby replica's base backups start when it is promoted.
                suspend=args.replica is not None and not args.replica.promote,
            )
            self.scheduled_backup = custom_resource(
                f"{name}-daily-backup", doc, child(*args.operators, self.cluster)
            )

        doc = manifests.pod_monitor(name=cluster, namespace=ns, cluster_name=cluster)
        self.pod_monitor = custom_resource(f"{name}-pod-monitor", doc, child(*args.monitoring, self.cluster))

        # --- bootstrap SQL: on a writable primary only (a standby gets it by replication) ----------
        self.bootstrap_job: batch.Job | None = None
        if args.replica is None or args.replica.promote or args.replica.keep_initdb:
            self.sql, self.bootstrap_job = script_and_job(
                f"{name}-bootstrap-sql",
                job_name=f"{name}-bootstrap-job",
                configmap=f"{cluster}-bootstrap-sql",
                namespace=ns,
                files={"bootstrap.sql": bootstrap_sql()},
                job=lambda configmap, digest: manifests.bootstrap_job(
                    cluster_name=cluster,
                    namespace=ns,
                    configmap=configmap,
                    placement=KubeTarget.placement("platform"),
                    digest=digest,
                ),
                opts=child,
                after=[self.cluster],
            )

        # --- the daily CDC reconciliation: suspended on a standby (its database is read-only) -------
        self.reconciliation: batch.CronJob | None = None
        if args.reconciliation is not None:
            rc = args.reconciliation
            files = reconciliation.scripts()
            script = core.ConfigMap(
                f"{name}-reconciliation-script",
                metadata=meta.ObjectMetaArgs(name=f"{cluster}-{reconciliation.JOB}", namespace=ns),
                data=files,
                opts=child(),
            )
            doc = reconciliation.cron_job(
                namespace=ns,
                scylla_host=rc.scylla_host,
                scylla_port=rc.scylla_port,
                keyspace=rc.keyspace,
                tables=list(rc.tables),
                postgres_host=manifests.rw_service(cluster, ns),
                credentials_secret=manifests.secret_name(cluster, RECONCILER_ROLE),
                configmap=f"{cluster}-{reconciliation.JOB}",
                placement=KubeTarget.placement("platform"),
                suspend=args.replica is not None and not args.replica.promote,
            )
            after = [self.bootstrap_job] if self.bootstrap_job is not None else [self.cluster]
            self.reconciliation = batch.CronJob(
                f"{name}-reconciliation",
                metadata=doc["metadata"],
                spec=doc["spec"],
                opts=child(script, *secrets, *after),
            )

        # --- the module fleets' endpoint: Pooler + internal network load balancer ------------------
        self.fleet_endpoint: pulumi.Output[str] | None = None
        if args.fleet_cidrs:
            doc = manifests.pooler(
                cluster_name=cluster, namespace=ns, placement=KubeTarget.placement("platform")
            )
            self.pooler = custom_resource(f"{name}-pooler", doc, child(*args.operators, self.cluster))
            doc = manifests.fleet_service(
                cluster_name=cluster, namespace=ns, source_ranges=list(args.fleet_cidrs)
            )
            self.fleet_service = core.Service(
                f"{name}-fleet-endpoint",
                metadata=doc["metadata"],
                spec=doc["spec"],
                opts=child(self.pooler),
            )
            # pulumi-kubernetes waits until the load balancer has its address (status.loadBalancer).
            self.fleet_endpoint = self.fleet_service.status.apply(_lb_endpoint)
        # --- the replication endpoint the other site of a DR pair streams from -------------------
        self.replication_host: pulumi.Output[str] | None = None
        self.replication_password: pulumi.Output[str] | None = None
        if args.peer_cidr is not None:
            doc = manifests.replication_service(cluster=cluster, namespace=ns, peer_cidr=args.peer_cidr)
            svc = core.Service(f"{name}-replication", metadata=doc["metadata"], spec=doc["spec"],
                               opts=child(self.cluster))
            fallback = f"{doc['metadata']['name']}.{ns}.svc"
            self.replication_host = svc.status.apply(lambda st: _lb_host(st, fallback))
            self.replication_password = pulumi.Output.secret(
                self.passwords[manifests.REPLICATION_ROLE].result
            )

        self.cluster_name = cluster
        # the server name its WAL and base backups are archived under (a restored cluster's is new)
        restored = s.restore is not None and args.replica is None
        self.archive_server = s.restore.archive_as if restored and s.restore else cluster
        self.sink_user = SINK_ROLE
        self.sink_password: pulumi.Output[str] = pulumi.Output.secret(self.passwords[SINK_ROLE].result)
        self.jdbc_url = f"jdbc:postgresql://{manifests.rw_service(cluster, ns)}:5432/{WAREHOUSE_DB}"
        self.register_outputs(
            {"cluster": cluster, "jdbc_url": self.jdbc_url, "fleet_endpoint": self.fleet_endpoint}
        )


def _lb_endpoint(status: object) -> str:
    """host:port of the fleets' load balancer ("" until it has an address)."""
    ingress = getattr(getattr(status, "load_balancer", None), "ingress", None) or []
    for item in ingress:
        host = getattr(item, "hostname", None) or getattr(item, "ip", None)
        if host:
            return f"{host}:{manifests.POOLER_PORT}"
    return ""


def _lb_host(status: object, fallback: str) -> str:
    """The NLB DNS name of the replication Service (the in-cluster name until it has one)."""
    ingress = getattr(getattr(status, "load_balancer", None), "ingress", None) or []
    for item in ingress:
        host = getattr(item, "hostname", None) or getattr(item, "ip", None)
        if host:
            return str(host)
    return fallback
