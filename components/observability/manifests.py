"""Kubernetes manifests and Helm values of the observability stack (pure: no Pulumi import).

kube-prometheus-stack (Prometheus, Alertmanager, Grafana, the Prometheus operator), the PrometheusRule
of the rule data, the Pod/ServiceMonitors of the data plane, EC2 service discovery of the module
fleets, dashboard ConfigMaps for the Grafana sidecar, and tracing: an OpenTelemetryCollector running
Jaeger v2 behind an internal load balancer that the fleets send OTLP to.
"""

from __future__ import annotations

import json
from typing import Any

from components.observability.alertmanager import config as alertmanager_config
from components.observability.dashboards import all_dashboards
from components.observability.rules import rule_groups
from components.observability.settings import ObservabilitySettings
from lib import versions
from lib.kube.load_balancer import INTERNAL_NLB_CROSS_ZONE
from lib.kube.placement import placement

MONITORING_API = "monitoring.coreos.com/v1"
PART_OF = {"app.kubernetes.io/part-of": "pipeline-infra"}
PROMETHEUS_SA = "prometheus"
ALERTMANAGER_SECRET = "alertmanager-receivers"  # keys: alertmanager.SECRET_FILES
GRAFANA_ADMIN_SECRET = "grafana-admin"
# kube-prometheus-stack mounts alertmanagerSpec.secrets at /etc/alertmanager/secrets/<name>/
ALERTMANAGER_SECRETS_DIR = f"/etc/alertmanager/secrets/{ALERTMANAGER_SECRET}"
COLLECTOR = "jaeger"
OTLP_GRPC, OTLP_HTTP, JAEGER_UI = 4317, 4318, 16686
# seed 003 Log Retention: application data hot 7 days; the traces are kept as long.
TRACE_RETENTION = "168h"
FLEET_MODULES = ("alpha", "beta", "gamma")


# The fleets' traffic states (the `traffic` label of their series; rules.TRAFFIC_MATCHER selects active).
TRAFFIC_STATES = ("active", "idle", "standby")
# Fleet scrape jobs: the node exporter on fleets.metrics_port, and each module's own /metrics on its
# health/admin port (seed 003: `curl http://alpha:8080/metrics`).
FLEET_JOBS = ("fleet-nodes", "fleet-modules")


def traffic_relabel(*, active_colours: tuple[str, ...], standby: bool) -> list[dict[str, Any]]:
    """Relabelling that sets `traffic` from the instance's Colour tag and the stack's traffic state:
    on a DR site before promotion every fleet is `standby`; otherwise a colour that receives traffic
    (traffic.active, or a weight above 0; a stack's own single colour) is `active`, any other `idle`."""
    if standby:
        return [{"target_label": "traffic", "replacement": "standby"}]
    rules: list[dict[str, Any]] = [{"target_label": "traffic", "replacement": "idle"}]
    if active_colours:
        rules.append(
            {
                "source_labels": ["__meta_ec2_tag_Colour"],
                "regex": "|".join(sorted(active_colours)),
                "target_label": "traffic",
                "replacement": "active",
            }
        )
    return rules


def ec2_scrape_config(
    *,
    environment: str,
    region: str,
    port: int,
    job: str = "fleet-nodes",
    path: str = "/metrics",
    active_colours: tuple[str, ...] = ("blue", "green"),
    standby: bool = False,
) -> dict[str, Any]:
    """Prometheus scrape job of the module fleets found by EC2 tags (Environment, Module) on `port`;
    the module and colour labels come from the tags the fleet component sets, `traffic` from the
    stack's traffic state (traffic_relabel)."""
    return {
        "job_name": job,
        "metrics_path": path,
        "ec2_sd_configs": [
            {
                "region": region,
                "port": port,
                "refresh_interval": "60s",
                "filters": [
                    {"name": "tag:Environment", "values": [environment]},
                    {"name": "tag:Module", "values": list(FLEET_MODULES)},
                    {"name": "instance-state-name", "values": ["running"]},
                ],
            }
        ],
        "relabel_configs": [
            {
                "source_labels": ["__meta_ec2_private_ip"],
                "regex": "(.+)",
                "replacement": f"${{1}}:{port}",
                "target_label": "__address__",
            },
            {"source_labels": ["__meta_ec2_tag_Module"], "target_label": "module"},
            {"source_labels": ["__meta_ec2_tag_Colour"], "target_label": "colour"},
            {"source_labels": ["__meta_ec2_tag_Environment"], "target_label": "environment"},
            {"source_labels": ["__meta_ec2_instance_id"], "target_label": "instance_id"},
            {"source_labels": ["__meta_ec2_availability_zone"], "target_label": "zone"},
            *traffic_relabel(active_colours=active_colours, standby=standby),
        ],
    }


