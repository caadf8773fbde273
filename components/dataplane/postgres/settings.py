"""Settings of PostgreSQL (`pipeline-infra:postgres`): the CloudNativePG cluster and its backups."""

from __future__ import annotations

from pydantic import Field, field_validator

from lib.quantities import check_cron
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

    @field_validator("backup_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        """a six-field cron, seconds first, as CloudNativePG reads it."""
        return check_cron(value, seconds=True)
