"""Class 1, consistency inside a stack: values each valid alone but impossible together end in one clear
error. Every fixture is a committed stack file with one change."""

from __future__ import annotations

import pytest

from lib.quantities import max_interval_seconds, never_fires
from stacks.settings import load_settings
from tests.settings.cases import STACKS, Case, assert_one_clear_line, committed, settings_error

P = "pipeline-infra"

CONSISTENCY = [
    # replication against brokers and nodes
    Case("kafka replication above brokers", "staging", "kafka.replication_factor", 4,
         f"{P}:kafka", "exceeds brokers 3"),
    Case("scylla replication above the datacenter's members", "prod", "scylla.replication_factor", 4,
         f"{P}:scylla.replication_factor", "network.az_count x scylla.members_per_rack = 3"),
    Case("local: three brokers in one container", "local", "kafka.brokers", 3,
         f"{P}:kafka.brokers", "must be 1 on target docker"),
    # min.insync.replicas
    Case("min.insync.replicas equal to the replication factor", "prod", "kafka.min_insync_replicas", 3,
         f"{P}:kafka", "must be below replication_factor 3"),
    Case("min.insync.replicas above the replication factor", "staging", "kafka.min_insync_replicas", 4,
         f"{P}:kafka", "must be below replication_factor 3"),
    # the JVM heap against its container
    Case("Connect heap as large as the container", "staging", "connect.heap_max", "3g",
         f"{P}:connect", "does not fit resources.memory 3Gi"),
    Case("local Connect heap as large as the container", "local", "connect.heap_max", "3g",
         f"{P}:connect", "does not fit resources.memory 3Gi"),
    # retention against its volume
    Case("Prometheus retention size as large as its volume", "prod", "observability.retention_size_gib", 200,
         f"{P}:observability", "does not fit prometheus_storage_gib 200"),
    Case("local Prometheus retention size above its volume", "local", "observability.retention_size_gib", 20,
         f"{P}:observability", "does not fit prometheus_storage_gib 10"),
    # backup retention against the backup interval; incremental against full
    Case("monthly base backups kept 30 days", "prod", "postgres.backup_schedule", "0 0 1 1 * *",
         f"{P}:postgres", "shorter than the longest interval between two backups"),
    Case("quarterly base backups kept 30 days", "staging", "postgres.backup_schedule", "0 0 1 1 1,4,7,10 *",
         f"{P}:postgres", "backup_retention_days 30 is shorter than the longest interval"),
    Case("incremental kept longer than full", "prod", "backups.db_incremental_retention_days", 40,
         f"{P}:backups", "exceeds db_full_retention_days 30"),
    Case("staging: incremental kept longer than full", "staging", "backups.db_full_retention_days", 5,
         f"{P}:backups", "db_incremental_retention_days 7 exceeds"),
    # schedules that never fire
    Case("Scylla backup on 31 February", "staging", "scylla.backup_cron", "0 0 31 2 *",
         f"{P}:scylla.backup_cron", "never fires"),
    Case("Scylla repair on 31 April", "local", "scylla.repair_cron", "0 2 31 4 *",
         f"{P}:scylla.repair_cron", "never fires"),
    Case("PostgreSQL backup on 30 February", "prod-dr", "postgres.backup_schedule", "0 0 0 30 2 *",
         f"{P}:postgres.backup_schedule", "never fires"),
    # duplicate entries that would collide
    Case("a CDC table listed twice", "staging", "scylla.tables", [
        {"name": "users", "primary_key": ["user_id"], "columns": {"user_id": "uuid"}},
        {"name": "users", "primary_key": ["user_id"], "columns": {"user_id": "uuid", "email": "text"}},
    ], f"{P}:scylla.tables", "table users listed more than once"),
    Case("a primary key column twice", "local", "scylla.tables", [
        {"name": "orders", "primary_key": ["order_id", "order_id"], "columns": {"order_id": "uuid"}},
    ], f"{P}:scylla.tables[0]", "primary_key names order_id more than once"),
    Case("a source network twice", "prod", "network.source_cidrs", ["172.16.0.0/16", "172.16.0.0/16"],
         f"{P}:network", "source_cidrs: 172.16.0.0/16 listed more than once"),
    Case("a source port twice (two listeners on one port)", "staging", "network.source_ports", [8443, 8443],
         f"{P}:network", "source_ports: 8443 listed more than once"),
    Case("a DR seed twice", "prod-dr", "scylla.external_seeds", ["10.10.1.5", "10.10.1.5"],
         f"{P}:scylla.external_seeds", "10.10.1.5 listed more than once"),
    # resources of zero or absurd size
    Case("a broker of zero memory", "local", "kafka.resources.memory", "0Gi",
         f"{P}:kafka.resources", "must be above zero"),
    Case("a PostgreSQL instance of zero cpu", "staging", "postgres.resources.cpu", "0",
         f"{P}:postgres.resources", "must be above zero"),
    Case("a broker of 8000Gi (meant 8000Mi)", "staging", "kafka.resources.memory", "8000Gi",
         f"{P}:kafka.resources", "memory at most 1536Gi"),
    Case("2000 cores (meant 2000m)", "local", "connect.resources.cpu", "2000",
         f"{P}:connect.resources", "cpu at most 192 cores"),
    # a colour stack whose name, colour or environment disagree
    Case("prod-blue holding the green colour", "prod-blue", "fleets.colour", "green",
         f"{P}:fleets.colour", "named for colour blue"),
    Case("prod-green in environment staging", "prod-green", "environment", "staging",
         f"{P}:environment", "named for environment prod"),
]


