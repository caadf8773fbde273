"""The PostgreSQL bootstrap SQL (pure: no Pulumi).

Run by psql as a superuser, idempotently: on CloudNativePG by a Job against the primary's `-rw`
service (after `initdb` made `warehouse` owned by `app`), on the local stack by a one-shot `docker run`
of psql (stacks/compose/local_services.py postgres_bootstrap_script). It creates

- the roles (NOLOGIN here; logins and passwords come from CloudNativePG managed roles or, locally,
  from an ALTER ROLE that reads the password from the environment: no password is ever in this SQL),
- database `warehouse` (if missing) with schema `cdc_data` owned by the JDBC sink's role `cdc_sink`,
  and schema `reconciliation` (owned by `app`) where the daily CDC reconciliation records, per
  table, the rows it counted at the source and in the sink (seed 000 "Run daily reconciliation";
  components/dataplane/postgres/reconciliation.py) as `cdc_reconciler`, which reads `cdc_data`,
- database `pipeline_db` with the module tables of seed 003 and exactly the indexes its
  Maintenance Windows > Database Maintenance section rebuilds, owned by `pipeline_owner`,
- the grants of each module role to its own table, and read-only access for `pipeline_readonly`
  (seed 003 Runbook D.2 connects with read-only credentials).
"""

from __future__ import annotations

WAREHOUSE_DB = "warehouse"
WAREHOUSE_OWNER = "app"
SINK_ROLE = "cdc_sink"
SINK_SCHEMA = "cdc_data"
PIPELINE_DB = "pipeline_db"
PIPELINE_OWNER = "pipeline_owner"
READONLY_ROLE = "pipeline_readonly"
# The daily CDC reconciliation (seed 000): reads the sink's tables, records into its own table, which
# CloudNativePG's metrics exporter (a member of pg_monitor) reads.
RECONCILER_ROLE = "cdc_reconciler"
RECONCILIATION_SCHEMA = "reconciliation"
RECONCILIATION_TABLE = "cdc_reconciliation"
METRICS_READER = "pg_monitor"
# Module -> the table it keeps its state in (seed 003 Backup Classifications > Database Backups:
# "validation cache, transformation state, delivery tracking").
MODULE_TABLES: dict[str, str] = {
    "module_alpha": "validation_cache",
    "module_beta": "transformation_state",
    "module_gamma": "delivery_tracking",
}
# Roles with a login (passwords managed outside this SQL).
LOGIN_ROLES: tuple[str, ...] = (SINK_ROLE, *MODULE_TABLES, READONLY_ROLE, RECONCILER_ROLE)
# Tables of pipeline_db (seed 003 Database Maintenance: ANALYZE list and the audit archive).
TABLES: tuple[str, ...] = (*MODULE_TABLES.values(), "audit_log", "audit_log_archive")

_ROLES = (WAREHOUSE_OWNER, PIPELINE_OWNER, *LOGIN_ROLES)


def _create_role(role: str) -> str:
    return (
        f"SELECT 'CREATE ROLE {role} NOLOGIN' "
        f"WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}')\\gexec"
    )


def _create_database(db: str, owner: str) -> str:
    return (
        f"SELECT 'CREATE DATABASE {db} OWNER {owner}' "
        f"WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '{db}')\\gexec"
    )