def fleet_scrape_configs(
    *,
    environment: str,
    region: str,
    metrics_port: int,
    module_port: int,
    active_colours: tuple[str, ...],
    standby: bool,
) -> list[dict[str, Any]]:
    """Both fleet jobs: node exporter and the modules' own metrics endpoint."""
    common: dict[str, Any] = {
        "environment": environment,
        "region": region,
        "active_colours": active_colours,
        "standby": standby,
    }
    return [
        ec2_scrape_config(job=FLEET_JOBS[0], port=metrics_port, **common),
        ec2_scrape_config(job=FLEET_JOBS[1], port=module_port, **common),
    ]


def ec2_discovery_policy() -> str:
    """The only permission EC2 service discovery needs."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["ec2:DescribeInstances"], "Resource": "*"}],
        }
    )


def kube_prometheus_stack_values(
    obs: ObservabilitySettings,
    *,
    namespace: str,
    environment: str,
    region: str,
    storage_class: str,
    metrics_port: int,
    prometheus_role_arn: Any | None,
    module_port: int = 8080,
    active_colours: tuple[str, ...] = ("blue", "green"),
    standby: bool = False,
) -> dict[str, Any]:
    """Values of the kube-prometheus-stack chart. No secret: Alertmanager reads its keys from the
    mounted Secret, Grafana its admin from an existing Secret."""
    p = placement()
    prometheus_sa: dict[str, Any] = {"create": True, "name": PROMETHEUS_SA}
    scrape: list[dict[str, Any]] = []
    if prometheus_role_arn is not None:
        prometheus_sa["annotations"] = {"eks.amazonaws.com/role-arn": prometheus_role_arn}
        scrape += fleet_scrape_configs(
            environment=environment,
            region=region,
            metrics_port=metrics_port,
            module_port=module_port,
            active_colours=active_colours,
            standby=standby,
        )
    return {
        # The CRDs upgrade with the chart (Helm never upgrades a chart's crds/ on its own).
        "crds": {"enabled": True, "upgradeJob": {"enabled": True}},
        # EKS runs these control-plane parts; they cannot be scraped.
        "kubeEtcd": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeControllerManager": {"enabled": False},
        "kubeProxy": {"enabled": False},
        "defaultRules": {
            "create": True,
            "rules": {
                "etcd": False,
                "kubeSchedulerAlerting": False,
                "kubeSchedulerRecording": False,
                "kubeControllerManager": False,
                "kubeProxy": False,
            },
        },
        "prometheusOperator": {**p, "admissionWebhooks": {"patch": dict(p)}},
        "kube-state-metrics": dict(p),
        "prometheus": {
            "serviceAccount": prometheus_sa,
            "prometheusSpec": {
                **p,
                "replicas": 2,
                "retention": f"{obs.retention_days}d",
                "retentionSize": f"{obs.retention_size_gib}GiB",
                "externalLabels": {"environment": environment},
                # Every PrometheusRule, ServiceMonitor, PodMonitor, Probe and ScrapeConfig counts.
                "ruleSelectorNilUsesHelmValues": False,
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
                "probeSelectorNilUsesHelmValues": False,
                "scrapeConfigSelectorNilUsesHelmValues": False,
                "storageSpec": {
                    "volumeClaimTemplate": {
                        "spec": {
                            "storageClassName": storage_class,
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": f"{obs.prometheus_storage_gib}Gi"}},
                        }
                    }
                },
                "additionalScrapeConfigs": scrape,
            },
        },
        "alertmanager": {
            "config": alertmanager_config(ALERTMANAGER_SECRETS_DIR, obs.alerting),
            "alertmanagerSpec": {
                **p,
                "replicas": 2,
                "secrets": [ALERTMANAGER_SECRET],
                "storage": {
                    "volumeClaimTemplate": {
                        "spec": {
                            "storageClassName": storage_class,
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "10Gi"}},
                        }
                    }
                },
            },
        },
        "grafana": {
            **p,
            "image": {"tag": versions.GRAFANA_VERSION},
            "admin": {
                "existingSecret": GRAFANA_ADMIN_SECRET,
                "userKey": "admin-user",
                "passwordKey": "admin-password",
            },
            "grafana.ini": {"auth.anonymous": {"enabled": False}, "users": {"allow_sign_up": False}},
            "sidecar": {
                "dashboards": {
                    "enabled": True,
                    "label": "grafana_dashboard",
                    "labelValue": "1",
                    "searchNamespace": "ALL",
                },
                "datasources": {"enabled": True, "defaultDatasourceEnabled": True, "uid": "prometheus"},
            },
            "additionalDataSources": [
                {
                    "name": "Jaeger",
                    "type": "jaeger",
                    "uid": "jaeger",
                    "access": "proxy",
                    "url": f"http://{COLLECTOR}-collector.{namespace}.svc:{JAEGER_UI}",
                }
            ],
        },
    }


def prometheus_rule(*, name: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": MONITORING_API,
        "kind": "PrometheusRule",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(PART_OF)},
        "spec": {"groups": rule_groups()},
    }


def strimzi_pod_monitors(*, namespace: str, kafka_namespace: str) -> list[dict[str, Any]]:
    """Strimzi Metrics Reporter (and Kafka Exporter) endpoints: port tcp-prometheus (9404)."""

    def monitor(name: str, kinds: list[str]) -> dict[str, Any]:
        return {
            "apiVersion": MONITORING_API,
            "kind": "PodMonitor",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(PART_OF)},
            "spec": {
                "namespaceSelector": {"matchNames": [kafka_namespace]},
                "selector": {
                    "matchExpressions": [{"key": "strimzi.io/kind", "operator": "In", "values": kinds}]
                },
                "podMetricsEndpoints": [
                    {
                        "port": "tcp-prometheus",
                        "path": "/metrics",
                        "interval": "30s",
                        "relabelings": [
                            {
                                "sourceLabels": ["__meta_kubernetes_pod_label_strimzi_io_cluster"],
                                "targetLabel": "strimzi_cluster",
                            },
                            {"sourceLabels": ["__meta_kubernetes_pod_node_name"], "targetLabel": "node"},
                        ],
                    }
                ],
            },
        }

    return [
        monitor("strimzi-kafka", ["Kafka"]),
        monitor("strimzi-connect", ["KafkaConnect", "KafkaMirrorMaker2"]),
    ]


def scylla_service_monitor(*, namespace: str, scylla_namespace: str) -> dict[str, Any]:
    """ScyllaDB's Prometheus API (port "prometheus", 9180) of every member Service; job="scylla"."""
    return {
        "apiVersion": MONITORING_API,
        "kind": "ServiceMonitor",
        "metadata": {"name": "scylla", "namespace": namespace, "labels": dict(PART_OF)},
        "spec": {
            "namespaceSelector": {"matchNames": [scylla_namespace]},
            "selector": {"matchLabels": {"scylla-operator.scylladb.com/scylla-service-type": "member"}},
            "endpoints": [
                {
                    "port": "prometheus",
                    "interval": "30s",
                    "relabelings": [
                        {"targetLabel": "job", "replacement": "scylla", "action": "replace"},
                        {
                            "sourceLabels": ["__meta_kubernetes_service_label_scylla_cluster"],
                            "targetLabel": "cluster",
                        },
                        {
                            "sourceLabels": ["__meta_kubernetes_pod_label_scylla_datacenter"],
                            "targetLabel": "dc",
                        },
                    ],
                }
            ],
        },
    }


