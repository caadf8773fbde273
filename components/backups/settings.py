"""Settings of the backup buckets (`pipeline-infra:backups`, seed 003 Backup Classifications)."""

from __future__ import annotations

from pydantic import Field, model_validator

from lib.settings import Region, Strict


class BackupSettings(Strict):
    """Backup buckets (003 Backup and Recovery > Backup Classifications)."""

    replicate_to_region: Region | None = Field(
        None,
        description="AWS region the backup and audit buckets are replicated to (replica buckets with "
        "their own KMS key, the audit replica under the same compliance lock); must differ from "
        "aws:region; unset: no replication",
    )
    state_retention_days: int = Field(
        7,
        ge=1,
        le=3650,
        description="days the fleets' module state backups (`state/` prefix) are kept "
        "(seed 003 Backup Classifications > State Backups: retention 7 days)",
    )
    db_full_retention_days: int = Field(
        30,
        ge=1,
        le=3650,
        description="days database full backups (`database/full/` prefix) are kept "
        "(seed 003 Backup Classifications > Database Backups: 30 days full)",
    )
    db_incremental_retention_days: int = Field(
        7,
        ge=1,
        le=3650,
        description="days database incremental backups (`database/incremental/` prefix) are kept "
        "(seed 003 Backup Classifications > Database Backups: 7 days incremental)",
    )
    audit_retention_years: int = Field(
        7,
        ge=1,
        le=100,
        description="years the audit bucket's S3 Object Lock (compliance mode) keeps every object, "
        "after which they expire (seed 003 Backup Classifications > Audit Log Backups: 7 years)",
    )

    @model_validator(mode="after")
    def _incremental_within_full(self) -> BackupSettings:
        """db_incremental_retention_days at most db_full_retention_days (an incremental needs its full)."""
        if self.db_incremental_retention_days > self.db_full_retention_days:
            raise ValueError(
                f"db_incremental_retention_days {self.db_incremental_retention_days} exceeds "
                f"db_full_retention_days {self.db_full_retention_days}: an incremental backup is restored "
                "on top of its full backup, which would be gone"
            )
        return self
