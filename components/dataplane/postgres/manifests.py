"""CloudNativePG Cluster, barman-cloud ObjectStore, ScheduledBackup, PodMonitor and the bootstrap Job
as plain dicts (pure: no Pulumi)."""

from __future__ import annotations

from typing import Any

from components.dataplane.postgres.settings import PostgresSettings
from components.dataplane.postgres.sql import LOGIN_ROLES, WAREHOUSE_DB, WAREHOUSE_OWNER
from lib import versions
from lib.kube.jobs import SCRIPT_DIR, script_job
from lib.kube.load_balancer import INTERNAL_NLB, INTERNAL_NLB_CROSS_ZONE

PLUGIN = "barman-cloud.cloudnative-pg.io"
# the external cluster a restore (postgres.restore) recovers from: this environment's ObjectStore
RESTORE_SOURCE = "restore-source"
METRICS_PORT = 9187  # CloudNativePG instance manager's metrics exporter
WORKLOAD = "postgres"
WORKLOAD_LABEL = "pipeline-infra/workload"
BACKUP_PREFIX = "postgres"
# The role the other site of a DR pair streams WAL as (REPLICATION, login over TLS from the peer's CIDR
# only); each site's own copy has its own password, which the peer reads as a Pulumi secret.
REPLICATION_ROLE = "dr_replicator"
PG_PORT = 5432
# The barman-cloud plugin's sidecar in every instance pod (WAL archiving, up to 4 uploads at once).
SIDECAR_RESOURCES = {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}}


def secret_name(cluster: str, role: str) -> str:
    return f"{cluster}-{role.replace('_', '-')}"


def rw_service(cluster: str, namespace: str) -> str:
    return f"{cluster}-rw.{namespace}.svc"


def replication_service_name(cluster: str) -> str:
    return f"{cluster}-replication"


