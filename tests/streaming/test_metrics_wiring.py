"""The scrape side (observability) and the exposing side (streaming) agree: every ServiceMonitor port
exists on the Service it selects, and the exporters the alert rules read are switched on."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def prod(plan_of):
    return plan_of("prod")


def _by_kind(plan, kind):
    # Declared objects only (a read of an existing object, Service.get, has no inputs).
    return [r.inputs for r in plan.kubernetes()
            if r.inputs.get("metadata") and (r.inputs.get("kind") == kind or r.type.endswith(f":{kind}"))]


def test_schema_registry_service_exposes_the_port_its_service_monitor_scrapes(prod):
    monitors = [m for m in _by_kind(prod, "ServiceMonitor") if m["metadata"]["name"] == "schema-registry"]
    assert len(monitors) == 1
    selector = monitors[0]["spec"]["selector"]["matchLabels"]
    wanted = {e["port"] for e in monitors[0]["spec"]["endpoints"]}
    services = [s for s in _by_kind(prod, "Service")
                if selector.items() <= (s["metadata"].get("labels") or {}).items()]
    assert services, "no Service carries the labels the ServiceMonitor selects"
    ports = {p["name"] for s in services for p in s["spec"]["ports"]}
    assert wanted <= ports


def test_kafka_exporter_is_on_for_the_lag_and_dlq_alerts(prod):
    # seed 000 Monitoring and Alerting: DLQ depth and consumer lag; Kafka Exporter provides
    # kafka_consumergroup_lag and kafka_topic_partition_current_offset, which the rules read.
    from components.observability.rules import render_rule_file

    rules = render_rule_file()
    assert "kafka_consumergroup_lag" in rules and "kafka_topic_partition_current_offset" in rules
    kafka = _by_kind(prod, "Kafka")
    assert len(kafka) == 1 and "kafkaExporter" in kafka[0]["spec"]
