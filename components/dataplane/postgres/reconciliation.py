"""The daily CDC reconciliation (seed 000 Best Practices > Operations: "Run daily reconciliation"), as
plain manifests (pure: no Pulumi).

A CronJob counts, per replicated table (lib/cdc.py, settings.scylla.tables), the rows at the source
(ScyllaDB, `SELECT COUNT(*)` by cqlsh at LOCAL_QUORUM, in an init container of the pinned scylla
image) and records them with the sink's count (PostgreSQL `warehouse.cdc_data.<table>`, by psql as
the `cdc_reconciler` role, whose CloudNativePG basic-auth Secret is mounted as files) into
`warehouse.reconciliation.cdc_reconciliation` (sql.py). CloudNativePG's metrics exporter reads the
newest row of each table through a custom query (Cluster spec.monitoring.customQueriesConfigMap): the
instance manager names each column `cnpg_<query>_<column>` (cloudnative-pg
pkg/management/postgres/metrics/collector.go, the "cnpg" collector), so the query `cdc_reconciliation`
exports `cnpg_cdc_reconciliation_accuracy_percentage{table}` and
`cnpg_cdc_reconciliation_checked_at_seconds{table}`, from which components/observability/alerts.yaml
records seed 000's `cdc_data_accuracy_percentage` and raises the staleness alert.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from components.dataplane.postgres.sql import (
    RECONCILIATION_SCHEMA,
    RECONCILIATION_TABLE,
    WAREHOUSE_DB,
)
from lib import versions
from lib.kube import cron
from lib.kube.jobs import CONTAINER_SECURITY, SCRIPT_DIR, UID, job_resources

DATA = Path(__file__).with_name("reconciliation.yaml")
SCRIPTS = Path(__file__).with_name("scripts")
JOB = "cdc-reconciliation"  # the CronJob and its pods' app.kubernetes.io/name (flows, alerts)
QUERY = "cdc_reconciliation"  # the custom query: metric names cnpg_<QUERY>_<column>
QUERIES_KEY = "queries.yaml"  # the ConfigMap key the Cluster's monitoring reads
COUNTS_DIR = "/counts"  # emptyDir: the source counts, from the init container to the recording one
CREDENTIALS_DIR = "/etc/pipeline/credentials"  # the reconciler role's Secret: username, password
RESOURCES = job_resources("256Mi")


@functools.cache
def settings() -> dict[str, Any]:
    return yaml.safe_load(DATA.read_text(encoding="utf-8"))


def scripts() -> dict[str, str]:
    """The job's scripts (the ConfigMap's files under SCRIPT_DIR)."""
    return {n: (SCRIPTS / n).read_text(encoding="utf-8") for n in ("count_scylla.sh", "record.sh")}


def custom_query_sql(tables: Sequence[str]) -> str:
    """The newest reconciliation of each table of the mapping (a table removed from it stops being
    exported). Schema-qualified: the exporter's search_path is pg_catalog, public."""
    if not tables:
        raise ValueError("the reconciliation needs at least one CDC table")
    names = ", ".join(f"'{t}'" for t in tables)
    return (
        f"SELECT DISTINCT ON (table_name) table_name AS \"table\", accuracy_percentage, source_rows, "
        f"sink_rows, extract(epoch FROM checked_at) AS checked_at_seconds "
        f"FROM {RECONCILIATION_SCHEMA}.{RECONCILIATION_TABLE} "
        f"WHERE table_name IN ({names}) ORDER BY table_name, checked_at DESC"
    )


def custom_queries(tables: Sequence[str]) -> dict[str, Any]:
    """The custom query file (cloudnative-pg pkg/management/postgres/metrics/parser.go UserQueries:
    query, metrics [{column: {usage, description}}], target_databases)."""
    return {
        QUERY: {
            "query": custom_query_sql(tables),
            "target_databases": [WAREHOUSE_DB],
            "metrics": [
                {"table": {"usage": "LABEL", "description": "CDC table (keyspace table and cdc_data table)"}},
                {
                    "accuracy_percentage": {
                        "usage": "GAUGE",
                        "description": "rows of the smaller side over the larger, in percent (newest run)",
                    }
                },
                {"source_rows": {"usage": "GAUGE", "description": "rows counted in ScyllaDB (newest run)"}},
                {"sink_rows": {"usage": "GAUGE", "description": "rows counted in PostgreSQL (newest run)"}},
                {"checked_at_seconds": {"usage": "GAUGE", "description": "time of the newest run (Unix)"}},
            ],
        }
    }