def replication_service(*, cluster: str, namespace: str, peer_cidr: str) -> dict[str, Any]:
    """The endpoint the other site of a DR pair streams from over the peering: an internal NLB on the
    cluster's current primary instance, reachable from the peer's CIDR only. `externalTrafficPolicy:
    Local` keeps the client's address (no SNAT to a node's), so the instances' NetworkPolicy admits the
    peer's network alone."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": replication_service_name(cluster),
            "namespace": namespace,
            "annotations": dict(INTERNAL_NLB),
        },
        "spec": {
            "type": "LoadBalancer",
            "selector": {"cnpg.io/cluster": cluster, "cnpg.io/instanceRole": "primary"},
            "ports": [{"name": "postgres", "port": PG_PORT, "targetPort": PG_PORT, "protocol": "TCP"}],
            "loadBalancerSourceRanges": [peer_cidr],
            "externalTrafficPolicy": "Local",
        },
    }


def destination_path(bucket: str) -> str:
    return f"s3://{bucket}/{BACKUP_PREFIX}/"


def object_store(
    *,
    name: str,
    namespace: str,
    destination: Any,
    region: str,
    retention_days: int | None,
    server_name: str | None = None,
) -> dict[str, Any]:
    """The barman-cloud ObjectStore on `destination` (s3://bucket/postgres/), credentials from IRSA."""
    configuration: dict[str, Any] = {
        "destinationPath": destination,
        "endpointURL": f"https://s3.{region}.amazonaws.com",
        "s3Credentials": {"inheritFromIAMRole": True},
        "wal": {"compression": "gzip", "maxParallel": 4},
        "data": {"compression": "gzip", "jobs": 2},
    }
    if server_name:
        configuration["serverName"] = server_name
    return {
        "apiVersion": "barmancloud.cnpg.io/v1",
        "kind": "ObjectStore",
        "metadata": {"name": name, "namespace": namespace},
        # The primary's store is only read by the DR site: its retention is the primary's business.
        "spec": {
            "configuration": configuration,
            "instanceSidecarConfiguration": {"resources": SIDECAR_RESOURCES},
        }
        | ({"retentionPolicy": f"{retention_days}d"} if retention_days is not None else {}),
    }


def _affinity(tolerations: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "nodeSelector": {WORKLOAD_LABEL: WORKLOAD},
        "tolerations": tolerations,
        "enablePodAntiAffinity": True,
        "topologyKey": "topology.kubernetes.io/zone",
        "podAntiAffinityType": "preferred",
    }


def cluster(
    *,
    name: str,
    namespace: str,
    settings: PostgresSettings,
    storage_class: str,
    tolerations: list[dict[str, Any]],
    store: str,
    role_arn: Any | None,
    replica_of: dict[str, Any] | None = None,
    peer_cidr: str | None = None,
    archive_timeout: str | None = None,
) -> dict[str, Any]:
    """The CloudNativePG Cluster.

    `replica_of` (DR site): {"primary": <name of the current primary cluster>, "source": <external
    cluster name>, "source_store": <ObjectStore of the source>, "promotion_token": str | None,
    "host": <the source's replication endpoint>, "password_secret": <Secret with its password>}. The
    DR cluster uses the distributed topology (replica.primary/self): promotion changes only
    spec.replica (primary := self, optionally with the primary's demotion token), never bootstrap,
    storage or any other immutable field. The replica streams from the source over the peering and
    falls back to the source's WAL archive (externalClusters with both).

    `peer_cidr` (both sites of a DR pair): the replication role, its pg_hba line for the peer's CIDR
    and `archive_timeout` (the WAL archive fallback's RPO, lib/dr.yaml).
    """
    resources = {"cpu": settings.resources.cpu, "memory": settings.resources.memory}
    restore = settings.restore if replica_of is None else None
    # A restored cluster archives under a new server name (postgres.restore.archive_as).
    archiver = {"barmanObjectName": store, **({"serverName": restore.archive_as} if restore else {})}
    roles = [
        {
            "name": role,
            "ensure": "present",
            "login": True,
            "inherit": True,
            "passwordSecret": {"name": secret_name(name, role)},
            "comment": "managed by pipeline-infra",
        }
        for role in LOGIN_ROLES
    ]
    parameters = {k: str(v) for k, v in settings.parameters.model_dump().items()}
    pg_hba: list[str] = []
    if peer_cidr is not None:
        roles.append(
            {
                "name": REPLICATION_ROLE,
                "ensure": "present",
                "login": True,
                "replication": True,
                "passwordSecret": {"name": secret_name(name, REPLICATION_ROLE)},
                "comment": "managed by pipeline-infra: the DR peer streams as this role",
            }
        )
        pg_hba.append(f"hostssl replication {REPLICATION_ROLE} {peer_cidr} scram-sha-256")
    if archive_timeout is not None:
        parameters["archive_timeout"] = archive_timeout
    spec: dict[str, Any] = {
        "instances": settings.instances,
        "imageName": versions.POSTGRES_IMAGE,
        "primaryUpdateStrategy": "unsupervised",
        "enableSuperuserAccess": True,
        "superuserSecret": {"name": secret_name(name, "superuser")},
        "storage": {"size": f"{settings.storage_gib}Gi", "storageClass": storage_class},
        "resources": {"requests": dict(resources), "limits": dict(resources)},
        "affinity": _affinity(tolerations),
        # seed 000 Increase PostgreSQL Resources (postgres.parameters); CloudNativePG takes strings
        "postgresql": {"parameters": parameters} | ({"pg_hba": pg_hba} if pg_hba else {}),
        "managed": {"roles": roles},
        "plugins": [{"name": PLUGIN, "isWALArchiver": True, "parameters": archiver}],
        "monitoring": {"enablePodMonitor": False},
    }
    if role_arn is not None:
        spec["serviceAccountTemplate"] = {
            "metadata": {"annotations": {"eks.amazonaws.com/role-arn": role_arn}}
        }
    if restore is not None:
        # seed 003 Point-in-Time Recovery: the base backup before the target and the WAL up to it
        recovery: dict[str, Any] = {
            "source": RESTORE_SOURCE,
            "database": WAREHOUSE_DB,
            "owner": WAREHOUSE_OWNER,
            "secret": {"name": secret_name(name, WAREHOUSE_OWNER)},
        }
        if restore.target_time is not None:
            recovery["recoveryTarget"] = {"targetTime": restore.target_time.isoformat()}
        spec["bootstrap"] = {"recovery": recovery}
        spec["externalClusters"] = [
            {
                "name": RESTORE_SOURCE,
                "plugin": {
                    "name": PLUGIN,
                    "parameters": {"barmanObjectName": store, "serverName": restore.source},
                },
            }
        ]
    elif replica_of is None:
        spec["bootstrap"] = {
            "initdb": {
                "database": WAREHOUSE_DB,
                "owner": WAREHOUSE_OWNER,
                "secret": {"name": secret_name(name, WAREHOUSE_OWNER)},
                "dataChecksums": True,
            }
        }
    else:
        source = replica_of["source"]
        # The primary site demoted during a failback keeps its initdb bootstrap (immutable history:
        # the cluster already exists). The DR site's replica cluster clones the primary with
        # pg_basebackup over the streaming endpoint when it has one: it needs no base backup in the
        # object store, so it starts right after the primary's first `up` (a recovery bootstrap would
        # fail with no backup until the first scheduled one has run and been replicated). Without a
        # streaming endpoint it recovers from the primary's replicated object store.
        bootstrap_method = "pg_basebackup" if replica_of.get("host") is not None else "recovery"
        spec["bootstrap"] = {
            "initdb": {
                "database": WAREHOUSE_DB,
                "owner": WAREHOUSE_OWNER,
                "secret": {"name": secret_name(name, WAREHOUSE_OWNER)},
                "dataChecksums": True,
            }
        } if replica_of.get("keep_initdb") else {
            bootstrap_method: {
                "source": source,
                "database": WAREHOUSE_DB,
                "owner": WAREHOUSE_OWNER,
                "secret": {"name": secret_name(name, WAREHOUSE_OWNER)},
            }
        }
        external: dict[str, Any] = {"name": source}
        if replica_of.get("host") is not None:
            # Streaming over the peering (seed 004 RPO < 1 minute); the WAL archive below is the fallback.
            external["connectionParameters"] = {
                "host": replica_of["host"],
                "port": str(PG_PORT),
                "user": REPLICATION_ROLE,
                "dbname": "postgres",
                "sslmode": "require",
            }
            external["password"] = {"name": replica_of["password_secret"], "key": "password"}
        external["plugin"] = {
            "name": PLUGIN,
            "parameters": {"barmanObjectName": replica_of["source_store"], "serverName": source},
        }
        spec["externalClusters"] = [external]
        replica: dict[str, Any] = {"self": name, "primary": replica_of["primary"], "source": source}
        if replica_of.get("promotion_token"):
            replica["promotionToken"] = replica_of["promotion_token"]
        spec["replica"] = replica
    return {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Cluster",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def scheduled_backup(
    *, name: str, namespace: str, cluster_name: str, schedule: str, suspend: bool
) -> dict[str, Any]:
    """Daily base backup through the barman-cloud plugin (WAL archiving is continuous). An active
    schedule also takes one base backup as soon as it is created (`immediate`): point-in-time recovery
    and the DR site's archive fallback have a base backup from the first `up`, not from the next 01:00."""
    return {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "ScheduledBackup",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "schedule": schedule,
            "cluster": {"name": cluster_name},
            "method": "plugin",
            "pluginConfiguration": {"name": PLUGIN},
            "backupOwnerReference": "self",
            "immediate": not suspend,
            "suspend": suspend,
        },
    }


