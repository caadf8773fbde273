"""Strimzi KafkaConnect (with `build`) and KafkaConnector manifests (pure: no Pulumi import)."""

from __future__ import annotations

from typing import Any

from components.streaming.kafka.manifests import (
    API,
    CLUSTER,
    CONNECT_GROUP,
    CONNECT_TOPICS,
    CONNECT_USER,
    ZONE_LABEL,
    bootstrap_address,
    cluster_ca_secret,
    pod_scheduling,
)
from components.streaming.spec import StreamingSpec
from lib import versions

CONNECT_CLUSTER = "pipeline-connect"
# The sink's password Secret is mounted here; the DirectoryConfigProvider reads one file per key, so
# the connector config says ${directory:/mnt/postgres-sink:password} and never holds the value.
SINK_SECRET_VOLUME = "postgres-sink"
SINK_SECRET_DIR = f"/mnt/{SINK_SECRET_VOLUME}"
SINK_PASSWORD_REF = f"${{directory:{SINK_SECRET_DIR}:password}}"
DIRECTORY_PROVIDER = "org.apache.kafka.common.config.provider.DirectoryConfigProvider"
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"


def build_service_account(cluster: str = CONNECT_CLUSTER) -> str:
    """The service account Strimzi runs the image build pod under."""
    return f"{cluster}-connect-build"


def image_tag() -> str:
    """A tag that changes when a plugin version does (Strimzi rebuilds when the plugin list changes)."""
    return (
        f"{versions.KAFKA_VERSION}-scylla{versions.SCYLLA_CDC_SOURCE_CONNECTOR}"
        f"-jdbc{versions.DEBEZIUM_JDBC_SINK}-avro{versions.CONFLUENT_AVRO_CONVERTER}"
    )


def plugins() -> list[dict[str, Any]]:
    """The three plugins Strimzi's build downloads into the Connect image.

    - Scylla CDC source: the "jar with dependencies" Maven Central publishes beside the plain jar
      (the connector's README recommends it; Strimzi's `maven` type cannot pick a classifier).
    - Debezium JDBC sink: the self-contained plugin archive Debezium publishes on Maven Central
      (io.debezium:debezium-connector-jdbc, classifier `plugin`, with the PostgreSQL driver).
    - Avro converter: Confluent's converter is not on Maven Central; its Confluent Hub ZIP carries
      the converter and its dependencies (schema-registry client, Avro) in lib/.
    """
    scylla_v, jdbc_v, avro_v = (
        versions.SCYLLA_CDC_SOURCE_CONNECTOR,
        versions.DEBEZIUM_JDBC_SINK,
        versions.CONFLUENT_AVRO_CONVERTER,
    )
    return [
        {
            "name": "scylla-cdc-source-connector",
            "artifacts": [
                {
                    "type": "jar",
                    "url": f"{MAVEN_CENTRAL}/com/scylladb/scylla-cdc-source-connector/{scylla_v}/"
                    f"scylla-cdc-source-connector-{scylla_v}-jar-with-dependencies.jar",
                }
            ],
        },
        {
            "name": "debezium-connector-jdbc",
            "artifacts": [
                {
                    "type": "tgz",
                    "url": f"{MAVEN_CENTRAL}/io/debezium/debezium-connector-jdbc/{jdbc_v}/"
                    f"debezium-connector-jdbc-{jdbc_v}-plugin.tar.gz",
                }
            ],
        },
        {
            "name": "kafka-connect-avro-converter",
            "artifacts": [
                {
                    "type": "zip",
                    "url": "https://hub-downloads.confluent.io/api/plugins/confluentinc/kafka-connect-avro-converter/"
                    f"versions/{avro_v}/confluentinc-kafka-connect-avro-converter-{avro_v}.zip",
                }
            ],
        },
    ]


def _heap(value: str) -> str:
    return value.upper()


