"""Settings of PostgreSQL (`pipeline-infra:postgres`): the CloudNativePG cluster and its backups."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import Field, field_validator, model_validator

from lib.quantities import check_cron, max_interval_seconds, quantity
from lib.settings import Resources, Strict

_PG_MEMORY = r"^[0-9]+(kB|MB|GB|TB)$"
_PG_UNITS = {"kB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
_SERVER = r"^[a-z][a-z0-9-]{0,62}$"


def pg_bytes(text: str) -> int:
    """A PostgreSQL memory setting ("4GB", "512MB": units of 1024) in bytes."""
    m = re.match(r"^([0-9]+)(kB|MB|GB|TB)$", text)
    assert m, text
    return int(m.group(1)) * _PG_UNITS[m.group(2)]


class PostgresParameters(Strict):
    """postgresql.conf parameters CloudNativePG applies (spec.postgresql.parameters)."""

    shared_buffers: str = Field(
        "4GB",
        pattern=_PG_MEMORY,
        description="shared buffer memory (seed 000 Vertical Scaling > Increase PostgreSQL Resources: "
        "\"shared_buffers = 8GB # from 4GB\": baseline 4GB, 25 % of the 16 GiB pods)",
    )
    effective_cache_size: str = Field(
        "12GB",
        pattern=_PG_MEMORY,
        description="the planner's estimate of the cache available (seed 000: \"effective_cache_size = "
        "24GB # from 12GB\": baseline 12GB, 75 % of the pods' memory)",
    )
    maintenance_work_mem: str = Field(
        "1GB",
        pattern=_PG_MEMORY,
        description="memory of VACUUM and index builds (seed 000: \"maintenance_work_mem = 2GB # from "
        "1GB\": baseline 1GB)",
    )
    max_connections: int = Field(
        300,
        ge=10,
        le=10_000,
        description="connections the server accepts (no seed figure: the sink's tasks and the modules' "
        "pools)",
    )
    wal_keep_size: str = Field(
        "2GB",
        pattern=_PG_MEMORY,
        description="WAL kept for replicas that fall behind (no seed figure)",
    )

    @model_validator(mode="after")
    def _minimums(self) -> PostgresParameters:
        """shared_buffers must be at least 128kB and maintenance_work_mem at least 1MB."""
        if pg_bytes(self.shared_buffers) < 128 * 1024 or pg_bytes(self.maintenance_work_mem) < 1024**2:
            raise ValueError("shared_buffers must be at least 128kB and maintenance_work_mem at least 1MB")
        return self


class PostgresRestore(Strict):
    """Bootstrap the cluster from a base backup and the WAL in this environment's backup bucket, up to
    a point in time (seed 003 Database Recovery > Point-in-Time Recovery: recovery_target_time)."""

    source: str = Field(
        pattern=_SERVER, description="the server (cluster) whose backups are restored, as named in the "
        "object store"
    )
    target_time: datetime | None = Field(
        None,
        description="RFC 3339 time with a time zone to recover to; unset: replay all the WAL there is",
    )
    archive_as: str = Field(
        pattern=_SERVER,
        description="the server name the restored cluster archives under: a new one (barman-cloud "
        "refuses to archive into a folder that holds another timeline's WAL)",
    )

    @model_validator(mode="after")
    def _new_archive(self) -> PostgresRestore:
        """archive_as must differ from source.
        target_time needs a time zone."""
        if self.archive_as == self.source:
            raise ValueError("archive_as must differ from source (the source's archive stays as it is)")
        if self.target_time is not None and self.target_time.tzinfo is None:
            raise ValueError("target_time needs a time zone, e.g. 2026-11-30T10:30:00Z")
        return self


class PostgresSettings(Strict):
    """The CloudNativePG cluster `warehouse` (a replica cluster `warehouse-dr` on a DR site)."""

    instances: int = Field(
        3,
        ge=1,
        le=9,
        description="PostgreSQL instances of the cluster: one primary, the others streaming replicas, "
        "spread over zones",
    )
    storage_gib: int = Field(
        1024,
        ge=1,
        le=65536,
        description="size in GiB of each instance's data volume (seed 003 Storage Capacity: database "
        "total capacity 1 TB)",
    )
    resources: Resources = Field(
        default_factory=lambda: Resources(cpu="3", memory="16Gi"),
        description="cpu and memory of each instance: requests, and limits equal to them; the memory "
        "also sets shared_buffers (1/4), effective_cache_size (3/4) and maintenance_work_mem (1/16), "
        "seed 000 Increase PostgreSQL Resources (16 GiB: 4GB, 12GB, 1GB); default 3 cpu so that an "
        "instance, its barman-cloud sidecar and the DaemonSets fit a 4-vCPU r6i.xlarge "
        "(docs/data-plane.md Sizing)",
    )
    backup_schedule: str = Field(
        "0 0 1 * * *",
        description="CloudNativePG ScheduledBackup cron, six fields with seconds first (seed 003 Backup "
        "Schedules: DB full daily 01:00); suspended on a DR standby",
    )
    backup_retention_days: int = Field(
        30,
        ge=1,
        le=3650,
        description="days barman-cloud keeps base backups and WAL under postgres/ of the backup bucket "
        "(retentionPolicy; seed 003 Backup Classifications: 30 days full)",
    )

    parameters: PostgresParameters = Field(
        default_factory=PostgresParameters,
        description="postgresql.conf parameters (seed 000 Increase PostgreSQL Resources), checked against "
        "the pods' memory",
    )
    restore: PostgresRestore | None = Field(
        None,
        description="bootstrap from a backup up to a point in time (seed 003 Point-in-Time Recovery); "
        "AWS targets, not on a DR site",
    )

    @field_validator("backup_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        """a six-field cron, seconds first, as CloudNativePG reads it, that fires."""
        return check_cron(value, seconds=True)

    @model_validator(mode="after")
    def _memory(self) -> PostgresSettings:
        """parameters: shared_buffers + maintenance_work_mem must stay below the pods' memory.
        parameters: effective_cache_size must not exceed the pods' memory."""
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

    @model_validator(mode="after")
    def _retention_covers_schedule(self) -> PostgresSettings:
        """backup_retention_days at least the longest interval between two backups of backup_schedule."""
        interval = max_interval_seconds(self.backup_schedule) or 0
        if self.backup_retention_days * 86400 < interval:
            raise ValueError(
                f"backup_retention_days {self.backup_retention_days} is shorter than the longest interval "
                f"between two backups of backup_schedule {self.backup_schedule!r} ({interval / 86400:g} "
                "days): a restore point would have no base backup"
            )
        return self
