"""Backup verification CronJobs and the Connect offsets backup: the checks' logic on listings that pass
and on listings that must fail (seed 003 Backup Verification), and the CronJobs in the plans (valid
Kubernetes, the seed's schedules, pinned images, prefix-scoped roles, named as the alert expects)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest

from components.backups import checks
from components.observability import rules
from lib import versions

CRONJOB = "kubernetes:batch/v1:CronJob"
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, checks.SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _backup(backup_id: str, end: dt.datetime, status: str = "DONE") -> dict:
    # barman-cloud-backup-list --format json: {"backups_list": [BackupInfo.to_json()]}, whose
    # end_time_iso is end_time.isoformat() (barman/infofile.py BackupInfo.to_json)
    return {
        "backup_id": backup_id,
        "status": status,
        "end_time_iso": end.isoformat(),
        "begin_wal": "000000010000000000000010",
        "end_wal": "000000010000000000000012",
    }


def test_postgres_check_passes_a_recent_backup_and_wal_and_fails_stale_ones():
    pg = _script("verify_postgres")
    s = checks.settings()
    base, wal = (
        dt.timedelta(hours=s["postgres_base_backup_max_age_hours"]),
        dt.timedelta(minutes=s["postgres_wal_max_age_minutes"]),
    )
    # seed 003 Backup Schedules: full backup at 01:00, checked at 06:00
    good = {
        "backups_list": [
            _backup("20261130T010000", NOW - dt.timedelta(days=1, hours=5)),
            _backup("20261201T010000", NOW - dt.timedelta(hours=5)),
        ]
    }
    assert pg.check(good, NOW - dt.timedelta(minutes=5), NOW, base, wal) == []
    stale = {"backups_list": [_backup("20261129T010000", NOW - dt.timedelta(hours=29))]}
    assert [e.split(" ended")[0] for e in pg.check(stale, NOW, NOW, base, wal)] == [
        "newest base backup 20261129T010000"
    ]
    failed = {"backups_list": [_backup("20261201T010000", NOW - dt.timedelta(hours=5), status="FAILED")]}
    assert pg.check(failed, NOW, NOW, base, wal) == ["no completed base backup"]
    assert pg.check(good, None, NOW, base, wal) == ["no archived WAL"]
    assert pg.check(good, NOW - dt.timedelta(minutes=61), NOW, base, wal)[0].startswith("newest WAL archived")


def _objects(module: str, hours: list[int], latest: bool = True) -> list[dict]:
    out = [
        {
            "Key": f"state/{module}/i-1/{module}-state-2026120{h}.tar.gz",
            "LastModified": NOW - dt.timedelta(hours=h),
        }
        for h in hours
    ]
    if latest:
        out.append({"Key": f"state/{module}/i-1/{module}-state-latest.tar.gz", "LastModified": NOW})
    return out


def test_state_check_wants_three_tarballs_a_day_per_module_and_the_latest_copies():
    st = _script("verify_state")
    s = checks.settings()
    modules, minimum = s["state_modules"], s["state_min_tarballs_per_day"]
    assert minimum == 3  # seed 003 Daily Verification: "-ge 3"
    every = [o for m in modules for o in _objects(m, [2, 6, 10])]
    assert st.check(every, modules, NOW, minimum) == []
    # beta: only two tarballs from the last day (a third is two days old)
    short = [o for m in ("alpha", "gamma") for o in _objects(m, [2, 6, 10])] + _objects("beta", [2, 6, 48])
    assert st.check(short, modules, NOW, minimum) == [
        "beta: 2 state tarballs in the last day, at least 3 expected"
    ]
    no_latest = [o for m in modules for o in _objects(m, [2, 6, 10], latest=(m != "gamma"))]
    assert st.check(no_latest, modules, NOW, minimum) == ["state/gamma/i-1/: no gamma-state-latest.tar.gz"]


def test_offsets_backup_keys_are_the_seeds_names():
    off = _script("backup_offsets")
    # seed 000 Backup Kafka Connect Offsets: offsets-<timestamp>.json and offsets-latest.json
    assert off.keys("postgres-sink", NOW) == (
        "connect-offsets/postgres-sink/offsets-20261201-060000.json",
        "connect-offsets/postgres-sink/offsets-latest.json",
    )


def test_scylla_check_is_valid_bash(tmp_path: Path):
    path = tmp_path / "verify_scylla.sh"
    path.write_text(checks.script("verify_scylla.sh"))
    run = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "sctool --api-url" in path.read_text() and "--min-date" in path.read_text()


def _jobs(plan) -> dict[str, dict]:
    """The backup CronJobs (the daily CDC reconciliation has its own alerts: tests/dataplane)."""
    return {
        r.inputs["metadata"]["name"]: r.inputs
        for r in plan.of_type(CRONJOB)
        if r.inputs["metadata"]["name"] != "cdc-reconciliation"
    }


def test_prod_verifies_every_backup_daily_with_pinned_images(plan_of):
    jobs = _jobs(plan_of("prod"))
    assert sorted(jobs) == [
        "audit-log-export",
        "backup-verify-postgres",
        "backup-verify-scylla",
        "backup-verify-state",
        "connect-offsets-backup",
    ]
    # seed 003 daily_backup_verify 06:00, daily_audit_export 01:00; seed 000 offsets daily
    schedules = {"connect-offsets-backup": "30 0 * * *", "audit-log-export": "0 1 * * *"}
    for name, job in jobs.items():
        assert job["spec"]["schedule"] == schedules.get(name, "0 6 * * *")
        (container,) = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
        assert container["image"] in (versions.IMAGES["barman-cloud"], versions.IMAGES["scylla-manager"])
        doc = json.loads(json.dumps(job))
        kubernetes_validate.validate(doc, "1.33", strict=True)
    env = {
        e["name"]: e["value"]
        for e in jobs["backup-verify-postgres"]["spec"]["jobTemplate"]["spec"]["template"]["spec"][
            "containers"
        ][0]["env"]
    }
    assert env["SERVER"] == "warehouse" and re.fullmatch(
        r"s3://prod-backups-backups-\w+/postgres/", env["DESTINATION"]
    )


def test_every_check_is_named_as_the_alert_expects(plan_of):
    (alert,) = [r for r in rules.alerts() if r["alert"] == "BackupVerificationFailed"]
    pattern = re.search(r'cronjob=~"([^"]+)"', alert["expr"]).group(1)
    for name in _jobs(plan_of("prod")):
        assert re.fullmatch(pattern, name), name
    assert not re.fullmatch(pattern, "warehouse-daily")


def test_a_standby_dr_site_checks_only_the_fleet_state(plan_of):
    assert sorted(_jobs(plan_of("prod-dr"))) == ["backup-verify-state"]
    assert sorted(_jobs(plan_of("prod-dr", {"dr.role": "primary"}))) == sorted(_jobs(plan_of("prod")))


def test_job_roles_reach_only_their_prefixes(plan_of):
    plan = plan_of("prod")
    policies = {
        r.name: json.loads(r.inputs["policy"])
        for r in plan.of_type("aws:iam/rolePolicy:RolePolicy")
        if "backup-checks" in r.name
    }
    assert sorted(policies) == [
        "prod-cluster-irsa-audit-backup-checks-audit",
        "prod-cluster-irsa-backup-backup-checks-offsets",
        "prod-cluster-irsa-backup-backup-checks-state",
    ]
    for name, prefix in (("offsets", "connect-offsets"), ("state", "state")):
        text = json.dumps(policies[f"prod-cluster-irsa-backup-backup-checks-{name}"])
        objects = re.findall(r"arn:aws:s3:::[\w-]+/([\w-]+)/\*", text)
        assert objects and set(objects) == {prefix}, text


def test_connect_api_opens_only_to_the_offsets_backup(plan_of):
    (policy,) = [
        r
        for r in plan_of("prod").of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        if r.name == "backup-checks-connect-api"
    ]
    spec = policy.inputs["spec"]
    assert spec["podSelector"]["matchLabels"] == {
        "strimzi.io/cluster": "pipeline-connect",
        "strimzi.io/kind": "KafkaConnect",
    }
    (rule,) = spec["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8083}]
    assert rule["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "connect-offsets-backup"}}}
    ]
    kubernetes_validate.validate(
        json.loads(json.dumps({k: v for k, v in policy.inputs.items() if not k.startswith("__")})),
        "1.33",
        strict=True,
    )


@pytest.mark.parametrize("name", ["verify_postgres", "verify_state", "backup_offsets", "export_audit"])
def test_scripts_compile(name):
    compile(checks.script(f"{name}.py"), name, "exec")


def test_connectors_list_and_restore_offsets_through_strimzi(plan_of):
    # seed 000 Restore Kafka Connect Offsets, declared where the operator supports it
    from tests.support.crds import validate_custom_resource

    connectors = plan_of("prod").of_type("kubernetes:kafka.strimzi.io/v1:KafkaConnector")
    assert sorted(c.inputs["metadata"]["name"] for c in connectors) == ["postgres-sink", "scylla-source"]
    for c in connectors:
        name, spec = c.inputs["metadata"]["name"], c.inputs["spec"]
        assert spec["listOffsets"] == {"toConfigMap": {"name": f"{name}-offsets"}}
        assert spec["alterOffsets"] == {"fromConfigMap": {"name": f"{name}-offsets-restore"}}
        validate_custom_resource({k: v for k, v in c.inputs.items() if not k.startswith("__")})


# --- the daily audit export (seed 003 Runbook L.1; Audit Log Backups: daily, 7 years) -------------
def test_audit_export_writes_only_new_objects_under_the_audit_prefix_of_the_audit_bucket(plan_of):
    plan = plan_of("prod")
    (policy,) = [
        json.loads(r.inputs["policy"])
        for r in plan.of_type("aws:iam/rolePolicy:RolePolicy")
        if r.name == "prod-cluster-irsa-audit-backup-checks-audit"
    ]
    actions = {
        a
        for st in policy["Statement"]
        for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])
    }
    assert not {a for a in actions if "Delete" in a or a.endswith("*")}
    objects = {st["Resource"] for st in policy["Statement"] if "s3:PutObject" in st["Action"]}
    assert len(objects) == 1 and re.fullmatch(
        r"arn:aws:s3:::prod-backups-audit-\w+/audit-logs/\*", objects.pop()
    )
    job = _jobs(plan)["audit-log-export"]
    pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert all("valueFrom" not in e for e in container["env"])  # no secret in the environment
    env = {e["name"]: e["value"] for e in container["env"]}
    # the read-only role of pipeline_db, as files of its mounted Secret; the audit bucket (Object Lock:
    # the one with a lock configuration)
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert mounts["credentials"]["readOnly"] and mounts["credentials"]["mountPath"] == env["CREDENTIALS_DIR"]
    assert volumes["credentials"]["secret"]["secretName"] == "warehouse-pipeline-readonly"
    assert env["PGDATABASE"] == "pipeline_db" and env["PGHOST"] == "warehouse-rw.postgres.svc"
    (lock,) = [
        r
        for r in plan.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
        if r.name == "prod-backups-audit"
    ]
    assert lock.inputs["rule"]["defaultRetention"] == {"mode": "COMPLIANCE", "years": 7}
    assert env["AUDIT_BUCKET"].startswith("prod-backups-audit-")


class _S3:
    """Records the calls the export makes; `existing` keys answer HeadObject."""

    class exceptions:  # noqa: N801 (boto3's attribute name)
        class ClientError(Exception):
            def __init__(self, code: str) -> None:
                self.response = {"Error": {"Code": code}}

    def __init__(self, existing=(), head_error="404") -> None:
        self.existing, self.head_error, self.puts = set(existing), head_error, []

    def head_object(self, Bucket, Key):  # noqa: N803
        if Key not in self.existing:
            raise self.exceptions.ClientError(self.head_error)
        return {}

    def put_object(self, **kw):
        self.puts.append(kw)


def test_audit_export_uploads_a_day_once_with_a_checksum():
    import gzip

    mod = _script("export_audit")
    day = dt.date(2026, 11, 30)
    assert mod.day_window(day) == (
        dt.datetime(2026, 11, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
    )
    key = "audit-logs/2026/11/30/audit-20261130.jsonl.gz"
    assert mod.object_key(day) == key
    s3 = _S3()
    assert mod.export_day([('{"id": 1}',), ('{"id": 2}',)], day, s3, "b") == 2
    (put,) = s3.puts
    assert put["Key"] == key and put["Bucket"] == "b" and put["ChecksumAlgorithm"] == "SHA256"
    assert gzip.decompress(put["Body"]).decode().splitlines() == ['{"id": 1}', '{"id": 2}']
    again = _S3(existing={key})
    assert mod.export_day([('{"id": 1}',)], day, again, "b") == 0 and again.puts == []
    with pytest.raises(_S3.exceptions.ClientError):  # a refused HeadObject is not "absent"
        mod.export_day([], day, _S3(head_error="403"), "b")