def pod_monitor(*, name: str, namespace: str, cluster_name: str) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/part-of": "pipeline-infra"},
        },
        "spec": {
            "selector": {"matchLabels": {"cnpg.io/cluster": cluster_name}},
            # job="postgres": the selector of seed 001's DatabaseDown (alert PostgresDown)
            "podMetricsEndpoints": [
                {
                    "portNumber": METRICS_PORT,
                    "interval": "30s",
                    "relabelings": [{"targetLabel": "job", "replacement": "postgres", "action": "replace"}],
                }
            ],
        },
    }


SUPERUSER_DIR = "/secrets/superuser"  # the bootstrap Job's mount of the superuser Secret


def bootstrap_job(
    *, cluster_name: str, namespace: str, configmap: str, placement: dict[str, Any], digest: str
) -> dict[str, Any]:
    """psql -f bootstrap.sql as the superuser against the primary (retried until it answers), once
    per script: `digest` (lib/kube/jobs.py script_digest of the SQL) names it. The superuser's name
    and password are read from the Secret mounted as files (SUPERUSER_DIR), never from the pod's
    environment: only the psql process gets them."""
    superuser = secret_name(cluster_name, "superuser")
    return script_job(
        app=f"{cluster_name}-bootstrap",
        namespace=namespace,
        container="psql",
        image=versions.IMAGES["postgres"],
        command=[
            "sh",
            "-ec",
            f'PGUSER="$(cat {SUPERUSER_DIR}/username)" PGPASSWORD="$(cat {SUPERUSER_DIR}/password)" '
            f"exec psql -v ON_ERROR_STOP=1 -d postgres -f {SCRIPT_DIR}/bootstrap.sql",
        ],
        configmap=configmap,
        placement=placement,
        memory="128Mi",
        digest=digest,
        env=[
            {"name": "PGHOST", "value": rw_service(cluster_name, namespace)},
            {"name": "PGPORT", "value": "5432"},
            {"name": "PGSSLMODE", "value": "require"},
        ],
        secrets={SUPERUSER_DIR: superuser},
    )


