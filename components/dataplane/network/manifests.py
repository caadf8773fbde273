"""The data plane's NetworkPolicies (pure: no Pulumi). Every namespace denies by default and carries
lib.kube.netpol.namespace_baseline (DNS, the Kubernetes API, its own pods); these add the flows
between namespaces and with the network outside the cluster, selecting the pods the operators create
by the labels the operators set:

- ScyllaDB pods: `app.kubernetes.io/name: scylla`, `scylla/cluster: <ScyllaCluster>` (scylla-operator
  pkg/naming/labels.go ClusterNameLabel; the operator's member pods carry app.kubernetes.io/name scylla);
  the webhook server `app.kubernetes.io/name: webhook-server` on 5000 (scylla-operator must-gather
  fixtures); Scylla Manager `app.kubernetes.io/name: scylla-manager` (scylla-operator deploy/manager).
- PostgreSQL pods: `cnpg.io/cluster: <Cluster>`; the operator `app.kubernetes.io/name: cloudnative-pg`,
  which reaches every instance on 8000 (status) and 5432 (CloudNativePG docs, Networking).
- Kafka and Connect pods: `strimzi.io/cluster`, `strimzi.io/kind: Kafka | KafkaConnect |
  KafkaMirrorMaker2`; the cluster operator `strimzi.io/kind: cluster-operator` (Strimzi install files,
  060-Deployment-strimzi-cluster-operator.yaml). Strimzi also writes NetworkPolicies of its own for
  its listeners (policies add up); these make the flows explicit without depending on them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components.dataplane.postgres.reconciliation import JOB as RECONCILIATION_JOB
from lib.kube.netpol import ANYWHERE, cidr_peer, namespace_baseline, ns_peer, pod_peer, policy, rule

PART_OF = {"app.kubernetes.io/part-of": "pipeline-infra"}

# Ports (the operators' and images' defaults).
SCYLLA_CQL, SCYLLA_CQL_SHARD_AWARE = 9042, 19042
SCYLLA_INTER_NODE, SCYLLA_INTER_NODE_TLS = 7000, 7001
SCYLLA_API, SCYLLA_AGENT_API = 10000, 10001
SCYLLA_METRICS, SCYLLA_AGENT_METRICS = 9180, 5090
SCYLLA_WEBHOOK = 5000
POSTGRES, CNPG_STATUS, CNPG_METRICS, CNPG_WEBHOOK = 5432, 8000, 9187, 9443
KAFKA_CONTROL, KAFKA_REPLICATION, KAFKA_TLS = 9090, 9091, 9093
# Load balancer listeners of the Kafka resource: the module fleets' (9092, streaming FLEET_PORT), the
# DR replication listener (9094) and the ports above it kept for listeners added later.
KAFKA_FLEETS = 9092
KAFKA_LB_LISTENERS = (9094, 9099)
CONNECT_REST = 8083
STRIMZI_METRICS = 9404
CERT_MANAGER_WEBHOOK = 10250
HTTPS = 443

PROMETHEUS_POD = {"app.kubernetes.io/name": "prometheus"}


@dataclass(frozen=True)
class ClusterNames:
    scylla: str
    postgres: str
    kafka: str
    connect: str
    pooler: str | None = None  # the Pooler in front of PostgreSQL (the fleets' database endpoint)


def scylla_pods(cluster: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": "scylla", "scylla/cluster": cluster}


def postgres_pods(cluster: str) -> dict[str, str]:
    return {"cnpg.io/cluster": cluster}


def pooler_pods(pooler: str) -> dict[str, str]:
    """CloudNativePG labels a Pooler's PgBouncer pods with cnpg.io/poolerName."""
    return {"cnpg.io/poolerName": pooler}


def kafka_pods(cluster: str) -> dict[str, str]:
    return {"strimzi.io/cluster": cluster, "strimzi.io/kind": "Kafka"}


def connect_pods(cluster: str) -> dict[str, str]:
    return {"strimzi.io/cluster": cluster, "strimzi.io/kind": "KafkaConnect"}


STRIMZI_OPERATOR = {"strimzi.io/kind": "cluster-operator"}
CNPG_OPERATOR = {"app.kubernetes.io/name": "cloudnative-pg"}
SCYLLA_OPERATOR = {"app.kubernetes.io/name": "scylla-operator"}
SCYLLA_MANAGER = {"app.kubernetes.io/name": "scylla-manager"}
MIRROR_MAKER = {"strimzi.io/kind": "KafkaMirrorMaker2"}
BACKUP_CHECK_PREFIX = "backup-verify-"


