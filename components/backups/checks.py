"""Backup verification CronJobs (seed 003 Backup Verification > Daily Verification) and the daily
Kafka Connect offsets backup (seed 000), as plain manifests (pure: no Pulumi import).

Each job runs the real client on a script from a ConfigMap (components/backups/scripts/):
- postgres: `barman-cloud-backup-list` (newest base backup DONE and recent) and the newest archived
  WAL segment, in the barman-cloud plugin's sidecar image (barman-cloud and boto3), under the
  cluster's own service account (its IRSA role reads s3://<backup>/postgres/);
- scylla: `sctool backup list` against Scylla Manager (a snapshot of the cluster in the last day);
- state: the module state tarballs on s3://<backup>/state/ (at least 3 per module in a day, and the
  `-latest` copies);
- connect-offsets: GET /connectors/<name>/offsets of the Connect REST API to
  s3://<backup>/connect-offsets/<name>/offsets-<timestamp>.json and offsets-latest.json;
- audit-log-export: yesterday's rows of pipeline_db.audit_log (as pipeline_readonly) to
  s3://<audit bucket>/audit-logs/yyyy/mm/dd/audit-<yyyymmdd>.jsonl.gz, under the bucket's Object Lock.
A failing run fails its Job; kube-state-metrics' CronJob times raise BackupVerificationFailed
(components/observability/alerts.yaml), the audit export's included."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from lib import versions
from lib.kube import cron
from lib.kube.jobs import CONTAINER_SECURITY, SCRIPT_DIR, UID, job_resources

DATA = Path(__file__).with_name("checks.yaml")
SCRIPTS = Path(__file__).with_name("scripts")
# CronJob names: the alert matches them (backup-verify-*, connect-offsets-backup).
VERIFY_PREFIX = "backup-verify-"
OFFSETS_JOB = "connect-offsets-backup"
AUDIT_EXPORT_JOB = "audit-log-export"
AUDIT_CREDENTIALS_DIR = "/etc/pipeline/credentials"  # the read-only role's Secret: username, password
# barman-cloud's sidecar image runs as UID 26 (its Dockerfile); any UID works for the others.
BARMAN_UID = 26
# the prefix of the Connect offsets backups in the backup bucket
OFFSETS_PREFIX = "connect-offsets"


@functools.cache
def settings() -> dict[str, Any]:
    return yaml.safe_load(DATA.read_text(encoding="utf-8"))


def script(name: str) -> str:
    return (SCRIPTS / name).read_text(encoding="utf-8")


def cron_job(
    *,
    name: str,
    namespace: str,
    schedule: str,
    image: str,
    command: list[str],
    configmap: str,
    placement: dict[str, Any],
    env: dict[str, str],
    service_account: str | None = None,
    uid: int = UID,
) -> dict[str, Any]:
    """A CronJob running `command` on the scripts of `configmap` (under SCRIPT_DIR): never two runs at
    once, no retry (a failed verification must stay failed until the next day), the last run of each
    outcome kept for `kubectl logs`, non-root with a read-only root filesystem."""
    pod: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        **placement,
        "securityContext": cron.pod_security_context(uid),
        "containers": [
            {
                "name": "check",
                "image": image,
                "imagePullPolicy": "Always",  # a tag, not a digest (policies/waivers.yaml)
                "command": command,
                "env": [
                    {"name": "HOME", "value": "/tmp"},
                    *({"name": k, "value": v} for k, v in env.items()),
                ],
                "resources": job_resources("256Mi"),
                "securityContext": dict(CONTAINER_SECURITY),
                "volumeMounts": [
                    {"name": "script", "mountPath": SCRIPT_DIR, "readOnly": True},
                    {"name": "tmp", "mountPath": "/tmp"},
                ],
            }
        ],
        "volumes": [
            {"name": "script", "configMap": {"name": configmap}},
            {"name": "tmp", "emptyDir": {}},
        ],
    }
    if service_account is not None:
        pod["serviceAccountName"] = service_account
    # no retry: a failed verification stays failed until the next day
    return cron.cron_job(name=name, namespace=namespace, schedule=schedule, pod=pod, backoff_limit=0)


def postgres_job(
    *,
    namespace: str,
    cluster: str,
    server: str,
    destination: str,
    region: str,
    configmap: str,
    placement: dict[str, Any],
) -> dict[str, Any]:
    s = settings()
    return cron_job(
        name=f"{VERIFY_PREFIX}postgres",
        namespace=namespace,
        schedule=s["verify_schedule"],
        image=versions.IMAGES["barman-cloud"],
        command=["/venv/bin/python3", f"{SCRIPT_DIR}/verify_postgres.py"],
        configmap=configmap,
        placement=placement,
        service_account=cluster,  # CloudNativePG's service account of the cluster: its IRSA role
        uid=BARMAN_UID,
        env={
            "DESTINATION": destination,
            "SERVER": server,
            "MAX_BASE_AGE_HOURS": str(s["postgres_base_backup_max_age_hours"]),
            "MAX_WAL_AGE_MINUTES": str(s["postgres_wal_max_age_minutes"]),
            "AWS_DEFAULT_REGION": region,
        },
    )


def scylla_job(
    *,
    namespace: str,
    cluster: str,
    location: str,
    manager_url: str,
    configmap: str,
    placement: dict[str, Any],
) -> dict[str, Any]:
    s = settings()
    return cron_job(
        name=f"{VERIFY_PREFIX}scylla",
        namespace=namespace,
        schedule=s["verify_schedule"],
        image=versions.IMAGES["scylla-manager"],
        command=["/bin/bash", f"{SCRIPT_DIR}/verify_scylla.sh"],
        configmap=configmap,
        placement=placement,
        env={
            "SCYLLA_MANAGER_URL": manager_url,
            "CLUSTER": cluster,
            "LOCATION": location,
            "MAX_AGE_HOURS": str(s["scylla_backup_max_age_hours"]),
        },
    )


def state_job(
    *,
    namespace: str,
    bucket: str,
    region: str,
    service_account: str,
    configmap: str,
    placement: dict[str, Any],
) -> dict[str, Any]:
    s = settings()
    return cron_job(
        name=f"{VERIFY_PREFIX}state",
        namespace=namespace,
        schedule=s["verify_schedule"],
        image=versions.IMAGES["barman-cloud"],
        command=["/venv/bin/python3", f"{SCRIPT_DIR}/verify_state.py"],
        configmap=configmap,
        placement=placement,
        service_account=service_account,
        uid=BARMAN_UID,
        env={
            "BUCKET": bucket,
            "MODULES": ",".join(s["state_modules"]),
            "MIN_TARBALLS": str(s["state_min_tarballs_per_day"]),
            "AWS_DEFAULT_REGION": region,
        },
    )


def offsets_job(
    *,
    namespace: str,
    connect_url: str,
    connectors: list[str],
    bucket: str,
    region: str,
    service_account: str,
    configmap: str,
    placement: dict[str, Any],
) -> dict[str, Any]:
    return cron_job(
        name=OFFSETS_JOB,
        namespace=namespace,
        schedule=settings()["offsets_schedule"],
        image=versions.IMAGES["barman-cloud"],
        command=["/venv/bin/python3", f"{SCRIPT_DIR}/backup_offsets.py"],
        configmap=configmap,
        placement=placement,
        service_account=service_account,
        uid=BARMAN_UID,
        env={
            "CONNECT_URL": connect_url,
            "CONNECTORS": ",".join(connectors),
            "BUCKET": bucket,
            "AWS_DEFAULT_REGION": region,
        },
    )


def connect_api_policy(*, namespace: str, connect_cluster: str) -> dict[str, Any]:
    """Strimzi's own NetworkPolicy opens Connect's REST API (8083) to the cluster operator only;
    this one adds the offsets backup job (policies are additive)."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"{connect_cluster}-offsets-backup", "namespace": namespace},
        "spec": {
            "podSelector": {
                "matchLabels": {"strimzi.io/cluster": connect_cluster, "strimzi.io/kind": "KafkaConnect"}
            },
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": OFFSETS_JOB}}}],
                    "ports": [{"protocol": "TCP", "port": 8083}],
                }
            ],
        },
    }


