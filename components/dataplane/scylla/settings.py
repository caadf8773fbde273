"""Settings of ScyllaDB (`pipeline-infra:scylla`): racks, storage, the CDC keyspace and tables, Scylla
Manager's backup and repair tasks, and on a DR site the primary's seeds."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from lib.cdc import IDENT, CdcTable, default_tables
from lib.quantities import check_cron, positive
from lib.settings import Resources, Strict

_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"


_SEED = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")


class ScyllaSettings(Strict):
    members_per_rack: int = Field(1, ge=1, le=32)
    storage_gib: int = Field(500, ge=10, le=65536)
    resources: Resources = Field(default_factory=lambda: Resources(cpu="4", memory="16Gi"))
    keyspace: str = Field("app_data", pattern=IDENT)
    replication_factor: int = Field(3, ge=1, le=5)
    tables: list[CdcTable] = Field(default_factory=default_tables, min_length=1)
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
        if not (positive(value.cpu) and positive(value.memory)):
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
