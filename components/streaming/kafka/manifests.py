"""Strimzi (kafka.strimzi.io/v1) manifests of the Kafka cluster, its node pools, topics, users and the
DR site's MirrorMaker 2, as plain dicts (pure: no Pulumi import; the components wrap them).

Field names follow the CRD schemas of Strimzi 1.2 (the only version it serves is v1; the tests
validate every manifest strictly against those schemas).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from components.streaming.connect.config import (
    DLQ_TOPIC,
    SINK_NAME,
    cdc_topics,
    heartbeat_topic,
)
from components.streaming.spec import StreamingSpec
from lib import versions
from lib.kube.load_balancer import INTERNAL_NLB

API = "kafka.strimzi.io/v1"
CLUSTER = "pipeline"  # the Kafka cluster's name (services: pipeline-kafka-bootstrap, ...)
FLEET_PORT = 9092  # the module fleets' listener (an internal load balancer in the VPC)
TLS_PORT = 9093
REPLICATION_PORT = 9094
FLEET_LISTENER = "fleets"
ZONE_LABEL = "topology.kubernetes.io/zone"
# Kafka Connect's group and storage topics (one Connect cluster per site).
CONNECT_GROUP = "pipeline-connect"
CONNECT_TOPICS = {"config": "connect-configs", "offset": "connect-offsets", "status": "connect-status"}
SCHEMAS_TOPIC = "_schemas"  # Schema Registry's kafkastore topic (its default name)
# Users (one KafkaUser per client; Strimzi makes a Secret of the same name).
CONNECT_USER = "connect"
SCHEMA_REGISTRY_USER = "schema-registry"
MIRRORMAKER_USER = "mirrormaker"  # on the DR site's own cluster (MirrorMaker 2 writes there)
MIRRORMAKER_SOURCE_USER = "mirrormaker-dr"  # on the primary's cluster (the DR site reads with it)
FLEET_USER_PREFIX = "fleet-"  # fleet-<module>: one SCRAM-SHA-512 user per module that reads Kafka
SOURCE_ALIAS, TARGET_ALIAS = "primary", "dr"
MM2_GROUP = "mirrormaker2-cluster"
IDENTITY_POLICY = "org.apache.kafka.connect.mirror.IdentityReplicationPolicy"

_HOUR_MS = 3_600_000


def bootstrap_address(namespace: str, cluster: str = CLUSTER) -> str:
    """The in-cluster address of the TLS listener (what Connect and Schema Registry use)."""
    return f"{cluster}-kafka-bootstrap.{namespace}.svc:{TLS_PORT}"


def cluster_ca_secret(cluster: str = CLUSTER) -> str:
    """The Secret Strimzi keeps the cluster CA certificate in (keys ca.crt, ca.p12, ca.password)."""
    return f"{cluster}-cluster-ca-cert"


def k8s_name(topic: str) -> str:
    """A Kubernetes object name for a Kafka topic name (underscores and leading '_' are not allowed
    in object names; a short hash keeps two topics that differ only there apart)."""
    name = re.sub(r"[^a-z0-9.-]", "-", topic.lower()).strip("-.")
    if name != topic:
        name = f"{name}-{hashlib.sha256(topic.encode()).hexdigest()[:6]}"
    return name[:253]


def pod_scheduling(placement: dict[str, Any], *, app_label: tuple[str, str] | None = None) -> dict[str, Any]:
    """Strimzi pod template from KubeTarget.placement(): Strimzi's PodTemplate has no nodeSelector, so
    the selector becomes a required node affinity; the pods spread over the zones."""
    terms = [
        {"key": k, "operator": "In", "values": [v]} for k, v in sorted(placement["nodeSelector"].items())
    ]
    pod: dict[str, Any] = {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": terms}]
                }
            }
        },
        "tolerations": list(placement["tolerations"]),
    }
    if app_label is not None:
        pod["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": ZONE_LABEL,
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {app_label[0]: app_label[1]}},
            }
        ]
    return pod


def _resources(cpu: str, memory: str) -> dict[str, Any]:
    # Requests = limits for memory (no OOM surprises for the JVM); CPU limit left off (no throttling).
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}}


def _metadata(
    name: str, namespace: str, labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    return meta


def replication_listener_enabled(settings: StreamingSpec) -> bool:
    """Both sites of a DR pair open a listener the other site's MirrorMaker 2 reads through: the DR
    site's while it is a standby, the primary site's during a failback (it replicates back)."""
    return settings.dr is not None


def aliases(settings: StreamingSpec) -> tuple[str, str]:
    """(source, target) cluster aliases of this site's MirrorMaker 2: it mirrors the other site into
    its own (primary -> dr on the DR site; dr -> primary on the primary site during a failback)."""
    dr = settings.dr
    return (SOURCE_ALIAS, TARGET_ALIAS) if dr is None or dr.site == "dr" else (TARGET_ALIAS, SOURCE_ALIAS)


def kafka(settings: StreamingSpec, *, namespace: str, cluster: str = CLUSTER) -> dict[str, Any]:
    """The Kafka resource (KRaft; the nodes come from the KafkaNodePools)."""
    k = settings.kafka
    listeners: list[dict[str, Any]] = [
        # Every client in the cluster (Connect, Schema Registry, MirrorMaker 2) authenticates with the
        # certificate of its KafkaUser over TLS. No plain listener: nothing needs one.
        {"name": "tls", "port": TLS_PORT, "type": "internal", "tls": True, "authentication": {"type": "tls"}},
    ]
    if settings.fleets is not None:
        # The module fleets on EC2 (seed 003 Module Alpha Step 1: message queue consumers) read through
        # their own listener: an internal NLB per broker admitting only the fleets' VPC networks,
        # SCRAM-SHA-512 over TLS (the instance reads its password from SSM; a client certificate of
        # the clients CA would have to be copied out of the cluster and renewed on every instance).
        listeners.append(
            {
                "name": FLEET_LISTENER,
                "port": FLEET_PORT,
                "type": "loadbalancer",
                "tls": True,
                "authentication": {"type": "scram-sha-512"},
                "configuration": {"loadBalancerSourceRanges": list(settings.fleets.cidrs)},
            }
        )
    if replication_listener_enabled(settings):
        # The DR site's MirrorMaker 2 reads over the VPC peering: an internal NLB per broker, reachable
        # from the peer VPC's CIDR only, SCRAM-SHA-512 over TLS (a certificate of this cluster's clients
        # CA cannot be handed to another cluster's operator; a password can, as a Pulumi secret).
        assert settings.dr is not None
        listeners.append(
            {
                "name": "replication",
                "port": REPLICATION_PORT,
                "type": "loadbalancer",
                "tls": True,
                "authentication": {"type": "scram-sha-512"},
                "configuration": {"loadBalancerSourceRanges": [settings.dr.peer_cidr]},
            }
        )
    template: dict[str, Any] = {}
    if any(lst["type"] == "loadbalancer" for lst in listeners):
        # Every load balancer listener is internal (the template applies to all external listeners'
        # services): never internet-facing.
        template = {
            "externalBootstrapService": {"metadata": {"annotations": dict(INTERNAL_NLB)}},
            "perPodService": {"metadata": {"annotations": dict(INTERNAL_NLB)}},
        }
    config = {
        "default.replication.factor": k.replication_factor,
        "min.insync.replicas": k.min_insync_replicas,
        "offsets.topic.replication.factor": k.replication_factor,
        "transaction.state.log.replication.factor": k.replication_factor,
        "transaction.state.log.min.isr": k.min_insync_replicas,
        "num.partitions": k.topic_partitions,
        "log.retention.hours": k.retention_hours,
        # Every topic is a KafkaTopic resource with its partitions, replicas and retention.
        "auto.create.topics.enable": False,
        # Consumers read from a replica in their own zone (client.rack of Connect).
        "replica.selector.class": "org.apache.kafka.common.replica.RackAwareReplicaSelector",
    }
    spec: dict[str, Any] = {
        "kafka": {
            "version": versions.KAFKA_VERSION,
            "listeners": listeners,
            "authorization": {"type": "simple"},
            "config": config,
            "rack": {"type": "topology-label", "topologyKey": ZONE_LABEL},
            "metricsConfig": {"type": "strimziMetricsReporter"},
            **({"template": template} if template else {}),
        },
        "entityOperator": {
            "topicOperator": {"resources": _resources("100m", "512Mi")},
            "userOperator": {"resources": _resources("100m", "512Mi")},
        },
        # Consumer-group lag and topic offsets (kafka_consumergroup_lag,
        # kafka_topic_partition_current_offset): the lag alerts and the DLQ depth of seed 000 read
        # them; port tcp-prometheus like the brokers'.
        "kafkaExporter": {
            "topicRegex": ".*",
            "groupRegex": ".*",
            "resources": _resources("100m", "256Mi"),
        },
    }
    return {
        "apiVersion": API,
        "kind": "Kafka",
        "metadata": _metadata(
            cluster,
            namespace,
            annotations={
                # (Strimzi 1.x runs KRaft with node pools only: no strimzi.io/kraft or node-pools
                # annotations.) pulumi-kubernetes waits until the operator reports the cluster Ready,
                # so that what depends on it (users' Secrets, the replication listener's load
                # balancer, the cluster CA) exists; volumes and brokers can take a while.
                "pulumi.com/waitFor": "condition=Ready",
                "pulumi.com/timeoutSeconds": "1800",
            },
        ),
        "spec": spec,
    }


def node_pool(
    settings: StreamingSpec,
    *,
    role: str,
    namespace: str,
    storage_class: str,
    placement: dict[str, Any],
    cluster: str = CLUSTER,
) -> dict[str, Any]:
    """KafkaNodePool `controllers` (KRaft quorum) or `brokers`, on persistent volumes of the
    encrypted storage class, on the kafka node group, spread over the zones."""
    k = settings.kafka
    assert role in ("controller", "broker")
    name = f"{role}s"
    replicas = k.controllers if role == "controller" else k.brokers
    size = k.controller_storage_gib if role == "controller" else k.storage_gib
    res = k.controller_resources if role == "controller" else k.resources
    return {
        "apiVersion": API,
        "kind": "KafkaNodePool",
        "metadata": _metadata(name, namespace, labels={"strimzi.io/cluster": cluster}),
        "spec": {
            "replicas": replicas,
            "roles": [role],
            "storage": {
                "type": "persistent-claim",
                "size": f"{size}Gi",
                "class": storage_class,
                "deleteClaim": False,
            },
            "resources": _resources(res.cpu, res.memory),
            "template": {"pod": pod_scheduling(placement, app_label=("strimzi.io/pool-name", name))},
        },
    }


def _topic(
    name: str, *, namespace: str, cluster: str, partitions: int, replicas: int, config: dict[str, Any]
) -> dict[str, Any]:
    spec: dict[str, Any] = {"partitions": partitions, "replicas": replicas, "config": config}
    if k8s_name(name) != name:
        spec = {"topicName": name, **spec}
    return {
        "apiVersion": API,
        "kind": "KafkaTopic",
        "metadata": _metadata(k8s_name(name), namespace, labels={"strimzi.io/cluster": cluster}),
        "spec": spec,
    }


def topics(settings: StreamingSpec, *, namespace: str, cluster: str = CLUSTER) -> list[dict[str, Any]]:
    """KafkaTopics: one per CDC table, the DLQ, the connector heartbeat, Connect's three storage
    topics and Schema Registry's kafkastore."""
    k = settings.kafka
    rf, isr = k.replication_factor, k.min_insync_replicas
    data = {"cleanup.policy": "delete", "min.insync.replicas": isr}
    compacted = {"cleanup.policy": "compact", "min.insync.replicas": isr}
    out = [
        _topic(
            t,
            namespace=namespace,
            cluster=cluster,
            partitions=k.topic_partitions,
            replicas=rf,
            config={**data, "retention.ms": k.retention_hours * _HOUR_MS},
        )
        for t in cdc_topics(settings)
    ]
    out.append(
        _topic(
            DLQ_TOPIC,
            namespace=namespace,
            cluster=cluster,
            partitions=k.topic_partitions,
            replicas=rf,
            config={**data, "retention.ms": k.dlq_retention_hours * _HOUR_MS},
        )
    )
    out.append(
        _topic(
            heartbeat_topic(settings),
            namespace=namespace,
            cluster=cluster,
            partitions=1,
            replicas=rf,
            config={**data, "retention.ms": 24 * _HOUR_MS},
        )
    )
    # Kafka Connect's recommended partition counts (connect-distributed.properties): offsets 25, status 5.
    for kind, parts in (("config", 1), ("offset", 25), ("status", 5)):
        out.append(
            _topic(
                CONNECT_TOPICS[kind],
                namespace=namespace,
                cluster=cluster,
                partitions=parts,
                replicas=rf,
                config=compacted,
            )
        )
    out.append(
        _topic(
            SCHEMAS_TOPIC, namespace=namespace, cluster=cluster, partitions=1, replicas=rf, config=compacted
        )
    )
    return out


