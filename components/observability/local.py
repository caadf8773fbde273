"""Observability files of the local (Docker) stack (pure: no Pulumi import).

The same rule file, Alertmanager routing and dashboards as the AWS stacks (rules.py, alertmanager.py,
dashboards.py); what differs locally is how series are found: static scrape targets of the
containers instead of PodMonitors/ServiceMonitors, and the JMX exporter agent in Kafka Connect
instead of the Strimzi Metrics Reporter, with rules that give its series the reporter's names
(so that the same recording rules, alerts and dashboard panels read them).
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from components.observability.alertmanager import SECRET_FILES, render_config
from components.observability.dashboards import all_dashboards
from components.observability.rules import render_rule_file

PROMETHEUS_CONFIG = "/etc/prometheus/prometheus.yml"
PROMETHEUS_RULES = "/etc/prometheus/rules/pipeline.yml"
ALERTMANAGER_CONFIG = "/etc/alertmanager/alertmanager.yml"
ALERTMANAGER_SECRETS = "/etc/alertmanager/secrets"
DASHBOARDS_DIR = "/var/lib/pipeline-dashboards"

# job -> target: only containers that serve Prometheus metrics on that port.
# - prometheus: its own /metrics; alertmanager :9093/metrics; grafana :3000/metrics (both built in);
# - scylla: the Prometheus API on 9180 (ScyllaDB's default);
# - kafka-connect: the JMX exporter agent docker/connect/Dockerfile installs (port 9404);
# - kafka-exporter: danielqsj/kafka_exporter on 9308 (consumer lag, topic offsets: the AWS stacks'
#   Strimzi Kafka Exporter is the same program);
# - node-exporter: the Docker host's CPU, memory and filesystems on 9100;
# - jaeger: Jaeger v2's own telemetry on 8888 (its default internal metrics endpoint).
# Not scraped: the Schema Registry's API port (it serves no metrics), PostgreSQL (no exporter runs
# locally; CloudNativePG's exporter is Kubernetes-only).
SCRAPE_TARGETS: dict[str, str] = {
    "prometheus": "localhost:9090",
    "alertmanager": "alertmanager:9093",
    "grafana": "grafana:3000",
    "scylla": "scylla:9180",
    "kafka-connect": "kafka-connect:9404",
    "kafka-exporter": "kafka-exporter:9308",
    "node-exporter": "node-exporter:9100",
    "jaeger": "jaeger:8888",
}


def prometheus_config(environment: str, targets: dict[str, str] | None = None) -> str:
    """Scrape configuration of the local containers, the rule file, and Alertmanager."""
    jobs = SCRAPE_TARGETS if targets is None else targets
    doc = {
        "global": {
            "scrape_interval": "15s",
            "evaluation_interval": "15s",
            "external_labels": {"environment": environment},
        },
        "rule_files": ["/etc/prometheus/rules/*.yml"],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [SCRAPE_TARGETS["alertmanager"]]}]}]},
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [target]}]} for job, target in jobs.items()
        ],
    }
    return yaml.safe_dump(doc, sort_keys=False)


def prometheus_files(environment: str) -> dict[str, str]:
    return {PROMETHEUS_CONFIG: prometheus_config(environment), PROMETHEUS_RULES: render_rule_file()}


def alertmanager_files() -> dict[str, str]:
    """The AWS stacks' routing; local receivers go nowhere, but each key file the config reads exists."""
    return {
        ALERTMANAGER_CONFIG: render_config(ALERTMANAGER_SECRETS),
        **{f"{ALERTMANAGER_SECRETS}/{key}": "not-configured-locally\n" for key in SECRET_FILES},
    }


def grafana_datasources() -> dict[str, Any]:
    """Prometheus under uid `prometheus` (the uid every dashboard panel names) and Jaeger."""
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Prometheus",
                "type": "prometheus",
                "uid": "prometheus",
                "url": "http://prometheus:9090",
                "access": "proxy",
                "isDefault": True,
            },
            {
                "name": "Jaeger",
                "type": "jaeger",
                "uid": "jaeger",
                "url": "http://jaeger:16686",
                "access": "proxy",
            },
        ],
    }


def grafana_files() -> dict[str, str]:
    """Provisioning (datasources, a file dashboard provider) and every dashboard as <uid>.json."""
    provider = {
        "apiVersion": 1,
        "providers": [{"name": "pipeline", "type": "file", "options": {"path": DASHBOARDS_DIR}}],
    }
    return {
        "/etc/grafana/provisioning/datasources/prometheus.yaml": yaml.safe_dump(grafana_datasources()),
        "/etc/grafana/provisioning/dashboards/pipeline.yaml": yaml.safe_dump(provider),
        **{f"{DASHBOARDS_DIR}/{uid}.json": json.dumps(d, indent=2) for uid, d in all_dashboards().items()},
    }


# Kafka Connect's MBeans (Apache Kafka documentation, "Connect Monitoring") as the Strimzi Metrics
# Reporter names them (exporters.yaml, strimzi-metrics-reporter: kafka_connect_<group>_<name>):
#   kafka.connect:type=connector-metrics,connector=<c>  attribute status (a string: running, failed, ...)
#     -> kafka_connect_connector_metrics_status_info{connector, status} 1
#   kafka.connect:type=<group>,connector=<c>,task=<t>   attribute <name>
#     -> kafka_connect_<group>_<name>{connector, task}
#   kafka.connect:type=<group>,connector=<c>            attribute <name>
#     -> kafka_connect_<group>_<name>{connector}
#   kafka.connect:type=<group>                          attribute <name> -> kafka_connect_<group>_<name>
# The JMX exporter replaces every character a metric name cannot hold ('-') with '_'.
CONNECT_JMX_RULES: list[dict[str, Any]] = [
    {
        "pattern": "kafka.connect<type=connector-metrics, connector=(.+)><>status: ([a-z-]+)",
        "name": "kafka_connect_connector_metrics_status_info",
        "value": 1,
        "labels": {"connector": "$1", "status": "$2"},
        "type": "GAUGE",
    },
    {
        "pattern": "kafka.connect<type=(.+), connector=(.+), task=(.+)><>([a-z-]+)",
        "name": "kafka_connect_$1_$4",
        "labels": {"connector": "$2", "task": "$3"},
    },
    {
        "pattern": "kafka.connect<type=(.+), connector=(.+)><>([a-z-]+)",
        "name": "kafka_connect_$1_$3",
        "labels": {"connector": "$2"},
    },
    {"pattern": "kafka.connect<type=(.+)><>([a-z-]+)", "name": "kafka_connect_$1_$2"},
]


def connect_jmx_exporter_config() -> str:
    """The JMX exporter agent's config for the Connect worker: only Connect's own MBeans."""
    doc = {
        "lowercaseOutputName": True,
        "lowercaseOutputLabelNames": True,
        "includeObjectNames": ["kafka.connect:*"],
        "rules": CONNECT_JMX_RULES,
    }
    return yaml.safe_dump(doc, sort_keys=False)
