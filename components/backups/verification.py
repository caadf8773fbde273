"""BackupChecks: the daily backup verification CronJobs and the daily Kafka Connect offsets backup
of an AWS environment's data plane (manifests: components/backups/checks.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes.batch.v1 as batch
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta
import pulumi_kubernetes.networking.v1 as networking

from components.backups import checks
from lib.kube.placement import placement


@dataclass(frozen=True)
class PostgresCheck:
    namespace: str
    cluster: str  # also CloudNativePG's service account of the cluster (IRSA: s3://<backup>/postgres/)
    server: str  # the server name its backups are archived under
    destination: pulumi.Input[str]  # s3://<backup>/postgres/


@dataclass(frozen=True)
class ScyllaCheck:
    namespace: str  # Scylla Manager's
    cluster: str  # as Scylla Manager knows it: <namespace>/<ScyllaCluster name>
    location: pulumi.Input[str]  # s3:<backup>
    manager_url: str


@dataclass(frozen=True)
class OffsetsBackup:
    namespace: str
    connect_cluster: str
    connect_url: str
    connectors: tuple[str, ...]


@dataclass(frozen=True)
class AuditExport:
    namespace: str  # PostgreSQL's
    host: str  # the primary's service
    database: str  # pipeline_db (seed 003: audit_log)
    credentials_secret: str  # the read-only role's basic-auth Secret (username, password)


@dataclass(frozen=True)
class BackupChecksArgs:
    kube: Any  # KubeTarget: provider, options()
    backups: Any  # BackupTarget: bucket, region, irsa_role
    state_namespace: str
    # None where that backup is not taken here (a standby DR site's data plane)
    postgres: PostgresCheck | None = None
    scylla: ScyllaCheck | None = None
    offsets: OffsetsBackup | None = None
    audit: AuditExport | None = None
    depends_on: Sequence[pulumi.Resource] = ()

    def __post_init__(self) -> None:
        if self.backups.irsa_role is None:
            raise ValueError("the state check and the offsets backup need IRSA roles on the backup bucket")


class BackupChecks(pulumi.ComponentResource):
    def __init__(self, name: str, args: BackupChecksArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pipeline-infra:backups:BackupChecks", name, None, opts)
        kube, backups = args.kube, args.backups
        where = placement()
        self.cron_jobs: dict[str, batch.CronJob] = {}

        def child(*deps: pulumi.Resource) -> pulumi.ResourceOptions:
            return kube.options(self, *args.depends_on, *deps)

        def declare(kind: str, namespace: str, files: dict[str, str], manifest: Any, *deps: pulumi.Resource):
            script = core.ConfigMap(
                f"{name}-{kind}-script",
                metadata=meta.ObjectMetaArgs(name=f"{name}-{kind}", namespace=namespace),
                data=files,
                opts=child(*deps),
            )
            doc = manifest(f"{name}-{kind}")
            self.cron_jobs[kind] = batch.CronJob(
                f"{name}-{kind}", metadata=doc["metadata"], spec=doc["spec"], opts=child(script, *deps)
            )

        def account(kind: str, namespace: str, prefix: str) -> core.ServiceAccount:
            sa = f"{name}-{kind}"
            role = backups.irsa_role(f"{name}-{kind}", namespace, sa, prefix)
            return core.ServiceAccount(
                f"{name}-{kind}-sa",
                metadata=meta.ObjectMetaArgs(
                    name=sa, namespace=namespace, annotations={"eks.amazonaws.com/role-arn": role}
                ),
                automount_service_account_token=False,
                opts=child(),
            )

        # Bucket names and locations are outputs: they sit in the manifests' env values as they are.
        if args.postgres is not None:
            pg = args.postgres
            declare(
                "postgres",
                pg.namespace,
                {"verify_postgres.py": checks.script("verify_postgres.py")},
                lambda cm: checks.postgres_job(
                    namespace=pg.namespace,
                    cluster=pg.cluster,
                    server=pg.server,
                    destination=pg.destination,
                    region=backups.region,
                    configmap=cm,
                    placement=where,
                ),
            )
        if args.scylla is not None:
            sc = args.scylla
            declare(
                "scylla",
                sc.namespace,
                {"verify_scylla.sh": checks.script("verify_scylla.sh")},
                lambda cm: checks.scylla_job(
                    namespace=sc.namespace,
                    cluster=sc.cluster,
                    location=sc.location,
                    manager_url=sc.manager_url,
                    configmap=cm,
                    placement=where,
                ),
            )
        state_sa = account("state", args.state_namespace, "state")
        declare(
            "state",
            args.state_namespace,
            {"verify_state.py": checks.script("verify_state.py")},
            lambda cm: checks.state_job(
                namespace=args.state_namespace,
                bucket=backups.bucket,
                region=backups.region,
                service_account=f"{name}-state",
                configmap=cm,
                placement=where,
            ),
            state_sa,
        )
        if args.offsets is not None:
            off = args.offsets
            sa = account("offsets", off.namespace, checks.OFFSETS_PREFIX)
            doc = checks.connect_api_policy(namespace=off.namespace, connect_cluster=off.connect_cluster)
            self.connect_api_policy = networking.NetworkPolicy(
                f"{name}-connect-api", metadata=doc["metadata"], spec=doc["spec"], opts=child()
            )
            declare(
                "offsets",
                off.namespace,
                {"backup_offsets.py": checks.script("backup_offsets.py")},
                lambda cm: checks.offsets_job(
                    namespace=off.namespace,
                    connect_url=off.connect_url,
                    connectors=list(off.connectors),
                    bucket=backups.bucket,
                    region=backups.region,
                    service_account=f"{name}-offsets",
                    configmap=cm,
                    placement=where,
                ),
                sa,
            )
        if args.audit is not None:
            au = args.audit
            if backups.audit_writer is None or backups.audit_bucket is None:
                raise ValueError("the audit export needs the audit bucket and its writer role")
            sa_name = f"{name}-audit"
            role = backups.audit_writer(sa_name, au.namespace, sa_name)
            audit_sa = core.ServiceAccount(
                f"{name}-audit-sa",
                metadata=meta.ObjectMetaArgs(
                    name=sa_name, namespace=au.namespace, annotations={"eks.amazonaws.com/role-arn": role}
                ),
                automount_service_account_token=False,
                opts=child(),
            )
            declare(
                "audit",
                au.namespace,
                {"export_audit.py": checks.script("export_audit.py")},
                lambda cm: checks.audit_export_job(
                    namespace=au.namespace,
                    host=au.host,
                    database=au.database,
                    credentials_secret=au.credentials_secret,
                    bucket=backups.audit_bucket,
                    region=backups.region,
                    service_account=sa_name,
                    configmap=cm,
                    placement=where,
                ),
                audit_sa,
            )
        kinds = ("postgres", "scylla", "offsets", "audit")
        self.register_outputs(
            {"cron_jobs": sorted(["state", *(k for k in kinds if getattr(args, k) is not None)])}
        )