def _acl(kind: str, name: str, ops: list[str], pattern: str = "literal") -> dict[str, Any]:
    return {"resource": {"type": kind, "name": name, "patternType": pattern}, "operations": ops}


def connect_acls(settings: StreamingSpec) -> list[dict[str, Any]]:
    """Kafka Connect: its group and storage topics, the CDC topics (source writes, sink reads), the
    heartbeat and the DLQ, and the sink's consumer group connect-postgres-sink (seed 000 Kafka Health)."""
    rw = ["Read", "Write", "Describe", "DescribeConfigs"]
    acls = [
        _acl("group", CONNECT_GROUP, ["Read", "Describe"]),
        _acl("group", f"connect-{SINK_NAME}", ["Read", "Describe"]),
    ]
    acls += [_acl("topic", t, [*rw, "Create"]) for t in CONNECT_TOPICS.values()]
    acls.append(_acl("topic", f"{settings.connect.topic_prefix}.", rw, "prefix"))
    acls.append(_acl("topic", heartbeat_topic(settings), ["Write", "Describe"]))
    acls.append(_acl("topic", DLQ_TOPIC, ["Write", "Describe"]))
    return acls


def schema_registry_acls() -> list[dict[str, Any]]:
    """Schema Registry: its kafkastore topic and the group its instances elect a leader in."""
    return [
        _acl("topic", SCHEMAS_TOPIC, ["Read", "Write", "Describe", "DescribeConfigs", "Create"]),
        _acl("group", "schema-registry", ["Read", "Describe"], "prefix"),
    ]


