"""Settings of PostgreSQL (`pipeline-infra:postgres`): the CloudNativePG cluster and its backups."""

from __future__ import annotations

from pydantic import Field, field_validator

from lib.quantities import check_cron
from lib.settings import Resources, Strict


class PostgresSettings(Strict):
    instances: int = Field(3, ge=1, le=9)
    # 003 Storage Capacity: database total capacity 1 TB.
    storage_gib: int = Field(1024, ge=1, le=65536)
    resources: Resources = Field(default_factory=lambda: Resources(cpu="4", memory="16Gi"))
    # 003 Backup Schedules: DB full daily 01:00; Backup Classifications: 30 days full retention.
    backup_schedule: str = "0 0 1 * * *"  # CloudNativePG uses six-field cron (seconds first)
    backup_retention_days: int = Field(30, ge=1, le=3650)

    @field_validator("backup_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return check_cron(value, seconds=True)
