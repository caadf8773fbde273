"""Every pinned version of the platform, in one place, each stated once.

Operators, Helm charts, container images and connector artifacts are all pinned here and nowhere
else; components import the constants. The CRD schemas the tests validate against (../shared/crds)
are of exactly these operator versions.

Each version is one string constant directly under a `# renovate:` marker that says where its
releases are published (datasource, depName, and registryUrl, versioning or extractVersion where
needed). renovate.json's regex manager reads these markers; tests/versions checks that every pin has
one and that no version literal is written twice. Charts, image references and tags are derived
from the constants and never repeat a version.
"""

from __future__ import annotations

from typing import Final, NamedTuple


class Chart(NamedTuple):
    name: str
    version: str
    repo: str


def _image(repository: str, tag: str) -> str:
    return f"{repository}:{tag}"


# --- Kubernetes -----------------------------------------------------------------------------------
# renovate: datasource=endoflife-date depName=amazon-eks versioning=loose
EKS_VERSION: Final = "1.33"
# EKS managed add-on of the EBS CSI driver. Before taking an update, check that the add-on version
# supports EKS_VERSION (`aws eks describe-addon-versions --addon-name aws-ebs-csi-driver
# --kubernetes-version <EKS_VERSION>` lists what a region offers).
# renovate: datasource=aws-eks-addon depName={"addonName":"aws-ebs-csi-driver"} versioning=aws-eks-addon
EBS_CSI_ADDON_VERSION: Final = "v1.48.0-eksbuild.1"

# --- Operators (Helm charts) ----------------------------------------------------------------------
# An OCI chart is looked up as an OCI artifact (docker datasource); the Strimzi chart's version is the
# operator's, and the Connect base image below carries it too.
# renovate: datasource=docker depName=quay.io/strimzi-helm/strimzi-kafka-operator versioning=semver
STRIMZI_VERSION: Final = "1.2.0"
STRIMZI: Final = Chart("strimzi-kafka-operator", STRIMZI_VERSION, "oci://quay.io/strimzi-helm")
# Strimzi's chart keeps its CRDs in crds/, which Helm installs once and never upgrades: the CRDs are
# applied from the release tag's install files instead (components/dataplane/operators).
STRIMZI_CRDS: Final = tuple(
    f"https://raw.githubusercontent.com/strimzi/strimzi-kafka-operator/{STRIMZI.version}/"
    f"packaging/install/cluster-operator/{name}.yaml"
    for name in (
        "040-Crd-kafka",
        "041-Crd-kafkaconnect",
        "042-Crd-strimzipodset",
        "043-Crd-kafkatopic",
        "044-Crd-kafkauser",
        "045-Crd-kafkanodepool",
        "046-Crd-kafkabridge",
        "047-Crd-kafkaconnector",
        "048-Crd-kafkamirrormaker2",
        "049-Crd-kafkarebalance",
    )
)

# The operator and manager charts are released together, with the operator's version.
# renovate: datasource=helm depName=scylla-operator registryUrl=https://scylla-operator-charts.storage.googleapis.com/stable
SCYLLA_OPERATOR_VERSION: Final = "v1.21.1"
_SCYLLA_CHARTS: Final = "https://scylla-operator-charts.storage.googleapis.com/stable"
SCYLLA_OPERATOR: Final = Chart("scylla-operator", SCYLLA_OPERATOR_VERSION, _SCYLLA_CHARTS)
SCYLLA_MANAGER: Final = Chart("scylla-manager", SCYLLA_OPERATOR_VERSION, _SCYLLA_CHARTS)
# The scylla-operator chart keeps its CRDs in crds/ too (Helm installs them once, never upgrades them):
# they are applied from the chart's crds/ folder at the release tag instead, like Strimzi's.
SCYLLA_OPERATOR_CRDS: Final = tuple(
    f"https://raw.githubusercontent.com/scylladb/scylla-operator/{SCYLLA_OPERATOR.version}/"
    f"helm/scylla-operator/crds/00_scylla.scylladb.com_{name}.yaml"
    for name in (
        "nodeconfigs",
        "remotekubernetesclusters",
        "remoteowners",
        "scyllaclusters",
        "scylladbclusters",
        "scylladbdatacenternodesstatusreports",
        "scylladbdatacenters",
        "scylladbmanagerclusterregistrations",
        "scylladbmanagertasks",
        "scylladbmonitorings",
        "scyllaoperatorconfigs",
    )
)