_PIPELINE_SCHEMA = """\
-- Module Alpha: validation results keyed by the record's cache key.
CREATE TABLE IF NOT EXISTS validation_cache (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cache_key   text        NOT NULL,
    source_id   text        NOT NULL,
    valid       boolean     NOT NULL,
    error_code  text,
    result      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    "timestamp" timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_validation_cache_key ON validation_cache (cache_key);
CREATE INDEX IF NOT EXISTS idx_validation_cache_timestamp ON validation_cache ("timestamp");

-- Module Beta: transformation state per record (quality score of 003 Operational Metrics).
CREATE TABLE IF NOT EXISTS transformation_state (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    record_id     text        NOT NULL,
    state         text        NOT NULL CHECK (state IN ('pending', 'transforming', 'done', 'failed')),
    quality_score numeric(4, 3) CHECK (quality_score BETWEEN 0 AND 1),
    payload       jsonb,
    "timestamp"   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_transform_state_record_id ON transformation_state (record_id);
CREATE INDEX IF NOT EXISTS idx_transform_state_timestamp ON transformation_state ("timestamp");

-- Module Gamma: delivery attempts per record and destination (Runbook D.2 queries by destination_id
-- and status delivered/failed).
CREATE TABLE IF NOT EXISTS delivery_tracking (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    record_id      text        NOT NULL,
    destination_id text        NOT NULL,
    status         text        NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'dlq')),
    attempts       integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error     text,
    "timestamp"    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (record_id, destination_id)
);
CREATE INDEX IF NOT EXISTS idx_delivery_record_id ON delivery_tracking (record_id);
CREATE INDEX IF NOT EXISTS idx_delivery_destination ON delivery_tracking (destination_id);

-- Audit log; the maintenance archives rows older than 90 days with
-- INSERT INTO audit_log_archive SELECT * FROM audit_log, so the archive has the same columns in
-- the same order (LIKE without the identity: archived ids are copied, not generated).
CREATE TABLE IF NOT EXISTS audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "timestamp" timestamptz NOT NULL DEFAULT now(),
    module      text        NOT NULL,
    actor       text        NOT NULL,
    action      text        NOT NULL,
    record_id   text,
    details     jsonb
);
CREATE INDEX IF NOT EXISTS idx_audit_log_timestamp ON audit_log ("timestamp");
CREATE TABLE IF NOT EXISTS audit_log_archive (LIKE audit_log INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'audit_log_archive_pkey') THEN
        ALTER TABLE audit_log_archive ADD CONSTRAINT audit_log_archive_pkey PRIMARY KEY (id);
    END IF;
END $$;
CREATE INDEX IF NOT EXISTS idx_audit_log_archive_timestamp ON audit_log_archive ("timestamp");
"""


# warehouse.reconciliation: one row per table and run. Accuracy is the smaller row count over the
# larger one (rows missing from the sink and rows the sink kept after a delete both lower it); two empty
# tables agree (100). record() counts the sink's table (none yet: 0 rows, the sink creates it on its
# first write) and inserts the row in the caller's transaction.
_RECONCILIATION_SCHEMA = f"""\
CREATE SCHEMA IF NOT EXISTS {RECONCILIATION_SCHEMA};
CREATE TABLE IF NOT EXISTS {RECONCILIATION_SCHEMA}.{RECONCILIATION_TABLE} (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name          text          NOT NULL,
    checked_at          timestamptz   NOT NULL DEFAULT now(),
    source_rows         bigint        NOT NULL CHECK (source_rows >= 0),
    sink_rows           bigint        NOT NULL CHECK (sink_rows >= 0),
    accuracy_percentage numeric(6, 3) NOT NULL CHECK (accuracy_percentage BETWEEN 0 AND 100)
);
CREATE INDEX IF NOT EXISTS idx_cdc_reconciliation_table_checked
    ON {RECONCILIATION_SCHEMA}.{RECONCILIATION_TABLE} (table_name, checked_at DESC);
CREATE OR REPLACE FUNCTION {RECONCILIATION_SCHEMA}.accuracy_percentage(source_rows bigint, sink_rows bigint)
RETURNS numeric LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE WHEN greatest(source_rows, sink_rows) = 0 THEN 100::numeric
                ELSE round(100.0 * least(source_rows, sink_rows) / greatest(source_rows, sink_rows), 3) END
$$;
CREATE OR REPLACE FUNCTION {RECONCILIATION_SCHEMA}.record(table_name text, source_rows bigint)
RETURNS numeric LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    sink_rows bigint := 0;
    accuracy  numeric;
BEGIN
    IF table_name !~ '^[a-z][a-z0-9_]{{0,47}}$' THEN
        RAISE EXCEPTION 'not a CDC table name: %', table_name;
    END IF;
    IF to_regclass(format('%I.%I', '{SINK_SCHEMA}', table_name)) IS NOT NULL THEN
        EXECUTE format('SELECT count(*) FROM %I.%I', '{SINK_SCHEMA}', table_name) INTO sink_rows;
    END IF;
    accuracy := {RECONCILIATION_SCHEMA}.accuracy_percentage(source_rows, sink_rows);
    INSERT INTO {RECONCILIATION_SCHEMA}.{RECONCILIATION_TABLE}
        (table_name, source_rows, sink_rows, accuracy_percentage)
        VALUES (table_name, source_rows, sink_rows, accuracy);
    RETURN accuracy;
END
$$;
REVOKE ALL ON FUNCTION {RECONCILIATION_SCHEMA}.record(text, bigint) FROM PUBLIC;
GRANT USAGE ON SCHEMA {RECONCILIATION_SCHEMA} TO {RECONCILER_ROLE}, {METRICS_READER};
GRANT EXECUTE ON FUNCTION {RECONCILIATION_SCHEMA}.record(text, bigint) TO {RECONCILER_ROLE};
GRANT SELECT, INSERT ON {RECONCILIATION_SCHEMA}.{RECONCILIATION_TABLE} TO {RECONCILER_ROLE};
GRANT SELECT ON {RECONCILIATION_SCHEMA}.{RECONCILIATION_TABLE} TO {METRICS_READER};
"""


