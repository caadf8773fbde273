"""The PostgreSQL bootstrap SQL on a real PostgreSQL 15 (Debian's server binaries), started by the
test on a temporary directory and a free port on 127.0.0.1, stopped at the end."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.dataplane.postgres.sql import bootstrap_sql
from lib import versions
from tests.support.engines import engine

pytestmark = pytest.mark.engine

# seed 003 Maintenance Windows > Database Maintenance > Index Maintenance: the REINDEX list.
SEED_REINDEX = """
REINDEX INDEX idx_validation_cache_key;
REINDEX INDEX idx_validation_cache_timestamp;
REINDEX INDEX idx_transform_state_record_id;
REINDEX INDEX idx_transform_state_timestamp;
REINDEX INDEX idx_delivery_record_id;
REINDEX INDEX idx_delivery_destination;
"""
# ... Statistics Update and Log Table Maintenance, verbatim.
SEED_ANALYZE = (
    "ANALYZE validation_cache; ANALYZE transformation_state; ANALYZE delivery_tracking; ANALYZE audit_log;"
)
SEED_ARCHIVE = """
INSERT INTO audit_log_archive
SELECT * FROM audit_log
WHERE timestamp < NOW() - INTERVAL '90 days';

DELETE FROM audit_log
WHERE timestamp < NOW() - INTERVAL '90 days';
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, port: int, user: str | None) -> None:
        self.port, self.user = port, user

    def _cmd(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", self.user, "--", *argv] if self.user else argv

    def psql(
        self, sql: str | None = None, *, db: str = "postgres", file: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        argv = [
            shutil.which("psql") or "psql",
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            db,
        ]
        argv += ["-f", file] if file else ["-c", sql or ""]
        return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=60)

    def value(self, sql: str, db: str = "postgres") -> str:
        return self.psql(sql, db=db).stdout.strip()


@pytest.fixture(scope="module")
def pg() -> Iterator[Server]:
    initdb, pg_ctl = engine("initdb"), engine("pg_ctl")
    found = subprocess.run([initdb, "--version"], capture_output=True, text=True, check=True).stdout
    assert f") {versions.POSTGRES_MAJOR}." in found, f"PostgreSQL {versions.POSTGRES_MAJOR} expected: {found}"
    root = tempfile.mkdtemp(prefix="pipeline-pg-")
    user = None
    if os.geteuid() == 0:  # initdb refuses to run as root
        user = "postgres"
        try:
            pwd.getpwnam(user)
        except KeyError:
            pytest.fail("the postgres system user (Debian postgresql package) is missing")
        shutil.chown(root, user=user)
    server = Server(_free_port(), user)
    data = str(Path(root) / "data")
    subprocess.run(
        server._cmd([initdb, "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8"]),
        check=True,
        capture_output=True,
        timeout=120,
    )
    opts = f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1"
    subprocess.run(
        server._cmd([pg_ctl, "-D", data, "-o", opts, "-l", str(Path(root) / "log"), "-w", "start"]),
        check=True,
        capture_output=True,
        timeout=120,
    )
    try:
        # The state CloudNativePG's initdb leaves: database warehouse owned by the app role.
        server.psql("CREATE ROLE app LOGIN")
        server.psql("CREATE DATABASE warehouse OWNER app")
        sql = Path(root) / "bootstrap.sql"
        sql.write_text(bootstrap_sql(), encoding="utf-8")
        os.chmod(sql, 0o644)
        server.psql(file=str(sql))
        server.psql(file=str(sql))  # idempotent: a second run changes nothing and fails on nothing
        yield server
    finally:
        subprocess.run(
            server._cmd([pg_ctl, "-D", data, "-m", "fast", "-w", "stop"]), capture_output=True, timeout=120
        )
        shutil.rmtree(root, ignore_errors=True)


def test_no_password_in_the_sql() -> None:
    statements = [ln for ln in bootstrap_sql().splitlines() if not ln.lstrip().startswith("--")]
    assert not [ln for ln in statements if "password" in ln.lower()]


def test_databases_and_owners(pg: Server) -> None:
    rows = pg.value(
        "SELECT datname || ':' || pg_get_userbyid(datdba) FROM pg_database "
        "WHERE datname IN ('warehouse', 'pipeline_db') ORDER BY 1"
    ).split()
    assert rows == ["pipeline_db:pipeline_owner", "warehouse:app"]


def test_cdc_schema_owned_by_sink_and_search_path(pg: Server) -> None:
    assert (
        pg.value(
            "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'cdc_data'", db="warehouse"
        )
        == "cdc_sink"
    )
    setting = pg.value(
        "SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting s "
        "JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = 'warehouse' "
        "AND s.setrole = 'cdc_sink'::regrole"
    )
    assert setting == "search_path=cdc_data"
    # The sink creates its tables there (the JDBC sink's schema evolution), and nowhere else.
    pg.psql(
        "SET ROLE cdc_sink; CREATE TABLE IF NOT EXISTS cdc_data.probe (id int PRIMARY KEY); "
        "DROP TABLE cdc_data.probe;",
        db="warehouse",
    )
    refused = pg.psql("SET ROLE cdc_sink; CREATE TABLE public.probe (id int);", db="warehouse", check=False)
    assert refused.returncode != 0 and "permission denied" in refused.stderr


def test_module_tables_of_seed_003(pg: Server) -> None:
    # seed 003 Database Maintenance (ANALYZE list, audit archive) and Backup Classifications.
    tables = pg.value(
        "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'",
        db="pipeline_db",
    )
    assert tables.split(",") == sorted(
        ["validation_cache", "transformation_state", "delivery_tracking", "audit_log", "audit_log_archive"]
    )
    owners = set(
        pg.value(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'", db="pipeline_db"
        ).split()
    )
    assert owners == {"pipeline_owner"}


def test_indexes_the_seed_maintenance_rebuilds(pg: Server) -> None:
    # seed 003 Index Maintenance: index -> the table of the module it names.
    expected = {
        "idx_validation_cache_key": "validation_cache",
        "idx_validation_cache_timestamp": "validation_cache",
        "idx_transform_state_record_id": "transformation_state",
        "idx_transform_state_timestamp": "transformation_state",
        "idx_delivery_record_id": "delivery_tracking",
        "idx_delivery_destination": "delivery_tracking",
    }
    rows = pg.value(
        "SELECT indexname || ':' || tablename FROM pg_indexes WHERE schemaname = 'public'", db="pipeline_db"
    ).split()
    found = dict(r.split(":") for r in rows)
    for index, table in expected.items():
        assert found.get(index) == table, f"{index} on {table} missing (found {found.get(index)})"
    pg.psql(SEED_REINDEX, db="pipeline_db")
    pg.psql(SEED_ANALYZE, db="pipeline_db")


def test_seed_audit_archive_statement_moves_old_rows(pg: Server) -> None:
    pg.psql(
        'INSERT INTO audit_log ("timestamp", module, actor, action) VALUES '
        "(now() - interval '91 days', 'alpha', 'test', 'old'), (now(), 'beta', 'test', 'new')",
        db="pipeline_db",
    )
    pg.psql(SEED_ARCHIVE, db="pipeline_db")
    assert pg.value("SELECT action FROM audit_log_archive", db="pipeline_db") == "old"
    assert pg.value("SELECT string_agg(action, ',') FROM audit_log", db="pipeline_db") == "new"


@pytest.mark.parametrize(
    ("role", "table", "privilege", "granted"),
    [
        ("module_alpha", "validation_cache", "INSERT", True),
        ("module_alpha", "validation_cache", "DELETE", True),
        ("module_alpha", "transformation_state", "INSERT", False),
        ("module_beta", "transformation_state", "UPDATE", True),
        ("module_beta", "delivery_tracking", "SELECT", False),
        ("module_gamma", "delivery_tracking", "INSERT", True),
        ("module_gamma", "validation_cache", "UPDATE", False),
        ("module_alpha", "audit_log", "INSERT", True),
        ("module_gamma", "audit_log", "DELETE", False),
        ("module_beta", "audit_log_archive", "INSERT", False),
        ("pipeline_readonly", "audit_log", "SELECT", True),
        ("pipeline_readonly", "delivery_tracking", "SELECT", True),
        ("pipeline_readonly", "validation_cache", "INSERT", False),
        ("cdc_sink", "validation_cache", "SELECT", False),
    ],
)
def test_table_grants(pg: Server, role: str, table: str, privilege: str, granted: bool) -> None:
    got = pg.value(f"SELECT has_table_privilege('{role}', 'public.{table}', '{privilege}')", db="pipeline_db")
    assert got == ("t" if granted else "f")


@pytest.mark.parametrize(
    ("role", "db", "granted"),
    [
        ("cdc_sink", "warehouse", True),
        ("cdc_sink", "pipeline_db", False),
        ("module_alpha", "pipeline_db", True),
        ("module_alpha", "warehouse", False),
        ("pipeline_readonly", "pipeline_db", True),
    ],
)
def test_connect_grants(pg: Server, role: str, db: str, granted: bool) -> None:
    assert pg.value(f"SELECT has_database_privilege('{role}', '{db}', 'CONNECT')") == (
        "t" if granted else "f"
    )


def test_roles_have_no_login_until_managed(pg: Server) -> None:
    # Logins and passwords come from CloudNativePG managed roles (or the local stack's ALTER ROLE).
    rows = pg.value(
        "SELECT rolname || ':' || rolcanlogin FROM pg_roles WHERE rolname IN "
        "('cdc_sink','module_alpha','module_beta','module_gamma','pipeline_readonly','pipeline_owner')"
    )
    assert sorted(rows.split()) == sorted(
        f"{r}:false"
        for r in (
            "cdc_sink",
            "module_alpha",
            "module_beta",
            "module_gamma",
            "pipeline_readonly",
            "pipeline_owner",
        )
    )


def test_audit_export_query_reads_one_utc_day_as_the_read_only_role(pg: Server) -> None:
    """The daily audit export's query (components/backups/scripts/export_audit.py, seed 003 Runbook
    L.1) as pipeline_readonly: the rows of [day, day + 1) in UTC, every column, in time order."""
    import importlib.util
    import json

    from components.backups import checks

    spec = importlib.util.spec_from_file_location("export_audit", checks.SCRIPTS / "export_audit.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    pg.psql(
        'INSERT INTO audit_log ("timestamp", module, actor, action, details) VALUES '
        "('2001-02-02 23:59:59+00', 'alpha', 'ops', 'before', NULL), "
        "('2001-02-03 12:00:00+00', 'gamma', 'ops', 'noon', '{\"n\": 2}'), "
        "('2001-02-03 01:00:00+01', 'beta', 'ops', 'midnight', NULL), "
        "('2001-02-04 00:00:00+00', 'alpha', 'ops', 'after', NULL)",
        db="pipeline_db",
    )
    start, end = mod.day_window(__import__("datetime").date(2001, 2, 3))
    sql = mod.QUERY.replace("%(start)s", f"'{start.isoformat()}'").replace("%(end)s", f"'{end.isoformat()}'")
    out = pg.psql(f"SET ROLE pipeline_readonly; {sql}", db="pipeline_db").stdout.splitlines()
    rows = [json.loads(line) for line in out if line.strip()]
    assert [r["action"] for r in rows] == ["midnight", "noon"]
    assert set(rows[0]) == {"id", "timestamp", "module", "actor", "action", "record_id", "details"}
    assert rows[1]["details"] == {"n": 2}
    denied = pg.psql("SET ROLE pipeline_readonly; DELETE FROM audit_log", db="pipeline_db", check=False)
    assert denied.returncode != 0 and "permission denied" in denied.stderr
