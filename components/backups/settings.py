"""Settings of the backup buckets (`pipeline-infra:backups`, seed 003 Backup Classifications)."""

from __future__ import annotations

from pydantic import Field

from lib.settings import Strict


class BackupSettings(Strict):
    """Backup buckets (003 Backup and Recovery > Backup Classifications)."""

    replicate_to_region: str | None = Field(None, pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    state_retention_days: int = Field(7, ge=1, le=3650)  # State Backups: 7 days
    db_full_retention_days: int = Field(30, ge=1, le=3650)  # Database Backups: 30 days full
    db_incremental_retention_days: int = Field(7, ge=1, le=3650)  # 7 days incremental
    audit_retention_years: int = Field(7, ge=1, le=100)  # Audit Log Backups: 7 years
