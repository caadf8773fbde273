"""Settings of PostgreSQL (`pipeline-infra:postgres`): the CloudNativePG cluster and its backups."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from lib.quantities import check_cron, max_interval_seconds
from lib.settings import Resources, Strict


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
        default_factory=lambda: Resources(cpu="4", memory="16Gi"),
        description="cpu and memory of each instance: requests, and limits equal to them",
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

    @field_validator("backup_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        """a six-field cron, seconds first, as CloudNativePG reads it, that fires."""
        return check_cron(value, seconds=True)

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