@pytest.mark.parametrize("case", CONSISTENCY, ids=[c.name for c in CONSISTENCY])
def test_an_inconsistent_stack_is_one_clear_error(case: Case) -> None:
    assert_one_clear_line(case, settings_error(case))


@pytest.mark.parametrize("stack", STACKS)
def test_the_committed_stacks_are_consistent(stack: str) -> None:
    assert load_settings(committed(stack), source=f"Pulumi.{stack}.yaml", offline=True).environment


def test_every_rule_of_the_class_has_two_cases_and_both_roles_are_covered() -> None:
    topics = {
        "replication": ("replication_factor", "brokers"),
        "insync": ("min_insync_replicas",),
        "heap": ("heap_max",),
        "retention size": ("retention_size_gib",),
        "backup retention": ("backup_schedule", "backup_retention_days", "db_"),
        "never fires": ("cron", "backup_schedule"),
        "duplicates": ("tables", "cidrs", "ports", "seeds"),
        "sizes": ("resources",),
        "colour": ("colour", "environment"),
    }
    for topic, words in topics.items():
        hits = [c for c in CONSISTENCY if any(w in c.change for w in words)]
        assert len(hits) >= 2, topic
    roles = {committed(c.stack)[f"{P}:role"] for c in CONSISTENCY}
    assert roles == {"environment", "fleet-colour"}


def test_a_colour_stack_named_for_no_colour_is_not_read_for_one() -> None:
    # A what-if file (Pulumi.what-if.yaml) names no colour: its fleets.colour stands.
    cfg = committed("prod-blue")
    cfg[f"{P}:fleets"] = {"colour": "green"}
    assert load_settings(cfg, source="/tmp/Pulumi.what-if.yaml", offline=True).colour == "green"


# --- when a cron fires (robfig/cron's rules, which the operators use) ------------------------------
DAY = 86400.0


@pytest.mark.parametrize(
    "expr,days",
    [
        ("0 1 * * *", 1),  # seed 003 Backup Schedules: DB full daily 01:00
        ("0 2 * * 0", 7),  # seed 003 Backup Schedules: weekly window Sunday 02:00
        ("0 0 1 * * *", 1),  # six fields, seconds first (CloudNativePG)
        ("0 0 1 1 * *", 31),  # the 1st of each month: January to February
        ("0 0 31 * *", 61),  # only months with a 31st: 31 July to 31 August is 31, 31 May to 31 July 61
        ("0 0 29 2 *", 4 * 365 + 1),  # 29 February: leap years only
        ("0 0 31 2 1", 350),  # day of month OR day of week when both are set: Mondays in February
        ("@weekly", 7),
    ],
)
def test_the_longest_interval_of_a_schedule(expr: str, days: int) -> None:
    assert max_interval_seconds(expr) == days * DAY


def test_dates_that_do_not_exist_never_fire() -> None:
    for expr in ("0 0 31 2 *", "0 0 30 2 *", "0 0 31 4 *", "0 0 0 31 11 *", "0 0 31 6,9,11 *"):
        assert never_fires(expr), expr
    for expr in ("0 0 29 2 *", "0 0 31 1-12 *", "*/15 * * * *"):
        assert not never_fires(expr), expr
