"""The connector configs (pure): required keys per the connectors' documentation, topic names derived
from the table list, seed 000's figures, and the local stack's configs (stacks/compose/local.py
registers the same maps through the Connect REST API)."""

from __future__ import annotations

import json
import re

import pytest

from components.streaming.connect.config import sink_connector_config, source_connector_config
from lib.cdc import CdcTable
from tests.streaming.harness import settings_of

# Required keys, from the connectors' own documentation:
# - Kafka Connect (Apache Kafka docs, "Connector configuration"): name, connector.class, tasks.max;
#   a sink also needs `topics` or `topics.regex`.
# - Scylla CDC source README, "Configuration" table (Required = Yes): topic.prefix (since 1.2.3;
#   scylla.name before), scylla.cluster.ip.addresses, scylla.table.names.
# - Debezium JDBC sink, "Connector configuration properties": connection.url, connection.username,
#   connection.password; delete.enabled requires primary.key.mode record_key.
CONNECT_REQUIRED = {"name", "connector.class", "tasks.max"}
SCYLLA_REQUIRED = {"topic.prefix", "scylla.cluster.ip.addresses", "scylla.table.names"}
JDBC_REQUIRED = {"connection.url", "connection.username", "connection.password", "topics"}
REGISTRY = "http://schema-registry.kafka.svc:8081"
PASSWORD_REF = "${directory:/mnt/postgres-sink:password}"


def _source(stack: str = "prod", **overrides):
    return source_connector_config(
        settings_of(stack, overrides or None).streaming(),
        contact_points="scylla:9042",
        schema_registry_url=REGISTRY,
    )


def _sink(stack: str = "prod", **overrides):
    return sink_connector_config(
        settings_of(stack, overrides or None).streaming(),
        jdbc_url="jdbc:postgresql://warehouse-rw:5432/warehouse",
        username="cdc_sink",
        password=PASSWORD_REF,
        schema_registry_url=REGISTRY,
    )


@pytest.mark.parametrize("stack", ["local", "staging", "prod", "prod-dr"])
def test_required_keys_are_present_and_not_empty(stack):
    source, sink = _source(stack), _sink(stack)
    for config, required in (
        (source, CONNECT_REQUIRED | SCYLLA_REQUIRED),
        (sink, CONNECT_REQUIRED | JDBC_REQUIRED),
    ):
        missing = required - set(config)
        assert not missing, f"{config['name']} misses {sorted(missing)}"
        assert all(str(config[k]).strip() for k in required)
    # A connector class of the plugins the Connect image is built with.
    assert source["connector.class"] == "com.scylladb.cdc.debezium.connector.ScyllaConnector"
    assert sink["connector.class"] == "io.debezium.connector.jdbc.JdbcSinkConnector"
    # The Connect REST API takes string values only.
    assert all(isinstance(v, str) for v in (*source.values(), *sink.values()))


def test_topic_and_table_names_follow_the_table_list():
    settings = settings_of("prod")
    extra = CdcTable(
        name="payments", primary_key=["payment_id"], columns={"payment_id": "uuid", "amount": "decimal"}
    )
    scylla = settings.scylla.model_copy(update={"tables": [*settings.scylla.tables, extra]})
    settings = settings.model_copy(update={"scylla": scylla}).streaming()
    source = source_connector_config(settings, contact_points="s:9042", schema_registry_url=REGISTRY)
    sink = sink_connector_config(
        settings,
        jdbc_url="jdbc:postgresql://p:5432/warehouse",
        username="u",
        password=PASSWORD_REF,
        schema_registry_url=REGISTRY,
    )
    ks = settings.scylla.keyspace
    assert source["scylla.table.names"].split(",") == [f"{ks}.users", f"{ks}.orders", f"{ks}.payments"]
    # The connector names a table's topic "<topic.prefix>.<keyspace>.<table>" (its README).
    assert sink["topics"].split(",") == [f"cdc.scylla.{ks}.{t}" for t in ("users", "orders", "payments")]
    # The sink's router turns each topic into its table name, written into schema cdc_data
    # (seed 000 Restore PostgreSQL Data: SELECT COUNT(*) FROM cdc_data.users).
    regex, repl = re.compile(sink["transforms.table.regex"]), sink["transforms.table.replacement"]
    routed = [regex.fullmatch(t).expand(repl.replace("$", "\\")) for t in sink["topics"].split(",")]
    assert routed == ["users", "orders", "payments"]
    assert sink["collection.name.format"].replace("${topic}", routed[0]) == "cdc_data.users"