def kafka_connect(
    settings: StreamingSpec,
    *,
    namespace: str,
    image_repository: str,
    push_secret: str | None,
    sink_secret: str,
    placement: dict[str, Any],
    build_role_arn: str | None = None,
    kafka_cluster: str = CLUSTER,
    cluster: str = CONNECT_CLUSTER,
) -> dict[str, Any]:
    """KafkaConnect: the workers with the CDC plugins, TLS client certificate of KafkaUser `connect`,
    rack-aware, connectors managed as KafkaConnector resources."""
    k, c = settings.kafka, settings.connect
    rf = k.replication_factor
    output: dict[str, Any] = {"type": "docker", "image": f"{image_repository}:{image_tag()}"}
    if push_secret is not None:
        output["pushSecret"] = push_secret
    template: dict[str, Any] = {
        "pod": {
            **pod_scheduling(placement, app_label=("strimzi.io/cluster", cluster)),
            "volumes": [{"name": SINK_SECRET_VOLUME, "secret": {"secretName": sink_secret}}],
        },
        "connectContainer": {
            "volumeMounts": [{"name": SINK_SECRET_VOLUME, "mountPath": SINK_SECRET_DIR, "readOnly": True}]
        },
    }
    if build_role_arn is not None:
        template["buildServiceAccount"] = {
            "metadata": {"annotations": {"eks.amazonaws.com/role-arn": build_role_arn}}
        }
    return {
        "apiVersion": API,
        "kind": "KafkaConnect",
        "metadata": {
            "name": cluster,
            "namespace": namespace,
            "annotations": {"strimzi.io/use-connector-resources": "true"},
        },
        "spec": {
            "version": versions.KAFKA_VERSION,
            "replicas": c.replicas,
            "bootstrapServers": bootstrap_address(namespace, kafka_cluster),
            "groupId": CONNECT_GROUP,
            "configStorageTopic": CONNECT_TOPICS["config"],
            "offsetStorageTopic": CONNECT_TOPICS["offset"],
            "statusStorageTopic": CONNECT_TOPICS["status"],
            "tls": {
                "trustedCertificates": [
                    {"secretName": cluster_ca_secret(kafka_cluster), "certificate": "ca.crt"}
                ]
            },
            "authentication": {
                "type": "tls",
                "certificateAndKey": {
                    "secretName": CONNECT_USER,
                    "certificate": "user.crt",
                    "key": "user.key",
                },
            },
            "config": {
                "config.storage.replication.factor": rf,
                "offset.storage.replication.factor": rf,
                "status.storage.replication.factor": rf,
                # Topics are KafkaTopic resources; connectors never create them.
                "topic.creation.enable": "false",
                "config.providers": "directory",
                "config.providers.directory.class": DIRECTORY_PROVIDER,
                "config.providers.directory.param.allowed.paths": SINK_SECRET_DIR,
            },
            "resources": {
                "requests": {"cpu": c.resources.cpu, "memory": c.resources.memory},
                "limits": {"memory": c.resources.memory},
            },
            # seed 000 Scaling > Vertical: KAFKA_HEAP_OPTS "-Xms2G -Xmx4G".
            "jvmOptions": {"-Xms": _heap(c.heap_min), "-Xmx": _heap(c.heap_max)},
            "rack": {"type": "topology-label", "topologyKey": ZONE_LABEL},
            "metricsConfig": {"type": "strimziMetricsReporter"},
            "build": {"output": output, "plugins": plugins()},
            "template": template,
        },
    }


def connector_state(settings: StreamingSpec) -> str:
    """`stopped` on a DR site in standby (its Kafka receives the primary's topics from MirrorMaker 2;
    a running sink would write into the replica database, a running source would duplicate the
    primary's records). `stopped` rather than `paused`: a stopped connector has no tasks and holds no
    connections or consumer group membership, so MirrorMaker 2 can translate the sink group's offsets
    (it only writes offsets of groups without members), and promotion starts it with the translated
    offsets. The same on the primary site while it is a standby during a failback. `running`
    everywhere else, and on a promoted DR site."""
    dr = settings.dr
    if dr is not None and dr.role == "standby":
        return "stopped"
    return "running"


def kafka_connector(
    name: str, *, config: dict[str, Any], state: str, namespace: str, cluster: str = CONNECT_CLUSTER
) -> dict[str, Any]:
    """A KafkaConnector from a Connect REST config map (the spec carries class and tasks.max).

    Offsets (seed 000 Backup / Restore Kafka Connect Offsets) through Strimzi: the annotation
    `strimzi.io/connector-offsets=list` writes them to the ConfigMap offsets_configmap(name, "list"),
    `=alter` (connector stopped) applies the ConfigMap offsets_configmap(name, "restore") (key
    offsets.json, the REST API's format: what the daily backup stores). Both act only on the annotation."""
    rest = dict(config)
    rest.pop("name", None)
    cls = rest.pop("connector.class")
    tasks = int(rest.pop("tasks.max"))
    return {
        "apiVersion": API,
        "kind": "KafkaConnector",
        "metadata": {"name": name, "namespace": namespace, "labels": {"strimzi.io/cluster": cluster}},
        "spec": {
            "class": cls,
            "tasksMax": tasks,
            "state": state,
            "autoRestart": {"enabled": True},
            "listOffsets": {"toConfigMap": {"name": offsets_configmap(name, "list")}},
            "alterOffsets": {"fromConfigMap": {"name": offsets_configmap(name, "restore")}},
            "config": rest,
        },
    }


def offsets_configmap(connector: str, use: str) -> str:
    """ConfigMap of a connector's listed (use "list") or to-be-restored ("restore") offsets."""
    return f"{connector}-offsets" if use == "list" else f"{connector}-offsets-restore"


