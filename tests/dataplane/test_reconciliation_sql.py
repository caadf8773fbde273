"""The daily CDC reconciliation's SQL on a real PostgreSQL 15 (the bootstrapped server of
test_postgres_sql.py): its table and accuracy computation, the job's recording script (record.sh, run
by the real psql) and the CloudNativePG custom query, read as the metrics exporter reads it (a member of
pg_monitor, search_path pg_catalog, public, a read-only transaction)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from components.dataplane.postgres import reconciliation
from tests.dataplane.test_postgres_sql import Server, pg  # noqa: F401 (the module's server fixture)

pytestmark = pytest.mark.engine

TABLES = ["users", "orders"]  # lib/cdc.py default_tables (seed 000: app_data.users, orders)


def _sink_rows(server: Server, table: str, rows: int) -> None:
    """A sink table as the JDBC sink creates it (owned by cdc_sink in cdc_data), with `rows` rows."""
    server.psql(
        f"SET ROLE cdc_sink; DROP TABLE IF EXISTS cdc_data.{table}; "
        f"CREATE TABLE cdc_data.{table} (id int PRIMARY KEY); "
        f"INSERT INTO cdc_data.{table} SELECT generate_series(1, {rows});",
        db="warehouse",
    )


@pytest.fixture
def clean(pg: Server) -> Server:  # noqa: F811
    pg.psql("TRUNCATE reconciliation.cdc_reconciliation", db="warehouse")
    for t in TABLES:
        pg.psql(f"DROP TABLE IF EXISTS cdc_data.{t}", db="warehouse")
    return pg


@pytest.mark.parametrize(
    ("source", "sink", "expected"),
    [
        (100, 100, "100.000"),
        (100, 94, "94.000"),  # seed 000 Data Accuracy Low (< 95 %)
        (100, 89, "89.000"),  # seed 000 Critical Data Accuracy (< 90 %)
        (89, 100, "89.000"),  # rows the sink kept after deletes at the source count alike
        (3, 2, "66.667"),
        (0, 0, "100"),  # two empty tables agree
        (5, 0, "0.000"),
    ],
)
def test_accuracy_is_the_smaller_count_over_the_larger(pg: Server, source, sink, expected):  # noqa: F811
    assert (
        pg.value(f"SELECT reconciliation.accuracy_percentage({source}, {sink})", db="warehouse") == expected
    )


def test_record_counts_the_sink_as_the_reconciler_and_inserts_one_row(clean: Server):
    _sink_rows(clean, "users", 94)
    assert clean.value(
        "SET ROLE cdc_reconciler; SELECT reconciliation.record('users', 100)", db="warehouse"
    ) == ("94.000")
    # a table the sink has not created yet holds no rows
    assert clean.value(
        "SET ROLE cdc_reconciler; SELECT reconciliation.record('orders', 5)", db="warehouse"
    ) == ("0.000")
    rows = clean.value(
        "SELECT string_agg(table_name || ':' || source_rows || ':' || sink_rows || ':' "
        "|| accuracy_percentage, ',' ORDER BY table_name) FROM reconciliation.cdc_reconciliation",
        db="warehouse",
    )
    assert rows == "orders:5:0:0.000,users:100:94:94.000"


def test_only_the_reconciler_records_and_names_are_checked(clean: Server):
    refused = clean.psql(
        "SET ROLE pipeline_readonly; SELECT reconciliation.record('users', 1)", db="warehouse", check=False
    )
    assert refused.returncode != 0 and "permission denied" in refused.stderr
    bad = clean.psql(
        "SET ROLE cdc_reconciler; SELECT reconciliation.record('users; DROP TABLE x', 1)",
        db="warehouse",
        check=False,
    )
    assert bad.returncode != 0 and "not a CDC table name" in bad.stderr
    # the reconciler reads the sink's tables but cannot change them
    _sink_rows(clean, "users", 1)
    denied = clean.psql("SET ROLE cdc_reconciler; DELETE FROM cdc_data.users", db="warehouse", check=False)
    assert denied.returncode != 0 and "permission denied" in denied.stderr


def _run_record(server: Server, tmp: Path, counts: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """record.sh as the CronJob's container runs it (the real sh and psql), the Secret's files in a
    directory, the counts the init container leaves."""
    for d in ("script", "counts", "credentials", "tmp"):
        (tmp / d).mkdir(exist_ok=True)
    (tmp / "script" / "record.sh").write_text(reconciliation.scripts()["record.sh"], encoding="utf-8")
    for table, n in counts.items():
        (tmp / "counts" / f"{table}.count").write_text(f"{n}\n", encoding="utf-8")
    (tmp / "credentials" / "username").write_text("cdc_reconciler", encoding="utf-8")
    (tmp / "credentials" / "password").write_text("unused-with-trust-auth", encoding="utf-8")
    script = (
        (tmp / "script" / "record.sh")
        .read_text(encoding="utf-8")
        .replace("/tmp/record.sql", str(tmp / "tmp" / "r.sql"))
    )
    (tmp / "script" / "record.sh").write_text(script, encoding="utf-8")
    env = {
        "PATH": f"{Path(shutil.which('psql') or 'psql').parent}:{os.environ.get('PATH', '')}",
        "TABLES": ",".join(TABLES),
        "COUNTS_DIR": str(tmp / "counts"),
        "CREDENTIALS_DIR": str(tmp / "credentials"),
        "PGHOST": "127.0.0.1",
        "PGPORT": str(server.port),
        "PGDATABASE": "warehouse",
        "PGSSLMODE": "disable",  # the test server has no TLS; the CronJob requires it
    }
    return subprocess.run(
        ["sh", str(tmp / "script" / "record.sh")], env=env, capture_output=True, text=True, timeout=60
    )


def test_record_script_records_every_table_in_one_transaction(clean: Server, tmp_path: Path):
    clean.psql("ALTER ROLE cdc_reconciler LOGIN")  # CloudNativePG's managed role logs in
    _sink_rows(clean, "users", 99)
    _sink_rows(clean, "orders", 89)
    run = _run_record(clean, tmp_path, {"users": "100", "orders": "100"})
    assert run.returncode == 0, run.stderr
    assert (
        clean.value(
            "SELECT string_agg(table_name || '=' || accuracy_percentage, ',' ORDER BY table_name) "
            "FROM reconciliation.cdc_reconciliation",
            db="warehouse",
        )
        == "orders=89.000,users=99.000"
    )
    # a missing source count fails the run before anything is recorded
    clean.psql("TRUNCATE reconciliation.cdc_reconciliation", db="warehouse")
    (tmp_path / "counts" / "orders.count").unlink()
    failed = _run_record(clean, tmp_path, {"users": "100"})
    assert failed.returncode != 0
    assert clean.value("SELECT count(*) FROM reconciliation.cdc_reconciliation", db="warehouse") == "0"


def test_custom_query_exports_the_newest_run_per_table_as_the_exporter_reads_it(clean: Server):
    clean.psql(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'exporter') THEN "
        "CREATE ROLE exporter IN ROLE pg_monitor; END IF; END $$"
    )
    _sink_rows(clean, "users", 50)
    clean.psql("SET ROLE cdc_reconciler; SELECT reconciliation.record('users', 100)", db="warehouse")
    _sink_rows(clean, "users", 99)
    clean.psql("SET ROLE cdc_reconciler; SELECT reconciliation.record('users', 100)", db="warehouse")
    clean.psql("SET ROLE cdc_reconciler; SELECT reconciliation.record('orders', 0)", db="warehouse")
    # a table no longer in the mapping is not exported
    clean.psql("SET ROLE cdc_reconciler; SELECT reconciliation.record('gone', 1)", db="warehouse")
    doc = reconciliation.queries_configmap(name="q", namespace="postgres", tables=TABLES)
    (query,) = yaml.safe_load(doc["data"][reconciliation.QUERIES_KEY]).values()
    out = clean.psql(
        "BEGIN READ ONLY; SET LOCAL ROLE exporter; SET LOCAL search_path = pg_catalog, public, pg_temp; "
        f"{query['query']}; COMMIT;",
        db="warehouse",
    ).stdout
    rows = [line.split("|") for line in out.split() if "|" in line]
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("orders", "100.000", "0", "0"),
        ("users", "99.000", "100", "99"),
    ]
    assert all(float(r[4]) > 1.7e9 for r in rows)  # checked_at as Unix seconds
    # the query's columns are exactly the mapped ones (a column the mapping misses is an exporter error)
    mapped = [c for m in query["metrics"] for c in m]
    header = subprocess.run(
        [
            *clean._cmd([]),
            shutil.which("psql") or "psql",
            "-X",
            "-A",
            "-h",
            "127.0.0.1",
            "-p",
            str(clean.port),
            "-U",
            "postgres",
            "-d",
            "warehouse",
            "-c",
            f"{query['query']} LIMIT 0",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()[0]
    assert header.split("|") == mapped