def audit_export_job(
    *,
    namespace: str,
    host: str,
    database: str,
    credentials_secret: str,
    bucket: str,
    region: str,
    service_account: str,
    configmap: str,
    placement: dict[str, Any],
) -> dict[str, Any]:
    """The daily audit export (seed 003 Runbook L.1) in the barman-cloud sidecar image (python3 with
    psycopg2 and boto3), as the read-only role (its CloudNativePG basic-auth Secret)."""
    doc = cron_job(
        name=AUDIT_EXPORT_JOB,
        namespace=namespace,
        schedule=settings()["audit_export_schedule"],
        image=versions.IMAGES["barman-cloud"],
        command=["/venv/bin/python3", f"{SCRIPT_DIR}/export_audit.py"],
        configmap=configmap,
        placement=placement,
        service_account=service_account,
        uid=BARMAN_UID,
        env={
            "PGHOST": host,
            "PGPORT": "5432",
            "PGDATABASE": database,
            "PGSSLMODE": "require",
            "AUDIT_BUCKET": bucket,
            "AWS_DEFAULT_REGION": region,
        },
    )
    # The read-only role's credentials as files of a read-only Secret mount, not environment variables.
    pod = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    container["env"].append({"name": "CREDENTIALS_DIR", "value": AUDIT_CREDENTIALS_DIR})
    mount, volume = cron.credentials_files(credentials_secret, AUDIT_CREDENTIALS_DIR)
    container["volumeMounts"].append(mount)
    # Group-readable by the image's user only (the files belong to root:fsGroup).
    pod["securityContext"]["fsGroup"] = BARMAN_UID
    pod["volumes"].append(volume)
    return doc