def test_seed_000_task_counts():
    # seed 000 Step 4: Deploy Connectors, expected output "RUNNING (4/4 tasks)" for both connectors.
    assert _source()["tasks.max"] == "4"
    assert _sink()["tasks.max"] == "4"
    # seed 000 Troubleshooting > High Replication Lag: the sink is raised to tasks.max 8.
    assert _sink(**{"connect.sink_tasks": 8})["tasks.max"] == "8"


def test_sink_upserts_deletes_and_evolves():
    sink = _sink()
    assert sink["insert.mode"] == "upsert"
    assert sink["primary.key.mode"] == "record_key"
    assert sink["delete.enabled"] == "true"
    assert sink["schema.evolution"] == "basic"


def test_sink_error_handling_and_dlq():
    sink = _sink()
    # seed 000 Critical Alerts (High Error Rate, DLQ Backlog) and Emergency Procedures > P1: DLQ
    # Accumulation (./scripts/replay-dlq.sh --topic dlq-scylla-source): failing records are tolerated,
    # logged, and kept in the DLQ topic with their error context.
    assert sink["errors.tolerance"] == "all"
    assert sink["errors.log.enable"] == "true"
    assert sink["errors.deadletterqueue.topic.name"] == "dlq-scylla-source"
    assert sink["errors.deadletterqueue.context.headers.enable"] == "true"
    # issue 4 Kafka: replication factor 3 in prod.
    assert sink["errors.deadletterqueue.topic.replication.factor"] == "3"


def test_source_writes_plain_values_with_avro():
    source, sink = _source(), _sink()
    assert source["cdc.output.format"] == "advanced"  # issue 4 item 5
    for config in (source, sink):
        assert (
            config["key.converter"] == config["value.converter"] == "io.confluent.connect.avro.AvroConverter"
        )
        assert config["value.converter.schema.registry.url"] == REGISTRY


def test_sink_password_must_be_a_provider_reference():
    with pytest.raises(ValueError, match="config provider reference"):
        sink_connector_config(
            settings_of("prod").streaming(),
            jdbc_url="jdbc:postgresql://p:5432/w",
            username="u",
            password="hunter2",
            schema_registry_url=REGISTRY,
        )
    with pytest.raises(ValueError, match="PostgreSQL JDBC URL"):
        sink_connector_config(
            settings_of("prod").streaming(),
            jdbc_url="postgres://p/w",
            username="u",
            password=PASSWORD_REF,
            schema_registry_url=REGISTRY,
        )
    with pytest.raises(ValueError, match="contact_points"):
        source_connector_config(
            settings_of("prod").streaming(), contact_points="", schema_registry_url=REGISTRY
        )


def test_local_stack_connector_configs():
    """What stacks/compose/local.py registers: the local stack file's sizes (four tasks each), the
    local services' addresses, and the password from the file provider."""
    settings = settings_of("local").streaming()
    source = source_connector_config(
        settings, contact_points="scylla:9042", schema_registry_url="http://schema-registry:8081"
    )
    sink = sink_connector_config(
        settings,
        jdbc_url="jdbc:postgresql://postgres:5432/warehouse",
        username="cdc_sink",
        password="${file:/etc/pipeline/secrets/postgres-sink.properties:password}",
        schema_registry_url="http://schema-registry:8081",
    )
    # Pulumi.local.yaml: connect.source_tasks 4, sink_tasks 4 (seed 000 Step 4: RUNNING (4/4 tasks));
    # kafka.replication_factor 1.
    assert (source["tasks.max"], sink["tasks.max"]) == ("4", "4")
    assert sink["errors.deadletterqueue.topic.replication.factor"] == "1"
    assert source["scylla.cluster.ip.addresses"] == "scylla:9042"
    assert sink["connection.password"].startswith("${file:")
    json.dumps([source, sink])  # the REST bodies the Connector resources PUT