# The chart's default operator image is not relied on: the operator image and the barman-cloud
# plugin's images are pinned in the values to the versions the CRDs come from.
_CNPG_CHARTS: Final = "https://cloudnative-pg.github.io/charts"
# renovate: datasource=helm depName=cloudnative-pg registryUrl=https://cloudnative-pg.github.io/charts
CLOUDNATIVE_PG_CHART_VERSION: Final = "0.29.0"
CLOUDNATIVE_PG: Final = Chart("cloudnative-pg", CLOUDNATIVE_PG_CHART_VERSION, _CNPG_CHARTS)
# renovate: datasource=docker depName=ghcr.io/cloudnative-pg/cloudnative-pg versioning=docker
CLOUDNATIVE_PG_OPERATOR: Final = "1.30.0"
# renovate: datasource=helm depName=plugin-barman-cloud registryUrl=https://cloudnative-pg.github.io/charts
BARMAN_CLOUD_PLUGIN_CHART_VERSION: Final = "0.6.0"
BARMAN_CLOUD_PLUGIN: Final = Chart("plugin-barman-cloud", BARMAN_CLOUD_PLUGIN_CHART_VERSION, _CNPG_CHARTS)
# The plugin's images are the chart's own appVersion (Chart.yaml of plugin-barman-cloud-v0.6.0:
# v0.12.0), so that the images, the chart's RBAC and the ObjectStore CRD it installs are one release.
# renovate: datasource=docker depName=ghcr.io/cloudnative-pg/plugin-barman-cloud versioning=docker
BARMAN_CLOUD_PLUGIN_IMAGE: Final = "v0.12.0"

# renovate: datasource=helm depName=cert-manager registryUrl=https://charts.jetstack.io
CERT_MANAGER_VERSION: Final = "v1.19.1"
CERT_MANAGER: Final = Chart("cert-manager", CERT_MANAGER_VERSION, "https://charts.jetstack.io")

# renovate: datasource=helm depName=kube-prometheus-stack registryUrl=https://prometheus-community.github.io/helm-charts
KUBE_PROMETHEUS_STACK_VERSION: Final = "88.5.3"
KUBE_PROMETHEUS_STACK: Final = Chart(
    "kube-prometheus-stack",
    KUBE_PROMETHEUS_STACK_VERSION,
    "https://prometheus-community.github.io/helm-charts",
)

# The chart's appVersion is the operator whose CRDs ../shared/crds holds (its README names both).
# renovate: datasource=helm depName=opentelemetry-operator registryUrl=https://open-telemetry.github.io/opentelemetry-helm-charts
OPENTELEMETRY_OPERATOR_VERSION: Final = "0.99.0"
OPENTELEMETRY_OPERATOR: Final = Chart(
    "opentelemetry-operator",
    OPENTELEMETRY_OPERATOR_VERSION,
    "https://open-telemetry.github.io/opentelemetry-helm-charts",
)

# --- Operand versions -----------------------------------------------------------------------------
# renovate: datasource=docker depName=docker.io/scylladb/scylla versioning=docker
SCYLLA_VERSION: Final = "2025.1.5"
# Scylla Manager and every agent (the data cluster's and the manager's own cluster's) on one version:
# the one the scylla-manager chart v1.21.1 runs (helm/scylla-manager/values.yaml image.tag 3.10.1).
# renovate: datasource=docker depName=docker.io/scylladb/scylla-manager versioning=docker
SCYLLA_MANAGER_VERSION: Final = "3.10.1"
SCYLLA_AGENT_VERSION: Final = SCYLLA_MANAGER_VERSION
# The broker version the Kafka custom resources ask Strimzi for, and of the local broker image; an
# update must be one that STRIMZI_VERSION supports.
# renovate: datasource=docker depName=docker.io/apache/kafka versioning=docker
KAFKA_VERSION: Final = "4.1.0"
# CloudNativePG's operand image; the local stack runs the same release of the Debian image.
# renovate: datasource=docker depName=ghcr.io/cloudnative-pg/postgresql versioning=docker
POSTGRES_VERSION: Final = "15.14"
POSTGRES_MAJOR: Final = int(POSTGRES_VERSION.split(".", 1)[0])
POSTGRES_IMAGE: Final = _image("ghcr.io/cloudnative-pg/postgresql", POSTGRES_VERSION)

