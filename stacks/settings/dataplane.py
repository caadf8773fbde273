"""Data plane settings: ScyllaDB, PostgreSQL, Kafka, Kafka Connect, Schema Registry (seed 000)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import Strict

_IDENT = r"^[a-z][a-z0-9_]{0,47}$"
_QTY = r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti)?$"


def check_cron(expr: str, *, seconds: bool) -> str:
    """A cron expression with five fields (or six, seconds first, when `seconds`); no time zone. The
    fields are checked by the same parser rules as the operators' (components/scylla/webhook.py)."""
    from components.scylla.webhook import cron_error

    want = 6 if seconds else 5
    if "TZ" in expr or len(expr.split()) != want:
        form = (
            "six fields (second minute hour day month weekday)"
            if seconds
            else "five fields (minute hour day month weekday)"
        )
        raise ValueError(f"must be a cron expression of {form} without a time zone (got {expr!r})")
    error = cron_error(expr)
    if error:
        raise ValueError(f"must be a cron expression the operators accept: {error}")
    return expr


_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_SEED = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")


def _positive(text: str) -> bool:
    from components.scylla.webhook import quantity

    return quantity(text) > 0


class Resources(Strict):
    cpu: str = Field(pattern=_QTY)
    # Memory with a binary unit (Mi, Gi, ...): "512m" would be milli-bytes to Kubernetes.
    memory: str = Field(pattern=r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti)$")


class CdcTable(Strict):
    name: str = Field(pattern=_IDENT)
    primary_key: list[str] = Field(min_length=1)
    columns: dict[str, str] = Field(min_length=1, description="column -> CQL type")

    @model_validator(mode="after")
    def _pk(self) -> CdcTable:
        missing = [c for c in self.primary_key if c not in self.columns]
        if missing:
            raise ValueError(f"primary_key columns {missing} are not in columns")
        return self


def _default_tables() -> list[CdcTable]:
    # seed 000: the runbook's examples replicate app_data.users (cdc.scylla.users-value subject).
    return [
        CdcTable(
            name="users",
            primary_key=["user_id"],
            columns={"user_id": "uuid", "email": "text", "name": "text", "created_at": "timestamp"},
        ),
        CdcTable(
            name="orders",
            primary_key=["order_id"],
            columns={
                "order_id": "uuid",
                "user_id": "uuid",
                "amount": "decimal",
                "status": "text",
                "created_at": "timestamp",
            },
        ),
    ]