def data_plane_policies(
    namespaces: Mapping[str, str],
    names: ClusterNames,
    *,
    vpc_cidrs: Sequence[str],
    peer_cidr: str | None = None,
    backup_jobs: Mapping[str, Sequence[str]] | None = None,
) -> list[dict[str, Any]]:
    """Every NetworkPolicy of the data plane's namespaces (operators, cert-manager, scylla,
    scylla-manager, postgres, kafka). `vpc_cidrs`: this site's network (the EKS control plane's
    interfaces, the nodes, the fleets behind the load balancers); `peer_cidr`: the other site's
    network on a replicated estate; `backup_jobs`: namespace -> app names of the backup CronJobs."""
    ns = namespaces
    sites = [*vpc_cidrs, *([peer_cidr] if peer_cidr else [])]
    backups = backup_jobs or {}
    out: list[dict[str, Any]] = []
    for key in ("operators", "cert-manager", "scylla", "scylla-manager", "postgres", "kafka"):
        out += namespace_baseline(ns[key], api_cidrs=vpc_cidrs, labels=PART_OF)

    def add(name: str, key: str, **kw: Any) -> None:
        out.append(policy(name, ns[key], labels=PART_OF, **kw))

    prometheus = ns_peer(ns["observability"], PROMETHEUS_POD)
    connect = ns_peer(ns["kafka"], connect_pods(names.connect))
    anywhere_https = rule([cidr_peer(ANYWHERE)], [HTTPS])

    # --- operators: the API server calls the webhooks; the operators reach what they manage -------
    add(
        "allow-webhooks",
        "operators",
        ingress=[rule([cidr_peer(c) for c in vpc_cidrs], [CNPG_WEBHOOK, SCYLLA_WEBHOOK])],
    )
    add(
        "allow-strimzi-to-kafka",
        "operators",
        pods=STRIMZI_OPERATOR,
        egress=[rule([ns_peer(ns["kafka"])], [KAFKA_CONTROL, KAFKA_REPLICATION, CONNECT_REST])],
    )
    add(
        "allow-cnpg-to-postgres",
        "operators",
        pods=CNPG_OPERATOR,
        egress=[rule([ns_peer(ns["postgres"], postgres_pods(names.postgres))], [CNPG_STATUS, POSTGRES])],
    )
    add(
        "allow-scylla-operator-to-scylla",
        "operators",
        pods=SCYLLA_OPERATOR,
        egress=[rule([ns_peer(ns["scylla"], scylla_pods(names.scylla))], [SCYLLA_API, SCYLLA_AGENT_API])],
    )

    # --- cert-manager: its webhook -------------------------------------------------------------
    add(
        "allow-webhooks",
        "cert-manager",
        ingress=[rule([cidr_peer(c) for c in vpc_cidrs], [CERT_MANAGER_WEBHOOK])],
    )

    # --- scylla -----------------------------------------------------------------------------------
    scylla = scylla_pods(names.scylla)
    reconciliation = {"app.kubernetes.io/name": RECONCILIATION_JOB}
    add(
        "allow-scylla-clients",
        "scylla",
        pods=scylla,
        ingress=[
            rule([connect], [SCYLLA_CQL, SCYLLA_CQL_SHARD_AWARE]),
            rule([ns_peer(ns["scylla-manager"])], [SCYLLA_AGENT_API, SCYLLA_CQL, SCYLLA_CQL_SHARD_AWARE]),
            rule([ns_peer(ns["operators"], SCYLLA_OPERATOR)], [SCYLLA_API, SCYLLA_AGENT_API]),
            rule([prometheus], [SCYLLA_METRICS, SCYLLA_AGENT_METRICS]),
            # the daily CDC reconciliation's cqlsh counts the source tables (seed 000)
            rule([ns_peer(ns["postgres"], reconciliation)], [SCYLLA_CQL]),
        ],
    )
    # The agent uploads backups to S3 (gateway endpoint: S3's public addresses, routed in the VPC).
    add("allow-scylla-backups", "scylla", pods=scylla, egress=[anywhere_https])
    if peer_cidr:
        # The two datacenters of the one ScyllaDB cluster gossip and stream across the peering.
        dc = [SCYLLA_INTER_NODE, SCYLLA_INTER_NODE_TLS, SCYLLA_CQL, SCYLLA_CQL_SHARD_AWARE]
        add(
            "allow-scylla-other-datacenter",
            "scylla",
            pods=scylla,
            ingress=[rule([cidr_peer(peer_cidr)], dc)],
            egress=[rule([cidr_peer(peer_cidr)], dc)],
        )

    # --- scylla-manager: the manager drives the data cluster's agents ------------------------------
    add(
        "allow-manager-to-scylla",
        "scylla-manager",
        pods=SCYLLA_MANAGER,
        egress=[
            rule([ns_peer(ns["scylla"], scylla)], [SCYLLA_AGENT_API, SCYLLA_CQL, SCYLLA_CQL_SHARD_AWARE])
        ],
    )

    # --- postgres ---------------------------------------------------------------------------------
    pg = postgres_pods(names.postgres)
    add(
        "allow-postgres-clients",
        "postgres",
        pods=pg,
        ingress=[
            rule([ns_peer(ns["operators"], CNPG_OPERATOR)], [CNPG_STATUS, POSTGRES]),
            rule([connect], [POSTGRES]),
            rule([prometheus], [CNPG_METRICS]),
        ],
    )
    if names.pooler:
        # The fleets' database endpoint: an internal load balancer in front of the Pooler's PgBouncer
        # pods (which reach the instances as pods of the same namespace).
        add(
            "allow-fleets-to-pooler",
            "postgres",
            pods=pooler_pods(names.pooler),
            ingress=[rule([cidr_peer(c) for c in sites], [POSTGRES])],
        )
    if peer_cidr:
        # Streaming replication across the peering (seed 004 RPO < 1 min), either way round (a failback
        # reverses it): the other site's replica reaches this site's primary through the replication
        # load balancer, which keeps the client's address (externalTrafficPolicy Local). Nothing of this
        # site's network reaches the instances directly.
        add(
            "allow-postgres-replication-peer",
            "postgres",
            pods=pg,
            ingress=[rule([cidr_peer(peer_cidr)], [POSTGRES])],
            egress=[rule([cidr_peer(peer_cidr)], [POSTGRES])],
        )
    # The daily CDC reconciliation (seed 000) counts the source's rows with cqlsh; it reaches the
    # instances as a pod of their namespace.
    add(
        "allow-cdc-reconciliation",
        "postgres",
        pods=reconciliation,
        egress=[rule([ns_peer(ns["scylla"], scylla)], [SCYLLA_CQL])],
    )
    # WAL archive and base backups to S3 (barman-cloud plugin sidecar); the DR replica reads them.
    add("allow-postgres-backups", "postgres", pods=pg, egress=[anywhere_https])

    # --- kafka ------------------------------------------------------------------------------------
    kafka = kafka_pods(names.kafka)
    add(
        "allow-kafka-clients",
        "kafka",
        pods=kafka,
        ingress=[
            rule([ns_peer(ns["operators"], STRIMZI_OPERATOR)], [KAFKA_CONTROL, KAFKA_REPLICATION]),
            rule([prometheus], [STRIMZI_METRICS]),
            rule([cidr_peer(c) for c in sites], [KAFKA_FLEETS, KAFKA_LB_LISTENERS]),
        ],
    )
    add(
        "allow-connect",
        "kafka",
        pods=connect_pods(names.connect),
        ingress=[
            rule([ns_peer(ns["operators"], STRIMZI_OPERATOR)], [CONNECT_REST]),
            rule([prometheus], [STRIMZI_METRICS]),
        ],
        egress=[
            rule([ns_peer(ns["scylla"], scylla)], [SCYLLA_CQL, SCYLLA_CQL_SHARD_AWARE]),
            rule([ns_peer(ns["postgres"], pg)], [POSTGRES]),
        ],
    )
    # The image build (Maven Central, the registry push) runs in a pod of the Connect cluster.
    add("allow-connect-build", "kafka", pods={"strimzi.io/cluster": names.connect}, egress=[anywhere_https])
    if peer_cidr:
        add(
            "allow-mirrormaker-to-peer",
            "kafka",
            pods=MIRROR_MAKER,
            ingress=[
                rule([prometheus], [STRIMZI_METRICS]),
            ],
            egress=[rule([cidr_peer(peer_cidr)], [KAFKA_LB_LISTENERS])],
        )

    # --- the backup checks (seed 003 Backup Verification): read the bucket ---------------------------
    for key, apps in sorted(backups.items()):
        for app in apps:
            add(f"allow-{app}", key, pods={"app.kubernetes.io/name": app}, egress=[anywhere_https])
    return out


def policy_name(p: Mapping[str, Any]) -> str:
    """The Pulumi name of a policy: <namespace>-<policy name>."""
    return f"{p['metadata']['namespace']}-{p['metadata']['name']}"


__all__ = ["ClusterNames", "data_plane_policies", "policy_name", "pod_peer"]
