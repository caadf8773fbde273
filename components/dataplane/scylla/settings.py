"""Settings of ScyllaDB (`pipeline-infra:scylla`): racks, storage, the CDC keyspace and tables, Scylla
Manager's backup and repair tasks, and on a DR site the primary's seeds."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from lib.cdc import IDENT, CdcTable, default_tables
from lib.quantities import check_cron, positive
from lib.settings import Resources, Strict, repeated

_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"


_SEED = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")


class ScyllaSettings(Strict):
    """The ScyllaCluster `scylla`: one rack per availability zone, its CDC schema and Manager tasks."""

    members_per_rack: int = Field(
        1,
        ge=1,
        le=32,
        description="ScyllaDB members per rack (one rack per AZ, one member per node): the scylla node "
        "group needs at least az_count x members_per_rack nodes",
    )
    storage_gib: int = Field(
        500, ge=10, le=65536, description="size in GiB of each member's data volume"
    )
    resources: Resources = Field(
        default_factory=lambda: Resources(cpu="4", memory="16Gi"),
        description="cpu and memory of each member: requests and limits (equal; the operator refuses "
        "zero)",
    )
    keyspace: str = Field(
        "app_data",
        pattern=IDENT,
        description="keyspace of the CDC tables, in every topic name (seed 000: app_data)",
    )
    replication_factor: int = Field(
        3,
        ge=1,
        le=5,
        description="replicas per datacenter of the keyspace (NetworkTopologyStrategy; a DR pair "
        "replicates to both datacenters)",
    )
    tables: list[CdcTable] = Field(
        default_factory=default_tables,
        min_length=1,
        description="the CDC-enabled tables (postimage on), one Kafka topic and one sink table each "
        "(default users, as seed 000's examples, and orders)",
    )
    backup_cron: str = Field(
        "0 1 * * *",
        description="five-field cron of Scylla Manager's daily backup task to the backup bucket "
        "(seed 003 Backup Schedules: DB full daily 01:00)",
    )
    backup_retention: int = Field(
        30,
        ge=1,
        le=365,
        description="backups (snapshots) Scylla Manager keeps; daily, so 30 days (seed 003 Backup "
        "Classifications: 30 days full)",
    )
    repair_cron: str = Field(
        "0 2 * * 0",
        description="five-field cron of Scylla Manager's weekly repair task (seed 003 Backup "
        "Schedules: weekly window Sunday 02:00)",
    )
    external_seeds: list[str] = Field(
        default_factory=list,
        max_length=16,
        description="DR site only: seeds of the primary's datacenter (IPv4 addresses or DNS names this "
        "cluster resolves); empty: the primary stack's scylla_external_seeds output (its seeds' names in "
        "the DR pair's private zone)",
    )

    # Scylla Operator's webhook refuses a rack without non-zero cpu and memory limits (the limits
    # equal these requests) and task crons its parser rejects.
    @field_validator("resources")
    @classmethod
    def _limits(cls, value: Resources) -> Resources:
        """cpu and memory above zero (they are the racks' limits)."""
        if not (positive(value.cpu) and positive(value.memory)):
            raise ValueError("cpu and memory must be above zero (they are the racks' limits)")
        return value

    @field_validator("external_seeds")
    @classmethod
    def _seeds(cls, value: list[str]) -> list[str]:
        """each seed an IPv4 address or DNS name, listed once."""
        for seed in value:
            if not _SEED.match(seed):
                raise ValueError(f"{seed!r} is not an IPv4 address or DNS name")
        if repeated(value):
            raise ValueError(f"{', '.join(repeated(value))} listed more than once")
        return value

    @field_validator("tables")
    @classmethod
    def _unique_tables(cls, value: list[CdcTable]) -> list[CdcTable]:
        """each table name once (each is a Kafka topic, a connector table and a sink table)."""
        twice = repeated([t.name for t in value])
        if twice:
            raise ValueError(
                f"table {', '.join(twice)} listed more than once: its topic and sink table would collide"
            )
        return value

    @field_validator("backup_cron", "repair_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        """a five-field cron Scylla Manager's parser accepts (weekday 0-6, no time zone), that fires."""
        return check_cron(value, seconds=False)