# --- the module fleets' endpoint: a PgBouncer Pooler behind an internal network load balancer ----------
POOLER_PORT = 5432  # CloudNativePG's PgBouncer listens on 5432, container port "pgbouncer"
POOLER_PORT_NAME = "pgbouncer"
POOLER_LABEL = "cnpg.io/poolerName"  # CloudNativePG labels a Pooler's pods with their Pooler's name
POOLER_INSTANCES = 2  # one pod may go (node drain, upgrade) without the fleets losing the database
POOLER_RESOURCES = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}


def pooler_name(cluster: str) -> str:
    """The Pooler of the fleets (a Pooler may not take its Cluster's name)."""
    return f"{cluster}-pooler"


def fleet_service_name(cluster: str) -> str:
    return f"{cluster}-fleets"


def pooler(*, cluster_name: str, namespace: str, placement: dict[str, Any]) -> dict[str, Any]:
    """A PgBouncer Pooler (session mode: any client protocol works, prepared statements included) in
    front of the read-write service: the module fleets' connections are pooled instead of each taking
    a server connection (max_connections). Its pods run on the platform nodes, spread over the zones."""
    selector = sorted(placement["nodeSelector"].items())
    terms = [{"key": k, "operator": "In", "values": [v]} for k, v in selector]
    name = pooler_name(cluster_name)
    return {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Pooler",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "cluster": {"name": cluster_name},
            "instances": POOLER_INSTANCES,
            "type": "rw",
            "pgbouncer": {
                "poolMode": "session",
                "parameters": {"max_client_conn": "1000", "default_pool_size": "20"},
            },
            "template": {
                "metadata": {"labels": {POOLER_LABEL: name}},
                "spec": {
                    "containers": [{"name": "pgbouncer", "resources": POOLER_RESOURCES}],
                    "affinity": {
                        "nodeAffinity": {
                            "requiredDuringSchedulingIgnoredDuringExecution": {
                                "nodeSelectorTerms": [{"matchExpressions": terms}]
                            }
                        }
                    },
                    "tolerations": list(placement["tolerations"]),
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": "topology.kubernetes.io/zone",
                            "whenUnsatisfiable": "ScheduleAnyway",
                            "labelSelector": {"matchLabels": {POOLER_LABEL: name}},
                        }
                    ],
                },
            },
        },
    }


def fleet_service(*, cluster_name: str, namespace: str, source_ranges: list[str]) -> dict[str, Any]:
    """The endpoint EC2 resolves: an internal network load balancer (a Service of type LoadBalancer)
    on the Pooler's pods, admitting only the fleets' networks (loadBalancerSourceRanges)."""
    if not source_ranges:
        raise ValueError("the fleets' endpoint needs the networks it admits")
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": fleet_service_name(cluster_name),
            "namespace": namespace,
            "annotations": dict(INTERNAL_NLB_CROSS_ZONE),
        },
        "spec": {
            "type": "LoadBalancer",
            "selector": {POOLER_LABEL: pooler_name(cluster_name)},
            "ports": [
                {"name": "postgres", "port": POOLER_PORT, "targetPort": POOLER_PORT_NAME, "protocol": "TCP"}
            ],
            "loadBalancerSourceRanges": list(source_ranges),
        },
    }