def queries_configmap(*, name: str, namespace: str, tables: Sequence[str]) -> dict[str, Any]:
    """The ConfigMap the Cluster's spec.monitoring.customQueriesConfigMap names. `cnpg.io/reload`:
    the instance managers reload it when it changes (CloudNativePG docs, Monitoring)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": {"cnpg.io/reload": ""}},
        "data": {QUERIES_KEY: yaml.safe_dump(custom_queries(tables), sort_keys=False)},
    }


def monitoring(configmap: str) -> dict[str, Any]:
    """Cluster spec.monitoring with the custom queries (the PodMonitor is this project's own)."""
    return {"enablePodMonitor": False, "customQueriesConfigMap": [{"name": configmap, "key": QUERIES_KEY}]}


def cron_job(
    *,
    namespace: str,
    scylla_host: str,
    scylla_port: int,
    keyspace: str,
    tables: Sequence[str],
    postgres_host: str,
    credentials_secret: str,
    configmap: str,
    placement: dict[str, Any],
    suspend: bool,
) -> dict[str, Any]:
    """The daily CronJob: never two runs at once, two retries, the last run of each outcome kept for
    `kubectl logs`, non-root with a read-only root filesystem and no service account token.
    `suspend`: a standby site's (its database is a read-only replica; promotion resumes it)."""
    s = settings()
    credentials_mount, credentials_volume = cron.credentials_files(credentials_secret, CREDENTIALS_DIR)
    common_env = [
        {"name": "HOME", "value": "/tmp"},
        {"name": "TABLES", "value": ",".join(tables)},
        {"name": "COUNTS_DIR", "value": COUNTS_DIR},
    ]
    mounts = [
        {"name": "script", "mountPath": SCRIPT_DIR, "readOnly": True},
        {"name": "tmp", "mountPath": "/tmp"},
        {"name": "counts", "mountPath": COUNTS_DIR},
    ]
    count = {
        "name": "count-source",
        "image": versions.IMAGES["scylla"],
        "imagePullPolicy": "Always",  # a tag, not a digest (policies/waivers.yaml)
        "command": ["/bin/sh", f"{SCRIPT_DIR}/count_scylla.sh"],
        "env": [
            *common_env,
            {"name": "SCYLLA_HOST", "value": scylla_host},
            {"name": "SCYLLA_PORT", "value": str(scylla_port)},
            {"name": "KEYSPACE", "value": keyspace},
            {"name": "REQUEST_TIMEOUT", "value": str(s["scylla_request_timeout_seconds"])},
        ],
        "resources": RESOURCES,
        "securityContext": dict(CONTAINER_SECURITY),
        "volumeMounts": mounts,
    }
    record = {
        "name": "record",
        "image": versions.IMAGES["postgres"],
        "imagePullPolicy": "Always",
        "command": ["/bin/sh", f"{SCRIPT_DIR}/record.sh"],
        "env": [
            *common_env,
            {"name": "CREDENTIALS_DIR", "value": CREDENTIALS_DIR},
            {"name": "PGHOST", "value": postgres_host},
            {"name": "PGPORT", "value": "5432"},
            {"name": "PGDATABASE", "value": WAREHOUSE_DB},
            {"name": "PGSSLMODE", "value": "require"},
        ],
        "resources": RESOURCES,
        "securityContext": dict(CONTAINER_SECURITY),
        "volumeMounts": [*mounts, credentials_mount],
    }
    pod: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        **placement,
        # fsGroup: the Secret's files are group-readable by the job's user only (root:fsGroup, 0440).
        "securityContext": cron.pod_security_context(UID, fs_group=True),
        "initContainers": [count],
        "containers": [record],
        "volumes": [
            {"name": "script", "configMap": {"name": configmap}},
            {"name": "tmp", "emptyDir": {}},
            {"name": "counts", "emptyDir": {}},
            credentials_volume,
        ],
    }
    # two retries: a count that timed out may pass on the next attempt
    return cron.cron_job(
        name=JOB, namespace=namespace, schedule=s["schedule"], pod=pod, backoff_limit=2, suspend=suspend
    )
