"""The local stack on Docker: seed 000's pipeline on one machine, in seed 000's order (Deployment
Procedures, Steps 1-5), each step waiting for the previous one's completed work:

1. core services healthy: ScyllaDB, PostgreSQL (healthy only after its init phase), Kafka;
2. schemas applied: the Scylla keyspace and CDC tables (the Kubernetes stacks' CQL), the PostgreSQL
   bootstrap (their SQL), as awaited one-shot steps;
3. Schema Registry healthy, then Kafka Connect healthy (the image built with the CDC plugins);
4. connectors registered and RUNNING with their tasks (scylla-source, then postgres-sink);
5. observability: Prometheus, Alertmanager, Grafana, Jaeger and the exporters.

Step 6 (validation) is `make local-check` (planner/local_check.py). Compose wires; the components
(components/local) declare the containers, steps and connectors; the renderers
(stacks/compose/local_services.py, components/observability/local.py, and the shared CQL, SQL and
connector configs) render what they are told.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.local.component import DockerJob, DockerJobArgs, DockerService, DockerServiceArgs
from components.local.connector import Connector
from components.local.docker import NETWORK
from lib import versions
from stacks.compose import local_services as svc
from stacks.compose.local_artifacts import build_args, unpinned
from stacks.settings import StackSettings

IMAGES = versions.IMAGES
CONNECT_URL = f"http://127.0.0.1:{svc.CONNECT_PORT}"  # where `pulumi up` reaches the worker


@dataclass(frozen=True)
class _Passwords:
    """Generated passwords, as secret outputs wherever they are used (state and plan show [secret])."""

    superuser: pulumi.Output[str]
    sink: pulumi.Output[str]
    grafana: pulumi.Output[str]


def _password(name: str) -> pulumi.Output[str]:
    return pulumi.Output.secret(random.RandomPassword(name, length=32, special=False).result)


def _core(settings: StackSettings, net: pulumi.Input[str], pw: _Passwords) -> dict[str, DockerService]:
    """Step 1: ScyllaDB, PostgreSQL and Kafka, each healthy before step 2 starts."""
    sc, pg, kafka = settings.scylla, settings.postgres, settings.kafka
    assert sc and pg and kafka
    scylla_mb = svc.mib(sc.resources.memory)
    return {
        "scylla": DockerService(
            "scylla",
            DockerServiceArgs(
                image=IMAGES["scylla"],
                network=net,
                ports={9042: 9042},
                volumes=("/var/lib/scylla",),
                command=tuple(svc.scylla_command(settings)),
                healthcheck=(svc.SCYLLA_HEALTH,),
                memory_mb=scylla_mb + 512,
            ),
        ),
        "postgres": DockerService(
            "postgres",
            DockerServiceArgs(
                image=IMAGES["postgres"],
                network=net,
                ports={5432: 5432},
                volumes=("/var/lib/postgresql/data",),
                envs={"POSTGRES_PASSWORD": pw.superuser},
                healthcheck=(svc.POSTGRES_HEALTH,),
                memory_mb=svc.mib(pg.resources.memory),
                # postgres.parameters (seed 000 Increase PostgreSQL Resources) as the server's -c options
                command=(
                    "postgres",
                    *(a for k, v in pg.parameters.model_dump().items() for a in ("-c", f"{k}={v}")),
                ),
            ),
        ),
        "kafka": DockerService(
            "kafka",
            DockerServiceArgs(
                image=IMAGES["kafka"],
                network=net,
                ports={9094: 9094},
                volumes=("/var/lib/kafka/data",),
                envs=dict(svc.kafka_env(settings)),
                healthcheck=(svc.KAFKA_HEALTH,),
                memory_mb=svc.mib(kafka.resources.memory),
            ),
        ),
    }


def _schemas(
    settings: StackSettings, net: pulumi.Input[str], core: dict[str, DockerService], pw: _Passwords
) -> list[DockerJob]:
    """Step 2: the keyspace and CDC tables, and the PostgreSQL bootstrap, both awaited."""
    from components.dataplane.scylla.cql import schema_cql

    sc = settings.scylla
    assert sc is not None
    scylla = DockerJob(
        "scylla-schema",
        DockerJobArgs(
            image=IMAGES["scylla"],
            network=net,
            shell=svc.SCYLLA_SCHEMA_SHELL,
            script=schema_cql(sc, datacenters={"datacenter1": sc.replication_factor}),
            depends_on=tuple(c.container for c in core.values()),
        ),
    )
    postgres = DockerJob(
        "postgres-bootstrap",
        DockerJobArgs(
            image=IMAGES["postgres"],
            network=net,
            shell=svc.POSTGRES_BOOTSTRAP_SHELL,
            script=svc.postgres_bootstrap_script(),
            secret_lines=(pw.superuser, pw.sink),  # svc.BOOTSTRAP_SECRET_LINES
            depends_on=tuple(c.container for c in core.values()),
        ),
    )
    return [scylla, postgres]


def _connect_image() -> docker.Image:
    missing = unpinned()
    if missing:
        pulumi.log.warn(
            f"the Kafka Connect image build stops until the SHA-256 of {', '.join(missing)} is pinned in "
            "lib/versions.py CONNECT_ARTIFACT_SHA256 (`make connect-checksums` prints them)"
        )
    return docker.Image(
        "kafka-connect-image",
        image_name=f"pipeline-local/kafka-connect:{versions.SCYLLA_CDC_SOURCE_CONNECTOR}",
        build=docker.DockerBuildArgs(
            context="docker/connect", args={"CONNECT_IMAGE": IMAGES["debezium-connect"], **build_args()}
        ),
        skip_push=True,
    )


def _streaming(
    settings: StackSettings,
    net: pulumi.Input[str],
    core: dict[str, DockerService],
    schemas: list[DockerJob],
    pw: _Passwords,
) -> DockerService:
    """Step 3: Schema Registry, then Kafka Connect (after the schemas: the source reads CDC tables)."""
    from components.observability.local import connect_jmx_exporter_config

    assert settings.connect is not None
    registry = DockerService(
        "schema-registry",
        DockerServiceArgs(
            image=IMAGES["schema-registry"],
            network=net,
            ports={8081: 8081},
            envs=dict(svc.registry_env(settings)),
            healthcheck=(svc.REGISTRY_HEALTH,),
            depends_on=(core["kafka"].container, *(job.run for job in schemas)),
        ),
    )
    image = _connect_image()
    secret_file = pw.sink.apply(svc.sink_secret_file)
    return DockerService(
        "kafka-connect",
        DockerServiceArgs(
            image=image.repo_digest,
            network=net,
            pull=False,
            ports={svc.CONNECT_PORT: svc.CONNECT_PORT},
            envs=dict(svc.connect_env(settings)),
            files={
                svc.SINK_SECRET_FILE: secret_file,
                svc.CONNECT_METRICS_CONFIG: connect_jmx_exporter_config(),
            },
            healthcheck=(svc.CONNECT_HEALTH,),
            memory_mb=svc.mib(settings.connect.resources.memory),
            depends_on=(registry.container, *(job.run for job in schemas)),
        ),
    )


def _connectors(settings: StackSettings, connect: DockerService) -> list[Connector]:
    """Step 4: scylla-source RUNNING with its tasks, then postgres-sink."""
    from components.streaming.connect.config import (
        SINK_NAME,
        SOURCE_NAME,
        sink_connector_config,
        source_connector_config,
    )

    source = Connector(
        SOURCE_NAME,
        connect_url=CONNECT_URL,
        config=source_connector_config(
            settings.streaming(), contact_points="scylla:9042", schema_registry_url=svc.REGISTRY_URL
        ),
        opts=pulumi.ResourceOptions(depends_on=[connect.container]),
    )
    sink = Connector(
        SINK_NAME,
        connect_url=CONNECT_URL,
        config=sink_connector_config(
            settings.streaming(),
            jdbc_url="jdbc:postgresql://postgres:5432/warehouse",
            username="cdc_sink",
            password=svc.SINK_PASSWORD_REF,
            schema_registry_url=svc.REGISTRY_URL,
        ),
        opts=pulumi.ResourceOptions(depends_on=[connect.container, source]),
    )
    return [source, sink]


def _observability(
    settings: StackSettings, net: pulumi.Input[str], after: list[Connector], pw: _Passwords
) -> None:
    """Step 5: scrapers, alerting, dashboards and traces, once the pipeline runs."""
    from components.observability import local as obs_files

    obs = settings.observability
    assert obs is not None
    deps = tuple(after)

    def service(name: str, **kw: Any) -> DockerService:
        return DockerService(name, DockerServiceArgs(image=IMAGES[name], network=net, depends_on=deps, **kw))

    service("kafka-exporter", command=(f"--kafka.server={svc.KAFKA_BOOTSTRAP}",))
    service(
        "node-exporter",
        command=("--path.rootfs=/host",),
        host_mounts={"/host": "/"},
        pid_host=True,
    )
    service(
        "prometheus",
        ports={9090: 9090},
        volumes=("/prometheus",),
        files=obs_files.prometheus_files(settings.environment),
        command=(
            f"--config.file={obs_files.PROMETHEUS_CONFIG}",
            "--storage.tsdb.path=/prometheus",
            f"--storage.tsdb.retention.time={obs.retention_days}d",
            f"--storage.tsdb.retention.size={obs.retention_size_gib}GB",
        ),
    )
    service(
        "alertmanager",
        ports={9093: 9093},
        files=obs_files.alertmanager_files(),
        command=(f"--config.file={obs_files.ALERTMANAGER_CONFIG}",),
    )
    service(
        "grafana",
        ports={3000: 3000},
        volumes=("/var/lib/grafana",),
        envs={
            "GF_SECURITY_ADMIN_USER": "admin",
            "GF_SECURITY_ADMIN_PASSWORD": pw.grafana,
            "GF_AUTH_ANONYMOUS_ENABLED": "false",
        },
        files=obs_files.grafana_files(),
    )
    service("jaeger", ports={16686: 16686, 4317: 4317, 4318: 4318})


ENDPOINTS = {
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
}


def build_local(settings: StackSettings) -> dict[str, Any]:
    assert settings.scylla and settings.postgres and settings.kafka and settings.connect
    assert settings.schema_registry and settings.observability
    network = docker.Network("local-network", name=NETWORK, driver="bridge")
    net = network.name
    pw = _Passwords(
        superuser=_password("postgres-superuser"),
        sink=_password("postgres-sink"),
        grafana=_password("grafana-admin"),
    )
    core = _core(settings, net, pw)
    schemas = _schemas(settings, net, core, pw)
    connect = _streaming(settings, net, core, schemas, pw)
    connectors = _connectors(settings, connect)
    _observability(settings, net, connectors, pw)
    return {
        "network": net,
        "endpoints": ENDPOINTS,
        "connectors": {c._name: c.status for c in connectors},
        "grafana_admin_password": pw.grafana,
        "postgres_superuser_password": pw.superuser,
    }