def fleet_user(module: str) -> str:
    """The KafkaUser (and SCRAM user name) of a module's fleet."""
    return f"{FLEET_USER_PREFIX}{module}"


def fleet_group(module: str) -> str:
    """The consumer group prefix a module's fleet may use (pipeline-<module>, pipeline-<module>-*)."""
    return f"pipeline-{module}"


def fleet_acls(settings: StreamingSpec, module: str) -> list[dict[str, Any]]:
    """A module fleet's user: it consumes the CDC topics (seed 000: one topic per CDC table; seed 003
    Module Alpha Step 1: the message-queue source adapter), each named literally, with its own
    consumer groups. Nothing else: no write, no create, no other topic, no cluster operation."""
    acls = [_acl("topic", t, ["Read", "Describe"]) for t in cdc_topics(settings)]
    acls.append(_acl("group", fleet_group(module), ["Read", "Describe"], "prefix"))
    return acls


def fleet_bootstrap_service(cluster: str = CLUSTER) -> str:
    """The bootstrap Service Strimzi makes for the fleets' listener (its load balancer)."""
    return f"{cluster}-kafka-{FLEET_LISTENER}-bootstrap"


def mirrored_topics_pattern(settings: StreamingSpec) -> str:
    """What the DR site mirrors: the CDC topics, the DLQ and the schemas (Avro records carry schema
    ids, so the DR registry must hold the same ids)."""
    return "|".join(
        [re.escape(settings.connect.topic_prefix) + r"\..*", re.escape(DLQ_TOPIC), re.escape(SCHEMAS_TOPIC)]
    )


