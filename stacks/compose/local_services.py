"""What the local stack's containers are told (pure: no Pulumi import): environments, commands,
health checks, the one-shot schema steps and their `docker run` lines.

Addresses are the container names on the stack's Docker network (each container is reachable by its
service name); ports are seed 000's (ScyllaDB 9042, PostgreSQL 5432, Schema Registry 8081, Kafka
Connect 8083, Prometheus 9090, Grafana 3000, Jaeger 16686).
"""

from __future__ import annotations

from components.dataplane.postgres.sql import SINK_ROLE, bootstrap_sql
from lib import versions
from lib.quantities import quantity
from stacks.settings import StackSettings

KAFKA_BOOTSTRAP = "kafka:9092"
REGISTRY_URL = "http://schema-registry:8081"
CONNECT_PORT = 8083
# The Connect worker reads the sink's password from this file through Kafka's FileConfigProvider;
# connector configs hold only the reference (components/connect/config.py requires one).
SECRETS_DIR = "/etc/pipeline/secrets"
SINK_SECRET_FILE = f"{SECRETS_DIR}/postgres-sink.properties"
SINK_PASSWORD_REF = f"${{file:{SINK_SECRET_FILE}:password}}"
FILE_PROVIDER = "org.apache.kafka.common.config.provider.FileConfigProvider"
# Prometheus JMX exporter agent in the Connect image (docker/connect/Dockerfile puts it into /kafka/libs).
METRICS_PORT = 9404
CONNECT_AGENT = f"/kafka/libs/jmx_prometheus_javaagent-{versions.JMX_PROMETHEUS_JAVAAGENT}.jar"
CONNECT_METRICS_CONFIG = "/etc/pipeline/connect-metrics.yaml"


def mib(memory: str) -> int:
    """MiB of a memory quantity of the settings (Ki, Mi, Gi, Ti)."""
    return int(quantity(memory) / 2**20)


def scylla_command(settings: StackSettings) -> list[str]:
    """One shard in developer mode, memory from the settings (the container gets 512 MiB more)."""
    assert settings.scylla is not None
    return [
        "--smp",
        "1",
        "--memory",
        f"{mib(settings.scylla.resources.memory)}M",
        "--overprovisioned",
        "1",
        "--developer-mode",
        "1",
    ]


def kafka_env(settings: StackSettings) -> dict[str, str]:
    """apache/kafka in KRaft with one combined broker/controller; HOST listener on :9094 for the host."""
    k = settings.kafka
    assert k is not None
    rf, isr = str(k.replication_factor), str(k.min_insync_replicas)
    return {
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_LISTENERS": "PLAINTEXT://:9092,CONTROLLER://:9093,HOST://:9094",
        "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://{KAFKA_BOOTSTRAP},HOST://localhost:9094",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,HOST:PLAINTEXT",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@kafka:9093",
        "KAFKA_LOG_DIRS": "/var/lib/kafka/data",
        "KAFKA_DEFAULT_REPLICATION_FACTOR": rf,
        "KAFKA_MIN_INSYNC_REPLICAS": isr,
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": rf,
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": rf,
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": isr,
        "KAFKA_NUM_PARTITIONS": str(k.topic_partitions),
        "KAFKA_LOG_RETENTION_HOURS": str(k.retention_hours),
    }


def registry_env(settings: StackSettings) -> dict[str, str]:
    assert settings.schema_registry is not None and settings.kafka is not None
    return {
        "SCHEMA_REGISTRY_HOST_NAME": "schema-registry",
        "SCHEMA_REGISTRY_LISTENERS": "http://0.0.0.0:8081",
        "SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS": f"PLAINTEXT://{KAFKA_BOOTSTRAP}",
        "SCHEMA_REGISTRY_KAFKASTORE_TOPIC_REPLICATION_FACTOR": str(settings.kafka.replication_factor),
        "SCHEMA_REGISTRY_SCHEMA_COMPATIBILITY_LEVEL": settings.schema_registry.compatibility,
    }