def schema_registry_service_monitor(*, namespace: str, registry_namespace: str) -> dict[str, Any]:
    """The Schema Registry's metrics port (named "metrics": its JMX exporter)."""
    return {
        "apiVersion": MONITORING_API,
        "kind": "ServiceMonitor",
        "metadata": {"name": "schema-registry", "namespace": namespace, "labels": dict(PART_OF)},
        "spec": {
            "namespaceSelector": {"matchNames": [registry_namespace]},
            "selector": {"matchLabels": {"app.kubernetes.io/name": "schema-registry"}},
            "endpoints": [{"port": "metrics", "path": "/metrics", "interval": "30s"}],
        },
    }


def dashboards_configmap(namespace: str) -> dict[str, Any]:
    """One ConfigMap with every dashboard (key <uid>.json) for the Grafana sidecar, which loads the
    ConfigMaps labelled grafana_dashboard: "1"."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "pipeline-dashboards",
            "namespace": namespace,
            "labels": {"grafana_dashboard": "1", **PART_OF},
        },
        "data": {f"{uid}.json": json.dumps(d, sort_keys=True) for uid, d in all_dashboards().items()},
    }


def jaeger_config() -> dict[str, Any]:
    """Jaeger v2 (an OpenTelemetry collector distribution): OTLP in, Badger storage, query UI."""
    return {
        "extensions": {
            "jaeger_storage": {
                "backends": {
                    "traces": {
                        "badger": {
                            "directories": {"keys": "/badger/keys", "values": "/badger/values"},
                            "ephemeral": False,
                            "ttl": {"spans": TRACE_RETENTION},
                        }
                    }
                }
            },
            "jaeger_query": {"storage": {"traces": "traces"}},
            "healthcheckv2": {"use_v2": True, "http": {"endpoint": "0.0.0.0:13133"}},
        },
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": f"0.0.0.0:{OTLP_GRPC}"},
                    "http": {"endpoint": f"0.0.0.0:{OTLP_HTTP}"},
                }
            }
        },
        "processors": {"batch": {}},
        "exporters": {"jaeger_storage_exporter": {"trace_storage": "traces"}},
        "service": {
            "extensions": ["jaeger_storage", "jaeger_query", "healthcheckv2"],
            "pipelines": {
                "traces": {
                    "receivers": ["otlp"],
                    "processors": ["batch"],
                    "exporters": ["jaeger_storage_exporter"],
                }
            },
        },
    }


# The collector's pod: requests size its node, the memory limit bounds Badger's caches (no seed names a
# figure for tracing; a sizing choice for one collector of the estate's trace volume).
JAEGER_RESOURCES = {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}


def jaeger_collector(*, namespace: str, storage_class: str) -> dict[str, Any]:
    p = placement()
    return {
        "apiVersion": "opentelemetry.io/v1beta1",
        "kind": "OpenTelemetryCollector",
        "metadata": {"name": COLLECTOR, "namespace": namespace, "labels": dict(PART_OF)},
        "spec": {
            # Badger is a single-writer store: one replica with its own volume.
            "mode": "statefulset",
            "replicas": 1,
            "image": versions.IMAGES["jaeger"],
            "resources": JAEGER_RESOURCES,
            "config": jaeger_config(),
            "ports": [{"name": "jaeger-ui", "port": JAEGER_UI, "protocol": "TCP"}],
            "podSecurityContext": {"fsGroup": 10001, "runAsNonRoot": True, "runAsUser": 10001},
            "volumeMounts": [{"name": "badger", "mountPath": "/badger"}],
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "badger"},
                    "spec": {
                        "storageClassName": storage_class,
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "50Gi"}},
                    },
                }
            ],
            **p,
        },
    }


def otlp_service(*, namespace: str) -> dict[str, Any]:
    """Internal NLB in front of the collector's OTLP ports: the address the EC2 fleets send to."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "otlp",
            "namespace": namespace,
            "labels": dict(PART_OF),
            "annotations": dict(INTERNAL_NLB_CROSS_ZONE),
        },
        "spec": {
            "type": "LoadBalancer",
            # the pods the OpenTelemetry operator runs for the collector
            "selector": {
                "app.kubernetes.io/component": "opentelemetry-collector",
                "app.kubernetes.io/instance": f"{namespace}.{COLLECTOR}",
            },
            "ports": [
                {"name": "otlp-grpc", "port": OTLP_GRPC, "targetPort": OTLP_GRPC, "protocol": "TCP"},
                {"name": "otlp-http", "port": OTLP_HTTP, "targetPort": OTLP_HTTP, "protocol": "TCP"},
            ],
        },
    }


def opentelemetry_operator_values() -> dict[str, Any]:
    p = placement()
    return {
        **p,
        "manager": {
            "collectorImage": {
                "repository": versions.OTEL_COLLECTOR_REPOSITORY,
                "tag": versions.OTEL_COLLECTOR_VERSION,
            }
        },
        # The webhook certificate comes from the chart itself (no dependency on cert-manager).
        "admissionWebhooks": {"certManager": {"enabled": False}, "autoGenerateCert": {"enabled": True}},
    }