def mirrormaker_target_acls(settings: StreamingSpec) -> list[dict[str, Any]]:
    """MirrorMaker 2 on the DR cluster: creates and writes the mirrored topics (same names: identity
    policy), its own Connect group and storage topics, the offset-syncs and checkpoints topics, and
    the translated offsets of the sink's group."""
    everything = ["All"]
    acls = [
        _acl("topic", f"{settings.connect.topic_prefix}.", everything, "prefix"),
        _acl("topic", DLQ_TOPIC, everything),
        _acl("topic", SCHEMAS_TOPIC, everything),
        _acl("topic", f"{MM2_GROUP}-", everything, "prefix"),
        _acl("topic", "mm2-", everything, "prefix"),
        _acl("topic", "heartbeats", everything),
        _acl("topic", f"{aliases(settings)[0]}.", everything, "prefix"),
        _acl("group", MM2_GROUP, ["Read", "Describe"]),
        _acl("group", f"connect-{SINK_NAME}", ["Read", "Describe"]),
        _acl("cluster", "kafka-cluster", ["Describe", "DescribeConfigs"]),
    ]
    return acls


def mirrormaker_source_acls(settings: StreamingSpec) -> list[dict[str, Any]]:
    """The DR site's MirrorMaker 2 on the primary's cluster: read-only on what it mirrors."""
    ro = ["Read", "Describe", "DescribeConfigs"]
    return [
        _acl("topic", f"{settings.connect.topic_prefix}.", ro, "prefix"),
        _acl("topic", DLQ_TOPIC, ro),
        _acl("topic", SCHEMAS_TOPIC, ro),
        _acl("group", f"connect-{SINK_NAME}", ["Describe"]),
        _acl("cluster", "kafka-cluster", ["Describe"]),
    ]