# --- Kafka Connect plugins (built into the Connect image by Strimzi's `build`) --------------------
# renovate: datasource=maven depName=com.scylladb:scylla-cdc-source-connector versioning=maven
SCYLLA_CDC_SOURCE_CONNECTOR: Final = "2.0.2"
# Debezium's release: the JDBC sink plugin, and the local stack's Connect base image.
# renovate: datasource=maven depName=io.debezium:debezium-connector-jdbc versioning=maven
DEBEZIUM_JDBC_SINK: Final = "3.3.1.Final"
# Confluent Platform's release: the Avro converter, and the Schema Registry image.
# renovate: datasource=maven depName=io.confluent:kafka-connect-avro-converter registryUrl=https://packages.confluent.io/maven/ versioning=maven
CONFLUENT_AVRO_CONVERTER: Final = "7.9.2"
# Prometheus JMX exporter Java agent for the Schema Registry's metrics (Maven Central).
# renovate: datasource=maven depName=io.prometheus.jmx:jmx_prometheus_javaagent versioning=maven
JMX_PROMETHEUS_JAVAAGENT: Final = "1.1.0"
# SHA-256 of each file the local Kafka Connect image downloads (docker/connect/Dockerfile verifies
# every download with sha256sum). None is pinned yet: the machine this project is developed on reaches
# no artifact host, and a checksum copied from elsewhere would not be one we verified. An empty value
# stops the image build with a message naming the file (it fails closed). To pin, on a machine with
# network access run `make connect-checksums`: it downloads each file of these versions from its
# source (Maven Central; Confluent Hub for the Avro converter) and prints the lines to paste here.
# A version update above changes the files: their checksums must be pinned anew.
CONNECT_ARTIFACT_SHA256: Final = {
    "scylla-cdc-source-connector": "",
    "kafka-connect-avro-converter": "",
    "jmx-prometheus-javaagent": "",
}

# --- Observability ----------------------------------------------------------------------------------
# renovate: datasource=docker depName=quay.io/prometheus/prometheus versioning=docker
PROMETHEUS_VERSION: Final = "v3.7.3"
# renovate: datasource=docker depName=quay.io/prometheus/alertmanager versioning=docker
ALERTMANAGER_VERSION: Final = "v0.28.1"
# renovate: datasource=docker depName=docker.io/grafana/grafana versioning=docker
GRAFANA_VERSION: Final = "11.6.7"
# renovate: datasource=docker depName=docker.io/jaegertracing/jaeger versioning=docker
JAEGER_VERSION: Final = "2.11.0"
# renovate: datasource=docker depName=docker.io/otel/opentelemetry-collector-contrib versioning=docker
OTEL_COLLECTOR_VERSION: Final = "0.138.0"
# The fleet instances run the release tarball node_exporter-<version>.linux-amd64.tar.gz, fetched from
# the artifact bucket (vendor/node_exporter/<version>/) and verified against NODE_EXPORTER_SHA256;
# the local stack runs the image of the same release (tag `v<version>`).
# renovate: datasource=github-releases depName=prometheus/node_exporter extractVersion=^v(?<version>.+)$
NODE_EXPORTER_VERSION: Final = "1.10.2"
# The tarball's sha256. Not pinned yet: the machine this project is developed on reaches no release
# host, and a digest copied from elsewhere would not be one we verified. Empty, the instances install
# no node exporter (their bootstrap says so and exits non-zero after starting the module). To pin, on
# a machine with network access run `make node-exporter-artifact`: it downloads the tarball and the
# release's sha256sums.txt, checks one against the other, prints the line to paste here and stages the
# tarball in an environment's artifact bucket (ARTIFACT_BUCKET=...).
NODE_EXPORTER_SHA256: Final = ""
# The CloudWatch agent the fleet instances run (module and system logs to CloudWatch Logs): the
# vendor's Debian package amazon-cloudwatch-agent.deb of this release, fetched from the artifact
# bucket (vendor/amazon-cloudwatch-agent/<version>/) and verified against CLOUDWATCH_AGENT_SHA256.
# renovate: datasource=github-releases depName=aws/amazon-cloudwatch-agent extractVersion=^v(?<version>.+)$
CLOUDWATCH_AGENT_VERSION: Final = "1.300064.0"
# The package's sha256, empty like NODE_EXPORTER_SHA256 for the same reason (the agent is then not
# installed and the bootstrap exits non-zero after starting the module). `make cloudwatch-agent-artifact`
# downloads the package and its signature, verifies the signature with the vendor's key (fingerprint
# checked), prints the line to paste here and stages the package (ARTIFACT_BUCKET=...).
CLOUDWATCH_AGENT_SHA256: Final = ""

