-- pipeline-infra PostgreSQL bootstrap (idempotent; run by psql as a superuser)
\set ON_ERROR_STOP on

-- Roles without login; logins and passwords are managed outside this script.
SELECT 'CREATE ROLE app NOLOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app')\gexec
SELECT 'CREATE ROLE pipeline_owner NOLOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pipeline_owner')\gexec
SELECT 'CREATE ROLE cdc_sink NOLOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cdc_sink')\gexec
SELECT 'CREATE ROLE module_alpha NOLOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'module_alpha')\gexec
SELECT 'CREATE ROLE module_beta NOLOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'module_beta')\gexec
SELECT 'CREATE ROLE module_gamma NOLOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'module_gamma')\gexec
SELECT 'CREATE ROLE pipeline_readonly NOLOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pipeline_readonly')\gexec
SELECT 'CREATE ROLE cdc_reconciler NOLOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cdc_reconciler')\gexec

SELECT 'CREATE DATABASE warehouse OWNER app' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'warehouse')\gexec
SELECT 'CREATE DATABASE pipeline_db OWNER pipeline_owner' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'pipeline_db')\gexec
REVOKE ALL ON DATABASE warehouse FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE warehouse TO app, cdc_sink;
GRANT CONNECT ON DATABASE warehouse TO cdc_reconciler, pg_monitor;
REVOKE ALL ON DATABASE pipeline_db FROM PUBLIC;
GRANT CONNECT ON DATABASE pipeline_db TO module_alpha, module_beta, module_gamma, pipeline_readonly;
ALTER ROLE cdc_sink IN DATABASE warehouse SET search_path = cdc_data;

-- warehouse: the JDBC sink writes the CDC tables into schema cdc_data, which its role owns.
\connect warehouse
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA IF NOT EXISTS cdc_data AUTHORIZATION cdc_sink;
ALTER SCHEMA cdc_data OWNER TO cdc_sink;

-- warehouse: the daily CDC reconciliation reads the sink's tables (those it creates later too)
-- and records into schema reconciliation, which the metrics exporter (pg_monitor) reads.
GRANT USAGE ON SCHEMA cdc_data TO cdc_reconciler;
GRANT SELECT ON ALL TABLES IN SCHEMA cdc_data TO cdc_reconciler;
ALTER DEFAULT PRIVILEGES FOR ROLE cdc_sink IN SCHEMA cdc_data GRANT SELECT ON TABLES TO cdc_reconciler;
SET ROLE app;
CREATE SCHEMA IF NOT EXISTS reconciliation;
CREATE TABLE IF NOT EXISTS reconciliation.cdc_reconciliation (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name          text          NOT NULL,
    checked_at          timestamptz   NOT NULL DEFAULT now(),
    source_rows         bigint        NOT NULL CHECK (source_rows >= 0),
    sink_rows           bigint        NOT NULL CHECK (sink_rows >= 0),
    accuracy_percentage numeric(6, 3) NOT NULL CHECK (accuracy_percentage BETWEEN 0 AND 100)
);
CREATE INDEX IF NOT EXISTS idx_cdc_reconciliation_table_checked
    ON reconciliation.cdc_reconciliation (table_name, checked_at DESC);
CREATE OR REPLACE FUNCTION reconciliation.accuracy_percentage(source_rows bigint, sink_rows bigint)
RETURNS numeric LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE WHEN greatest(source_rows, sink_rows) = 0 THEN 100::numeric
                ELSE round(100.0 * least(source_rows, sink_rows) / greatest(source_rows, sink_rows), 3) END
$$;
CREATE OR REPLACE FUNCTION reconciliation.record(table_name text, source_rows bigint)
RETURNS numeric LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    sink_rows bigint := 0;
    accuracy  numeric;
BEGIN
    IF table_name !~ '^[a-z][a-z0-9_]{0,47}$' THEN
        RAISE EXCEPTION 'not a CDC table name: %', table_name;
    END IF;
    IF to_regclass(format('%I.%I', 'cdc_data', table_name)) IS NOT NULL THEN
        EXECUTE format('SELECT count(*) FROM %I.%I', 'cdc_data', table_name) INTO sink_rows;
    END IF;
    accuracy := reconciliation.accuracy_percentage(source_rows, sink_rows);
    INSERT INTO reconciliation.cdc_reconciliation
        (table_name, source_rows, sink_rows, accuracy_percentage)
        VALUES (table_name, source_rows, sink_rows, accuracy);
    RETURN accuracy;
END
$$;
REVOKE ALL ON FUNCTION reconciliation.record(text, bigint) FROM PUBLIC;
GRANT USAGE ON SCHEMA reconciliation TO cdc_reconciler, pg_monitor;
GRANT EXECUTE ON FUNCTION reconciliation.record(text, bigint) TO cdc_reconciler;
GRANT SELECT, INSERT ON reconciliation.cdc_reconciliation TO cdc_reconciler;
GRANT SELECT ON reconciliation.cdc_reconciliation TO pg_monitor;

RESET ROLE;

-- pipeline_db: module state (seed 003 Database Maintenance), owned by pipeline_owner.
\connect pipeline_db
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SET ROLE pipeline_owner;
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

GRANT USAGE ON SCHEMA public TO module_alpha, module_beta, module_gamma, pipeline_readonly;
GRANT SELECT, INSERT, UPDATE, DELETE ON validation_cache TO module_alpha;
GRANT SELECT, INSERT, UPDATE, DELETE ON transformation_state TO module_beta;
GRANT SELECT, INSERT, UPDATE, DELETE ON delivery_tracking TO module_gamma;
GRANT INSERT ON audit_log TO module_alpha, module_beta, module_gamma;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO pipeline_readonly;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO pipeline_readonly;
RESET ROLE;