def user(
    name: str,
    *,
    namespace: str,
    acls: list[dict[str, Any]],
    authentication: str = "tls",
    password_secret: str | None = None,
    cluster: str = CLUSTER,
) -> dict[str, Any]:
    """A KafkaUser; `tls` users get a client certificate from the clients CA, `scram-sha-512` users
    the password of `password_secret` (key `password`)."""
    auth: dict[str, Any] = {"type": authentication}
    if authentication == "scram-sha-512":
        if password_secret is None:
            raise ValueError("a scram-sha-512 user needs password_secret")
        auth["password"] = {"valueFrom": {"secretKeyRef": {"name": password_secret, "key": "password"}}}
    return {
        "apiVersion": API,
        "kind": "KafkaUser",
        "metadata": _metadata(name, namespace, labels={"strimzi.io/cluster": cluster}),
        "spec": {"authentication": auth, "authorization": {"type": "simple", "acls": acls}},
    }


def mirror_maker2(
    settings: StreamingSpec,
    *,
    namespace: str,
    source_bootstrap: str,
    source_ca_secret: str,
    source_password_secret: str,
    placement: dict[str, Any],
    cluster: str = CLUSTER,
) -> dict[str, Any]:
    """KafkaMirrorMaker2 on the DR site: mirrors the primary's CDC topics, DLQ and schemas into the
    DR cluster under the same names, and translates the sink group's offsets so that a promoted DR
    sink resumes where the primary's stopped. Promotion (dr.role primary) stops both connectors;
    the resource itself stays (nothing stateful is replaced)."""
    k, dr = settings.kafka, settings.dr
    assert dr is not None
    # It runs while this site is a standby: into the DR site normally, into the primary site while
    # it comes back during a failback (seed 003 M.1 DR Deactivation: synchronise DR -> primary).
    state = "stopped" if dr.role == "primary" else "running"
    source_alias, target_alias = aliases(settings)
    rf = k.replication_factor
    common = {"replication.policy.class": IDENTITY_POLICY, "offset-syncs.topic.location": "target"}
    return {
        "apiVersion": API,
        "kind": "KafkaMirrorMaker2",
        "metadata": _metadata(MM2_GROUP.removesuffix("-cluster"), namespace),
        "spec": {
            "version": versions.KAFKA_VERSION,
            "replicas": 1,
            "target": {
                "alias": target_alias,
                "bootstrapServers": bootstrap_address(namespace, cluster),
                "groupId": MM2_GROUP,
                "configStorageTopic": f"{MM2_GROUP}-configs",
                "offsetStorageTopic": f"{MM2_GROUP}-offsets",
                "statusStorageTopic": f"{MM2_GROUP}-status",
                "tls": {
                    "trustedCertificates": [
                        {"secretName": cluster_ca_secret(cluster), "certificate": "ca.crt"}
                    ]
                },
                "authentication": {
                    "type": "tls",
                    "certificateAndKey": {
                        "secretName": MIRRORMAKER_USER,
                        "certificate": "user.crt",
                        "key": "user.key",
                    },
                },
                "config": {
                    "config.storage.replication.factor": rf,
                    "offset.storage.replication.factor": rf,
                    "status.storage.replication.factor": rf,
                },
            },
            "mirrors": [
                {
                    "source": {
                        "alias": source_alias,
                        "bootstrapServers": source_bootstrap,
                        "tls": {
                            "trustedCertificates": [{"secretName": source_ca_secret, "certificate": "ca.crt"}]
                        },
                        "authentication": {
                            "type": "scram-sha-512",
                            "username": MIRRORMAKER_SOURCE_USER,
                            "passwordSecret": {"secretName": source_password_secret, "password": "password"},
                        },
                    },
                    "sourceConnector": {
                        "tasksMax": k.topic_partitions,
                        "state": state,
                        "config": {
                            **common,
                            "replication.factor": rf,
                            "offset-syncs.topic.replication.factor": rf,
                            "sync.topic.acls.enabled": "false",
                            "refresh.topics.interval.seconds": 60,
                            # The Topic Operator owns the DR topics' configs (same settings).
                            "sync.topic.configs.enabled": "false",
                        },
                    },
                    "checkpointConnector": {
                        "tasksMax": 1,
                        "state": state,
                        "config": {
                            **common,
                            "checkpoints.topic.replication.factor": rf,
                            "sync.group.offsets.enabled": "true",
                            "sync.group.offsets.interval.seconds": 30,
                            "emit.checkpoints.interval.seconds": 30,
                        },
                    },
                    "topicsPattern": mirrored_topics_pattern(settings),
                    "groupsPattern": re.escape(f"connect-{SINK_NAME}"),
                }
            ],
            "resources": _resources("500m", "2Gi"),
            "rack": {"type": "topology-label", "topologyKey": ZONE_LABEL},
            "metricsConfig": {"type": "strimziMetricsReporter"},
            "template": {"pod": pod_scheduling(placement)},
        },
    }