class ScyllaSettings(Strict):
    members_per_rack: int = Field(1, ge=1, le=32)
    storage_gib: int = Field(500, ge=10, le=65536)
    resources: Resources = Field(default_factory=lambda: Resources(cpu="4", memory="16Gi"))
    keyspace: str = Field("app_data", pattern=_IDENT)
    replication_factor: int = Field(3, ge=1, le=5)
    tables: list[CdcTable] = Field(default_factory=_default_tables, min_length=1)
    # 003 Backup Schedules: DB full daily; Scylla Manager keeps 30 days of daily snapshots.
    backup_cron: str = "0 1 * * *"
    backup_retention: int = Field(30, ge=1, le=365)
    repair_cron: str = "0 2 * * 0"  # 003 Backup Schedules: weekly window Sunday 02:00
    # DR site only: seeds of the primary's datacenter (IPs or names this cluster resolves); empty: the
    # primary stack's scylla_external_seeds output.
    external_seeds: list[str] = Field(default_factory=list, max_length=16)

    # Scylla Operator's webhook refuses a rack without non-zero cpu and memory limits (the limits
    # equal these requests) and task crons its parser rejects.
    @field_validator("resources")
    @classmethod
    def _limits(cls, value: Resources) -> Resources:
        if not (_positive(value.cpu) and _positive(value.memory)):
            raise ValueError("cpu and memory must be above zero (they are the racks' limits)")
        return value

    @field_validator("external_seeds")
    @classmethod
    def _seeds(cls, value: list[str]) -> list[str]:
        for seed in value:
            if not _SEED.match(seed):
                raise ValueError(f"{seed!r} is not an IPv4 address or DNS name")
        return value

    @field_validator("backup_cron", "repair_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        return check_cron(value, seconds=False)


_PG_MEMORY = r"^[0-9]+(kB|MB|GB|TB)$"
_PG_UNITS = {"kB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


def pg_bytes(text: str) -> int:
    """A PostgreSQL memory setting ("4GB", "512MB": units of 1024) in bytes."""
    m = re.match(r"^([0-9]+)(kB|MB|GB|TB)$", text)
    assert m, text
    return int(m.group(1)) * _PG_UNITS[m.group(2)]


class PostgresParameters(Strict):
    """postgresql.conf parameters CloudNativePG applies (spec.postgresql.parameters)."""

    # seed 000 Vertical Scaling > Increase PostgreSQL Resources: "shared_buffers = 8GB # from 4GB",
    # "effective_cache_size = 24GB # from 12GB", "maintenance_work_mem = 2GB # from 1GB": the
    # baselines are the defaults (on the 16 GiB pods: 25 % and 75 % of the memory).
    shared_buffers: str = Field("4GB", pattern=_PG_MEMORY)
    effective_cache_size: str = Field("12GB", pattern=_PG_MEMORY)
    maintenance_work_mem: str = Field("1GB", pattern=_PG_MEMORY)
    # No seed figure: the connections of the sink's tasks and the modules' pools; WAL kept for
    # replicas that fall behind.
    max_connections: int = Field(300, ge=10, le=10_000)
    wal_keep_size: str = Field("2GB", pattern=_PG_MEMORY)

    @model_validator(mode="after")
    def _minimums(self) -> PostgresParameters:
        # PostgreSQL's own minimums: shared_buffers 128kB, maintenance_work_mem 1MB
        if pg_bytes(self.shared_buffers) < 128 * 1024 or pg_bytes(self.maintenance_work_mem) < 1024**2:
            raise ValueError("shared_buffers must be at least 128kB and maintenance_work_mem at least 1MB")
        return self


class PostgresRestore(Strict):
    """Bootstrap the cluster from a base backup and the WAL in this environment's backup bucket, up to
    a point in time (seed 003 Database Recovery > Point-in-Time Recovery: recovery_target_time)."""

    # the server (cluster) whose backups are restored, as named in the object store
    source: str = Field(pattern=r"^[a-z][a-z0-9-]{0,62}$")
    # RFC 3339 with a time zone; none: replay all the WAL there is
    target_time: datetime | None = None
    # the server name the restored cluster archives its WAL and backups under: a new one (barman-cloud
    # refuses to archive into a server folder that already holds another timeline's WAL)
    archive_as: str = Field(pattern=r"^[a-z][a-z0-9-]{0,62}$")

    @model_validator(mode="after")
    def _new_archive(self) -> PostgresRestore:
        if self.archive_as == self.source:
            raise ValueError("archive_as must differ from source (the source's archive stays as it is)")
        if self.target_time is not None and self.target_time.tzinfo is None:
            raise ValueError("target_time needs a time zone, e.g. 2026-11-30T10:30:00Z")
        return self


class PostgresSettings(Strict):
    instances: int = Field(3, ge=1, le=9)
    # 003 Storage Capacity: database total capacity 1 TB.
    storage_gib: int = Field(1024, ge=1, le=65536)
    resources: Resources = Field(default_factory=lambda: Resources(cpu="4", memory="16Gi"))
    # 003 Backup Schedules: DB full daily 01:00; Backup Classifications: 30 days full retention.
    backup_schedule: str = "0 0 1 * * *"  # CloudNativePG uses six-field cron (seconds first)
    backup_retention_days: int = Field(30, ge=1, le=3650)
    parameters: PostgresParameters = Field(default_factory=PostgresParameters)
    restore: PostgresRestore | None = None

    @field_validator("backup_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return check_cron(value, seconds=True)

    @model_validator(mode="after")
    def _memory(self) -> PostgresSettings:
        from components.scylla.webhook import quantity

        memory, p = quantity(self.resources.memory), self.parameters
        if pg_bytes(p.shared_buffers) + pg_bytes(p.maintenance_work_mem) >= memory:
            raise ValueError(
                f"parameters: shared_buffers + maintenance_work_mem must stay below the pods' memory "
                f"({self.resources.memory})"
            )
        if pg_bytes(p.effective_cache_size) > memory:
            raise ValueError(
                f"parameters: effective_cache_size must not exceed the pods' memory ({self.resources.memory})"
            )
        return self


class KafkaSettings(Strict):
    controllers: int = Field(3, ge=1, le=9)
    brokers: int = Field(3, ge=1, le=64)
    storage_gib: int = Field(500, ge=1, le=65536)
    # KRaft controllers keep only the metadata log: a small volume each.
    controller_storage_gib: int = Field(20, ge=1, le=1024)
    controller_resources: Resources = Field(default_factory=lambda: Resources(cpu="500m", memory="2Gi"))
    resources: Resources = Field(default_factory=lambda: Resources(cpu="2", memory="8Gi"))
    replication_factor: int = Field(3, ge=1, le=5)
    min_insync_replicas: int = Field(2, ge=1, le=5)
    topic_partitions: int = Field(12, ge=1, le=1000)
    retention_hours: int = Field(168, ge=1, le=87600)
    dlq_retention_hours: int = Field(336, ge=1, le=87600)

    @model_validator(mode="after")
    def _consistent(self) -> KafkaSettings:
        if self.replication_factor > self.brokers:
            raise ValueError(f"replication_factor {self.replication_factor} exceeds brokers {self.brokers}")
        if self.min_insync_replicas > self.replication_factor:
            raise ValueError("min_insync_replicas must not exceed replication_factor")
        return self


class ConnectSettings(Strict):
    replicas: int = Field(3, ge=1, le=32)
    # seed 000 Scaling > Vertical: KAFKA_HEAP_OPTS "-Xms2G -Xmx4G".
    heap_min: str = Field("2g", pattern=r"^[0-9]+[mg]$")
    heap_max: str = Field("4g", pattern=r"^[0-9]+[mg]$")
    resources: Resources = Field(default_factory=lambda: Resources(cpu="2", memory="6Gi"))
    topic_prefix: str = Field("cdc.scylla", pattern=r"^[a-z][a-z0-9._-]*$")
    # seed 000 Step 4 expected output: "RUNNING (4/4 tasks)"; High Replication Lag: tasks.max 8.
    source_tasks: int = Field(4, ge=1, le=64)
    sink_tasks: int = Field(4, ge=1, le=64)
    # Where Strimzi's `build` pushes the Connect image with the plugins. Unset on AWS: an ECR repository
    # of the stack, pushed to by the build pod's IAM role (IRSA). Set: any registry, with
    # `push_secret` naming a kubernetes.io/dockerconfigjson Secret in the kafka namespace.
    image_repository: str | None = Field(
        None,
        pattern=r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9._-]+)+$",
        description="registry/repository of the built Connect image, without tag",
    )
    push_secret: str | None = Field(None, pattern=r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")

    @model_validator(mode="after")
    def _registry(self) -> ConnectSettings:
        if self.push_secret is not None and self.image_repository is None:
            raise ValueError("push_secret is only used with image_repository")
        # The JVM refuses to start when the initial heap exceeds the maximum.
        if _heap_mib(self.heap_min) > _heap_mib(self.heap_max):
            raise ValueError(f"heap_min {self.heap_min} must not exceed heap_max {self.heap_max}")
        return self


def _heap_mib(size: str) -> int:
    return int(size[:-1]) * (1024 if size.endswith("g") else 1)


class SchemaRegistrySettings(Strict):
    replicas: int = Field(2, ge=1, le=9)
    compatibility: Literal[
        "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE", "NONE"
    ] = "BACKWARD"
