"""Confluent Schema Registry on Kubernetes: Deployment, Service and PodDisruptionBudget as plain dicts
(pure: no Pulumi import). It stores schemas in Kafka over the TLS listener with the certificate of
its KafkaUser (Strimzi's user Secret: user.p12 + user.password) and trusts the cluster CA (Strimzi's
<cluster>-cluster-ca-cert Secret: ca.p12 + ca.password)."""

from __future__ import annotations

from typing import Any

from components.streaming.kafka.manifests import (
    SCHEMA_REGISTRY_USER,
    SCHEMAS_TOPIC,
    bootstrap_address,
    cluster_ca_secret,
)
from components.streaming.spec import StreamingSpec
from lib import versions

NAME = "schema-registry"
PORT = 8081  # the Confluent-compatible API (seed 000 Schema Registry Health: localhost:8081)
LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "pipeline-infra"}
_USER_DIR, _CA_DIR = "/mnt/kafka-user", "/mnt/cluster-ca"
# Prometheus metrics: the JMX exporter Java agent (the image ships none), fetched by an init container.
METRICS_PORT = 9404
_AGENT_DIR, _AGENT_CONFIG_DIR = "/opt/jmx-exporter", "/etc/jmx-exporter"
JMX_CONFIGMAP = f"{NAME}-jmx-exporter"
_AGENT_JAR = f"jmx_prometheus_javaagent-{versions.JMX_PROMETHEUS_JAVAAGENT}.jar"
_AGENT_URL = (
    f"https://repo1.maven.org/maven2/io/prometheus/jmx/jmx_prometheus_javaagent/"
    f"{versions.JMX_PROMETHEUS_JAVAAGENT}/{_AGENT_JAR}"
)
# Above the host's UID range (checkov CKV_K8S_40); the Confluent images run under any UID.
UID = 10001


def url(namespace: str) -> str:
    return f"http://{NAME}.{namespace}.svc:{PORT}"


