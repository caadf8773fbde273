"""Kafka Connect REST configs of the two CDC connectors (pure: no Pulumi import).

The local Docker stack registers these maps through the Connect REST API; the AWS stacks put the same
maps (minus `name`, `connector.class` and `tasks.max`, which KafkaConnector carries in its spec) into
Strimzi KafkaConnector resources. One source of truth for both.

Connector documentation the keys come from:
- Scylla CDC source (scylladb/scylla-cdc-source-connector README, "Configuration"): required
  `topic.prefix` (since 1.2.3; `scylla.name` before), `scylla.cluster.ip.addresses`,
  `scylla.table.names` ("<keyspace>.<table>,..."); the topic of a table is
  "<topic.prefix>.<keyspace>.<table>". 2.0.x adds `cdc.output.format` (`legacy` wraps every non-key
  column in a {"value": ...} cell; `advanced` writes plain values, which a JDBC sink can upsert).
- Debezium JDBC sink (Debezium documentation, "JDBC connector configuration properties"): required
  `connection.url`, `connection.username`, `connection.password`; `insert.mode` upsert,
  `primary.key.mode` record_key (needed by `delete.enabled`), `schema.evolution` basic,
  `collection.name.format` (Debezium 3.x name of the former `table.name.format`).
- Kafka Connect sink error handling (Apache Kafka, KIP-298): `errors.tolerance`, `errors.log.enable`,
  `errors.log.include.messages`, `errors.deadletterqueue.topic.name`,
  `errors.deadletterqueue.context.headers.enable`, `errors.deadletterqueue.topic.replication.factor`.
"""

from __future__ import annotations

from typing import Any

from components.streaming.spec import StreamingSpec

SOURCE_CLASS = "com.scylladb.cdc.debezium.connector.ScyllaConnector"
SINK_CLASS = "io.debezium.connector.jdbc.JdbcSinkConnector"
AVRO_CONVERTER = "io.confluent.connect.avro.AvroConverter"

SOURCE_NAME = "scylla-source"
SINK_NAME = "postgres-sink"
# seed 000 Emergency Procedures > P1: DLQ Accumulation: `./scripts/replay-dlq.sh --topic dlq-scylla-source`.
# The DLQ holds the CDC records of scylla-source that the sink could not write; replaying them means
# sending them to the sink again.
DLQ_TOPIC = "dlq-scylla-source"
# The sink writes into this PostgreSQL schema of the warehouse database (seed 000 Restore PostgreSQL
# Data: `SELECT COUNT(*) FROM cdc_data.users`).
SINK_SCHEMA = "cdc_data"
# Debezium's heartbeat topic prefix (topic.heartbeat.prefix default); the Scylla connector moves its
# offsets with heartbeats, so the topic exists and receives writes.
HEARTBEAT_PREFIX = "__debezium-heartbeat"


def cdc_topics(settings: StreamingSpec) -> list[str]:
    """The topic of every CDC table: "<topic.prefix>.<keyspace>.<table>" (the connector's naming)."""
    prefix, keyspace = settings.connect.topic_prefix, settings.scylla.keyspace
    return [f"{prefix}.{keyspace}.{table.name}" for table in settings.scylla.tables]


def heartbeat_topic(settings: StreamingSpec) -> str:
    return f"{HEARTBEAT_PREFIX}.{settings.connect.topic_prefix}"


def _avro(schema_registry_url: str) -> dict[str, str]:
    return {
        "key.converter": AVRO_CONVERTER,
        "key.converter.schema.registry.url": schema_registry_url,
        "value.converter": AVRO_CONVERTER,
        "value.converter.schema.registry.url": schema_registry_url,
    }


def source_connector_config(
    settings: StreamingSpec, *, contact_points: str, schema_registry_url: str
) -> dict:
    """scylla-source: the Scylla CDC source connector reading every CDC table of settings.scylla."""
    if not contact_points:
        raise ValueError("contact_points must name at least one Scylla node (host:port,...)")
    keyspace = settings.scylla.keyspace
    config: dict[str, Any] = {
        "name": SOURCE_NAME,
        "connector.class": SOURCE_CLASS,
        "tasks.max": str(settings.connect.source_tasks),
        "topic.prefix": settings.connect.topic_prefix,
        "scylla.cluster.ip.addresses": contact_points,
        "scylla.table.names": ",".join(f"{keyspace}.{t.name}" for t in settings.scylla.tables),
        # Plain column values instead of {"value": ...} cells, so that the JDBC sink can upsert rows.
        "cdc.output.format": "advanced",
        # The whole row after each change (the table's CDC postimage), so that an upsert of an UPDATE
        # that set some columns does not write NULL into the others. Needs the tables created
        # WITH cdc = {'enabled': true, 'postimage': true}.
        "cdc.include.after": "full",
        # Reads of the CDC log at QUORUM (the connector's default, stated so a reader sees it).
        "scylla.consistency.level": "QUORUM",
        **_avro(schema_registry_url),
    }
    return config


def sink_connector_config(
    settings: StreamingSpec, *, jdbc_url: str, username: str, password: str, schema_registry_url: str
) -> dict:
    """postgres-sink: the Debezium JDBC sink upserting every CDC topic into schema cdc_data.

    `password` is a config-provider reference (such as ${directory:/mnt/postgres-sink:password} or
    ${file:...}), never a literal: the map is stored in Kafka Connect's config topic and shown by its
    REST API.
    """
    if not jdbc_url.startswith("jdbc:postgresql://"):
        raise ValueError(f"jdbc_url must be a PostgreSQL JDBC URL (got {jdbc_url!r})")
    if not (password.startswith("${") and password.endswith("}")):
        raise ValueError("password must be a config provider reference such as ${directory:/path:key}")
    topics = cdc_topics(settings)
    prefix = settings.connect.topic_prefix.replace(".", r"\.")
    config: dict[str, Any] = {
        "name": SINK_NAME,
        "connector.class": SINK_CLASS,
        # seed 000 Step 4: RUNNING (4/4 tasks); High Replication Lag: tasks.max 8.
        "tasks.max": str(settings.connect.sink_tasks),
        "topics": ",".join(topics),
        "connection.url": jdbc_url,
        "connection.username": username,
        "connection.password": password,
        "insert.mode": "upsert",
        "primary.key.mode": "record_key",
        "delete.enabled": "true",
        "schema.evolution": "basic",
        # "<prefix>.<keyspace>.<table>" -> "<table>", written as cdc_data.<table>.
        "transforms": "table",
        "transforms.table.type": "org.apache.kafka.connect.transforms.RegexRouter",
        "transforms.table.regex": rf"{prefix}\.[^.]+\.([^.]+)",
        "transforms.table.replacement": "$1",
        "collection.name.format": f"{SINK_SCHEMA}.${{topic}}",
        # seed 000 Critical Alerts (High Error Rate, DLQ Backlog): bad records go to the DLQ, logged.
        "errors.tolerance": "all",
        "errors.log.enable": "true",
        "errors.log.include.messages": "true",
        "errors.deadletterqueue.topic.name": DLQ_TOPIC,
        "errors.deadletterqueue.topic.replication.factor": str(settings.kafka.replication_factor),
        "errors.deadletterqueue.context.headers.enable": "true",
        **_avro(schema_registry_url),
    }
    return config
