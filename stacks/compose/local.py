"""The local stack on Docker: the whole CDC data plane and the observability stack as containers,
configured from the same pure renderers as the AWS stacks (CQL, SQL, connector configs, alert rules,
Alertmanager routing, dashboards). Needs a Docker engine and no cloud account."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_docker as docker
import pulumi_random as random
import yaml

from components import versions
from components.local import DockerService, DockerServiceArgs
from stacks.settings import StackSettings

NETWORK = "pipeline-local"
SECRETS_DIR = "/etc/pipeline/secrets"


def _mb(quantity: str) -> int:
    """MiB of a memory quantity (the settings allow only Ki, Mi, Gi, Ti)."""
    from components.scylla.webhook import quantity as parse

    return int(parse(quantity) / 2**20)


def _password(name: str) -> random.RandomPassword:
    return random.RandomPassword(name, length=32, special=False)


def prometheus_config(settings: StackSettings) -> str:
    """Scrape configuration of the local services (the AWS stacks use PodMonitors instead)."""
    jobs = {
        "prometheus": ["localhost:9090"],
        "scylla": ["scylla:9180"],
        "kafka-connect": ["kafka-connect:9404"],
        "schema-registry": ["schema-registry:8081"],
        "jaeger": ["jaeger:8888"],
    }
    doc = {
        "global": {
            "scrape_interval": "15s",
            "evaluation_interval": "15s",
            "external_labels": {"environment": settings.environment},
        },
        "rule_files": ["/etc/prometheus/rules/*.yml"],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": ["alertmanager:9093"]}]}]},
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": targets}]} for job, targets in jobs.items()
        ],
    }
    return yaml.safe_dump(doc, sort_keys=False)


def build_local(settings: StackSettings) -> dict[str, Any]:
    from components.connect.config import sink_connector_config, source_connector_config
    from components.observability.alertmanager import SECRET_FILES, render_config
    from components.observability.dashboards import all_dashboards
    from components.observability.rules import render_rule_file
    from components.postgres.sql import bootstrap_sql
    from components.scylla.cql import schema_cql

    assert settings.scylla and settings.postgres and settings.kafka and settings.connect
    assert settings.schema_registry and settings.observability
    network = docker.Network("local-network", name=NETWORK, driver="bridge")
    net = network.name
    images = versions.IMAGES
    sc, pg, kafka, connect = settings.scylla, settings.postgres, settings.kafka, settings.connect

    # --- ScyllaDB with CDC ------------------------------------------------------------------------
    scylla = DockerService(
        "scylla",
        DockerServiceArgs(
            image=images["scylla"],
            network=net,
            ports={9042: 9042},
            volumes=("/var/lib/scylla",),
            command=(
                "--smp",
                "1",
                "--memory",
                f"{_mb(sc.resources.memory)}M",
                "--overprovisioned",
                "1",
                "--developer-mode",
                "1",
            ),
            healthcheck=("cqlsh -e 'SELECT now() FROM system.local' || exit 1",),
            memory_mb=_mb(sc.resources.memory) + 512,
        ),
    )
    scylla_init = DockerService(
        "scylla-init",
        DockerServiceArgs(
            image=images["scylla"],
            network=net,
            pull=False,
            one_shot=True,
            files={"/init/schema.cql": schema_cql(sc, datacenters={"datacenter1": sc.replication_factor})},
            entrypoint=("cqlsh", "scylla", "-f", "/init/schema.cql"),
            depends_on=(scylla.container,),
        ),
    )

    # --- PostgreSQL ---------------------------------------------------------------------------------
    superuser = _password("postgres-superuser")
    pg_parameters = pg.parameters.model_dump().items()
    sink_pw = _password("postgres-sink")
    postgres = DockerService(
        "postgres",
        DockerServiceArgs(
            image=images["postgres"],
            network=net,
            ports={5432: 5432},
            volumes=("/var/lib/postgresql/data",),
            envs={"POSTGRES_PASSWORD": superuser.result, "SINK_PASSWORD": sink_pw.result},
            files={
                "/docker-entrypoint-initdb.d/10-bootstrap.sql": bootstrap_sql(),
                # Role passwords from the environment, never written into a file of the image.
                "/docker-entrypoint-initdb.d/20-passwords.sh": (
                    "#!/bin/sh\nset -e\n"
                    'psql -v ON_ERROR_STOP=1 -v pw="$SINK_PASSWORD" --username postgres '
                    "-c \"ALTER ROLE cdc_sink WITH LOGIN PASSWORD :'pw'\"\n"
                ),
            },
            healthcheck=("pg_isready -U postgres -d warehouse",),
            memory_mb=_mb(pg.resources.memory),
            # postgres.parameters (seed 000 Increase PostgreSQL Resources) as the server's -c options
            command=("postgres", *(a for k, v in pg_parameters for a in ("-c", f"{k}={v}"))),
        ),
    )

    # --- Kafka (KRaft, one combined node) ---------------------------------------------------------------
    kafka_svc = DockerService(
        "kafka",
        DockerServiceArgs(
            image=images["kafka"],
            network=net,
            ports={9094: 9094},
            volumes=("/var/lib/kafka/data",),
            envs={
                "KAFKA_NODE_ID": "1",
                "KAFKA_PROCESS_ROLES": "broker,controller",
                "KAFKA_LISTENERS": "PLAINTEXT://:9092,CONTROLLER://:9093,HOST://:9094",
                "KAFKA_ADVERTISED_LISTENERS": "PLAINTEXT://kafka:9092,HOST://localhost:9094",
                "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": (
                    "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,HOST:PLAINTEXT"
                ),
                "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
                "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@kafka:9093",
                "KAFKA_LOG_DIRS": "/var/lib/kafka/data",
                "KAFKA_DEFAULT_REPLICATION_FACTOR": str(kafka.replication_factor),
                "KAFKA_MIN_INSYNC_REPLICAS": str(kafka.min_insync_replicas),
                "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": str(kafka.replication_factor),
                "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": str(kafka.replication_factor),
                "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": str(kafka.min_insync_replicas),
                "KAFKA_NUM_PARTITIONS": str(kafka.topic_partitions),
                "KAFKA_LOG_RETENTION_HOURS": str(kafka.retention_hours),
            },
            healthcheck=(
                "/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server localhost:9092 >/dev/null",
            ),
            memory_mb=_mb(kafka.resources.memory),
        ),
    )

    # --- Schema Registry ------------------------------------------------------------------------------
    registry = DockerService(
        "schema-registry",
        DockerServiceArgs(
            image=images["schema-registry"],
            network=net,
            ports={8081: 8081},
            envs={
                "SCHEMA_REGISTRY_HOST_NAME": "schema-registry",
                "SCHEMA_REGISTRY_LISTENERS": "http://0.0.0.0:8081",
                "SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS": "PLAINTEXT://kafka:9092",
                "SCHEMA_REGISTRY_SCHEMA_COMPATIBILITY_LEVEL": settings.schema_registry.compatibility,
            },
            healthcheck=("curl -fsS http://localhost:8081/subjects >/dev/null",),
            depends_on=(kafka_svc.container,),
        ),
    )

    # --- Kafka Connect with the Scylla CDC source and the JDBC sink --------------------------------------
    connect_image = docker.Image(
        "kafka-connect-image",
        image_name=f"pipeline-local/kafka-connect:{versions.SCYLLA_CDC_SOURCE_CONNECTOR}",
        build=docker.DockerBuildArgs(
            context="docker/connect",
            args={
                "CONNECT_IMAGE": images["debezium-connect"],
                "SCYLLA_CDC_VERSION": versions.SCYLLA_CDC_SOURCE_CONNECTOR,
                "AVRO_CONVERTER_VERSION": versions.CONFLUENT_AVRO_CONVERTER,
            },
        ),
        skip_push=True,
    )
    secrets_file = sink_pw.result.apply(lambda pw: f"password={pw}\n")
    connect_svc = DockerService(
        "kafka-connect",
        DockerServiceArgs(
            image=connect_image.image_name,
            network=net,
            pull=False,
            ports={8083: 8083},
            envs={
                "BOOTSTRAP_SERVERS": "kafka:9092",
                "GROUP_ID": "pipeline-connect",
                "CONFIG_STORAGE_TOPIC": "connect-configs",
                "OFFSET_STORAGE_TOPIC": "connect-offsets",
                "STATUS_STORAGE_TOPIC": "connect-status",
                "CONFIG_STORAGE_REPLICATION_FACTOR": str(kafka.replication_factor),
                "OFFSET_STORAGE_REPLICATION_FACTOR": str(kafka.replication_factor),
                "STATUS_STORAGE_REPLICATION_FACTOR": str(kafka.replication_factor),
                "HEAP_OPTS": f"-Xms{connect.heap_min.upper()} -Xmx{connect.heap_max.upper()}",
                "CONNECT_CONFIG_PROVIDERS": "file",
                "CONNECT_CONFIG_PROVIDERS_FILE_CLASS": (
                    "org.apache.kafka.common.config.provider.FileConfigProvider"
                ),
            },
            files={f"{SECRETS_DIR}/postgres-sink.properties": pulumi.Output.secret(secrets_file)},
            healthcheck=("curl -fsS http://localhost:8083/ >/dev/null",),
            memory_mb=_mb(connect.resources.memory),
            depends_on=(kafka_svc.container, registry.container, scylla_init.container, postgres.container),
        ),
    )
    source = source_connector_config(
        settings, contact_points="scylla:9042", schema_registry_url="http://schema-registry:8081"
    )
    sink = sink_connector_config(
        settings,
        jdbc_url="jdbc:postgresql://postgres:5432/warehouse",
        username="cdc_sink",
        password=f"${{file:{SECRETS_DIR}/postgres-sink.properties:password}}",
        schema_registry_url="http://schema-registry:8081",
    )
    connectors = {"scylla-source": source, "postgres-sink": sink}
    register = " && ".join(
        f"curl -fsS -X PUT -H 'Content-Type: application/json' --data @/connectors/{n}.json "
        f"http://kafka-connect:8083/connectors/{n}/config"
        for n in connectors
    )
    DockerService(
        "connectors-init",
        DockerServiceArgs(
            image=images["curl"],
            network=net,
            one_shot=True,
            files={
                f"/connectors/{n}.json": json.dumps(c, indent=2, sort_keys=True)
                for n, c in connectors.items()
            },
            entrypoint=(
                "sh",
                "-c",
                f"until curl -fsS http://kafka-connect:8083/ >/dev/null; do sleep 5; done; {register}",
            ),
            depends_on=(connect_svc.container,),
        ),
    )

    # --- Observability -------------------------------------------------------------------------------
    obs = settings.observability
    DockerService(
        "prometheus",
        DockerServiceArgs(
            image=images["prometheus"],
            network=net,
            ports={9090: 9090},
            volumes=("/prometheus",),
            files={
                "/etc/prometheus/prometheus.yml": prometheus_config(settings),
                "/etc/prometheus/rules/pipeline.yml": render_rule_file(),
            },
            command=(
                "--config.file=/etc/prometheus/prometheus.yml",
                "--storage.tsdb.path=/prometheus",
                f"--storage.tsdb.retention.time={obs.retention_days}d",
                f"--storage.tsdb.retention.size={obs.retention_size_gib}GB",
            ),
        ),
    )
    am_dir = "/etc/alertmanager/secrets"
    DockerService(
        "alertmanager",
        DockerServiceArgs(
            image=images["alertmanager"],
            network=net,
            ports={9093: 9093},
            files={
                "/etc/alertmanager/alertmanager.yml": render_config(am_dir),
                # Local receivers go nowhere: the key files exist so that the config loads.
                **{f"{am_dir}/{key}": "not-configured-locally\n" for key in SECRET_FILES},
            },
            command=("--config.file=/etc/alertmanager/alertmanager.yml",),
        ),
    )
    grafana_admin = _password("grafana-admin")
    dashboards = all_dashboards()
    DockerService(
        "grafana",
        DockerServiceArgs(
            image=images["grafana"],
            network=net,
            ports={3000: 3000},
            volumes=("/var/lib/grafana",),
            envs={
                "GF_SECURITY_ADMIN_USER": "admin",
                "GF_SECURITY_ADMIN_PASSWORD": grafana_admin.result,
                "GF_AUTH_ANONYMOUS_ENABLED": "false",
            },
            files={
                "/etc/grafana/provisioning/datasources/prometheus.yaml": yaml.safe_dump(
                    {
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
                ),
                "/etc/grafana/provisioning/dashboards/pipeline.yaml": yaml.safe_dump(
                    {
                        "apiVersion": 1,
                        "providers": [
                            {
                                "name": "pipeline",
                                "type": "file",
                                "options": {"path": "/var/lib/pipeline-dashboards"},
                            }
                        ],
                    }
                ),
                **{
                    f"/var/lib/pipeline-dashboards/{uid}.json": json.dumps(d, indent=2)
                    for uid, d in dashboards.items()
                },
            },
        ),
    )
    DockerService(
        "jaeger",
        DockerServiceArgs(
            image=images["jaeger"],
            network=net,
            ports={16686: 16686, 4317: 4317, 4318: 4318},
        ),
    )

    return {
        "network": net,
        "endpoints": {
            "scylla_cql": "localhost:9042",
            "postgres": "localhost:5432",
            "kafka": "localhost:9094",
            "schema_registry": "http://localhost:8081",
            "kafka_connect": "http://localhost:8083",
            "prometheus": "http://localhost:9090",
            "alertmanager": "http://localhost:9093",
            "grafana": "http://localhost:3000",
            "jaeger": "http://localhost:16686",
            "otlp": "http://localhost:4317",
        },
        "grafana_admin_password": pulumi.Output.secret(grafana_admin.result),
        "postgres_superuser_password": pulumi.Output.secret(superuser.result),
    }