def bootstrap_sql() -> str:
    """The whole bootstrap as one psql script (uses \\gexec and \\connect; stops on the first error)."""
    modules = ", ".join(MODULE_TABLES)
    readers = ", ".join((*MODULE_TABLES, READONLY_ROLE))
    grants = [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role};" for role, table in MODULE_TABLES.items()
    ]
    lines: list[str] = [
        "-- pipeline-infra PostgreSQL bootstrap (idempotent; run by psql as a superuser)",
        "\\set ON_ERROR_STOP on",
        "",
        "-- Roles without login; logins and passwords are managed outside this script.",
        *(_create_role(r) for r in _ROLES),
        "",
        _create_database(WAREHOUSE_DB, WAREHOUSE_OWNER),
        _create_database(PIPELINE_DB, PIPELINE_OWNER),
        f"REVOKE ALL ON DATABASE {WAREHOUSE_DB} FROM PUBLIC;",
        f"GRANT CONNECT, TEMPORARY ON DATABASE {WAREHOUSE_DB} TO {WAREHOUSE_OWNER}, {SINK_ROLE};",
        f"GRANT CONNECT ON DATABASE {WAREHOUSE_DB} TO {RECONCILER_ROLE}, {METRICS_READER};",
        f"REVOKE ALL ON DATABASE {PIPELINE_DB} FROM PUBLIC;",
        f"GRANT CONNECT ON DATABASE {PIPELINE_DB} TO {readers};",
        f"ALTER ROLE {SINK_ROLE} IN DATABASE {WAREHOUSE_DB} SET search_path = {SINK_SCHEMA};",
        "",
        "-- warehouse: the JDBC sink writes the CDC tables into schema cdc_data, which its role owns.",
        f"\\connect {WAREHOUSE_DB}",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC;",
        f"CREATE SCHEMA IF NOT EXISTS {SINK_SCHEMA} AUTHORIZATION {SINK_ROLE};",
        f"ALTER SCHEMA {SINK_SCHEMA} OWNER TO {SINK_ROLE};",
        "",
        "-- warehouse: the daily CDC reconciliation reads the sink's tables (those it creates later too)",
        "-- and records into schema reconciliation, which the metrics exporter (pg_monitor) reads.",
        f"GRANT USAGE ON SCHEMA {SINK_SCHEMA} TO {RECONCILER_ROLE};",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {SINK_SCHEMA} TO {RECONCILER_ROLE};",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {SINK_ROLE} IN SCHEMA {SINK_SCHEMA} "
        f"GRANT SELECT ON TABLES TO {RECONCILER_ROLE};",
        f"SET ROLE {WAREHOUSE_OWNER};",
        _RECONCILIATION_SCHEMA,
        "RESET ROLE;",
        "",
        "-- pipeline_db: module state (seed 003 Database Maintenance), owned by pipeline_owner.",
        f"\\connect {PIPELINE_DB}",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC;",
        f"SET ROLE {PIPELINE_OWNER};",
        _PIPELINE_SCHEMA,
        f"GRANT USAGE ON SCHEMA public TO {readers};",
        *grants,
        f"GRANT INSERT ON audit_log TO {modules};",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {READONLY_ROLE};",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {READONLY_ROLE};",
        "RESET ROLE;",
        "",
    ]
    return "\n".join(lines)