def connect_env(settings: StackSettings) -> dict[str, str]:
    """The Debezium Connect image's variables: BOOTSTRAP_SERVERS, GROUP_ID, *_STORAGE_TOPIC and
    HEAP_OPTS are its own; every other CONNECT_<X_Y> becomes worker property x.y (its
    docker-entrypoint.sh). KAFKA_OPTS starts the JMX exporter agent on :9404."""
    k, c = settings.kafka, settings.connect
    assert k is not None and c is not None
    rf = str(k.replication_factor)
    return {
        "BOOTSTRAP_SERVERS": KAFKA_BOOTSTRAP,
        "GROUP_ID": "pipeline-connect",
        "CONFIG_STORAGE_TOPIC": "connect-configs",
        "OFFSET_STORAGE_TOPIC": "connect-offsets",
        "STATUS_STORAGE_TOPIC": "connect-status",
        "CONNECT_CONFIG_STORAGE_REPLICATION_FACTOR": rf,
        "CONNECT_OFFSET_STORAGE_REPLICATION_FACTOR": rf,
        "CONNECT_STATUS_STORAGE_REPLICATION_FACTOR": rf,
        "HEAP_OPTS": f"-Xms{c.heap_min.upper()} -Xmx{c.heap_max.upper()}",
        "CONNECT_CONFIG_PROVIDERS": "file",
        "CONNECT_CONFIG_PROVIDERS_FILE_CLASS": FILE_PROVIDER,
        "CONNECT_CONFIG_PROVIDERS_FILE_PARAM_ALLOWED_PATHS": SECRETS_DIR,
        "KAFKA_OPTS": f"-javaagent:{CONNECT_AGENT}={METRICS_PORT}:{CONNECT_METRICS_CONFIG}",
    }


def sink_secret_file(password: str) -> str:
    """The properties file the FileConfigProvider reads (key `password`)."""
    if "\n" in password:
        raise ValueError("a password cannot hold a line break")
    return f"password={password}\n"


# --- health checks (Docker CMD-SHELL) ---------------------------------------------------------------
SCYLLA_HEALTH = "cqlsh -e 'SELECT now() FROM system.local' >/dev/null || exit 1"
# Over TCP: during its init phase the postgres image's entrypoint runs a temporary server that listens
# on the Unix socket only (listen_addresses=''), so this passes only once initdb and the init
# scripts are done and the real server listens.
POSTGRES_HEALTH = "pg_isready -h 127.0.0.1 -p 5432 -U postgres -d postgres"
KAFKA_HEALTH = "/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server localhost:9092 >/dev/null"
REGISTRY_HEALTH = "curl -fsS http://localhost:8081/subjects >/dev/null"
CONNECT_HEALTH = f"curl -fsS http://localhost:{CONNECT_PORT}/connectors >/dev/null"


# --- one-shot steps ---------------------------------------------------------------------------------
# The local role logins: the password comes from psql variable sink_password (set from the job's
# environment on the psql command line), never from a file or this script.
_LOGINS = f"""
-- local stack: the sink's login (password from psql variable sink_password)
\\connect postgres
ALTER ROLE {SINK_ROLE} WITH LOGIN PASSWORD :'sink_password';
"""


def postgres_bootstrap_script() -> str:
    """The Kubernetes stacks' bootstrap SQL, then the sink role's login."""
    return bootstrap_sql() + _LOGINS


def postgres_bootstrap_shell(host: str = "postgres", port: int = 5432, workdir: str = "/tmp") -> str:
    """psql runs the script as the superuser, with the sink's password as a psql variable. Both
    passwords arrive on standard input, one line each before the script (BOOTSTRAP_SECRET_LINES):
    never in the container's environment (`docker inspect` shows it) nor on a command line; only the
    psql process gets them. ON_ERROR_STOP makes any failed statement exit 3."""
    return (
        "IFS= read -r PGPASSWORD && IFS= read -r sink_password && export PGPASSWORD && "
        f"cat > {workdir}/bootstrap.sql && "
        'psql -X -v ON_ERROR_STOP=1 -v sink_password="$sink_password" '
        f"-h {host} -p {port} -U postgres -d postgres -f {workdir}/bootstrap.sql"
    )


# What postgres_bootstrap_shell reads from standard input before the script, in this order.
BOOTSTRAP_SECRET_LINES = ("superuser password", "sink password")


POSTGRES_BOOTSTRAP_SHELL = postgres_bootstrap_shell()
SCYLLA_SCHEMA_SHELL = "cat > /tmp/schema.cql && cqlsh scylla 9042 -f /tmp/schema.cql"