def _secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def deployment(settings: StreamingSpec, *, namespace: str, placement: dict[str, Any]) -> dict[str, Any]:
    sr, kafka = settings.schema_registry, settings.kafka
    env = [
        {"name": "SCHEMA_REGISTRY_HOST_NAME", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "SCHEMA_REGISTRY_LISTENERS", "value": f"http://0.0.0.0:{PORT}"},
        {
            "name": "SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS",
            "value": f"SSL://{bootstrap_address(namespace)}",
        },
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_SECURITY_PROTOCOL", "value": "SSL"},
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_TOPIC", "value": SCHEMAS_TOPIC},
        {
            "name": "SCHEMA_REGISTRY_KAFKASTORE_TOPIC_REPLICATION_FACTOR",
            "value": str(kafka.replication_factor),
        },
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_SSL_KEYSTORE_TYPE", "value": "PKCS12"},
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_SSL_KEYSTORE_LOCATION", "value": f"{_USER_DIR}/user.p12"},
        _secret_env(
            "SCHEMA_REGISTRY_KAFKASTORE_SSL_KEYSTORE_PASSWORD", SCHEMA_REGISTRY_USER, "user.password"
        ),
        _secret_env("SCHEMA_REGISTRY_KAFKASTORE_SSL_KEY_PASSWORD", SCHEMA_REGISTRY_USER, "user.password"),
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_SSL_TRUSTSTORE_TYPE", "value": "PKCS12"},
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_SSL_TRUSTSTORE_LOCATION", "value": f"{_CA_DIR}/ca.p12"},
        _secret_env("SCHEMA_REGISTRY_KAFKASTORE_SSL_TRUSTSTORE_PASSWORD", cluster_ca_secret(), "ca.password"),
        # Instances elect a leader in this consumer group (ACL: group prefix schema-registry).
        {"name": "SCHEMA_REGISTRY_SCHEMA_REGISTRY_GROUP_ID", "value": NAME},
        {"name": "SCHEMA_REGISTRY_SCHEMA_COMPATIBILITY_LEVEL", "value": sr.compatibility},
        {"name": "SCHEMA_REGISTRY_HEAP_OPTS", "value": "-Xms256M -Xmx512M"},
        {
            "name": "SCHEMA_REGISTRY_OPTS",
            "value": f"-javaagent:{_AGENT_DIR}/{_AGENT_JAR}={METRICS_PORT}:{_AGENT_CONFIG_DIR}/config.yaml",
        },
    ]
    probe_http = {"path": "/subjects", "port": "http"}
    container = {
        "name": NAME,
        "image": versions.IMAGES["schema-registry"],
        "imagePullPolicy": "Always",
        "ports": [
            {"name": "http", "containerPort": PORT, "protocol": "TCP"},
            {"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"},
        ],
        "env": env,
        "resources": {
            "requests": {"cpu": "250m", "memory": "768Mi"},
            "limits": {"cpu": "1", "memory": "768Mi"},
        },
        "readinessProbe": {
            "httpGet": probe_http,
            "initialDelaySeconds": 10,
            "periodSeconds": 10,
            "timeoutSeconds": 5,
            "failureThreshold": 3,
        },
        "livenessProbe": {
            "httpGet": probe_http,
            "initialDelaySeconds": 60,
            "periodSeconds": 20,
            "timeoutSeconds": 5,
            "failureThreshold": 6,
        },
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": UID,
            "runAsGroup": UID,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [
            # The image's entrypoint renders its properties into /etc/schema-registry: writable emptyDir.
            {"name": "config", "mountPath": "/etc/schema-registry"},
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "kafka-user", "mountPath": _USER_DIR, "readOnly": True},
            {"name": "cluster-ca", "mountPath": _CA_DIR, "readOnly": True},
            {"name": "jmx-exporter", "mountPath": _AGENT_DIR, "readOnly": True},
            {"name": "jmx-exporter-config", "mountPath": _AGENT_CONFIG_DIR, "readOnly": True},
        ],
    }
    # Fetches the pinned agent and checks it against Maven Central's published SHA-1 before the
    # registry starts (a failed download or checksum keeps the pod from starting).
    agent = {
        "name": "jmx-exporter-agent",
        "image": versions.IMAGES["curl"],
        "imagePullPolicy": "Always",
        "command": [
            "sh",
            "-ec",
            f"cd {_AGENT_DIR} && curl -fsSL -o {_AGENT_JAR} {_AGENT_URL} && "
            f'echo "$(curl -fsSL {_AGENT_URL}.sha1)  {_AGENT_JAR}" | sha1sum -c -',
        ],
        "resources": {
            "requests": {"cpu": "50m", "memory": "64Mi"},
            "limits": {"cpu": "200m", "memory": "64Mi"},
        },
        "securityContext": container["securityContext"],
        "volumeMounts": [{"name": "jmx-exporter", "mountPath": _AGENT_DIR}],
    }
    pod_spec = {
        "automountServiceAccountToken": False,
        # A Service named schema-registry would inject SCHEMA_REGISTRY_PORT=tcp://..., which the image
        # reads as its own (deprecated) setting and refuses to start.
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": UID,
            "fsGroup": UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "nodeSelector": dict(placement["nodeSelector"]),
        "tolerations": list(placement["tolerations"]),
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {"app.kubernetes.io/name": NAME}},
            }
        ],
        "initContainers": [agent],
        "containers": [container],
        "volumes": [
            {"name": "jmx-exporter", "emptyDir": {"sizeLimit": "16Mi"}},
            {"name": "jmx-exporter-config", "configMap": {"name": JMX_CONFIGMAP}},
            {"name": "config", "emptyDir": {"sizeLimit": "16Mi"}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
            {
                "name": "kafka-user",
                "secret": {
                    "secretName": SCHEMA_REGISTRY_USER,
                    "items": [{"key": "user.p12", "path": "user.p12"}],
                },
            },
            {
                "name": "cluster-ca",
                "secret": {"secretName": cluster_ca_secret(), "items": [{"key": "ca.p12", "path": "ca.p12"}]},
            },
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": namespace, "labels": LABELS},
        "spec": {
            "replicas": sr.replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/name": NAME}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {"metadata": {"labels": LABELS}, "spec": pod_spec},
        },
    }


def service(*, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": NAME, "namespace": namespace, "labels": LABELS},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": NAME},
            "ports": [
                {"name": "http", "port": PORT, "targetPort": "http", "protocol": "TCP"},
                {"name": "metrics", "port": METRICS_PORT, "targetPort": "metrics", "protocol": "TCP"},
            ],
        },
    }


def jmx_exporter_configmap(*, namespace: str) -> dict[str, Any]:
    """The JMX exporter's rules: the registry's own MBeans (kafka.schema.registry) and the JVM."""
    config = (
        "lowercaseOutputName: true\n"
        "lowercaseOutputLabelNames: true\n"
        "rules:\n"
        "  - pattern: 'kafka.schema.registry<type=(.+)><>([^:]+)'\n"
        "    name: kafka_schema_registry_$1_$2\n"
        "  - pattern: '.*'\n"
    )
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": JMX_CONFIGMAP, "namespace": namespace, "labels": LABELS},
        "data": {"config.yaml": config},
    }


def pod_disruption_budget(settings: StreamingSpec, *, namespace: str) -> dict[str, Any] | None:
    """minAvailable 1 when there are replicas to spare (a single replica gets none: it would block
    every node drain)."""
    if settings.schema_registry.replicas < 2:
        return None
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": NAME, "namespace": namespace, "labels": LABELS},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": NAME}}},
    }


def network_policy(*, namespace: str, client_namespaces: tuple[str, ...]) -> dict[str, Any]:
    """Only the API port, and only from the namespaces whose workloads use the registry (Kafka
    Connect in the kafka namespace, the metrics scraper)."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": NAME, "namespace": namespace, "labels": LABELS},
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": NAME}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [
                        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}
                        for ns in client_namespaces
                    ],
                    "ports": [{"protocol": "TCP", "port": PORT}, {"protocol": "TCP", "port": METRICS_PORT}],
                }
            ],
        },
    }
