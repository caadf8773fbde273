"""Every pinned version of the platform, in one place.

Operators, Helm charts, container images and connector artifacts are all pinned here and nowhere
else; components import the constants. The CRD schemas the tests validate against (../shared/crds)
are of exactly these operator versions.
"""

from __future__ import annotations

from typing import Final, NamedTuple


class Chart(NamedTuple):
    name: str
    version: str
    repo: str


# --- Kubernetes -----------------------------------------------------------------------------------
EKS_VERSION: Final = "1.33"
# EKS managed add-on of the EBS CSI driver (`aws eks describe-addon-versions --addon-name aws-ebs-csi-driver
# --kubernetes-version 1.33` lists what a region offers).
EBS_CSI_ADDON_VERSION: Final = "v1.48.0-eksbuild.1"

# --- Operators (Helm charts) ----------------------------------------------------------------------
STRIMZI: Final = Chart("strimzi-kafka-operator", "1.2.0", "oci://quay.io/strimzi-helm")
SCYLLA_OPERATOR: Final = Chart(
    "scylla-operator", "v1.21.1", "https://scylla-operator-charts.storage.googleapis.com/stable"
)
SCYLLA_MANAGER: Final = Chart(
    "scylla-manager", "v1.21.1", "https://scylla-operator-charts.storage.googleapis.com/stable"
)
# Chart 0.29.0 ships operator 1.30.0 (the charts index); the plugin chart's appVersion is not
# relied on: both operator images are also pinned in the values to the versions the CRDs come from.
CLOUDNATIVE_PG: Final = Chart("cloudnative-pg", "0.29.0", "https://cloudnative-pg.github.io/charts")
CLOUDNATIVE_PG_OPERATOR: Final = "1.30.0"
BARMAN_CLOUD_PLUGIN: Final = Chart("plugin-barman-cloud", "0.6.0", "https://cloudnative-pg.github.io/charts")
BARMAN_CLOUD_PLUGIN_IMAGE: Final = "v0.14.0"
CERT_MANAGER: Final = Chart("cert-manager", "v1.19.1", "https://charts.jetstack.io")
KUBE_PROMETHEUS_STACK: Final = Chart(
    "kube-prometheus-stack", "88.5.3", "https://prometheus-community.github.io/helm-charts"
)
OPENTELEMETRY_OPERATOR: Final = Chart(
    "opentelemetry-operator", "0.99.0", "https://open-telemetry.github.io/opentelemetry-helm-charts"
)  # operator v0.158.0

# --- Operand versions -----------------------------------------------------------------------------
SCYLLA_VERSION: Final = "2025.1.5"
SCYLLA_AGENT_VERSION: Final = "3.5.1"
KAFKA_VERSION: Final = "4.1.0"
POSTGRES_MAJOR: Final = 15
POSTGRES_IMAGE: Final = "ghcr.io/cloudnative-pg/postgresql:15.14"

# --- Kafka Connect plugins (built into the Connect image by Strimzi's `build`) --------------------
SCYLLA_CDC_SOURCE_CONNECTOR: Final = "2.0.2"  # com.scylladb:scylla-cdc-source-connector
DEBEZIUM_JDBC_SINK: Final = "3.3.1.Final"  # io.debezium:debezium-connector-jdbc
CONFLUENT_AVRO_CONVERTER: Final = "7.9.2"  # io.confluent:kafka-connect-avro-converter
# Prometheus JMX exporter Java agent for the Schema Registry's metrics (io.prometheus.jmx, Maven Central).
JMX_PROMETHEUS_JAVAAGENT: Final = "1.1.0"
# SHA-256 of each file the local Kafka Connect image downloads (docker/connect/Dockerfile verifies
# every download with sha256sum). None is pinned yet: the machine this project is developed on reaches
# no artifact host, and a checksum copied from elsewhere would not be one we verified. An empty value
# stops the image build with a message naming the file (it fails closed). To pin, on a machine with
# network access run `make connect-checksums`: it downloads each file of these versions from its
# source (Maven Central; Confluent Hub for the Avro converter) and prints the lines to paste here.
CONNECT_ARTIFACT_SHA256: Final = {
    "scylla-cdc-source-connector": "",
    "kafka-connect-avro-converter": "",
    "jmx-prometheus-javaagent": "",
}

# --- Module fleets (EC2) ---------------------------------------------------------------------------
# The node exporter the fleet instances run: the release of the pinned container image below
# ("node-exporter"), as the release tarball node_exporter-<version>.linux-amd64.tar.gz, which the
# instances fetch from the artifact bucket (vendor/node_exporter/<version>/) and verify against this
# sha256. Not pinned yet: the machine this project is developed on reaches no release host, and a
# digest copied from elsewhere would not be one we verified. Empty, the instances install no node
# exporter (their bootstrap says so and exits non-zero after starting the module) and the plan warns.
# To pin, on a machine with network access run `make node-exporter-artifact`: it downloads the
# tarball and the release's sha256sums.txt, checks one against the other, prints the line to paste
# here and the `aws s3 cp` that stages the tarball in each environment's artifact bucket.
NODE_EXPORTER_SHA256: Final = ""

# --- Container images -----------------------------------------------------------------------------
IMAGES: Final = {
    "scylla": f"docker.io/scylladb/scylla:{SCYLLA_VERSION}",
    "kafka": "docker.io/apache/kafka:4.1.0",
    "kafka-connect": "quay.io/strimzi/kafka:1.2.0-kafka-4.1.0",
    "schema-registry": "docker.io/confluentinc/cp-schema-registry:7.9.2",
    "postgres": "docker.io/library/postgres:15.14-bookworm",
    "prometheus": "quay.io/prometheus/prometheus:v3.7.3",
    "alertmanager": "quay.io/prometheus/alertmanager:v0.28.1",
    "grafana": "docker.io/grafana/grafana:11.6.7",
    "jaeger": "docker.io/jaegertracing/jaeger:2.11.0",
    "otel-collector": "docker.io/otel/opentelemetry-collector-contrib:0.138.0",
    "node-exporter": "quay.io/prometheus/node-exporter:v1.10.2",
    # local stack: consumer lag and topic offsets (the program the AWS stacks run as Strimzi's Kafka Exporter)
    "kafka-exporter": "docker.io/danielqsj/kafka-exporter:v1.9.0",
    # local stack only: Kafka Connect base image (Debezium JDBC sink included; docker/connect/Dockerfile)
    "debezium-connect": "quay.io/debezium/connect:3.3.1.Final",
    # the Schema Registry's JMX exporter agent download on Kubernetes (an init container)
    "curl": "docker.io/curlimages/curl:8.17.0",
}