# --- Local stack and helpers ----------------------------------------------------------------------
# The local stack's consumer lag and topic offsets (the program the AWS stacks run as Strimzi's Kafka
# Exporter).
# renovate: datasource=docker depName=docker.io/danielqsj/kafka-exporter versioning=docker
KAFKA_EXPORTER_VERSION: Final = "v1.9.0"
# renovate: datasource=docker depName=docker.io/curlimages/curl versioning=docker
CURL_VERSION: Final = "8.17.0"

# --- Container images -----------------------------------------------------------------------------
OTEL_COLLECTOR_REPOSITORY: Final = "docker.io/otel/opentelemetry-collector-contrib"
IMAGES: Final = {
    "scylla": _image("docker.io/scylladb/scylla", SCYLLA_VERSION),
    "kafka": _image("docker.io/apache/kafka", KAFKA_VERSION),
    "kafka-connect": _image("quay.io/strimzi/kafka", f"{STRIMZI_VERSION}-kafka-{KAFKA_VERSION}"),
    "schema-registry": _image("docker.io/confluentinc/cp-schema-registry", CONFLUENT_AVRO_CONVERTER),
    "postgres": _image("docker.io/library/postgres", f"{POSTGRES_VERSION}-bookworm"),
    "prometheus": _image("quay.io/prometheus/prometheus", PROMETHEUS_VERSION),
    "alertmanager": _image("quay.io/prometheus/alertmanager", ALERTMANAGER_VERSION),
    "grafana": _image("docker.io/grafana/grafana", GRAFANA_VERSION),
    "jaeger": _image("docker.io/jaegertracing/jaeger", JAEGER_VERSION),
    "otel-collector": _image(OTEL_COLLECTOR_REPOSITORY, OTEL_COLLECTOR_VERSION),
    "node-exporter": _image("quay.io/prometheus/node-exporter", f"v{NODE_EXPORTER_VERSION}"),
    # local stack: consumer lag and topic offsets (the program the AWS stacks run as Strimzi's Kafka Exporter)
    "kafka-exporter": _image("docker.io/danielqsj/kafka-exporter", KAFKA_EXPORTER_VERSION),
    # local stack only: Kafka Connect base image (Debezium JDBC sink included; docker/connect/Dockerfile)
    "debezium-connect": _image("quay.io/debezium/connect", DEBEZIUM_JDBC_SINK),
    # the Schema Registry's JMX exporter agent download on Kubernetes (an init container)
    "curl": _image("docker.io/curlimages/curl", CURL_VERSION),
    # backup verification and the Connect offsets backup (components/backups/checks.py): the barman-cloud
    # plugin's sidecar (barman-cloud, python3, boto3) at the plugin's tag, and Scylla Manager for sctool
    "barman-cloud": _image("ghcr.io/cloudnative-pg/plugin-barman-cloud-sidecar", BARMAN_CLOUD_PLUGIN_IMAGE),
    "scylla-manager": _image("docker.io/scylladb/scylla-manager", SCYLLA_MANAGER_VERSION),
}
